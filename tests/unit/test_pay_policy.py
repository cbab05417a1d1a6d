"""``billing:invoice:pay`` on every Pay URL: the modal (GET and POST) and
the return page, for a reader, a member, and another project's invoice."""

from django.test.utils import override_settings
from django.urls import reverse

from openstack_dashboard.test import helpers as test

from cleura_billing_dashboard.payments.models import CheckoutSession
from tests.unit import helpers
from tests.unit.test_invoices_panel import issue_for
from tools.lab import stripe_standin

INDEX_URL = reverse('horizon:identity:invoices:index')
POLICY_ON = override_settings(
    POLICY_CHECK_FUNCTION='openstack_auth.policy.check')


@POLICY_ON
class PayPolicyTests(helpers.RoleMixin, stripe_standin.StandInMixin,
                     test.TestCase):

    def setUp(self):
        super().setUp()
        self.invoice = issue_for(self.tenant.id, '2026-03')
        self.other = issue_for('another-project', '2026-03')

    def urls(self, invoice):
        return {name: reverse('horizon:identity:invoices:' + name,
                              args=[invoice.number])
                for name in ('pay', 'paid', 'detail')}

    def visit(self, invoice):
        """Status codes of every Pay step: GET, POST, return page."""
        urls = self.urls(invoice)
        return {
            'get': self.client.get(urls['pay']).status_code,
            'post': self.client.post(urls['pay'],
                                     {'method': 'stripe'}).status_code,
            'paid': self.client.get(urls['paid']).status_code,
        }

    def test_a_reader_is_refused_every_step_and_sees_no_pay_action(self):
        self.as_role('reader')
        urls = self.urls(self.invoice)
        index = self.client.get(INDEX_URL)
        self.assertEqual(200, index.status_code)
        self.assertNotContains(index, urls['pay'])
        detail = self.client.get(urls['detail'])
        self.assertEqual(200, detail.status_code)
        self.assertNotContains(detail, urls['pay'])
        self.assertEqual({'get': 403, 'post': 403, 'paid': 403},
                         self.visit(self.invoice))
        self.assertEqual({}, self.standin.sessions)
        self.assertFalse(CheckoutSession.objects.exists())

    def test_a_member_may_take_every_step(self):
        self.as_role('member')
        urls = self.urls(self.invoice)
        self.assertContains(self.client.get(INDEX_URL), urls['pay'])
        self.assertContains(self.client.get(urls['detail']), urls['pay'])
        self.assertEqual({'get': 200, 'post': 302, 'paid': 200},
                         self.visit(self.invoice))
        self.assertEqual(1, len(self.standin.sessions))

    def test_another_projects_invoice_is_404_at_every_step(self):
        for role in ('member', 'manager', 'admin'):
            self.as_role(role)
            self.assertEqual({'get': 404, 'post': 404, 'paid': 404},
                             self.visit(self.other), role)
        self.assertEqual({}, self.standin.sessions)
        self.assertFalse(CheckoutSession.objects.exists())

    def test_no_role_no_pay(self):
        self.as_role('some-other-role')
        self.assertEqual({'get': 403, 'post': 403, 'paid': 403},
                         self.visit(self.invoice))
        self.assertEqual({}, self.standin.sessions)
