"""Stripe's webhook: the only way a card payment is recorded.

``handle_notification()`` verifies Stripe's signature on the raw body
(a timestamp beyond the tolerance, in the past or in the future, is
refused), records each event id once (``models.Notification``, in the
transaction of its effect) and, with the session and invoice rows locked,
checks the invoice, currency and amount against the stored session before
it records the payment through the ledger (provider ``stripe``, reference:
the PaymentIntent, else the session id). Only a session Stripe reports
``complete`` is recorded: settled when its ``payment_status`` is ``paid``,
pending while a delayed method is still ``unpaid`` (pending reduces nothing
that is due). A session pays once: the first payment it reports claims it
in the database (``CheckoutSession.claim_payment``) and any other payment
for it is refused, also from a concurrent delivery. A mismatch records
nothing, is logged as an error and kept as a rejected notification for
the operator.

A ``checkout.session.completed`` of a setup session saves a card
(``saved_cards.record_setup``); ``payment_intent.succeeded`` of an
automatic payment records it (``autopay.record_succeeded``, the same
ledger path, the PaymentIntent as reference).

Starting a payment is ``stripe_checkout``'s job; both share ``NAME``,
``payment_reference()`` and ``set_status()`` from here.
"""

import datetime
import logging
import time

from django.db import IntegrityError
from django.db import transaction
import stripe

from cleura_billing_dashboard.billing import ledger
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard.billing.models import Payment
from cleura_billing_dashboard import conf
from cleura_billing_dashboard import money
from cleura_billing_dashboard.payments import base
from cleura_billing_dashboard.payments.models import CheckoutSession
from cleura_billing_dashboard.payments.models import Notification

LOG = logging.getLogger(__name__)
NAME = 'stripe'
SIGNATURE_HEADER = 'Stripe-Signature'

COMPLETED = 'checkout.session.completed'
ASYNC_SUCCEEDED = 'checkout.session.async_payment_succeeded'
ASYNC_FAILED = 'checkout.session.async_payment_failed'
EXPIRED = 'checkout.session.expired'
INTENT_SUCCEEDED = 'payment_intent.succeeded'


def timestamp(value):
    """Stripe's epoch seconds as an aware datetime, or None."""
    if not value:
        return None
    return datetime.datetime.fromtimestamp(int(value), datetime.timezone.utc)


def payment_reference(session):
    """The provider reference of a session's payment."""
    return session.get('payment_intent') or session['id']


def set_status(stored, status):
    """Move a stored ``CheckoutSession`` to Stripe's ``status``."""
    if status in dict(CheckoutSession.STATUSES) and stored.status != status:
        stored.status = status
        stored.save(update_fields=['status', 'updated_at'])


def _signed_at(header):
    """The ``t=`` timestamp of a ``Stripe-Signature`` header, or None.

    The first one, as the SDK reads it.
    """
    for item in (header or '').split(','):
        key, _sep, value = item.strip().partition('=')
        if key == 't':
            try:
                return int(value)
            except ValueError:
                return None
    return None


def handle_notification(body, headers):
    """Verify and handle one Stripe webhook event (see the module doc).

    Raises ``InvalidNotification`` for a missing, forged or expired
    signature or an unreadable body; nothing is recorded then.
    """
    options = conf.get_conf().stripe
    if not options.webhook_secret:
        raise base.InvalidNotification('[stripe] webhook_secret is not '
                                       'configured')
    try:
        event = stripe.Webhook.construct_event(
            body, headers.get(SIGNATURE_HEADER), options.webhook_secret,
            tolerance=options.webhook_tolerance,
            api_key=options.api_key)
    except stripe.SignatureVerificationError as e:
        raise base.InvalidNotification(str(e))
    except ValueError as e:
        raise base.InvalidNotification('unreadable event: %s' % e)
    # The SDK refuses only timestamps older than the tolerance; one
    # ahead of the clock would keep a captured request valid longer.
    signed_at = _signed_at(headers.get(SIGNATURE_HEADER))
    if (signed_at is None or
            signed_at > time.time() + options.webhook_tolerance):
        raise base.InvalidNotification(
            'Timestamp outside the tolerance zone (%s): ahead of this '
            'server\'s clock by more than %d seconds'
            % (signed_at, options.webhook_tolerance))
    event = event.to_dict()
    session = (event.get('data') or {}).get('object') or {}
    if not (event.get('id') and event.get('type') and
            session.get('id')):
        raise base.InvalidNotification('incomplete event')
    return handle_event(event)


def handle_event(event):
    """Apply one verified event (a dict) once: a ``NotificationResult``.

    Event types other than the four checkout ones and
    ``payment_intent.succeeded`` are ignored without a trace. A database
    error rolls everything back, the event id included, so Stripe's next
    delivery tries again.
    """
    handler = _HANDLERS.get(event['type'])
    if handler is None:
        return base.NotificationResult(Notification.IGNORED,
                                       'event type not handled')
    session = event['data']['object']
    with transaction.atomic():
        try:
            # First statement of the transaction, so that on SQLite it
            # takes the write lock at once and concurrent deliveries queue.
            with transaction.atomic():
                note = Notification.objects.create(
                    provider=NAME, event_id=event['id'], type=event['type'])
        except IntegrityError:
            return base.NotificationResult('duplicate')
        outcome, detail, number = handler(session)
        note.outcome, note.detail, note.invoice_number = (outcome, detail,
                                                          number)
        note.save(update_fields=['outcome', 'detail', 'invoice_number'])
    if outcome == Notification.REJECTED:
        LOG.error('Stripe event %s (%s) for invoice %s was rejected: %s. '
                  'Nothing was recorded; check the payment in Stripe.',
                  event['id'], event['type'], number or '?', detail)
    else:
        LOG.info('Stripe event %s (%s) for invoice %s: %s %s', event['id'],
                 event['type'], number or '?', outcome, detail)
    return base.NotificationResult(outcome, detail)


