"""Automatic card payments: unpaid invoices charged to the saved card.

``charge_due_invoices()`` is ``billing_autopay`` (run after issuing and
daily from cron). For every project whose saved card has autopay on, each
unpaid invoice issued since autopay was turned on is charged off-session
with a Stripe PaymentIntent (``confirm``, ``off_session``) for what is
outstanding.

Charged once: the attempt row (``AutopayAttempt``, ``(invoice, attempt)``
unique) is written before Stripe is asked, so of two runs at once one
charges and the other skips; the request carries the idempotency key
``autopay-<number>-<attempt>``, so a request repeated after a lost answer
or a crash (an attempt left ``charging`` beyond ``LEASE`` is sent again,
with the same key and amount) is the same PaymentIntent at Stripe.

Paid only by the webhook: a succeeded charge marks nothing paid here;
Stripe's signed ``payment_intent.succeeded`` records the payment through
the ledger (``record_succeeded``), once per PaymentIntent.

Declined (``card_declined``) or needing the customer's authentication
(``authentication_required``): the invoice stays outstanding, the
project's verified Billing addresses are mailed a link to pay it by hand,
and the next attempt is due ``[autopay] retry_days`` later; after the last
one the card is not charged again for that invoice. Stripe failing
otherwise (an error answer) leaves the attempt ``error`` and the next run
tries again, without a mail; no answer at all leaves it ``charging``.
"""

import dataclasses
import datetime
import logging

from django.db import IntegrityError
from django.db import transaction
from django.utils import timezone
from django.utils import translation
from django.utils.translation import gettext
import stripe

from cleura_billing_dashboard.billing import ledger
from cleura_billing_dashboard.billing import models as billing_models
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard.billing.models import Payment
from cleura_billing_dashboard.billing import reminders
from cleura_billing_dashboard import conf
from cleura_billing_dashboard import money
from cleura_billing_dashboard import notify
from cleura_billing_dashboard.payments.models import AutopayAttempt
from cleura_billing_dashboard.payments.models import Notification
from cleura_billing_dashboard.payments.models import SavedCard
from cleura_billing_dashboard.payments import stripe_checkout
from cleura_billing_dashboard.payments import stripe_webhook

LOG = logging.getLogger(__name__)
NAME = stripe_webhook.NAME
UNPAID = (billing_models.OUTSTANDING, billing_models.OVERDUE)
# A charge sent but not answered (a crash, a timeout) is sent again, with
# the same key, after this long; well above [stripe] timeout and retries.
LEASE = datetime.timedelta(minutes=10)
# What Stripe answers for a card that cannot be charged off-session.
CARD_FAILURES = ('card_declined', 'authentication_required')


@dataclasses.dataclass
class AutopayResult:
    """What one run did.

    ``charged``: ``(number, attempt, payment_intent)`` sent to Stripe and
    accepted (paid once the webhook arrives); ``failed``: ``(number,
    attempt, code, next_attempt_at or None)``; ``errors``: ``(number,
    attempt, message)`` of attempts Stripe did not answer properly;
    ``mailed``: ``(number, address)`` queued; ``unmailed``: ``(number,
    project_id)`` with no verified Billing address; ``sending``: notify's
    ``SendReport``.
    """

    charged: list = dataclasses.field(default_factory=list)
    failed: list = dataclasses.field(default_factory=list)
    errors: list = dataclasses.field(default_factory=list)
    mailed: list = dataclasses.field(default_factory=list)
    unmailed: list = dataclasses.field(default_factory=list)
    sending: object = None


def idempotency_key(number, attempt):
    """The PaymentIntent create key of ``attempt`` to charge ``number``."""
    return 'autopay-%s-%d' % (number, attempt)


def due_invoices(card, today=None):
    """The card's project's unpaid invoices issued since autopay is on."""
    return (Invoice.objects.for_project(card.project_id)
            .filter(type=Invoice.INVOICE,
                    created_at__gte=card.autopay_since)
            .defer('pdf')
            .with_balance(today)
            .filter(status__in=UNPAID)
            .order_by('due_date', 'number'))


def next_attempt(invoice_id, now):
    """``(attempt number, stale row or None)`` to charge now, or None.

    None while an attempt is under way or awaits the webhook, before a
    failed attempt's retry is due and after the last retry.
    """
    last = (AutopayAttempt.objects.filter(invoice_id=invoice_id)
            .order_by('-attempt').first())
    if last is None:
        return 1, None
    if last.state == AutopayAttempt.CHARGING:
        if last.updated_at <= now - LEASE:
            return last.attempt, last
        return None
    if last.state in (AutopayAttempt.FAILED, AutopayAttempt.ERROR):
        if last.next_attempt_at is not None and last.next_attempt_at <= now:
            return last.attempt + 1, None
    return None


