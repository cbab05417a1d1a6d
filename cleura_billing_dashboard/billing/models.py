"""The invoice store: invoices, their lines, payments and number series.

What callers may rely on:

* An invoice and its lines are written once, together, by
  ``Invoice.store(lines)`` (``billing.issue`` does that). Afterwards they
  never change: ``save()`` of a stored row, ``delete()``, and a queryset's
  ``update()``, ``delete()``, ``bulk_update()`` raise
  ``ImmutableInvoiceError``. Corrections are credit notes.
* Its documents are written once, after it: issuing stores the invoice
  and its lines first, with an empty PDF (``documents_ready`` false), and
  ``store_pdf`` writes the PDF exactly once (a conditional update: the
  second writer changes nothing). ``InvoiceQuerySet.for_project`` and
  ``ready()`` leave out invoices whose documents are not stored yet.
* An invoice's e-invoice (``EInvoice``, one per syntax) is written once
  too, by ``billing.einvoices``, and is as immutable as the invoice.
* Amounts are ``Decimal`` in the currency's minor units; a credit note's
  amounts are negative.
* Nothing derived is stored: ``Invoice.objects.with_balance()`` annotates
  ``paid_amount`` (settled payments), ``credited_amount`` (credit notes
  against the invoice, positive), ``credit_applied`` (the project's credit
  taken off it at issue, positive; see ``billing.credit``), ``balance``
  (total - credited - paid - credit applied; negative when overpaid: a
  credit), ``outstanding`` (the balance, never
  below 0) and ``status``, all in SQL so lists can filter and page on them.
  The status of an invoice is ``credited`` when credit notes cover its
  total, else ``paid`` when nothing is outstanding, else ``overdue`` after
  its due date, else ``outstanding``; a credit note's status is ``credit``.

Over 300 lines for a reason: Django looks for an app's models in one
``models`` module, and the balance annotations belong with the queryset
they annotate.
"""

import decimal

from django.db import models
from django.db.models import functions
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cleura_billing_dashboard.billing import totals as totals_mod
from cleura_billing_dashboard import money

AMOUNT = {'max_digits': 18, 'decimal_places': 4}
ZERO = decimal.Decimal(0)

PAID = 'paid'
OUTSTANDING = 'outstanding'
OVERDUE = 'overdue'
CREDITED = 'credited'
CREDIT = 'credit'
STATUSES = (PAID, OUTSTANDING, OVERDUE, CREDITED, CREDIT)

DOMESTIC = 'domestic'  # billing.vat.DOMESTIC


class ImmutableInvoiceError(Exception):
    """An issued invoice, or one of its lines, was to be changed or deleted."""


class _ImmutableQuerySet(models.QuerySet):
    """Reads like any queryset; refuses to change or delete rows."""

    def update(self, **kwargs):
        raise ImmutableInvoiceError('issued invoices cannot be updated')

    def bulk_update(self, objs, fields, batch_size=None):
        raise ImmutableInvoiceError('issued invoices cannot be updated')

    def delete(self):
        raise ImmutableInvoiceError('issued invoices cannot be deleted')

    delete.queryset_only = True


def _decimal(value):
    return models.Value(value, output_field=models.DecimalField(**AMOUNT))


class _AnnotatedAmount(models.DecimalField):
    """An amount computed in SQL, read back at the stored scale.

    SQLite gives computed decimals 15 significant digits, the others their
    own scale; every backend gives ``Decimal('12.3400')`` with this.
    """

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return decimal.Decimal(value).quantize(
            decimal.Decimal(1).scaleb(-self.decimal_places))


def _amount(expression):
    return models.ExpressionWrapper(expression,
                                    output_field=_AnnotatedAmount(**AMOUNT))


