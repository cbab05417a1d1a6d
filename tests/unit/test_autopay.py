"""Saved cards and automatic card payments, against the Stripe stand-in.

The card is saved through a setup session and Stripe's signed webhook;
``autopay.charge_due_invoices`` charges off-session; only the signed
``payment_intent.succeeded`` marks the invoice paid.
"""

import datetime
import decimal
import io

from django.core import mail
from django.core.management import base as management_base
from django import test as django_test
from django.utils import timezone

from openstack_dashboard.test import helpers as test

from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard.billing.models import Payment
from cleura_billing_dashboard import conf
from cleura_billing_dashboard.management.commands import billing_autopay
from cleura_billing_dashboard.payments import autopay
from cleura_billing_dashboard.payments import base
from cleura_billing_dashboard.payments.models import AutopayAttempt
from cleura_billing_dashboard.payments.models import Notification
from cleura_billing_dashboard.payments.models import SavedCard
from cleura_billing_dashboard.payments import saved_cards
from tests.unit.test_invoices_panel import issue_for
from tools.lab import stripe_standin

D = decimal.Decimal
VISA = '4242424242424242'
DECLINED = '4000000000000002'
AUTHENTICATE = '4000002760003184'
MASTERCARD = '5555555555554444'
BILLING = 'billing@acme.example'


class Accounts(object):
    """The two questions autopay asks of the billing accounts."""

    def __init__(self, recipients=(BILLING,), language='en'):
        self.recipients = list(recipients)
        self.language = language

    def billing_recipients(self, project_id):
        return self.recipients

    def buyer_details(self, project_id):
        return {'language': self.language}


class AutopayTestCase(stripe_standin.StandInMixin, test.TestCase):

    def setUp(self):
        super().setUp()
        self.project = self.tenant.id
        self.stripe = django_test.Client(enforce_csrf_checks=True)

    def post_event(self, event):
        body, signature = self.standin.signed(event)
        res = self.stripe.post(stripe_standin.WEBHOOK_PATH, data=body,
                               content_type='application/json',
                               HTTP_STRIPE_SIGNATURE=signature)
        self.assertEqual(200, res.status_code, res.content)
        return res.json()['outcome']

    def save_card(self, number=VISA, exp_month=8, exp_year=2031):
        """Save ``number`` as the project's card, as a manager does."""
        url = saved_cards.start_setup(self.project,
                                      'http://testserver/saved/',
                                      'http://testserver/settings/')
        session_id = url.rsplit('/', 1)[1]
        session = self.standin.sessions[session_id]
        self.assertEqual(('setup', self.project),
                         (session['mode'], session['metadata']['project_id']))
        event = self.standin.complete_setup(session_id, number, exp_month,
                                            exp_year, deliver=False)
        self.assertEqual('updated', self.post_event(event))
        return SavedCard.objects.get(project_id=self.project)

    def status(self, invoice):
        return Invoice.objects.with_balance().get(pk=invoice.pk)

    def deliver_events(self):
        """Post every event the stand-in sent since; their outcomes."""
        return [(event['type'], self.post_event(event))
                for event in self.standin.take_held()]


