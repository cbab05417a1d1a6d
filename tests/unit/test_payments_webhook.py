"""Stripe's webhook: signed events, recorded once, checked before recording.

Events are made and signed by the Stripe stand-in with the SDK's own
signing helper and posted, without login or CSRF token, to the URL an
operator registers with Stripe.
"""

import contextlib
import decimal
import io
import json
import logging
import time
from unittest import mock

from django.db import OperationalError
from django import test as django_test
from django.urls import reverse

from openstack_dashboard.test import helpers as test

from cleura_billing_dashboard.billing import ledger
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard.billing.models import Payment
from cleura_billing_dashboard.content.webhooks.providers import views
from cleura_billing_dashboard.payments import base
from cleura_billing_dashboard.payments.models import CheckoutSession
from cleura_billing_dashboard.payments.models import Notification
from cleura_billing_dashboard.payments import stripe_checkout
from cleura_billing_dashboard.payments import stripe_webhook
from tests.unit.test_invoices_panel import issue_for
from tools.lab import stripe_standin

WEBHOOK_URL = stripe_standin.WEBHOOK_PATH
D = decimal.Decimal


class WebhookTestCase(stripe_standin.StandInMixin, test.TestCase):

    def setUp(self):
        super().setUp()
        self.invoice = issue_for(self.tenant.id, '2026-03')  # 556.00 SEK
        # Stripe posts without a session, a login or a CSRF token.
        self.stripe = django_test.Client(enforce_csrf_checks=True)
        self.session_id = self.open_session()

    def open_session(self):
        """A Checkout Session for what is outstanding, as Pay opens it."""
        invoice = Invoice.objects.with_balance().get(pk=self.invoice.pk)
        stripe_checkout.StripeCheckout().start(
            invoice, invoice.outstanding,
            base.StartData(return_url='http://testserver/paid/',
                           cancel_url='http://testserver/'))
        return CheckoutSession.objects.filter(status='open').get().session_id

    def post(self, event, body=None, signature=None, **kwargs):
        signed_body, signed = self.standin.signed(event, **kwargs)
        return self.stripe.post(WEBHOOK_URL, data=body or signed_body,
                                content_type='application/json',
                                HTTP_STRIPE_SIGNATURE=signature or signed)

    def status(self):
        return Invoice.objects.with_balance().get(pk=self.invoice.pk)

    def assert_nothing_recorded(self):
        self.assertFalse(Payment.objects.exists())
        self.assertFalse(Notification.objects.exists())
        self.assertEqual('outstanding', self.status().status)


