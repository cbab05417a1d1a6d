"""The Pay modal: the dues, the payment methods, and starting a card payment.

Card payments go to the Stripe stand-in (tools/lab/stripe_standin.py) through
the official SDK; the stand-in answers as Stripe does.
"""

import decimal
import json
from unittest import mock

from django.db import OperationalError
from django.urls import reverse

from openstack_dashboard.test import helpers as test

from cleura_billing_dashboard.billing import ledger
from cleura_billing_dashboard.billing.models import Payment
from cleura_billing_dashboard.payments.models import CheckoutSession
from cleura_billing_dashboard.payments import providers
from tests.unit.test_invoices_panel import issue_for
from tools.lab import stripe_standin

AJAX = {'HTTP_X_REQUESTED_WITH': 'XMLHttpRequest'}
INDEX_URL = reverse('horizon:identity:invoices:index')


class PayTestCase(stripe_standin.StandInMixin, test.TestCase):

    def setUp(self):
        super().setUp()
        # 744 * 0.45 + 100 * 1.10 = 444.80 net, 111.20 VAT, 556.00 total.
        self.invoice = issue_for(self.tenant.id, '2026-03')
        self.pay_url = reverse('horizon:identity:invoices:pay',
                               args=[self.invoice.number])

    def pay(self, ajax=True, **data):
        return self.client.post(self.pay_url, dict({'method': 'stripe'},
                                                   **data),
                                **(AJAX if ajax else {}))

    def location(self, res):
        """Where the modal's response sends the browser."""
        self.assertEqual(200, res.status_code, res.content[-2000:])
        return res['X-Horizon-Location']


class PayModalTests(PayTestCase):

    def test_the_modal_shows_the_rundown_and_every_method(self):
        res = self.client.get(self.pay_url, **AJAX)
        self.assertTemplateUsed(res, 'identity/invoices/_pay.html')
        text = res.content.decode().replace('\xa0', ' ')
        for expected in (self.invoice.number, 'compute.m1.small', 'Sto2',
                         'storage.volume', 'Kna1', 'SEK334.80', 'SEK110.00',
                         'SEK444.80', 'VAT 25 % of SEK444.80', 'SEK111.20',
                         'SEK556.00', 'Already paid', 'SEK0.00',
                         'Bank transfer', 'Bankgiro', '5050-1055',
                         'SE4550000000058398257466', 'ESSESESS',
                         self.invoice.payment_reference,
                         'usually within one banking day', 'Card',
                         'Stripe&#x27;s secure payment page',
                         'value="Pay by card"', 'csrfmiddlewaretoken',
                         'name="method" value="stripe"'):
            self.assertIn(expected, text)
        self.assertIn(self.invoice.due_date.strftime('%b. %-d, %Y'), text)
        self.assertLess(text.index('payment-method-bank_transfer'),
                        text.index('payment-method-stripe'))

    def test_a_part_paid_invoice_shows_what_is_left(self):
        ledger.record_payment(self.invoice, decimal.Decimal('100'),
                              provider='manual', reference='part')
        res = self.client.get(self.pay_url, **AJAX)
        text = res.content.decode()
        self.assertIn('SEK100.00', text)
        self.assertIn('<strong>SEK456.00</strong>', text)

    def test_only_the_enabled_methods_are_offered(self):
        with stripe_standin.configured(self.standin, ('bank_transfer',)):
            res = self.client.get(self.pay_url, **AJAX)
            posted = self.pay()
        self.assertContains(res, 'Bank transfer')
        self.assertNotContains(res, 'Pay by card')
        self.assertNotContains(res, 'type="submit"')
        self.assertNotIn('X-Horizon-Location', posted)
        self.assertEqual({}, self.standin.sessions)

    def test_card_is_not_offered_without_an_api_key(self):
        with stripe_standin.configured(self.standin, api_key=None):
            res = self.client.get(self.pay_url, **AJAX)
        self.assertNotContains(res, 'Pay by card')
        self.assertContains(res, self.invoice.payment_reference)

    def test_an_enabled_provider_that_is_not_installed_is_logged(self):
        with stripe_standin.configured(self.standin,
                                       ('bank_transfer', 'no_such_bank')):
            with self.assertLogs(providers.LOG, 'ERROR') as logs:
                res = self.client.get(self.pay_url, **AJAX)
        self.assertContains(res, 'Bank transfer')
        self.assertIn('no_such_bank', logs.output[0])