class SavedCardTests(AutopayTestCase):

    def test_a_card_is_saved_as_brand_last_four_and_expiry(self):
        card = self.save_card()
        self.assertEqual(('visa', '4242', 8, 2031, False),
                         (card.brand, card.last4, card.exp_month,
                          card.exp_year, card.autopay))
        self.assertTrue(card.payment_method_id.startswith('pm_'))
        self.assertIn(card.customer_id, self.standin.customers)
        self.assertEqual({'project_id': self.project},
                         self.standin.customers[card.customer_id]['metadata'])

    def test_replacing_keeps_the_customer_and_detaches_the_old_card(self):
        first = self.save_card()
        # The old card is detached once the new one is stored (committed).
        with self.captureOnCommitCallbacks(execute=True):
            second = self.save_card(MASTERCARD, 1, 2030)
        self.assertEqual(first.customer_id, second.customer_id)
        self.assertEqual(1, len(self.standin.customers))
        self.assertEqual(('mastercard', '4444'), (second.brand,
                                                  second.last4))
        self.assertIsNone(
            self.standin.payment_methods[first.payment_method_id]
            ['customer'])
        self.assertEqual(
            second.customer_id,
            self.standin.payment_methods[second.payment_method_id]
            ['customer'])

    def test_removing_detaches_and_forgets_the_card(self):
        card = self.save_card()
        saved_cards.set_autopay(self.project, True)
        saved_cards.remove(self.project)
        stored = SavedCard.objects.get(project_id=self.project)
        self.assertEqual(('', '', False), (stored.payment_method_id,
                                           stored.last4, stored.autopay))
        self.assertIsNone(
            self.standin.payment_methods[card.payment_method_id]['customer'])
        with self.assertRaises(LookupError):
            saved_cards.remove(self.project)

    def test_autopay_needs_a_card(self):
        with self.assertRaises(LookupError):
            saved_cards.set_autopay(self.project, True)
        self.assertFalse(SavedCard.objects.filter(autopay=True).exists())

    def test_a_setup_session_of_another_customer_is_rejected(self):
        self.save_card()
        # A session of a customer that is not the project's own.
        other = self.standin._create_customer({}, None)[1]
        status, session, _replayed = self.standin._create_setup_session({
            'mode': 'setup', 'customer': other['id'],
            'success_url': 'http://testserver/',
            'metadata[project_id]': self.project}, None)
        event = self.standin.complete_setup(session['id'], MASTERCARD,
                                            deliver=False)
        self.assertEqual('rejected', self.post_event(event))
        self.assertEqual('4242', SavedCard.objects.get().last4)

    def test_a_customer_stripe_lost_is_replaced_and_its_card_forgotten(
            self):
        """A restarted stand-in, a customer deleted in Stripe: Save works."""
        old = self.save_card()
        saved_cards.set_autopay(self.project, True)
        self.standin.reset()
        url = saved_cards.start_setup(self.project, 'http://testserver/a/',
                                      'http://testserver/b/')
        stored = SavedCard.objects.get(project_id=self.project)
        self.assertNotEqual(old.customer_id, stored.customer_id)
        self.assertEqual([stored.customer_id], list(self.standin.customers))
        self.assertEqual(('', False), (stored.payment_method_id,
                                       stored.autopay))
        session = self.standin.sessions[url.rsplit('/', 1)[1]]
        self.assertEqual(stored.customer_id, session['customer'])

    def test_stripe_down_saves_nothing(self):
        self.standin.fail_next(1, status=500)
        with self.assertRaises(base.ProviderError):
            saved_cards.start_setup(self.project, 'http://testserver/a/',
                                    'http://testserver/b/')
        self.assertFalse(SavedCard.objects.exists())