class WebhookTests(WebhookTestCase):

    def test_a_completed_checkout_settles_the_invoice(self):
        event = self.standin.complete(self.session_id, deliver=False)
        res = self.post(event)
        self.assertEqual(200, res.status_code)
        self.assertEqual({'outcome': 'recorded'}, res.json())
        payment = Payment.objects.get()
        self.assertEqual(
            ('stripe', event['data']['object']['payment_intent'],
             D('556.00'), 'SEK', Payment.SETTLED),
            (payment.provider, payment.provider_reference, payment.amount,
             payment.currency, payment.state))
        invoice = self.status()
        self.assertEqual(('paid', D('0.0000')), (invoice.status,
                                                 invoice.outstanding))
        self.assertEqual('complete', CheckoutSession.objects.get().status)
        note = Notification.objects.get()
        self.assertEqual((event['id'], 'recorded', self.invoice.number),
                         (note.event_id, note.outcome, note.invoice_number))

    def test_the_paid_invoice_shows_the_tick_and_loses_its_pay_action(self):
        self.post(self.standin.complete(self.session_id, deliver=False))
        res = self.client.get(reverse('horizon:identity:invoices:index'))
        text = res.content.decode()
        row = text[text.index('id="invoices__row__%s"' % self.invoice.number):]
        row = row[:row.index('</tr>')]
        self.assertIn('fa-check-circle text-success', row)
        self.assertIn('SEK0.00', row)
        self.assertNotIn(reverse('horizon:identity:invoices:pay',
                                 args=[self.invoice.number]), row)

    def test_the_same_event_twenty_times_records_one_payment(self):
        event = self.standin.complete(self.session_id, deliver=False)
        outcomes = [self.post(event).json()['outcome'] for _ in range(20)]
        self.assertEqual(['recorded'] + ['duplicate'] * 19, outcomes)
        self.assertEqual(1, Payment.objects.count())
        self.assertEqual(1, Notification.objects.count())
        self.assertEqual(D('556.0000'), self.status().paid_amount)

    def test_a_get_is_not_allowed(self):
        self.assertEqual(405, self.stripe.get(WEBHOOK_URL).status_code)

    def test_providers_without_notifications_have_no_webhook(self):
        event = self.standin.complete(self.session_id, deliver=False)
        for path in ('/cleura-billing/bank_transfer/webhook/',
                     '/cleura-billing/paypal/webhook/'):
            body, signature = self.standin.signed(event)
            res = self.stripe.post(path, data=body,
                                   content_type='application/json',
                                   HTTP_STRIPE_SIGNATURE=signature)
            self.assertEqual(404, res.status_code, path)
        self.assert_nothing_recorded()

    def test_other_event_types_are_ignored(self):
        event = self.standin.event('payment_intent.created',
                                   {'id': 'pi_test_1'})
        res = self.post(event)
        self.assertEqual({'outcome': 'ignored'}, res.json())
        self.assert_nothing_recorded()

    def test_a_session_not_opened_here_is_ignored(self):
        event = self.standin.complete(self.session_id, deliver=False)
        event['data']['object']['id'] = 'cs_test_of_another_shop'
        self.assertEqual({'outcome': 'ignored'}, self.post(event).json())
        self.assertFalse(Payment.objects.exists())


class SignatureTests(WebhookTestCase):
    """Anything not signed now with our secret: 400, nothing recorded."""

    def test_a_tampered_body_is_refused(self):
        event = self.standin.complete(self.session_id, deliver=False)
        body, signature = self.standin.signed(event)
        tampered = body.replace(b'"amount_total": 55600',
                                b'"amount_total": 100')
        self.assertNotEqual(body, tampered)
        res = self.post(event, body=tampered, signature=signature)
        self.assertEqual(400, res.status_code)
        self.assert_nothing_recorded()

    def test_an_expired_signature_is_refused(self):
        event = self.standin.complete(self.session_id, deliver=False)
        with self.assertLogs('cleura_billing_dashboard', 'WARNING') as logs:
            res = self.post(event, timestamp=int(time.time()) - 301)
        self.assertEqual(400, res.status_code)
        self.assertIn('Timestamp outside the tolerance zone', logs.output[0])
        self.assert_nothing_recorded()

    def test_a_signature_from_the_future_is_refused(self):
        # The SDK only refuses old timestamps; a header stamped ahead of
        # the clock would stay valid for the tolerance plus the lead.
        event = self.standin.complete(self.session_id, deliver=False)
        with self.assertLogs('cleura_billing_dashboard', 'WARNING') as logs:
            res = self.post(event, timestamp=int(time.time()) + 301)
        self.assertEqual(400, res.status_code)
        self.assertIn('Timestamp outside the tolerance zone', logs.output[0])
        self.assert_nothing_recorded()

    def test_a_clock_slightly_ahead_is_accepted(self):
        event = self.standin.complete(self.session_id, deliver=False)
        res = self.post(event, timestamp=int(time.time()) + 60)
        self.assertEqual({'outcome': 'recorded'}, res.json())

    def test_another_secret_is_refused(self):
        event = self.standin.complete(self.session_id, deliver=False)
        res = self.post(event, secret='whsec_someone_else')
        self.assertEqual(400, res.status_code)
        self.assert_nothing_recorded()

    def test_no_signature_is_refused(self):
        event = self.standin.complete(self.session_id, deliver=False)
        res = self.stripe.post(WEBHOOK_URL, data=json.dumps(event),
                               content_type='application/json')
        self.assertEqual(400, res.status_code)
        self.assert_nothing_recorded()

    def test_a_signed_body_that_is_no_event_is_refused(self):
        body = b'{"not": "an event"}'
        signature = self.standin.sign(body.decode())
        res = self.post({}, body=body, signature=signature)
        self.assertEqual(400, res.status_code)
        self.assert_nothing_recorded()


