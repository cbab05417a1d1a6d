"""Issuing: usage in, numbered invoices with stored PDFs out.

The one place that orchestrates issuing. For each project, in one
transaction: take the next number, build the lines and totals, render the
PDF, store invoice, lines and PDF, and let ``notify`` queue its mail. Either
all of that is committed or none of it, number included.

A project gets one invoice per period: running a period again issues
nothing new for the projects already invoiced and reports them as skipped.
"""

import calendar
import dataclasses
import datetime
import hashlib

from django.db import IntegrityError
from django.db import transaction
from django.utils import timezone

from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard.billing.models import InvoiceLine
from cleura_billing_dashboard.billing import numbering
from cleura_billing_dashboard.billing import ocr
from cleura_billing_dashboard.billing import queries
from cleura_billing_dashboard.billing import totals
from cleura_billing_dashboard import conf
from cleura_billing_dashboard import pdf

SELLER_FIELDS = ('name', 'address', 'postal_code', 'city', 'country',
                 'org_number', 'vat_number', 'email', 'bankgiro', 'iban',
                 'bic')
BUYER_FIELDS = ('name', 'org_number', 'vat_number', 'address', 'postal_code',
                'city', 'country', 'po_reference')


@dataclasses.dataclass
class IssueResult:
    """What one run issued, and the projects it left alone."""

    period: str
    issued: list = dataclasses.field(default_factory=list)  # of Invoice
    skipped: list = dataclasses.field(default_factory=list)  # project ids


class AlreadyIssued(Exception):
    """The project already has an invoice (or credit note) for the period."""


def period_bounds(period):
    """First and last day of ``period`` ('YYYY-MM') as dates."""
    try:
        year, month = (int(part) for part in period.split('-'))
        last = calendar.monthrange(year, month)[1]
    except (ValueError, calendar.IllegalMonthError):
        raise ValueError('a period is YYYY-MM, not %r' % (period,))
    return datetime.date(year, month, 1), datetime.date(year, month, last)


def previous_period(today):
    """The month before ``today``'s, as 'YYYY-MM'."""
    last_month = today.replace(day=1) - datetime.timedelta(days=1)
    return last_month.strftime('%Y-%m')


def issue_invoices_for_period(usage, period, *, today=None, buyer_lookup=None,
                              notify=None):
    """Issue one invoice per project in ``usage`` for ``period`` ('YYYY-MM').

    ``today`` is the issue date (default: the local date); the due date
    adds ``[billing] payment_terms_days``. ``buyer_lookup(project_id)``
    returns the buyer's details (keys of ``BUYER_FIELDS`` and an optional
    ``language``) or None; the project id then stands in as the name.
    ``notify(invoice)`` runs inside each invoice's transaction.

    Projects that already have an invoice for the period are skipped.
    Each invoice commits on its own, so call this outside a transaction.
    An error stops the run; the invoices issued before it stay issued, and
    running again issues the rest.
    """
    if usage.period and usage.period != period:
        raise ValueError('the usage is for %s, not %s'
                         % (usage.period, period))
    period_start, period_end = period_bounds(period)
    today = today or timezone.localdate()
    prefix = numbering.series_prefix(today)
    numbering.ensure_series(prefix)
    result = IssueResult(period)
    for project_id, usage_lines in usage.projects.items():
        if _issued(project_id, period_start, Invoice.INVOICE):
            result.skipped.append(project_id)
            continue
        details = (buyer_lookup(project_id) if buyer_lookup else None) or {}
        invoice = Invoice(
            project_id=project_id,
            type=Invoice.INVOICE,
            issue_date=today,
            due_date=today + datetime.timedelta(
                days=conf.get_conf().billing.payment_terms_days),
            period_start=period_start,
            period_end=period_end,
            buyer=_buyer(project_id, details),
            language=details.get('language') or 'en',
        )
        lines = [InvoiceLine(product=line.product,
                             description=line.description,
                             region=line.region,
                             quantity=line.quantity,
                             unit=line.unit,
                             unit_price=line.unit_price,
                             vat_rate=line.vat_rate)
                 for line in usage_lines]
        try:
            result.issued.append(_store(invoice, lines, prefix, notify))
        except AlreadyIssued:
            result.skipped.append(project_id)
    return result


def issue_credit_note(project_id, invoice, reason, *, today=None,
                      notify=None):
    """Credit ``invoice`` (an Invoice or its id) of ``project_id`` in full.

    The credit note repeats the invoice's lines with negated quantities,
    so every amount is the invoice's, negated. Raises
    ``Invoice.DoesNotExist`` for another project's invoice, ``ValueError``
    for a credit note, ``AlreadyIssued`` if the invoice is already credited.
    """
    original = queries.get_invoice(project_id, getattr(invoice, 'pk',
                                                       invoice))
    if original.type != Invoice.INVOICE:
        raise ValueError('%s is a credit note' % original.number)
    today = today or timezone.localdate()
    prefix = numbering.series_prefix(today)
    numbering.ensure_series(prefix)
    note = Invoice(
        project_id=project_id,
        type=Invoice.CREDIT_NOTE,
        credits=original,
        reason=reason,
        issue_date=today,
        due_date=today,
        period_start=original.period_start,
        period_end=original.period_end,
        buyer=original.buyer,
        language=original.language,
    )
    lines = [InvoiceLine(product=line.product,
                         description=line.description,
                         region=line.region,
                         quantity=-line.quantity,
                         unit=line.unit,
                         unit_price=line.unit_price,
                         vat_rate=line.vat_rate)
             for line in original.lines.all()]
    return _store(note, lines, prefix, notify)


def _issued(project_id, period_start, type_):
    return Invoice.objects.filter(project_id=project_id,
                                  period_start=period_start,
                                  type=type_).exists()


def _store(invoice, lines, prefix, notify):
    """Number, total, render and store ``invoice`` in one transaction."""
    settings = conf.get_conf()
    invoice.currency = settings.billing.currency
    invoice.seller = {field: getattr(settings.seller, field) or ''
                      for field in SELLER_FIELDS}
    for line in lines:
        line.net_amount = totals.line_net(line.quantity, line.unit_price,
                                          invoice.currency)
    sums = totals.compute(lines, invoice.currency)
    invoice.net_total = sums.net_total
    invoice.vat_total = sums.vat_total
    invoice.total = sums.total
    try:
        with transaction.atomic():
            # First write of the transaction: see numbering.
            invoice.number = numbering.next_number(prefix)
            # Checked again under the series lock: a concurrent run of the
            # same period may have committed since the check outside.
            if _issued(invoice.project_id, invoice.period_start,
                       invoice.type):
                raise AlreadyIssued(invoice.project_id)
            invoice.payment_reference = ocr.ocr_for(
                ''.join(c for c in invoice.number if c.isdigit()))
            invoice.pdf = pdf.render_invoice_pdf(
                invoice.as_document(lines), invoice.language)
            invoice.pdf_sha256 = hashlib.sha256(invoice.pdf).hexdigest()
            invoice.store(lines)
            if notify is not None:
                notify(invoice)
    except IntegrityError:
        # Another series (another issue year) raced us to this period.
        if _issued(invoice.project_id, invoice.period_start, invoice.type):
            raise AlreadyIssued(invoice.project_id)
        raise
    return invoice


def _buyer(project_id, details):
    buyer = {field: str(details.get(field) or '') for field in BUYER_FIELDS}
    buyer['name'] = buyer['name'] or project_id
    return buyer