class InvoiceQuerySet(_ImmutableQuerySet):

    def bulk_create(self, objs, *args, **kwargs):
        raise ImmutableInvoiceError('store invoices with Invoice.store()')

    def for_project(self, project_id):
        """This project's invoices and credit notes only, documents stored.

        An invoice whose PDF is still being made is left out: nothing is
        shown, paid, reminded or exported half-made (see ``ready``).
        """
        if not project_id:
            raise ValueError('a project id is required')
        return self.ready().filter(project_id=project_id)

    def ready(self):
        """The invoices whose documents (PDF, e-invoice) are stored."""
        return self.exclude(pdf_sha256='')

    def documents_pending(self):
        """The invoices issued whose documents are not stored yet."""
        return self.filter(pdf_sha256='')

    def newest_first(self):
        """Ordered by issue date, then number, both descending (indexed)."""
        return self.order_by('-issue_date', '-number')

    def after(self, issue_date, number):
        """The rows after (``issue_date``, ``number``) in newest-first order.

        Keyset pagination: pass the last row of the previous page.
        """
        # The first condition bounds the index range scan; the second is
        # the tuple comparison (issue_date, number) < (...) spelled out.
        return self.filter(issue_date__lte=issue_date).filter(
            models.Q(issue_date__lt=issue_date) | models.Q(number__lt=number))

    def with_balance(self, today=None):
        """Annotate the payment status, computed in SQL (see module doc).

        ``today`` decides what is overdue; it defaults to the local date.
        """
        today = today or timezone.localdate()
        zero = _decimal(ZERO)
        return self.with_balance_only().annotate(
            outstanding=_amount(functions.Greatest('balance', zero)),
            status=models.Case(
                models.When(type=Invoice.CREDIT_NOTE,
                            then=models.Value(CREDIT)),
                models.When(credited_amount__gte=models.F('total'),
                            then=models.Value(CREDITED)),
                models.When(balance__lte=0, then=models.Value(PAID)),
                models.When(due_date__lt=today, then=models.Value(OVERDUE)),
                default=models.Value(OUTSTANDING),
                output_field=models.CharField()),
        )

    def with_balance_only(self):
        """Annotate the amounts of ``with_balance``, not the status.

        For ``balance`` alone: half the query to build.
        """
        settled = (Payment.objects
                   .filter(invoice=models.OuterRef('pk'),
                           state=Payment.SETTLED)
                   .values('invoice')
                   .annotate(amount=models.Sum('amount'))
                   .values('amount'))
        credited = (Invoice.objects
                    .filter(credits=models.OuterRef('pk'))
                    .values('credits')
                    .annotate(amount=models.Sum('total'))
                    .values('amount'))
        applied = (CreditEntry.objects
                   .filter(invoice=models.OuterRef('pk'),
                           kind=CreditEntry.APPLIED)
                   .values('invoice')
                   .annotate(amount=models.Sum('amount'))
                   .values('amount'))
        zero = _decimal(ZERO)
        return self.annotate(
            paid_amount=_amount(functions.Coalesce(
                models.Subquery(settled), zero)),
            credited_amount=_amount(zero - functions.Coalesce(
                models.Subquery(credited), zero)),
            # Applied entries are negative (credit spent): positive here.
            credit_applied=_amount(zero - functions.Coalesce(
                models.Subquery(applied), zero)),
            # Rounded to the stored scale: SQLite sums decimals as floats.
            balance=_amount(functions.Round(
                models.F('total') - models.F('credited_amount') -
                models.F('paid_amount') - models.F('credit_applied'),
                AMOUNT['decimal_places'])),
        )