def retry_at(invoice_id, now, retry_days=None):
    """When to try again after a card failure now; None: never again."""
    if retry_days is None:
        retry_days = conf.get_conf().autopay.retry_days
    failures = AutopayAttempt.objects.filter(
        invoice_id=invoice_id, state=AutopayAttempt.FAILED).count()
    if failures > len(retry_days):
        return None
    return now + datetime.timedelta(days=retry_days[failures - 1])


def pay_link(number):
    """Where invoice ``number`` is paid by hand; '' without a base URL."""
    options = conf.get_conf()
    base_url = options.mail.invoice_link_base_url
    if not base_url:
        return ''
    return (base_url.rstrip('/') +
            options.autopay.pay_link_path.format(number=number))


def charge_due_invoices(accounts=None, *, now=None, retry_days=None,
                        send_mail=True):
    """Charge every invoice due for an attempt now: an ``AutopayResult``.

    ``accounts`` (``account.store.AccountReader``) gives the Billing
    addresses mailed when a card fails; without it nothing is mailed.
    With ``send_mail`` the outbox is sent at the end. Call it outside a
    transaction; safe to run from several processes at once.
    """
    now = now or timezone.now()
    result = AutopayResult()
    cards = (SavedCard.objects.filter(provider=NAME, autopay=True,
                                      autopay_since__isnull=False)
             .exclude(payment_method_id='').order_by('project_id'))
    for card in cards:
        for invoice in due_invoices(card, timezone.localdate(now)):
            if Payment.objects.filter(invoice=invoice,
                                      state=Payment.PENDING).exists():
                continue  # being paid by hand (a delayed method)
            _charge(invoice, card, now, result, accounts, retry_days)
    if send_mail and result.mailed:
        result.sending = notify.send_pending(still_due=reminders.still_due)
    return result


def _claim(invoice, card, now):
    """The attempt row this run charges, or None (another run has it)."""
    found = next_attempt(invoice.pk, now)
    if found is None:
        return None
    number, stale = found
    if stale is not None:
        # Take over the stale attempt; the same key makes it one charge.
        taken = AutopayAttempt.objects.filter(
            pk=stale.pk, state=AutopayAttempt.CHARGING,
            updated_at=stale.updated_at).update(updated_at=now)
        if not taken:
            return None
        stale.refresh_from_db()
        return stale
    try:
        with transaction.atomic():
            return AutopayAttempt.objects.create(
                invoice=invoice, attempt=number, provider=NAME,
                idempotency_key=idempotency_key(invoice.number, number),
                payment_method_id=card.payment_method_id,
                amount=money.quantize(invoice.outstanding,
                                      invoice.currency),
                currency=invoice.currency)
    except IntegrityError:
        return None  # a concurrent run wrote it first


def _params(invoice, card, attempt):
    # Nothing here may change between two sends of one attempt: the same
    # key must come with the same parameters.
    with translation.override(invoice.language):
        description = gettext('Invoice %s') % invoice.number
    return {
        'amount': money.to_minor_units(attempt.amount, attempt.currency),
        'currency': attempt.currency.lower(),
        'customer': card.customer_id,
        'payment_method': attempt.payment_method_id,
        'off_session': True,
        'confirm': True,
        'description': description,
        'metadata': {'invoice_number': invoice.number,
                     'project_id': invoice.project_id,
                     'autopay_attempt': attempt.idempotency_key},
    }


def _charge(invoice, card, now, result, accounts, retry_days):
    attempt = _claim(invoice, card, now)
    if attempt is None:
        return
    mine = AutopayAttempt.objects.filter(pk=attempt.pk)
    try:
        intent = stripe_checkout.client().v1.payment_intents.create(
            _params(invoice, card, attempt),
            {'idempotency_key': attempt.idempotency_key}).to_dict()
    except stripe.CardError as e:
        code = e.code if e.code in CARD_FAILURES else 'card_declined'
        failed = getattr(e.error, 'payment_intent', None)
        mine.update(state=AutopayAttempt.FAILED, error_code=code,
                    error_message=str(e.user_message or e)[:2000],
                    payment_intent_id=getattr(failed, 'id', None) or '',
                    next_attempt_at=None)
        when = retry_at(invoice.pk, now, retry_days)
        mine.update(next_attempt_at=when)
        LOG.warning('Autopay of invoice %s (attempt %d) failed: %s; next '
                    'attempt: %s', invoice.number, attempt.attempt, code,
                    when or 'none')
        result.failed.append((invoice.number, attempt.attempt, code, when))
        _mail_failure(invoice, card, attempt, code, when, result, accounts)
        return
    except stripe.StripeError as e:
        if e.http_status is None:
            # No answer: it may have been charged. Sent again, same key.
            mine.update(error_message=str(e)[:2000])
        else:
            mine.update(state=AutopayAttempt.ERROR,
                        error_code=(e.code or '')[:64],
                        error_message=str(e)[:2000], next_attempt_at=now)
        LOG.error('Stripe did not charge invoice %s (attempt %d): %s',
                  invoice.number, attempt.attempt, e)
        result.errors.append((invoice.number, attempt.attempt, str(e)))
        return
    if intent.get('status') in ('succeeded', 'processing'):
        mine.exclude(state=AutopayAttempt.SUCCEEDED).update(
            state=AutopayAttempt.SUBMITTED, payment_intent_id=intent['id'])
        result.charged.append((invoice.number, attempt.attempt,
                               intent['id']))
        return
    # Any other status wants the customer (e.g. requires_action).
    mine.update(state=AutopayAttempt.FAILED,
                error_code='authentication_required',
                payment_intent_id=intent['id'],
                error_message='payment intent %s' % intent.get('status'))
    when = retry_at(invoice.pk, now, retry_days)
    mine.update(next_attempt_at=when)
    result.failed.append((invoice.number, attempt.attempt,
                          'authentication_required', when))
    _mail_failure(invoice, card, attempt, 'authentication_required', when,
                  result, accounts)


