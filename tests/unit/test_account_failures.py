"""An unexpected failure below the facade is a message, never a 500.

The database holding the account's lock row fails (``OperationalError``):
every write path of the pane shows Horizon's error message and Keystone is
not written.
"""

from unittest import mock

from django.db import OperationalError

from cleura_billing_dashboard.account import document
from cleura_billing_dashboard.account import models
from tests.unit import test_account_panel as pane

UNABLE = 'Unable to save the billing account.'


class DatabaseDownTests(pane.AccountPaneTestCase):

    def setUp(self):
        super().setUp()
        doc = document.new_document()
        doc['revision'] = 1
        doc['phones'] = [{'id': 'p1', 'number': '+46701234567',
                          'label': ''}]
        self.seed(doc)
        patcher = mock.patch.object(
            models.AccountLock.objects, 'get_or_create',
            side_effect=OperationalError('database is locked'))
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_the_customer_form_says_it_could_not_save(self):
        res = self.client.post(pane.CUSTOMER_URL,
                               dict(pane.CUSTOMER, revision=1))
        self.assertEqual(200, res.status_code)
        self.assertContains(res, UNABLE)
        self.assertEqual([], self.keystone.projects.updates)

    def test_the_email_modal_says_it_could_not_save(self):
        res = self.client.post(pane.CREATE_EMAIL_URL, {
            'revision': 1, 'email': 'ann@example.com', 'name': ''})
        self.assertEqual(200, res.status_code)
        self.assertContains(res, UNABLE)
        self.assertEqual([], self.keystone.projects.updates)

    def test_a_table_action_goes_back_to_the_tab_with_the_message(self):
        self.client.get(pane.CONTACT_URL)
        res = self.client.post(pane.INDEX_URL, {
            'action': 'phones__delete__p1', 'revision': 1})
        self.assertEqual(302, res.status_code)
        self.assertContains(self.client.get(res.url), UNABLE)
        self.assertEqual([], self.keystone.projects.updates)