class Invoice(models.Model):
    """An issued invoice or credit note, exactly as it was sent."""

    INVOICE = 'invoice'
    CREDIT_NOTE = 'credit_note'
    TYPES = ((INVOICE, _('Invoice')), (CREDIT_NOTE, _('Credit note')))

    project_id = models.CharField(max_length=64)
    number = models.CharField(max_length=32, unique=True)
    type = models.CharField(max_length=16, choices=TYPES, default=INVOICE)
    credits = models.ForeignKey('self', null=True, blank=True,
                                on_delete=models.PROTECT,
                                related_name='credit_notes')
    reason = models.CharField(max_length=255, blank=True)
    currency = models.CharField(max_length=3)
    language = models.CharField(max_length=16, default='en')
    issue_date = models.DateField()
    due_date = models.DateField()
    period_start = models.DateField()
    period_end = models.DateField()
    seller = models.JSONField()
    buyer = models.JSONField()
    net_total = models.DecimalField(**AMOUNT)
    vat_total = models.DecimalField(**AMOUNT)
    total = models.DecimalField(**AMOUNT)
    payment_reference = models.CharField(max_length=25, blank=True)
    # The VAT treatment decided at issue (billing.vat): its kind, the
    # EN 16931 category, and for the 0 % categories the VATEX code and
    # the reason in the invoice's language. Invoices issued before the
    # treatment was decided are domestic (each line's own rate).
    vat_treatment = models.CharField(max_length=16, default=DOMESTIC)
    vat_category = models.CharField(max_length=2, default='S')
    vat_exemption_code = models.CharField(max_length=32, blank=True)
    vat_exemption_text = models.CharField(max_length=255, blank=True)
    pdf = models.BinaryField()
    pdf_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        base_manager_name = 'objects'
        ordering = ['-issue_date', '-number']
        indexes = [
            # The panel's list: one project, newest first, paged.
            models.Index(fields=['project_id', '-issue_date', '-number'],
                         name='cleura_invoice_list'),
        ]
        constraints = [
            # One invoice, and at most one (full) credit note, per project
            # and period: issuing a period twice cannot bill twice.
            models.UniqueConstraint(
                fields=['project_id', 'period_start', 'type'],
                name='cleura_invoice_once_per_period'),
        ]

    def __str__(self):
        return self.number

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableInvoiceError('invoice %s is issued and cannot '
                                        'change' % self.number)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableInvoiceError('invoice %s is issued and cannot be '
                                    'deleted' % self.number)

    def store(self, lines):
        """Insert this new invoice and ``lines`` (unsaved ``InvoiceLine``).

        Call inside the issuing transaction. Lines are numbered in the
        order given. Nothing can be added or changed afterwards.
        """
        self.save()
        for position, line in enumerate(lines, 1):
            line.invoice = self
            line.position = position
        self._storing = True
        try:
            InvoiceLine.objects.bulk_create(lines)
        finally:
            del self._storing

    @property
    def documents_ready(self):
        """Whether this invoice's PDF (and so its e-invoice) is stored."""
        return bool(self.pdf_sha256)

    def store_pdf(self, content, sha256):
        """Write the PDF of this invoice, stored without one; once.

        A conditional update (where no PDF is stored): True if this call
        stored it, False if another did first (then nothing changes).
        Call it in the transaction that stores the e-invoice and queues
        the mail, so that all three are committed together.
        """
        stored = models.QuerySet.update(
            Invoice.objects.filter(pk=self.pk, pdf_sha256=''),
            pdf=content, pdf_sha256=sha256)
        if stored:
            self.pdf, self.pdf_sha256 = content, sha256
        return bool(stored)

    def vat_breakdown(self, lines=None):
        """``totals.VatAmount`` per rate, derived from the lines."""
        if lines is None:
            lines = self.lines.all()
        return totals_mod.compute(lines, self.currency).vat_breakdown

    def as_document(self, lines=None, prepaid=None):
        """This invoice as the plain dict ``pdf.render_invoice_pdf`` takes.

        ``lines`` defaults to the stored lines; the issuer passes the new,
        unsaved ones. ``prepaid`` is the project's credit applied at issue
        (BT-113); it defaults to the stored credit entry of this invoice.
        The amount due is the total less that credit: the document is what
        was sent at issue, not the payment status.
        """
        if lines is None:
            lines = list(self.lines.all())
        if prepaid is None:
            prepaid = ZERO
            if self.pk is not None:
                prepaid = -(CreditEntry.objects.filter(
                    invoice=self, kind=CreditEntry.APPLIED).aggregate(
                        amount=models.Sum('amount'))['amount'] or ZERO)

        def amount(value):
            return money.quantize(value, self.currency)

        def category(rate):
            # Domestic: each line's own rate, standard or zero rated.
            if self.vat_treatment == DOMESTIC:
                return 'S' if rate > 0 else 'Z'
            return self.vat_category

        exemption = {'exemption_reason_code': self.vat_exemption_code or None,
                     'exemption_reason': self.vat_exemption_text or None}
        return {
            'number': self.number,
            'type': self.type,
            'credits_number': (self.credits.number if self.credits_id
                               else None),
            'currency': self.currency,
            'issue_date': self.issue_date,
            'due_date': self.due_date,
            'period_start': self.period_start,
            'period_end': self.period_end,
            'seller': dict(self.seller),
            'buyer': dict(self.buyer),
            'lines': [{
                'product': line.product,
                'description': line.description,
                'region': line.region,
                'quantity': totals_mod.trim(line.quantity),
                'unit': line.unit,
                'unit_price': totals_mod.trim(line.unit_price),
                'vat_rate': totals_mod.trim(line.vat_rate),
                'vat_category': category(line.vat_rate),
                'net_amount': amount(line.net_amount),
            } for line in lines],
            'net_total': amount(self.net_total),
            'vat_breakdown': [
                dict(exemption, rate=vat.rate, base=vat.base,
                     amount=vat.amount, category=category(vat.rate))
                for vat in self.vat_breakdown(lines)],
            'vat_treatment': self.vat_treatment,
            'vat_exemption_text': self.vat_exemption_text,
            'vat_total': amount(self.vat_total),
            'total': amount(self.total),
            'prepaid_amount': amount(prepaid),
            'amount_due': amount(self.total - prepaid),
            'payment_reference': self.payment_reference,
            'reason': self.reason,
        }

    @property
    def filename(self):
        """The name to download the PDF as."""
        return '%s.pdf' % self.number


