"""The outbox: invoice mail waiting to be sent, and what became of it.

One ``InvoiceMail`` per invoice mail (``kind`` invoice, step 0) and per
payment reminder step (``kind`` reminder, ``step`` the days relative to
the due date) holds what every recipient gets: ``(number, kind, step)`` is
unique. One ``Recipient`` row per address holds that address's delivery
state. ``(mail, address)`` is unique, so a mail is queued to an address at
most once, and a row is marked sent only after the SMTP server accepted
the message. A reminder whose invoice was paid before it was sent is
marked ``skipped``, never sent.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class InvoiceMail(models.Model):
    """What is mailed for one issued invoice (plain data, no invoice FK)."""

    INVOICE = 'invoice'
    REMINDER = 'reminder'
    # An automatic card payment failed: pay by hand (step: the attempt).
    CARD_FAILED = 'card_failed'
    KINDS = ((INVOICE, _('Invoice')), (REMINDER, _('Reminder')),
             (CARD_FAILED, _('Card payment failed')))

    ATTACHMENT = 'attachment'
    LINK = 'link'
    DELIVERIES = ((ATTACHMENT, _('PDF attached')), (LINK, _('Link')))

    number = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=KINDS, default=INVOICE)
    # A reminder's days relative to the due date; a failed card payment's
    # attempt number; 0 for the invoice mail.
    step = models.IntegerField(default=0)
    project_id = models.CharField(max_length=64, db_index=True)
    language = models.CharField(max_length=16, default='en')
    delivery = models.CharField(max_length=16, choices=DELIVERIES,
                                default=ATTACHMENT)
    # Subject and body facts: total, currency, due date, seller, buyer.
    summary = models.JSONField(default=dict)
    pdf = models.BinaryField(null=True, blank=True)
    filename = models.CharField(max_length=128, blank=True)
    link = models.URLField(max_length=500, blank=True)
    # The e-invoice (UBL XML) attached next to the PDF, when the project
    # asked for it; rows queued before it existed have none.
    einvoice = models.BinaryField(null=True, blank=True)
    einvoice_filename = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=['number', 'kind', 'step'],
                                    name='cleura_notify_one_mail_per_step'),
        ]

    def __str__(self):
        return self.number


class Recipient(models.Model):
    """One address an invoice mail goes to, and its delivery state."""

    PENDING = 'pending'
    SENDING = 'sending'
    SENT = 'sent'
    SKIPPED = 'skipped'
    STATES = ((PENDING, _('Pending')), (SENDING, _('Sending')),
              (SENT, _('Sent')), (SKIPPED, _('Skipped: paid')))

    mail = models.ForeignKey(InvoiceMail, on_delete=models.CASCADE,
                             related_name='recipients')
    address = models.CharField(max_length=254)
    state = models.CharField(max_length=16, choices=STATES, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A sender owns a SENDING row until claimed_until; then it is retried.
    claim = models.CharField(max_length=32, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ['pk']
        indexes = [
            models.Index(fields=['state', 'next_attempt_at'],
                         name='cleura_notify_due'),
        ]
        constraints = [
            models.UniqueConstraint(fields=['mail', 'address'],
                                    name='cleura_notify_once_per_address'),
        ]

    def __str__(self):
        return '%s -> %s (%s)' % (self.mail_id, self.address, self.state)
