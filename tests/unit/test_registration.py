"""The enabled files put the plugin where it belongs (Horizon's helpers)."""

from unittest import mock

from django.conf import settings
from django.urls import reverse

import horizon
from openstack_dashboard.test import helpers as test

from cleura_billing_dashboard.account import document
from cleura_billing_dashboard.api import account as account_api
from cleura_billing_dashboard import apps

INVOICES_URL = reverse('horizon:identity:invoices:index')
ACCOUNT_URL = reverse('horizon:settings:account:index')


class RegistrationTests(test.TestCase):

    def test_invoices_panel_sits_directly_below_users(self):
        identity = horizon.get_dashboard('identity')
        slugs = [panel.slug for panel in identity.get_panel_group('default')]
        self.assertEqual('invoices', slugs[slugs.index('users') + 1])

    def test_account_settings_panel_is_in_settings_dashboard(self):
        settings_dash = horizon.get_dashboard('settings')
        # Beside User Settings, not in a group of its own ("Other").
        self.assertIn('account', [panel.slug for panel in
                                  settings_dash.get_panel_group('default')])

    def test_user_menu_has_account_settings_once(self):
        urls = [link['url'] for link in settings.USER_MENU_LINKS]
        self.assertEqual(1, urls.count(apps.ACCOUNT_SETTINGS_URL))
        # ready() running again (a second app registry) adds no duplicate.
        apps.register_user_menu_link(settings)
        urls = [link['url'] for link in settings.USER_MENU_LINKS]
        self.assertEqual(1, urls.count(apps.ACCOUNT_SETTINGS_URL))

    def test_operator_can_leave_the_menu_link_out(self):
        class Conf:
            CLEURA_BILLING_USER_MENU_LINK = False
            USER_MENU_LINKS = []
        apps.register_user_menu_link(Conf)
        self.assertEqual([], Conf.USER_MENU_LINKS)

    def test_operator_policy_file_is_kept(self):
        class Conf:
            POLICY_FILES = {'billing': '/etc/openstack-dashboard/b.yaml'}
            DEFAULT_POLICY_FILES = {}
        apps.register_policy_files(Conf)
        self.assertEqual('/etc/openstack-dashboard/b.yaml',
                         Conf.POLICY_FILES['billing'])
        self.assertTrue(Conf.DEFAULT_POLICY_FILES['billing'].endswith(
            'default_policies/billing.yaml'))

    def test_swedish_joins_horizons_own_language_list(self):
        # Horizon's settings list no Swedish: without it, no user could
        # pick Svenska or get it from the browser's Accept-Language.
        horizon_default = apps.horizon_default_languages()
        self.assertIn(('en', 'English'), horizon_default)
        self.assertNotIn('sv', dict(horizon_default))

        class Conf:
            LANGUAGES = horizon_default
        apps.register_languages(Conf)
        self.assertEqual('Swedish', dict(Conf.LANGUAGES)['sv'])
        self.assertEqual(len(horizon_default) + 1, len(Conf.LANGUAGES))
        apps.register_languages(Conf)
        self.assertEqual(len(horizon_default) + 1, len(Conf.LANGUAGES))

    def test_operator_language_list_is_kept(self):
        class Conf:
            LANGUAGES = (('en', 'English'), ('de', 'German'))
        apps.register_languages(Conf)
        self.assertEqual((('en', 'English'), ('de', 'German')),
                         Conf.LANGUAGES)


class PagesTests(test.TestCase):

    def setUp(self):
        super().setUp()
        # The Account settings page reads the project from Keystone.
        patcher = mock.patch.object(
            account_api, 'account_get',
            return_value=account_api.Account(self.tenant.id,
                                             document.new_document()))
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_invoices_page_renders_with_title(self):
        res = self.client.get(INVOICES_URL)
        self.assertTemplateUsed(res, 'identity/invoices/index.html')
        self.assertContains(res, '<title>Invoices')

    def test_account_settings_page_renders_with_title(self):
        res = self.client.get(ACCOUNT_URL)
        self.assertTemplateUsed(res, 'settings/account/index.html')
        self.assertContains(res, 'Account settings')

    def test_user_menu_links_to_account_settings(self):
        res = self.client.get(ACCOUNT_URL)
        self.assertContains(res, 'href="%s"' % ACCOUNT_URL)
