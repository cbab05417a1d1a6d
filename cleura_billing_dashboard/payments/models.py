"""What the payment providers were asked and what they reported.

* ``CheckoutSession``: a hosted payment page opened at a provider for one
  invoice and amount. ``(provider, session_id)`` is unique; a session that
  is still open is reused instead of opening another one. A session pays
  once: ``payment_reference`` is set, by a compare-and-set in the
  database, to the reference of the first payment it reports and never
  changed, and a payment with another reference is refused.
* ``Notification``: one provider notification (webhook event).
  ``(provider, event_id)`` is unique and the row is written in the same
  transaction as its effect, so an event redelivered any number of times
  has its effect once. ``outcome`` and ``detail`` say what became of it;
  rejected notifications are the operator's to look at.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from cleura_billing_dashboard.billing.models import AMOUNT
from cleura_billing_dashboard.billing.models import Invoice


class CheckoutSession(models.Model):
    """A hosted payment page opened for ``amount`` of ``invoice``."""

    OPEN = 'open'
    COMPLETE = 'complete'
    EXPIRED = 'expired'
    STATUSES = ((OPEN, _('Open')), (COMPLETE, _('Complete')),
                (EXPIRED, _('Expired')))

    provider = models.CharField(max_length=32)
    session_id = models.CharField(max_length=255)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT,
                                related_name='+')
    amount = models.DecimalField(**AMOUNT)
    currency = models.CharField(max_length=3)
    url = models.URLField(max_length=2000)
    status = models.CharField(max_length=16, choices=STATUSES, default=OPEN)
    #: The provider reference of the one payment this session made; set
    #: once (``claim_payment``). NULL, not '', so that the unique
    #: constraint below allows any number of unpaid sessions everywhere.
    payment_reference = models.CharField(max_length=128, null=True,
                                         blank=True)
    idempotency_key = models.CharField(max_length=255)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ['created_at', 'pk']
        constraints = [
            models.UniqueConstraint(fields=['provider', 'session_id'],
                                    name='cleura_checkout_session_once'),
            models.UniqueConstraint(fields=['provider', 'payment_reference'],
                                    name='cleura_checkout_payment_once'),
        ]
        indexes = [
            models.Index(fields=['invoice', 'status'],
                         name='cleura_checkout_invoice'),
        ]

    def __str__(self):
        return '%s %s' % (self.provider, self.session_id)

    def claim_payment(self, reference):
        """Make ``reference`` the one payment of this session: a bool.

        True when the session had no payment yet (it is now set, also on
        this instance) or already had this one; false when another
        payment claimed it first, even in a concurrent transaction: the
        update only writes a row whose ``payment_reference`` is still
        NULL, which the database decides atomically.
        """
        if self.payment_reference is None:
            claimed = type(self).objects.filter(
                pk=self.pk, payment_reference__isnull=True).update(
                    payment_reference=reference)
            if claimed:
                self.payment_reference = reference
                return True
            self.payment_reference = type(self).objects.values_list(
                'payment_reference', flat=True).get(pk=self.pk)
        return self.payment_reference == reference


class Notification(models.Model):
    """One provider notification, recorded once with what became of it."""

    RECORDED = 'recorded'
    CREDIT = 'credit'
    REJECTED = 'rejected'
    IGNORED = 'ignored'
    UPDATED = 'updated'

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=128)
    invoice_number = models.CharField(max_length=32, blank=True)
    outcome = models.CharField(max_length=16, blank=True)
    detail = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ['received_at', 'pk']
        constraints = [
            models.UniqueConstraint(fields=['provider', 'event_id'],
                                    name='cleura_notification_once'),
        ]

    def __str__(self):
        return '%s %s' % (self.provider, self.event_id)


class SavedCard(models.Model):
    """A project's card saved at the provider, for automatic payments.

    One row per project (``project_id`` unique). ``customer_id`` is the
    provider's customer of the project, made once and kept when the card
    is removed; the card itself is only the provider's payment method id
    and what may be shown of it (brand, last four digits, expiry): no
    card number ever reaches Horizon. ``payment_method_id`` is '' while
    no card is saved. ``autopay`` says whether invoices issued since
    ``autopay_since`` are charged to the card
    (``autopay.charge_due_invoices``).
    """

    project_id = models.CharField(max_length=64, unique=True)
    provider = models.CharField(max_length=32)
    customer_id = models.CharField(max_length=255)
    payment_method_id = models.CharField(max_length=255, blank=True)
    brand = models.CharField(max_length=32, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    autopay = models.BooleanField(default=False)
    #: When autopay was last turned on: invoices issued since are charged.
    autopay_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return '%s %s' % (self.project_id, self.payment_method_id or '-')

    @property
    def has_card(self):
        return bool(self.payment_method_id)


class AutopayAttempt(models.Model):
    """One automatic charge of an invoice to its project's saved card.

    ``(invoice, attempt)`` is unique: the row is written before the
    provider is asked, so of two runs at once only one charges an
    attempt. ``idempotency_key`` is sent with the charge, so a repeated
    request (a lost answer, a crash) is the same charge at the provider.
    The invoice is paid only by the provider's webhook, never here.
    """

    CHARGING = 'charging'
    SUBMITTED = 'submitted'
    SUCCEEDED = 'succeeded'
    FAILED = 'failed'
    ERROR = 'error'
    STATES = ((CHARGING, _('Charging')), (SUBMITTED, _('Submitted')),
              (SUCCEEDED, _('Succeeded')), (FAILED, _('Declined')),
              (ERROR, _('Provider error')))

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT,
                                related_name='+')
    attempt = models.PositiveIntegerField()
    provider = models.CharField(max_length=32)
    idempotency_key = models.CharField(max_length=255, unique=True)
    payment_method_id = models.CharField(max_length=255)
    amount = models.DecimalField(**AMOUNT)
    currency = models.CharField(max_length=3)
    payment_intent_id = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=16, choices=STATES,
                             default=CHARGING)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    #: When a failed attempt may be followed by the next; NULL: never.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ['invoice', 'attempt']
        constraints = [
            models.UniqueConstraint(fields=['invoice', 'attempt'],
                                    name='cleura_autopay_attempt_once'),
        ]

    def __str__(self):
        return '%s #%d %s' % (self.invoice_id, self.attempt, self.state)
