"""The payments ledger: every payment is recorded here, the same way.

A card payment from Stripe's webhook, a bank transfer from a camt file, an
operator's hand entry (``billing_record_payment``) and the demo's payments
all go through ``record_payment``: the invoice row is locked, the payment
is written once per provider reference, and what it leaves to pay or as
credit is computed in the same transaction. Two payments of one invoice
arriving together (a card payment and a bank transfer) are written one
after the other and the second one sees the first: a payment beyond what
is due is recorded in full and reported as the invoice's credit, never
dropped.

Each payment first takes its project's credit lock (``billing.credit``),
the lock issuing and credit refunds take too: every movement of one
project's money is serialized on one row, always taken before the invoice
row (issuing takes it before the number series), so they cannot deadlock;
and on SQLite it is the transaction's first write, so a payment arriving
while an invoice is being issued waits for it instead of failing with
"database is locked".

Outstanding amounts and statuses are not stored; they are computed from
this ledger (``InvoiceQuerySet.with_balance``).
"""

import dataclasses
import decimal
import logging

from django.db import transaction

from cleura_billing_dashboard.billing import credit
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard.billing.models import Payment
from cleura_billing_dashboard import money

LOG = logging.getLogger(__name__)


class PaymentConflict(ValueError):
    """A provider reference was reported again with different details."""


@dataclasses.dataclass(frozen=True)
class Recorded:
    """A payment as recorded, and the invoice's balance after it.

    ``created`` is false when the same provider reference was recorded
    before; ``changed`` is true when the payment is new or its state moved
    (pending to settled or failed). ``outstanding`` is what is left to
    pay, ``credit`` what was paid beyond what is due (both >= 0).
    """

    payment: Payment
    created: bool
    changed: bool
    outstanding: decimal.Decimal
    credit: decimal.Decimal


def lock_invoice(invoice_id):
    """The invoice, its row locked until the current transaction ends."""
    return (Invoice.objects.select_for_update().defer('pdf', 'seller',
                                                      'buyer')
            .get(pk=invoice_id))


def record_payment(invoice, amount, *, provider, reference, currency=None,
                   state=Payment.SETTLED):
    """Record ``amount`` on ``invoice`` (an Invoice or its id): ``Recorded``.

    Idempotent by ``(provider, reference)``: a replay with the same invoice,
    amount and currency returns the recorded payment, a replay with other
    details raises ``PaymentConflict``. A payment recorded as pending moves
    to ``state`` when that is settled or failed; any other recorded payment
    keeps its state. ``currency`` defaults to, and must equal, the
    invoice's; the amount must be above zero and is rounded to the
    currency's minor unit; credit notes take no payments (``ValueError``).

    Runs in its own transaction, or in the caller's, with the project's
    credit lock and the invoice row taken, in that order (see the module
    doc; in the caller's transaction, as its first write on SQLite). A
    change that leaves a credit is logged as a warning.
    """
    invoice_id = getattr(invoice, 'pk', invoice)
    # An invoice's project never changes: read before the transaction.
    project_id = (Invoice.objects.filter(pk=invoice_id)
                  .values_list('project_id', flat=True).first())
    if project_id is not None:
        credit.ensure_lock(project_id)
    with transaction.atomic():
        if project_id is not None:
            credit.lock(project_id)
        invoice = lock_invoice(invoice_id)
        payment, created = _write(invoice, amount, provider, reference,
                                  currency or invoice.currency, state)
        changed = created
        if (not created and payment.state == Payment.PENDING and
                state in (Payment.SETTLED, Payment.FAILED)):
            payment = set_payment_state(provider, reference, state)
            changed = True
        balance = (Invoice.objects.with_balance().filter(pk=invoice.pk)
                   .values_list('balance', flat=True).get())
    zero = decimal.Decimal(0)
    result = Recorded(payment=payment, created=created, changed=changed,
                      outstanding=max(balance, zero),
                      credit=max(-balance, zero))
    if changed and result.credit:
        LOG.warning('Invoice %s is overpaid by %s %s after %s payment %s; '
                    'the amount is kept as the customer\'s credit',
                    invoice.number, result.credit, invoice.currency,
                    provider, reference)
    return result


def _write(invoice, amount, provider, reference, currency, state):
    """The payment row: ``(payment, created)``; see ``record_payment``."""
    if invoice.type != Invoice.INVOICE:
        raise ValueError('%s is a credit note' % invoice.number)
    if currency != invoice.currency:
        raise ValueError('%s is in %s, not %s' % (invoice.number,
                                                  invoice.currency, currency))
    amount = money.quantize(amount, currency)
    if amount <= 0:
        raise ValueError('a payment is a positive amount, not %s' % amount)
    # get_or_create() survives the same notification in another process.
    payment, created = Payment.objects.get_or_create(
        provider=provider, provider_reference=reference,
        defaults={'invoice': invoice, 'amount': amount,
                  'currency': currency, 'state': state})
    if not created and (payment.invoice_id != invoice.pk or
                        payment.amount != amount or
                        payment.currency != currency):
        raise PaymentConflict('%s %s was recorded for %s %s on %s'
                              % (provider, reference, payment.amount,
                                 payment.currency, payment.invoice_id))
    return payment, created


def set_payment_state(provider, reference, state):
    """Move the payment ``(provider, reference)`` to ``state``; return it."""
    if state not in dict(Payment.STATES):
        raise ValueError('unknown payment state %r' % (state,))
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(
            provider=provider, provider_reference=reference)
        if payment.state != state:
            payment.state = state
            payment.save(update_fields=['state', 'updated_at'])
    return payment
