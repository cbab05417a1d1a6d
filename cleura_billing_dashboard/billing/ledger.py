"""The payments ledger: what providers reported, once per provider reference.

Outstanding amounts and statuses are not stored; they are computed from
this ledger (``InvoiceQuerySet.with_balance``).
"""

from django.db import transaction

from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard.billing.models import Payment
from cleura_billing_dashboard import money


class PaymentConflict(ValueError):
    """A provider reference was reported again with different details."""


def record_payment(invoice, amount, *, provider, reference, currency=None,
                   state=Payment.SETTLED):
    """Record a payment of ``amount`` on ``invoice``: ``(payment, created)``.

    Idempotent by ``(provider, reference)``: a replay with the same invoice,
    amount and currency returns the recorded payment unchanged (its state
    is not touched; see ``set_payment_state``), a replay with other details
    raises ``PaymentConflict``. ``currency`` defaults to, and must equal,
    the invoice's. Credit notes take no payments.
    """
    if invoice.type != Invoice.INVOICE:
        raise ValueError('%s is a credit note' % invoice.number)
    currency = currency or invoice.currency
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
