"""A failing billing database, as the invoice pages tell it.

Django's database errors name the server's host and port; the page says
the billing database cannot be reached, and nothing more. (The lab test
tests/db/test_lab_outages.py cuts a real PostgreSQL/MariaDB.)
"""

from unittest import mock

from django.db import OperationalError
from django.urls import reverse

from openstack_dashboard.test import helpers as test

from cleura_billing_dashboard.api import billing
from tests import factories

INDEX_URL = reverse('horizon:identity:invoices:index')
DOWN = OperationalError('connection to server at "db.internal.example" '
                        '(10.1.2.3), port 5432 failed: Connection refused')
UNREACHABLE = 'The billing database cannot be reached right now'


class StoreDownTests(test.TestCase):

    def setUp(self):
        super().setUp()
        self.invoice = factories.issue_invoice(
            self.tenant.id, '2026-03', factories.instance_and_volume())

    def assert_told_without_the_address(self, res, message):
        self.assertEqual(200, res.status_code)
        self.assertMessageCount(res, error=1)
        self.assertContains(res, message)
        self.assertContains(res, UNREACHABLE)
        self.assertNotContains(res, 'db.internal.example')
        self.assertNotContains(res, '10.1.2.3')

    def test_the_index_says_the_database_is_unreachable(self):
        with mock.patch('cleura_billing_dashboard.billing.queries.'
                        'invoice_page', side_effect=DOWN):
            res = self.client.get(INDEX_URL)
        self.assert_told_without_the_address(
            res, 'Unable to retrieve the invoices.')

    def test_the_detail_sends_back_to_the_list_with_why(self):
        url = reverse('horizon:identity:invoices:detail',
                      args=[self.invoice.number])
        with mock.patch('cleura_billing_dashboard.billing.queries.'
                        'get_invoice_by_number', side_effect=DOWN):
            res = self.client.get(url, follow=True)
        self.assertEqual([(INDEX_URL, 302)], res.redirect_chain)
        self.assertContains(res, 'Unable to retrieve the invoice.')
        self.assertContains(res, UNREACHABLE)
        self.assertNotContains(res, 'db.internal.example')

    def test_the_facade_raises_its_own_error_from_the_database_one(self):
        request = self.factory.get(INDEX_URL)
        request.user = self.user
        request.session = {}
        with mock.patch('cleura_billing_dashboard.billing.queries.'
                        'invoice_page', side_effect=DOWN):
            with self.assertRaises(billing.StoreUnavailable) as caught:
                billing.invoice_list(request)
        self.assertIs(DOWN, caught.exception.__cause__)
        self.assertNotIn('db.internal', str(caught.exception))