class CheckTests(WebhookTestCase):
    """A signed event that does not fit the session: logged, not paid."""

    def assert_rejected(self, event, words):
        with self.assertLogs(stripe_webhook.LOG, 'ERROR') as logs:
            res = self.post(event)
        self.assertEqual({'outcome': 'rejected'}, res.json())
        self.assertIn(self.invoice.number, logs.output[0])
        self.assertIn(words, logs.output[0])
        self.assertFalse(Payment.objects.exists())
        self.assertEqual('outstanding', self.status().status)
        note = Notification.objects.get()
        self.assertEqual(('rejected', self.invoice.number),
                         (note.outcome, note.invoice_number))
        self.assertIn(words, note.detail)
        # Delivered again, it is not handled again.
        self.assertEqual({'outcome': 'duplicate'}, self.post(event).json())

    def test_a_wrong_amount_is_not_recorded(self):
        event = self.standin.complete(self.session_id, deliver=False)
        event['data']['object']['amount_total'] = 100
        self.assert_rejected(event, 'amount 100, the session was opened '
                                    'for 556.0000')

    def test_a_wrong_currency_is_not_recorded(self):
        event = self.standin.complete(self.session_id, deliver=False)
        event['data']['object']['currency'] = 'eur'
        self.assert_rejected(event, 'currency EUR, the invoice is in SEK')

    def test_another_invoice_number_is_not_recorded(self):
        event = self.standin.complete(self.session_id, deliver=False)
        event['data']['object']['metadata']['invoice_number'] = '2026-999999'
        self.assert_rejected(event, 'it names invoice 2026-999999')

    def test_a_reference_recorded_with_other_details_is_not_changed(self):
        event = self.standin.complete(self.session_id, deliver=False)
        reference = event['data']['object']['payment_intent']
        ledger.record_payment(self.invoice, D('1'), provider='stripe',
                              reference=reference)
        with self.assertLogs(stripe_webhook.LOG, 'ERROR') as logs:
            res = self.post(event)
        self.assertEqual({'outcome': 'rejected'}, res.json())
        self.assertIn('stripe %s was recorded for 1.0000 SEK' % reference,
                      logs.output[0])
        self.assertEqual([D('1.0000')], list(
            Payment.objects.values_list('amount', flat=True)))


class LifecycleTests(WebhookTestCase):

    def test_a_delayed_payment_is_pending_until_it_succeeds(self):
        event = self.standin.complete(self.session_id, 'unpaid',
                                      deliver=False)
        self.assertEqual({'outcome': 'recorded'}, self.post(event).json())
        self.assertEqual(Payment.PENDING, Payment.objects.get().state)
        self.assertEqual('outstanding', self.status().status)
        session = dict(event['data']['object'], payment_status='paid')
        succeeded = self.standin.event(stripe_webhook.ASYNC_SUCCEEDED,
                                       session)
        self.assertEqual({'outcome': 'recorded'},
                         self.post(succeeded).json())
        self.assertEqual(Payment.SETTLED, Payment.objects.get().state)
        self.assertEqual('paid', self.status().status)

    def test_a_failed_delayed_payment_leaves_the_invoice_to_pay(self):
        event = self.standin.complete(self.session_id, 'unpaid',
                                      deliver=False)
        self.post(event)
        with self.assertRaises(base.PaymentInProgress):
            self.open_session()
        failed = self.standin.event(stripe_webhook.ASYNC_FAILED,
                                    event['data']['object'])
        self.assertEqual({'outcome': 'recorded'}, self.post(failed).json())
        self.assertEqual(Payment.FAILED, Payment.objects.get().state)
        self.assertEqual('outstanding', self.status().status)
        # The customer may try again: a new session.
        self.assertNotEqual(self.session_id, self.open_session())

    def test_an_expired_session_is_marked_and_replaced(self):
        self.standin.sessions[self.session_id]['status'] = 'expired'
        event = self.standin.event(stripe_webhook.EXPIRED,
                                   self.standin.sessions[self.session_id])
        self.assertEqual({'outcome': 'updated'}, self.post(event).json())
        self.assertEqual('expired', CheckoutSession.objects.get().status)
        self.assertNotEqual(self.session_id, self.open_session())
        self.assertEqual(2, len(self.standin.sessions))


