"""Recording a provider's payment: the invoice row locked, credits reported.

Every provider records money through ``record_payment`` here, so that two
payments of one invoice arriving together (a card payment and a bank
transfer) are written one after the other and the second one sees the
first: a payment beyond what is due is recorded in full and reported as
the invoice's credit, never dropped.
"""

import dataclasses
import decimal
import logging

from django.db import transaction

from cleura_billing_dashboard.billing import ledger
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard.billing.models import Payment

LOG = logging.getLogger(__name__)
ZERO = decimal.Decimal(0)


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


def record_payment(invoice_id, amount, *, provider, reference, currency,
                   state=Payment.SETTLED):
    """Record ``amount`` on invoice ``invoice_id``: a ``Recorded``.

    Idempotent by ``(provider, reference)`` like ``ledger.record_payment``
    (and raises what it raises: ``ValueError``, ``PaymentConflict``); a
    payment recorded as pending moves to ``state`` when that is settled or
    failed, any other recorded payment keeps its state. Runs in its own
    transaction, or in the caller's, with the invoice row locked. A change
    that leaves a credit is logged as a warning.
    """
    with transaction.atomic():
        invoice = lock_invoice(invoice_id)
        payment, created = ledger.record_payment(
            invoice, amount, provider=provider, reference=reference,
            currency=currency, state=state)
        changed = created
        if (not created and payment.state == Payment.PENDING and
                state in (Payment.SETTLED, Payment.FAILED)):
            payment = ledger.set_payment_state(provider, reference, state)
            changed = True
        balance = (Invoice.objects.with_balance().filter(pk=invoice.pk)
                   .values_list('balance', flat=True).get())
    result = Recorded(payment=payment, created=created, changed=changed,
                      outstanding=max(balance, ZERO),
                      credit=max(-balance, ZERO))
    if changed and result.credit:
        LOG.warning('Invoice %s is overpaid by %s %s after %s payment %s; '
                    'the amount is kept as the customer\'s credit',
                    invoice.number, result.credit, invoice.currency,
                    provider, reference)
    return result
