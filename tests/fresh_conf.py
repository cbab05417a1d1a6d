"""A test case that loads the plugin's configuration afresh."""

import os
import tempfile
import unittest
from unittest import mock

from oslo_config import cfg

from cleura_billing_dashboard import conf


class FreshConfTestCase(unittest.TestCase):
    """Loads the configuration afresh, into options of the test's own."""

    def setUp(self):
        fresh = cfg.ConfigOpts()
        for group, opts in conf.list_opts():
            fresh.register_group(group)
            fresh.register_opts(opts, group=group)
        patches = [mock.patch.object(conf, 'CONF', fresh),
                   mock.patch.object(conf, '_loaded', False),
                   mock.patch.dict(os.environ)]
        for patch in patches:
            patch.start()
            self.addCleanup(patch.stop)
        os.environ.pop('CLEURA_BILLING_CONFIG_FILE', None)

    def write_config(self, text):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        path = os.path.join(tmp.name, 'cleura-billing.conf')
        with open(path, 'w') as f:
            f.write(text)
        return path