@contextlib.contextmanager
def errors_logged():
    """Every record logged at ERROR or above, by any logger, meanwhile."""
    records = []
    real = logging.Logger.callHandlers

    def call_handlers(logger, record):
        if record.levelno >= logging.ERROR:
            records.append(record)
        return real(logger, record)

    with mock.patch.object(logging.Logger, 'callHandlers', call_handlers):
        yield records


class EndlessStream(io.RawIOBase):
    """A request body that never ends; counts what was read of it."""

    def __init__(self):
        self.read_bytes = 0

    def readable(self):
        return True

    def read(self, size=-1):
        if size is None or size < 0:
            raise AssertionError('the whole body was asked for')
        self.read_bytes += size
        return b'x' * size


class SizeTests(WebhookTestCase):
    """An oversized body: 413 before it is read, no traceback logged."""

    LIMIT = views.MAX_NOTIFICATION_BYTES

    def padded(self, size):
        """A signed completion event whose body is ``size`` bytes."""
        event = self.standin.complete(self.session_id, deliver=False)
        event['padding'] = ''
        event['padding'] = 'x' * (size - len(json.dumps(event)))
        body, signature = self.standin.signed(event)
        self.assertEqual(size, len(body))
        return body, signature

    def test_a_body_over_the_limit_is_refused(self):
        body, signature = self.padded(self.LIMIT + 1)
        with errors_logged() as errors:
            with self.assertLogs(views.LOG, 'WARNING') as logs:
                res = self.stripe.post(WEBHOOK_URL, data=body,
                                       content_type='application/json',
                                       HTTP_STRIPE_SIGNATURE=signature)
        self.assertEqual(413, res.status_code)
        self.assertEqual({'error': 'notification too large'}, res.json())
        self.assertIn('%d bytes' % (self.LIMIT + 1), logs.output[0])
        self.assertEqual([], errors)
        self.assert_nothing_recorded()

    def test_a_body_at_the_limit_is_handled(self):
        body, signature = self.padded(self.LIMIT)
        res = self.stripe.post(WEBHOOK_URL, data=body,
                               content_type='application/json',
                               HTTP_STRIPE_SIGNATURE=signature)
        self.assertEqual({'outcome': 'recorded'}, res.json())

    def test_a_body_beyond_djangos_own_limit_logs_no_traceback(self):
        # Django raises RequestDataTooBig, logged as an error with its
        # traceback, once request.body of such a request is touched.
        body = b'x' * (3 * 1024 * 1024)
        for content_type in ('application/json',
                             'application/x-www-form-urlencoded'):
            with errors_logged() as errors:
                res = self.stripe.post(WEBHOOK_URL, data=body,
                                       content_type=content_type,
                                       HTTP_STRIPE_SIGNATURE='t=1,v1=x')
            self.assertEqual(413, res.status_code, content_type)
            self.assertEqual([], [(r.name, r.getMessage(), r.exc_info)
                                  for r in errors])
        self.assert_nothing_recorded()

    def endless_request(self, **meta):
        request = django_test.RequestFactory().post(
            WEBHOOK_URL, data=b'', content_type='application/json', **meta)
        request._stream = EndlessStream()
        return request

    def test_a_missing_or_false_length_reads_at_most_the_limit(self):
        for length in (None, '', '10', 'many', '-1'):
            request = self.endless_request()
            if length is None:
                request.META.pop('CONTENT_LENGTH', None)
            else:
                request.META['CONTENT_LENGTH'] = length
            with self.assertLogs(views.LOG, 'WARNING'):
                res = views.WebhookView.as_view()(request, provider='stripe')
            self.assertEqual(413, res.status_code, length)
            self.assertLessEqual(request._stream.read_bytes, self.LIMIT + 1,
                                 length)
        self.assert_nothing_recorded()

    def test_a_declared_length_over_the_limit_reads_nothing(self):
        request = self.endless_request()
        request.META['CONTENT_LENGTH'] = str(10 ** 12)
        with self.assertLogs(views.LOG, 'WARNING'):
            res = views.WebhookView.as_view()(request, provider='stripe')
        self.assertEqual(413, res.status_code)
        self.assertEqual(0, request._stream.read_bytes)