class AutopayTests(AutopayTestCase):

    def autopay_on(self, number=VISA):
        card = self.save_card(number)
        saved_cards.set_autopay(self.project, True)
        return card

    def test_charged_once_and_paid_only_by_the_webhook(self):
        self.autopay_on()
        invoice = issue_for(self.project, '2026-03')  # 556.00 SEK
        result = autopay.charge_due_invoices(Accounts())
        [(number, attempt, intent_id)] = result.charged
        self.assertEqual((invoice.number, 1), (number, attempt))
        intent = self.standin.payment_intents[intent_id]
        self.assertEqual((55600, 'sek', 'succeeded', True),
                         (intent['amount'], intent['currency'],
                          intent['status'],
                          intent['payment_method'] ==
                          SavedCard.objects.get().payment_method_id))
        # Charged, but nothing is paid until Stripe's signed event.
        self.assertEqual('outstanding', self.status(invoice).status)
        self.assertFalse(Payment.objects.exists())
        # Run again (cron, or billing_issue after it): no new charge.
        again = autopay.charge_due_invoices(Accounts())
        self.assertEqual([], again.charged)
        self.assertEqual(['autopay-%s-1' % invoice.number],
                         self.standin.intent_requests)
        self.assertEqual([('payment_intent.succeeded', 'recorded')],
                         self.deliver_events())
        payment = Payment.objects.get()
        self.assertEqual(('stripe', intent_id, D('556.00'), 'settled'),
                         (payment.provider, payment.provider_reference,
                          payment.amount, payment.state))
        self.assertEqual('paid', self.status(invoice).status)
        self.assertEqual(AutopayAttempt.SUCCEEDED,
                         AutopayAttempt.objects.get().state)
        # Paid: later runs leave it alone.
        self.assertEqual([], autopay.charge_due_invoices(Accounts()).charged)
        self.assertEqual(1, len(self.standin.charges()))

    def test_the_same_event_twice_pays_once(self):
        self.autopay_on()
        invoice = issue_for(self.project, '2026-03')
        autopay.charge_due_invoices(Accounts())
        [event] = self.standin.take_held()
        self.assertEqual('recorded', self.post_event(event))
        self.assertEqual('duplicate', self.post_event(event))
        self.assertEqual(1, Payment.objects.filter(invoice=invoice).count())

    def test_invoices_issued_before_autopay_was_on_are_not_charged(self):
        self.save_card()
        issue_for(self.project, '2026-02')
        saved_cards.set_autopay(self.project, True)
        self.assertEqual([], autopay.charge_due_invoices(Accounts()).charged)
        self.assertEqual({}, self.standin.payment_intents)

    def test_autopay_off_charges_nothing(self):
        self.save_card()
        issue_for(self.project, '2026-03')
        self.assertEqual([], autopay.charge_due_invoices(Accounts()).charged)
        self.assertEqual([], self.standin.intent_requests)

    def test_a_claimed_attempt_is_not_charged_by_another_run(self):
        """The row is written first: a concurrent run finds it taken."""
        card = self.autopay_on()
        invoice = self.status(issue_for(self.project, '2026-03'))
        claimed = autopay._claim(invoice, card, timezone.now())
        self.assertEqual(1, claimed.attempt)
        # The other run, at the same moment.
        self.assertIsNone(autopay._claim(invoice, card, timezone.now()))
        result = autopay.charge_due_invoices(Accounts())
        self.assertEqual([], result.charged)
        self.assertEqual([], self.standin.intent_requests)

    def test_an_unanswered_charge_is_sent_again_with_the_same_key(self):
        """A lost answer: the resend is the same PaymentIntent at Stripe."""
        self.autopay_on()
        invoice = issue_for(self.project, '2026-03')
        autopay.charge_due_invoices(Accounts())
        [intent_id] = list(self.standin.payment_intents)
        self.standin.take_held()
        # As if the run died before it stored Stripe's answer.
        AutopayAttempt.objects.update(
            state=AutopayAttempt.CHARGING, payment_intent_id='',
            updated_at=timezone.now() - autopay.LEASE)
        result = autopay.charge_due_invoices(Accounts())
        self.assertEqual([(invoice.number, 1, intent_id)], result.charged)
        self.assertEqual(['autopay-%s-1' % invoice.number] * 2,
                         self.standin.intent_requests)
        self.assertEqual(1, len(self.standin.payment_intents))

    def test_a_declined_card_mails_a_pay_link_and_retries_on_schedule(self):
        options = conf.get_conf()
        options.set_override('invoice_link_base_url',
                             'https://dash.example.com', 'mail')
        self.addCleanup(options.clear_override, 'invoice_link_base_url',
                        'mail')
        self.autopay_on(DECLINED)
        invoice = issue_for(self.project, '2026-03')
        now = timezone.now()
        result = autopay.charge_due_invoices(Accounts(), now=now,
                                             retry_days=[1, 3])
        [(number, attempt, code, when)] = result.failed
        self.assertEqual((invoice.number, 1, 'card_declined'),
                         (number, attempt, code))
        self.assertEqual(now + datetime.timedelta(days=1), when)
        self.assertEqual('outstanding', self.status(invoice).status)
        self.assertFalse(Payment.objects.exists())
        [message] = mail.outbox
        self.assertEqual([BILLING], message.to)
        self.assertEqual('Payment of invoice %s from %s failed'
                         % (invoice.number, invoice.seller['name']),
                         message.subject)
        self.assertIn('the card was declined', message.body)
        self.assertIn('Visa \u2022\u2022\u2022\u2022 0002', message.body)
        self.assertIn('https://dash.example.com/identity/invoices/%s/\n'
                      % invoice.number, message.body)
        self.assertIn('charged again on', message.body)

        # Not again before the retry is due.
        later = now + datetime.timedelta(hours=23)
        self.assertEqual([], autopay.charge_due_invoices(
            Accounts(), now=later, retry_days=[1, 3]).failed)
        schedule = []
        for days in (1, 1 + 3, 1 + 3 + 30):
            run = autopay.charge_due_invoices(
                Accounts(), now=now + datetime.timedelta(days=days,
                                                         seconds=1),
                retry_days=[1, 3])
            schedule.append([(attempt, when is not None)
                             for _n, attempt, _c, when in run.failed])
        # Attempts 2 and 3, the last without a next one; then no more.
        self.assertEqual([[(2, True)], [(3, False)], []], schedule)
        self.assertEqual(['autopay-%s-%d' % (invoice.number, n)
                          for n in (1, 2, 3)],
                         self.standin.intent_requests)
        self.assertEqual(3, len(mail.outbox))
        self.assertIn('will not be charged again', mail.outbox[-1].body)

    def test_authentication_required_asks_the_customer_in_their_language(
            self):
        self.autopay_on(AUTHENTICATE)
        invoice = issue_for(self.project, '2026-03')
        result = autopay.charge_due_invoices(Accounts(language='sv'))
        self.assertEqual('authentication_required', result.failed[0][2])
        attempt = AutopayAttempt.objects.get()
        self.assertTrue(attempt.payment_intent_id.startswith('pi_'))
        [message] = mail.outbox
        self.assertIn(invoice.number, message.subject)
        self.assertEqual('sv', message.extra_headers['Content-Language'])
        self.assertEqual('outstanding', self.status(invoice).status)

    def test_no_billing_address_is_reported(self):
        self.autopay_on(DECLINED)
        invoice = issue_for(self.project, '2026-03')
        result = autopay.charge_due_invoices(Accounts(recipients=()))
        self.assertEqual([(invoice.number, self.project)], result.unmailed)
        self.assertEqual([], mail.outbox)

    def test_stripe_failing_mails_nothing_and_the_next_run_tries_again(self):
        self.autopay_on()
        invoice = issue_for(self.project, '2026-03')
        self.standin.fail_next(1, status=500)
        result = autopay.charge_due_invoices(Accounts())
        self.assertEqual([(invoice.number, 1)],
                         [(n, a) for n, a, _m in result.errors])
        self.assertEqual([], mail.outbox)
        again = autopay.charge_due_invoices(Accounts())
        self.assertEqual([(invoice.number, 2)],
                         [(n, a) for n, a, _i in again.charged])

    def test_an_event_for_another_amount_is_rejected(self):
        self.autopay_on()
        invoice = issue_for(self.project, '2026-03')
        autopay.charge_due_invoices(Accounts())
        [event] = self.standin.take_held()
        event['data']['object']['amount_received'] = 100
        self.assertEqual('rejected', self.post_event(event))
        self.assertEqual('outstanding', self.status(invoice).status)
        self.assertEqual('rejected', Notification.objects.get(
            type='payment_intent.succeeded').outcome)

    def test_a_checkout_payment_intent_is_left_to_its_session(self):
        intent = {'id': 'pi_test_checkout', 'object': 'payment_intent',
                  'status': 'succeeded', 'amount_received': 100,
                  'currency': 'sek', 'metadata': {'invoice_number': 'X'}}
        event = self.standin.event('payment_intent.succeeded', intent)
        self.assertEqual('ignored', self.post_event(event))
        self.assertFalse(Payment.objects.exists())

    def test_the_command_reports_what_it_charged(self):
        self.autopay_on()
        invoice = issue_for(self.project, '2026-03')
        out = io.StringIO()
        billing_autopay.run(management_base.OutputWrapper(out), Accounts())
        self.assertIn('Charged %s to the saved card (attempt 1, pi_'
                      % invoice.number, out.getvalue())
        out = io.StringIO()
        billing_autopay.run(management_base.OutputWrapper(out), Accounts())
        self.assertEqual('No invoice to charge to a saved card.\n',
                         out.getvalue())