def _mail_failure(invoice, card, attempt, code, when, result, accounts):
    recipients = (accounts.billing_recipients(invoice.project_id)
                  if accounts is not None else [])
    if not recipients:
        LOG.warning('Project %s has no verified Billing address: the '
                    'failed card payment of %s is not mailed',
                    invoice.project_id, invoice.number)
        result.unmailed.append((invoice.number, invoice.project_id))
        return
    details = accounts.buyer_details(invoice.project_id) or {}
    queued = notify.queue_card_failed(
        number=invoice.number, project_id=invoice.project_id,
        attempt=attempt.attempt, recipients=recipients,
        language=details.get('language') or invoice.language,
        link=pay_link(invoice.number),
        summary={
            'outstanding': str(attempt.amount),
            'currency': attempt.currency,
            'seller': (invoice.seller or {}).get('name', ''),
            'buyer': (invoice.buyer or {}).get('name', ''),
            'reason': code,
            'brand': card.brand,
            'last4': card.last4,
            'next_attempt': (timezone.localdate(when).isoformat()
                             if when else ''),
        })
    result.mailed += [(invoice.number, address) for address in queued]


def record_succeeded(intent):
    """Record a ``payment_intent.succeeded`` of an automatic payment.

    ``(outcome, detail, number)`` for ``stripe_webhook``; runs in its
    transaction. PaymentIntents made otherwise (Checkout's) are ignored:
    their session's event records them.
    """
    key = (intent.get('metadata') or {}).get('autopay_attempt')
    attempt = (AutopayAttempt.objects.select_for_update()
               .filter(provider=NAME, idempotency_key=key or '')
               .select_related('invoice').first())
    if attempt is None:
        return (Notification.IGNORED, 'payment intent %s is not an '
                'automatic payment here' % intent.get('id'), '')
    invoice = attempt.invoice
    problems = []
    number = (intent.get('metadata') or {}).get('invoice_number')
    if number != invoice.number:
        problems.append('it names invoice %s' % number)
    currency = (intent.get('currency') or '').upper()
    if currency != attempt.currency:
        problems.append('currency %s, charged in %s'
                        % (currency or '?', attempt.currency))
    elif intent.get('amount_received') is None or money.from_minor_units(
            intent['amount_received'], currency) != attempt.amount:
        problems.append('amount %s, the attempt charged %s'
                        % (intent.get('amount_received'), attempt.amount))
    if intent.get('status') != 'succeeded':
        problems.append('status %s' % intent.get('status'))
    if (attempt.payment_intent_id and
            attempt.payment_intent_id != intent.get('id')):
        problems.append('attempt %d made %s' % (attempt.attempt,
                                                attempt.payment_intent_id))
    if problems:
        return Notification.REJECTED, '; '.join(problems), invoice.number
    try:
        recorded = ledger.record_payment(
            invoice.pk, attempt.amount, provider=NAME,
            reference=intent['id'], currency=attempt.currency,
            state=Payment.SETTLED)
    except ValueError as e:  # ledger.PaymentConflict
        return Notification.REJECTED, str(e), invoice.number
    AutopayAttempt.objects.filter(pk=attempt.pk).update(
        state=AutopayAttempt.SUCCEEDED, payment_intent_id=intent['id'],
        error_code='', error_message='', next_attempt_at=None)
    detail = 'autopay %s %s %s' % (recorded.payment.state,
                                   recorded.payment.amount, currency)
    if recorded.credit:
        return (Notification.CREDIT, detail + ', credit %s'
                % recorded.credit, invoice.number)
    return Notification.RECORDED, detail, invoice.number