class OnceTests(WebhookTestCase):
    """One Checkout Session pays once, and only when Stripe says paid."""

    def again(self, event, event_type=stripe_webhook.COMPLETED, **changes):
        """A new event (new id) for the session of ``event``."""
        session = dict(event['data']['object'], **changes)
        return self.standin.event(event_type, session)

    def assert_rejected(self, event, words):
        with self.assertLogs(stripe_webhook.LOG, 'ERROR') as logs:
            res = self.post(event)
        self.assertEqual({'outcome': 'rejected'}, res.json())
        self.assertIn(words, logs.output[0])
        note = Notification.objects.get(event_id=event['id'])
        self.assertEqual('rejected', note.outcome)
        self.assertIn(words, note.detail)

    def test_a_second_completion_with_another_payment_records_nothing(self):
        first = self.standin.complete(self.session_id, deliver=False)
        self.assertEqual({'outcome': 'recorded'}, self.post(first).json())
        second = self.again(first, payment_intent='pi_test_second')
        self.assert_rejected(second, 'session %s was paid already'
                             % self.session_id)
        payment = Payment.objects.get()
        self.assertEqual(first['data']['object']['payment_intent'],
                         payment.provider_reference)
        self.assertEqual(D('556.0000'), self.status().paid_amount)

    def test_a_later_success_with_another_payment_records_nothing(self):
        first = self.standin.complete(self.session_id, deliver=False)
        self.post(first)
        later = self.again(first, stripe_webhook.ASYNC_SUCCEEDED,
                           payment_intent='pi_test_second')
        self.assert_rejected(later, 'session %s was paid already'
                             % self.session_id)
        self.assertEqual(1, Payment.objects.count())
        self.assertEqual(D('556.0000'), self.status().paid_amount)

    def test_a_pending_session_is_not_settled_by_another_payment(self):
        pending = self.standin.complete(self.session_id, 'unpaid',
                                        deliver=False)
        self.post(pending)
        other = self.again(pending, stripe_webhook.ASYNC_SUCCEEDED,
                           payment_intent='pi_test_second',
                           payment_status='paid')
        self.assert_rejected(other, 'session %s was paid already'
                             % self.session_id)
        self.assertEqual([Payment.PENDING], list(
            Payment.objects.values_list('state', flat=True)))
        self.assertEqual('outstanding', self.status().status)

    def test_a_completion_of_a_session_that_is_not_complete_records_nothing(
            self):
        event = self.standin.complete(self.session_id, deliver=False)
        for status in ('open', 'expired'):
            self.assert_rejected(self.again(event, status=status),
                                 'session status %s' % status)
        self.assertFalse(Payment.objects.exists())
        self.assertEqual('outstanding', self.status().status)

    def test_a_success_that_is_not_paid_settles_nothing(self):
        pending = self.standin.complete(self.session_id, 'unpaid',
                                        deliver=False)
        self.post(pending)
        unpaid = self.again(pending, stripe_webhook.ASYNC_SUCCEEDED)
        self.assert_rejected(unpaid, 'payment status unpaid')
        self.assertEqual(Payment.PENDING, Payment.objects.get().state)
        self.assertEqual('outstanding', self.status().status)

    def test_a_success_without_a_completion_must_be_paid_too(self):
        event = self.standin.complete(self.session_id, 'unpaid',
                                      deliver=False)
        unpaid = self.again(event, stripe_webhook.ASYNC_SUCCEEDED)
        self.assert_rejected(unpaid, 'payment status unpaid')
        self.assertFalse(Payment.objects.exists())

    def test_a_delayed_payment_does_not_reduce_what_is_due(self):
        # Stripe: completed with payment_status unpaid is not a payment
        # yet; it is kept pending (so no second page is opened), never
        # counted as paid.
        event = self.standin.complete(self.session_id, 'unpaid',
                                      deliver=False)
        self.post(event)
        invoice = self.status()
        self.assertEqual((D('0'), D('556.0000'), 'outstanding'),
                         (invoice.paid_amount, invoice.outstanding,
                          invoice.status))

    def test_the_session_is_claimed_in_the_database(self):
        # Another delivery of this session claimed it between our read
        # and our write (a second node): ours must not record.
        event = self.standin.complete(self.session_id, deliver=False)
        real = stripe_webhook._checked_session

        def raced(session):
            result = real(session)
            CheckoutSession.objects.filter(
                session_id=session['id']).update(
                    payment_reference='pi_test_other_node')
            return result

        with mock.patch.object(stripe_webhook, '_checked_session', raced):
            self.assert_rejected(event, 'session %s was paid already'
                                 % self.session_id)
        self.assertFalse(Payment.objects.exists())

    def test_the_same_payment_again_changes_nothing(self):
        first = self.standin.complete(self.session_id, deliver=False)
        self.post(first)
        again = self.again(first)
        self.assertNotEqual('rejected', self.post(again).json()['outcome'])
        self.assertEqual(1, Payment.objects.count())
        self.assertEqual(D('556.0000'), self.status().paid_amount)