class PayByCardTests(PayTestCase):

    def test_paying_sends_the_browser_to_the_checkout_page(self):
        url = self.location(self.pay())
        stored = CheckoutSession.objects.get()
        self.assertEqual(stored.url, url)
        self.assertTrue(url.startswith(self.standin.url + '/pay/cs_test_'))
        session = self.standin.sessions[stored.session_id]
        self.assertEqual((55600, 'sek', self.invoice.number),
                         (session['amount_total'], session['currency'],
                          session['client_reference_id']))
        self.assertEqual({'invoice_number': self.invoice.number,
                          'project_id': self.tenant.id}, session['metadata'])
        self.assertTrue(session['success_url'].endswith(
            '/identity/invoices/%s/paid/' % self.invoice.number))
        self.assertEqual((decimal.Decimal('556.00'), 'SEK', 'open'),
                         (stored.amount, stored.currency, stored.status))
        # Opening the checkout page pays nothing.
        self.assertFalse(Payment.objects.exists())

    def test_a_plain_post_is_a_plain_redirect(self):
        res = self.pay(ajax=False)
        self.assertEqual(302, res.status_code)
        self.assertEqual(CheckoutSession.objects.get().url, res['Location'])

    def test_paying_again_reuses_the_open_session(self):
        first = self.location(self.pay())
        second = self.location(self.pay())
        self.assertEqual(first, second)
        self.assertEqual(1, len(self.standin.sessions))
        self.assertEqual(1, len(self.standin.create_requests))

    def test_a_lost_session_record_is_found_by_the_idempotency_key(self):
        first = self.location(self.pay())
        CheckoutSession.objects.all().delete()
        second = self.location(self.pay())
        self.assertEqual(first, second)
        self.assertEqual(1, len(self.standin.sessions))
        key = 'cleura-billing-checkout-%s-556.00-SEK-0' % self.invoice.number
        self.assertEqual([key, key], self.standin.create_requests)

    def test_a_changed_amount_expires_the_old_session(self):
        old = self.location(self.pay())
        ledger.record_payment(self.invoice, decimal.Decimal('100'),
                              provider='manual', reference='part')
        new = self.location(self.pay())
        self.assertNotEqual(old, new)
        sessions = {s['url']: s for s in self.standin.sessions.values()}
        self.assertEqual('expired', sessions[old]['status'])
        self.assertEqual(('open', 45600), (sessions[new]['status'],
                                           sessions[new]['amount_total']))
        self.assertEqual(['expired', 'open'], list(
            CheckoutSession.objects.values_list('status', flat=True)))

    def test_an_expired_session_is_replaced_by_a_new_one(self):
        old = self.location(self.pay())
        stored = CheckoutSession.objects.get()
        self.standin.sessions[stored.session_id]['status'] = 'expired'
        new = self.location(self.pay())
        self.assertNotEqual(old, new)
        self.assertEqual(2, len(self.standin.sessions))
        self.assertTrue(self.standin.create_requests[-1].endswith('-1'))

    def test_a_paid_session_awaiting_its_webhook_is_not_paid_twice(self):
        self.location(self.pay())
        stored = CheckoutSession.objects.get()
        self.standin.complete(stored.session_id, deliver=False)
        res = self.pay(ajax=False)
        self.assertRedirectsNoFollow(res, reverse(
            'horizon:identity:invoices:detail', args=[self.invoice.number]))
        self.assertEqual(1, len(self.standin.sessions))
        self.assertFalse(Payment.objects.exists())
        page = self.client.get(res['Location'])
        self.assertContains(page, 'is being processed')

    def test_the_return_page_marks_nothing_paid(self):
        self.location(self.pay())
        stored = CheckoutSession.objects.get()
        self.standin.complete(stored.session_id, deliver=False)
        res = self.client.get(reverse('horizon:identity:invoices:paid',
                                      args=[self.invoice.number]))
        self.assertTemplateUsed(res, 'identity/invoices/pay_return.html')
        self.assertContains(res, 'is being processed')
        self.assertFalse(Payment.objects.exists())
        index = self.client.get(INDEX_URL)
        self.assertEqual('outstanding', index.context['table'].data[0].status)

    def test_a_settled_invoice_cannot_be_paid_again(self):
        ledger.record_payment(self.invoice, self.invoice.total,
                              provider='manual', reference='all')
        res = self.pay(ajax=False)
        self.assertRedirectsNoFollow(res, INDEX_URL)
        self.assertEqual({}, self.standin.sessions)


class PayFailureTests(PayTestCase):
    """A failing provider or database: a message, and nothing half-written."""

    def assert_nothing_recorded(self):
        self.assertFalse(CheckoutSession.objects.exists())
        self.assertFalse(Payment.objects.exists())

    def test_a_failing_provider_shows_a_message(self):
        self.standin.fail_next()
        res = self.pay(ajax=False)
        self.assertEqual(200, res.status_code)
        self.assertTemplateUsed(res, 'identity/invoices/pay.html')
        self.assertMessageCount(res, error=1)
        self.assertContains(res, 'cannot be reached right now; nothing '
                                 'was charged')
        self.assert_nothing_recorded()

    def test_the_modal_shows_the_message_as_a_toast(self):
        self.standin.fail_next()
        res = self.pay()
        self.assertNotIn('X-Horizon-Location', res)
        messages = json.loads(res['X-Horizon-Messages'])
        self.assertEqual('error', messages[0][0])
        self.assertIn('cannot be reached right now', messages[0][1])
        self.assert_nothing_recorded()

    def test_an_unreachable_provider_shows_a_message(self):
        with stripe_standin.configured(self.standin,
                                       api_base='http://127.0.0.1:9',
                                       timeout=5):
            res = self.pay(ajax=False)
        self.assertMessageCount(res, error=1)
        self.assertContains(res, 'cannot be reached right now')
        self.assert_nothing_recorded()

    def test_a_database_failure_midway_shows_a_message(self):
        manager = type(CheckoutSession.objects)
        with mock.patch.object(manager, 'get_or_create',
                               side_effect=OperationalError('disk full')):
            res = self.pay(ajax=False)
        self.assertMessageCount(res, error=1)
        self.assertContains(res, 'Unable to start the payment of invoice '
                                 '%s; nothing was charged' %
                                 self.invoice.number)
        self.assert_nothing_recorded()
        # Stripe made a session before the failure; trying again finds it.
        url = self.location(self.pay())
        self.assertEqual(1, len(self.standin.sessions))
        self.assertEqual(CheckoutSession.objects.get().url, url)
