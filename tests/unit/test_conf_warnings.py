"""Loading the config file warns about what it will silently not do."""

import os
from unittest import mock

from django.test import override_settings

from cleura_billing_dashboard import conf
from tests import fresh_conf

LOGGER = conf.LOG.name


class TestMissingConfigFile(fresh_conf.FreshConfTestCase):

    def test_a_missing_file_named_by_the_setting_is_a_warning(self):
        with override_settings(CLEURA_BILLING_CONFIG_FILE='/nowhere/b.conf'):
            with self.assertLogs(LOGGER, 'WARNING') as logs:
                settings = conf.get_conf()

        self.assertEqual(len(logs.records), 1)
        message = logs.records[0].getMessage()
        self.assertIn('/nowhere/b.conf', message)
        self.assertIn('Horizon setting CLEURA_BILLING_CONFIG_FILE', message)
        self.assertEqual(settings.billing.currency, 'SEK')  # the default

    def test_a_missing_file_named_by_the_environment_is_a_warning(self):
        os.environ['CLEURA_BILLING_CONFIG_FILE'] = '/nowhere/env.conf'
        with override_settings(CLEURA_BILLING_CONFIG_FILE=None):
            with self.assertLogs(LOGGER, 'WARNING') as logs:
                conf.get_conf()

        message = logs.records[0].getMessage()
        self.assertIn('/nowhere/env.conf', message)
        self.assertIn('environment variable CLEURA_BILLING_CONFIG_FILE',
                      message)

    def test_the_default_path_may_be_missing_quietly(self):
        with override_settings(CLEURA_BILLING_CONFIG_FILE=None), \
                mock.patch.object(conf, 'DEFAULT_CONFIG_FILE',
                                  '/nowhere/default.conf'):
            with self.assertNoLogs(LOGGER, 'WARNING'):
                conf.get_conf()

    def test_an_existing_file_is_read_quietly_and_once(self):
        path = self.write_config('[billing]\ncurrency = EUR\n')
        with override_settings(CLEURA_BILLING_CONFIG_FILE=path):
            with self.assertNoLogs(LOGGER, 'WARNING'):
                self.assertEqual(conf.get_conf().billing.currency, 'EUR')
                conf.get_conf()


class TestKeystoneCredentialsWithoutAuthUrl(fresh_conf.FreshConfTestCase):

    def load(self, text):
        path = self.write_config(text)
        with override_settings(CLEURA_BILLING_CONFIG_FILE=path):
            return conf.get_conf()

    def test_a_user_and_password_without_auth_url_is_a_warning(self):
        with self.assertLogs(LOGGER, 'WARNING') as logs:
            self.load('[keystone_service]\nusername = billing\n'
                      'password = secret\nproject_name = service\n')

        self.assertEqual(len(logs.records), 1)
        message = logs.records[0].getMessage()
        self.assertIn('[keystone_service]', message)
        self.assertIn('no auth_url', message)
        self.assertIn('read-only', message)
        self.assertNotIn('secret', message)

    def test_a_password_alone_is_a_warning_too(self):
        with self.assertLogs(LOGGER, 'WARNING'):
            self.load('[keystone_service]\npassword = secret\n')

    def test_credentials_with_auth_url_are_quiet(self):
        with self.assertNoLogs(LOGGER, 'WARNING'):
            self.load('[keystone_service]\n'
                      'auth_url = http://keystone:5000/v3\n'
                      'username = billing\npassword = secret\n')

    def test_no_credentials_at_all_are_quiet(self):
        with self.assertNoLogs(LOGGER, 'WARNING'):
            self.load('[billing]\ncurrency = SEK\n')