class CreditTests(WebhookTestCase):
    """Card and bank transfer both arrived: the second is a credit."""

    def test_a_card_payment_of_a_settled_invoice_is_a_credit(self):
        ledger.record_payment(self.invoice.pk, D('556'),
                              provider='bank_transfer', reference='bg-1',
                              currency='SEK')
        event = self.standin.complete(self.session_id, deliver=False)
        with self.assertLogs(ledger.LOG, 'WARNING') as logs:
            res = self.post(event)
        self.assertEqual({'outcome': 'credit'}, res.json())
        self.assertIn('overpaid by 556.0000 SEK', logs.output[0])
        self.assertEqual(2, Payment.objects.filter(
            state=Payment.SETTLED).count())
        invoice = self.status()
        self.assertEqual(('paid', D('-556.0000')), (invoice.status,
                                                    invoice.balance))
        detail = self.client.get(reverse('horizon:identity:invoices:detail',
                                         args=[self.invoice.number]))
        self.assertEqual(D('556.0000'), detail.context['invoice'].credit)
        self.assertEqual('SEK556.00',
                         detail.context['invoice'].display['credit'])
        self.assertContains(detail, event['data']['object']['payment_intent'])
        self.assertContains(detail, 'bg-1')

    def test_a_part_payment_leaves_the_rest_outstanding(self):
        recorded = ledger.record_payment(self.invoice.pk, D('100'),
                                         provider='manual',
                                         reference='part', currency='SEK')
        self.assertEqual((True, D('456.0000'), D('0')),
                         (recorded.created, recorded.outstanding,
                          recorded.credit))
        self.assertEqual('outstanding', self.status().status)


class FailureTests(WebhookTestCase):

    def test_a_database_failure_records_nothing_and_stripe_retries(self):
        event = self.standin.complete(self.session_id, deliver=False)
        with mock.patch.object(ledger, 'record_payment',
                               side_effect=OperationalError('disk full')):
            with self.assertLogs('cleura_billing_dashboard', 'ERROR'):
                res = self.post(event)
        self.assertEqual(500, res.status_code)
        self.assert_nothing_recorded()
        self.assertEqual('open', CheckoutSession.objects.get().status)
        # Stripe delivers the event again later.
        self.assertEqual({'outcome': 'recorded'}, self.post(event).json())
        self.assertEqual(1, Payment.objects.count())