class InvoiceLineQuerySet(_ImmutableQuerySet):

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        if not all(getattr(line.invoice, '_storing', False) for line in objs):
            raise ImmutableInvoiceError('lines are stored with their invoice '
                                        'by Invoice.store()')
        return super().bulk_create(objs, *args, **kwargs)


class InvoiceLine(models.Model):
    """One line of an issued invoice; ``net_amount`` is quantity x price."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT,
                                related_name='lines')
    position = models.PositiveIntegerField()
    product = models.CharField(max_length=100)
    description = models.CharField(max_length=255, blank=True)
    region = models.CharField(max_length=64)
    quantity = models.DecimalField(max_digits=18, decimal_places=6)
    unit = models.CharField(max_length=16)
    unit_price = models.DecimalField(max_digits=18, decimal_places=6)
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2)
    net_amount = models.DecimalField(**AMOUNT)

    objects = InvoiceLineQuerySet.as_manager()

    class Meta:
        base_manager_name = 'objects'
        ordering = ['invoice', 'position']
        constraints = [
            models.UniqueConstraint(fields=['invoice', 'position'],
                                    name='cleura_invoice_line_position'),
        ]

    def save(self, *args, **kwargs):
        # Only Invoice.store() adds lines, and only to the invoice it stores.
        if not self._state.adding or not getattr(self.invoice, '_storing',
                                                 False):
            raise ImmutableInvoiceError('lines of an issued invoice cannot '
                                        'change')
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableInvoiceError('lines of an issued invoice cannot be '
                                    'deleted')


class EInvoiceQuerySet(_ImmutableQuerySet):

    def bulk_create(self, objs, *args, **kwargs):
        raise ImmutableInvoiceError('store e-invoices with '
                                    'billing.einvoices')


class EInvoice(models.Model):
    """An invoice's e-invoice in one syntax, exactly as it was made.

    At most one per invoice and syntax (a unique constraint), so making
    it twice at once stores one. Written once; never changed or deleted.
    """

    UBL = 'ubl'  # Peppol BIS Billing 3.0, UBL 2.1
    SYNTAXES = ((UBL, 'Peppol BIS Billing 3.0 UBL'),)

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT,
                                related_name='einvoices')
    syntax = models.CharField(max_length=16, choices=SYNTAXES, default=UBL)
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EInvoiceQuerySet.as_manager()

    class Meta:
        base_manager_name = 'objects'
        constraints = [
            models.UniqueConstraint(fields=['invoice', 'syntax'],
                                    name='cleura_einvoice_once_per_syntax'),
        ]

    def __str__(self):
        return '%s %s' % (self.invoice_id, self.syntax)

    @property
    def filename(self):
        """The name to download, export and attach it as."""
        return '%s.xml' % self.invoice.number

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableInvoiceError('a stored e-invoice cannot change')
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableInvoiceError('a stored e-invoice cannot be deleted')


class Payment(models.Model):
    """One payment attempt against an invoice, as its provider reported it.

    ``(provider, provider_reference)`` is unique, so a replayed provider
    notification records nothing twice. Only ``SETTLED`` payments reduce
    what is outstanding.
    """

    PENDING = 'pending'
    SETTLED = 'settled'
    FAILED = 'failed'
    CANCELLED = 'cancelled'
    REFUNDED = 'refunded'
    STATES = ((PENDING, _('Pending')), (SETTLED, _('Settled')),
              (FAILED, _('Failed')), (CANCELLED, _('Cancelled')),
              (REFUNDED, _('Refunded')))

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT,
                                related_name='payments')
    provider = models.CharField(max_length=32)
    provider_reference = models.CharField(max_length=128)
    amount = models.DecimalField(**AMOUNT)
    currency = models.CharField(max_length=3)
    state = models.CharField(max_length=16, choices=STATES, default=PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ['created_at', 'pk']
        constraints = [
            models.UniqueConstraint(fields=['provider', 'provider_reference'],
                                    name='cleura_payment_provider_reference'),
        ]

    def __str__(self):
        return '%s %s' % (self.provider, self.provider_reference)


class NumberSeries(models.Model):
    """The last number taken in one series (prefix); see ``numbering``."""

    prefix = models.CharField(max_length=16, unique=True)
    last_value = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return '%s%d' % (self.prefix, self.last_value)


class CreditEntryQuerySet(_ImmutableQuerySet):
    """Credit entries are inserted one by one, never changed."""

    def bulk_create(self, objs, *args, **kwargs):
        raise ImmutableInvoiceError('credit entries are written by '
                                    'billing.credit')


class CreditEntry(models.Model):
    """One use of a project's credit: applied to an invoice, or refunded.

    Credit is earned by the invoices themselves (an overpaid or credited
    paid invoice has a negative balance, see ``billing.credit``); these
    rows are what was spent of it, negative amounts. Insert-only:
    corrections are new entries. ``(kind, reference)`` is unique: an
    invoice gets credit applied once (its number is the reference), a
    refund is recorded once per operator reference.
    """

    APPLIED = 'applied'
    REFUNDED = 'refunded'
    KINDS = ((APPLIED, _('Applied to an invoice')),
             (REFUNDED, _('Refunded')))

    project_id = models.CharField(max_length=64)
    currency = models.CharField(max_length=3)
    kind = models.CharField(max_length=16, choices=KINDS)
    amount = models.DecimalField(**AMOUNT)
    # The invoice the credit was applied to (none for a refund).
    invoice = models.ForeignKey(Invoice, null=True, blank=True,
                                on_delete=models.PROTECT,
                                related_name='credit_entries')
    reference = models.CharField(max_length=128)
    reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CreditEntryQuerySet.as_manager()

    class Meta:
        base_manager_name = 'objects'
        ordering = ['created_at', 'pk']
        indexes = [models.Index(fields=['project_id', 'currency'],
                                name='cleura_credit_project')]
        constraints = [
            models.UniqueConstraint(fields=['kind', 'reference'],
                                    name='cleura_credit_once_per_reference'),
        ]

    def __str__(self):
        return '%s %s %s' % (self.kind, self.reference, self.amount)

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableInvoiceError('a credit entry cannot change')
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableInvoiceError('a credit entry cannot be deleted')


class CreditLock(models.Model):
    """A project's row to serialize whoever spends its credit.

    See ``billing.credit``: created in a commit of its own, then updated
    first thing in each transaction that applies or refunds credit.
    """

    project_id = models.CharField(max_length=64, unique=True)
    uses = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return self.project_id