def _checked_session(session):
    """``(stored session, invoice, problem)`` with both rows locked.

    ``problem`` says why the event must not be recorded, else ''.
    """
    stored = (CheckoutSession.objects.select_for_update()
              .filter(provider=NAME, session_id=session['id']).first())
    if stored is None:
        return None, None, 'session %s was not opened here' % session['id']
    invoice = ledger.lock_invoice(stored.invoice_id)
    problems = []
    metadata = session.get('metadata') or {}
    number = metadata.get('invoice_number') or session.get(
        'client_reference_id')
    if number and number != invoice.number:
        problems.append('it names invoice %s' % number)
    currency = (session.get('currency') or '').upper()
    if currency != invoice.currency or currency != stored.currency:
        problems.append('currency %s, the invoice is in %s'
                        % (currency or '?', invoice.currency))
    elif session.get('amount_total') is None or money.from_minor_units(
            session['amount_total'], currency) != stored.amount:
        problems.append('amount %s, the session was opened for %s'
                        % (session.get('amount_total'), stored.amount))
    return stored, invoice, '; '.join(problems)


def _record(session, state, paid=False):
    """Record the session's payment in ``state``: ``(outcome, detail, no)``.

    Only for a session Stripe reports ``complete`` and, with ``paid``, a
    ``payment_status`` of ``paid``; only the payment that claims the
    session first, or that one again.
    """
    stored, invoice, problem = _checked_session(session)
    if stored is None:
        return Notification.IGNORED, problem, ''
    if not problem and session.get('status') != 'complete':
        problem = 'session status %s, not complete' % session.get('status')
    if not problem and paid and session.get('payment_status') != 'paid':
        problem = ('payment status %s, not paid'
                   % session.get('payment_status'))
    if problem:
        return Notification.REJECTED, problem, invoice.number
    set_status(stored, CheckoutSession.COMPLETE)
    reference = payment_reference(session)
    try:
        # One savepoint: a refused payment leaves the session unclaimed.
        with transaction.atomic():
            claimed = stored.claim_payment(reference)
            if claimed:
                recorded = ledger.record_payment(
                    invoice.pk, stored.amount, provider=NAME,
                    reference=reference, currency=invoice.currency,
                    state=state)
    except ValueError as e:  # ledger.PaymentConflict: recorded otherwise
        stored.refresh_from_db(fields=['payment_reference'])
        return Notification.REJECTED, str(e), invoice.number
    if not claimed:
        return (Notification.REJECTED,
                'session %s was paid already by %s; %s was not recorded, '
                'refund it in Stripe if it was charged'
                % (stored.session_id, stored.payment_reference, reference),
                invoice.number)
    detail = '%s %s %s' % (recorded.payment.state, recorded.payment.amount,
                           invoice.currency)
    if recorded.credit:
        return (Notification.CREDIT,
                detail + ', credit %s' % recorded.credit, invoice.number)
    return Notification.RECORDED, detail, invoice.number


def _completed(session):
    if session.get('mode') == 'setup':
        # A card saved for automatic payments, not a payment.
        from cleura_billing_dashboard.payments import saved_cards
        return saved_cards.record_setup(session)
    status = session.get('payment_status')
    if status == 'paid':
        return _record(session, Payment.SETTLED, paid=True)
    if status == 'unpaid':  # a delayed method: wait for async_payment_*
        # Pending: not paid, it only keeps a second page from opening.
        return _record(session, Payment.PENDING)
    return Notification.IGNORED, 'payment status %s' % status, ''


def _async_succeeded(session):
    return _record(session, Payment.SETTLED, paid=True)


def _async_failed(session):
    return _record(session, Payment.FAILED)


def _expired(session):
    stored = (CheckoutSession.objects.select_for_update()
              .filter(provider=NAME, session_id=session['id']).first())
    if stored is None:
        return (Notification.IGNORED,
                'session %s was not opened here' % session['id'], '')
    if stored.status == CheckoutSession.OPEN:
        set_status(stored, CheckoutSession.EXPIRED)
    number = Invoice.objects.filter(pk=stored.invoice_id).values_list(
        'number', flat=True).get()
    return Notification.UPDATED, 'session %s' % stored.status, number


def _intent_succeeded(intent):
    from cleura_billing_dashboard.payments import autopay
    return autopay.record_succeeded(intent)


_HANDLERS = {
    COMPLETED: _completed,
    ASYNC_SUCCEEDED: _async_succeeded,
    ASYNC_FAILED: _async_failed,
    EXPIRED: _expired,
    INTENT_SUCCEEDED: _intent_succeeded,
}
