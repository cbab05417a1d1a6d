"""Issuing: usage in, numbered invoices with stored PDFs and mail out.

The one place that orchestrates issuing. ``issue_usage_file`` is the
operator's run: it reads the usage, asks an injected account reader (see
``account.store.AccountReader``) for each project's buyer details and
Billing recipients, issues, and sends the mail it queued. For each
project, in one transaction: take the next number, build the lines and
totals, make the e-invoice (Peppol BIS 3.0 UBL) and the PDF (Factur-X:
the same invoice as CII inside, PDF/A-3b), store invoice, lines, PDF and
e-invoice, and queue its mail. Either all of that
is committed or none of it, number included.

Credit: the project's available credit in the invoice's currency
(``billing.credit``) is taken off each new invoice, at most its total,
in that same transaction under the project's credit lock: the documents
show it as prepaid and the amount due is the rest. Credit notes make
credit (when the invoice they credit was paid) and spend none.

An invoice whose e-invoice cannot be made (a seller without an electronic
address: ``[seller] peppol_id``, org_number or vat_number) is not issued
and the run stops with ``einvoices.EInvoiceError``: the seller is the
same for every project, so the rest would fail alike.

A project gets one invoice per period: running a period again issues
nothing new for the projects already invoiced and reports them as skipped.

VAT: each invoice's treatment is decided from the buyer's country and VAT
number (``billing.vat``) before anything is written, and stored on the
invoice with the lines' rates it gave. A buyer without a country is
domestic (each line keeps its usage rate, as before the treatment was
decided). A project whose treatment cannot be decided (an invalid VAT
number, no OSS rate for its country) is not issued and is reported as
refused; the other projects are issued. A credit note takes the treatment
of the invoice it credits.
"""

import calendar
import dataclasses
import datetime
import hashlib
import logging

from django.db import IntegrityError
from django.db import transaction
from django.utils import timezone
from django.utils import translation

from cleura_billing_dashboard.billing import credit
from cleura_billing_dashboard.billing import einvoices
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard.billing.models import InvoiceLine
from cleura_billing_dashboard.billing import numbering
from cleura_billing_dashboard.billing import ocr
from cleura_billing_dashboard.billing import queries
from cleura_billing_dashboard.billing import totals
from cleura_billing_dashboard.billing import vat
from cleura_billing_dashboard import conf
from cleura_billing_dashboard import notify as notify_mail
from cleura_billing_dashboard import pdf
from cleura_billing_dashboard import usage as usage_mod

LOG = logging.getLogger(__name__)

SELLER_FIELDS = ('name', 'address', 'postal_code', 'city', 'country',
                 'org_number', 'vat_number', 'email', 'bankgiro', 'iban',
                 'bic', 'peppol_id')
BUYER_FIELDS = ('name', 'org_number', 'vat_number', 'address', 'postal_code',
                'city', 'country', 'po_reference', 'buyer_reference',
                'peppol_id')


@dataclasses.dataclass
class IssueResult:
    """What one run issued, and the projects it left alone."""

    period: str
    issued: list = dataclasses.field(default_factory=list)  # of Invoice
    skipped: list = dataclasses.field(default_factory=list)  # project ids
    # (project id, reason) of projects not issued because their VAT
    # treatment cannot be decided: a ``vat.VatError``'s message, a lazy
    # translation (the operator's language when it is shown).
    refused: list = dataclasses.field(default_factory=list)
    # (number, project id) of invoices whose project has no verified
    # Billing address: the operator must be told.
    unmailed: list = dataclasses.field(default_factory=list)
    queued: int = 0  # addresses queued
    sending: object = None  # notify's SendReport, if mail was queued


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

    Projects that already have an invoice for the period are skipped;
    projects whose VAT treatment cannot be decided (``vat.VatError``) are
    refused: nothing of theirs is written.
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
        language = details.get('language') or 'en'
        try:
            treatment = decide_treatment(details)
        except vat.VatError as e:
            LOG.warning('Project %s is not invoiced: %s', project_id, e)
            result.refused.append((project_id, e.message))
            continue
        buyer = _buyer(project_id, details)
        if treatment.buyer_vat_number:
            buyer['vat_number'] = treatment.buyer_vat_number
        invoice = Invoice(
            project_id=project_id,
            type=Invoice.INVOICE,
            issue_date=today,
            due_date=today + datetime.timedelta(
                days=conf.get_conf().billing.payment_terms_days),
            period_start=period_start,
            period_end=period_end,
            buyer=buyer,
            language=language,
            **_treatment_fields(treatment, language),
        )
        lines = [InvoiceLine(product=line.product,
                             description=line.description,
                             region=line.region,
                             quantity=line.quantity,
                             unit=line.unit,
                             unit_price=line.unit_price,
                             vat_rate=vat.line_rate(treatment, line.vat_rate))
                 for line in usage_lines]
        credit.ensure_lock(project_id)
        try:
            result.issued.append(_store(invoice, lines, prefix, notify))
        except AlreadyIssued:
            result.skipped.append(project_id)
    return result


def issue_usage_file(path, *, period=None, today=None, accounts=None):
    """Issue the invoices of a usage file and send their mail.

    ``period`` defaults to the file's, else the month before ``today``
    (the issue date, default the local date). ``accounts`` answers
    ``buyer_details(project_id)``, ``billing_recipients(project_id)``,
    ``wants_link(project_id)`` and ``wants_einvoice(project_id)`` (see
    ``InvoiceMail``); without it invoices are issued without
    buyer details and not mailed. Returns an ``IssueResult`` with the
    mail's ``sending`` report. Raises ``usage.UsageError`` for a bad
    file (nothing issued), ``ValueError`` for a period other than the
    file's, and whatever ``accounts`` raises (the run stops; what was
    issued stays issued).
    """
    return issue_usage(usage_mod.load_usage(path), period=period,
                       today=today, accounts=accounts)


def issue_usage(usage, *, period=None, today=None, accounts=None):
    """Issue ``usage`` (of any source) as ``issue_usage_file`` does."""
    today = today or timezone.localdate()
    period = period or usage.period or previous_period(today)
    mail = InvoiceMail(accounts) if accounts is not None else None
    result = issue_invoices_for_period(
        usage, period, today=today,
        buyer_lookup=accounts.buyer_details if accounts else None,
        notify=mail.notify if mail else None)
    if mail is not None:
        result.unmailed, result.queued = mail.unmailed, mail.queued
    if result.queued:
        result.sending = notify_mail.send_pending()
    return result


def invoice_link(number):
    """The invoice's PDF in Horizon, from ``[mail]``; '' without a base."""
    opts = conf.get_conf().mail
    if not opts.invoice_link_base_url:
        return ''
    return (opts.invoice_link_base_url.rstrip('/') +
            opts.invoice_link_path.format(number=number))


class InvoiceMail(object):
    """``notify`` for ``issue_invoices_for_period``: queue the mail.

    Queues each invoice's mail to its project's verified Billing
    addresses (from ``accounts``, as for ``issue_usage_file``) inside the
    invoice's transaction; ``unmailed`` and ``queued`` say what it did.

    The e-invoice attachment goes through one seam, ``einvoice_for``: a
    callable taking the stored ``Invoice`` (inside its transaction, after
    its documents are stored) and returning its e-invoice, an object with
    ``content`` (bytes) and ``filename``, or None. When it is set and
    ``accounts.wants_einvoice(project_id)`` is true, the mail carries that
    XML. By default it is the stored UBL (``einvoices.ubl_for``); None
    attaches nothing and does not ask ``wants_einvoice``.
    """

    einvoice_for = staticmethod(einvoices.ubl_for)

    def __init__(self, accounts, einvoice_for=None):
        self.accounts = accounts
        if einvoice_for is not None:
            self.einvoice_for = einvoice_for
        self.unmailed = []
        self.queued = 0

    def _einvoice(self, invoice):
        """``(content, filename)`` to attach, or ``(None, '')``."""
        if self.einvoice_for is None or not self.accounts.wants_einvoice(
                invoice.project_id):
            return None, ''
        found = self.einvoice_for(invoice)
        if found is None or not found.content:
            LOG.warning('Project %s wants the e-invoice but invoice %s has '
                        'none: mailed without it', invoice.project_id,
                        invoice.number)
            return None, ''
        return bytes(found.content), found.filename or ''

    def notify(self, invoice):
        recipients = self.accounts.billing_recipients(invoice.project_id)
        if not recipients:
            LOG.warning('Project %s has no verified Billing address: '
                        'invoice %s is not mailed', invoice.project_id,
                        invoice.number)
            self.unmailed.append((invoice.number, invoice.project_id))
            return
        link = self.accounts.wants_link(invoice.project_id)
        einvoice, einvoice_filename = self._einvoice(invoice)
        self.queued += notify_mail.queue_invoice_mail(
            number=invoice.number,
            project_id=invoice.project_id,
            recipients=recipients,
            language=invoice.language,
            delivery='link' if link else 'attachment',
            pdf=bytes(invoice.pdf),
            filename=invoice.filename,
            link=invoice_link(invoice.number) if link else '',
            einvoice=einvoice,
            einvoice_filename=einvoice_filename,
            summary={
                'type': invoice.type,
                'total': str(invoice.total),
                # Taken off at issue; the mail says what is left to pay.
                'credit_applied': str(credit.applied_to(invoice)),
                'currency': invoice.currency,
                'issue_date': invoice.issue_date.isoformat(),
                'due_date': invoice.due_date.isoformat(),
                'seller': (invoice.seller or {}).get('name', ''),
                'buyer': (invoice.buyer or {}).get('name', ''),
            })


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
        **{field: getattr(original, field) for field in TREATMENT_FIELDS},
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


def decide_treatment(buyer_details):
    """The ``vat.Treatment`` for a buyer's details (see the module doc).

    No country means domestic. Raises ``vat.VatError``.
    """
    country = buyer_details.get('country')
    if not vat.country_code(country):
        return vat.Treatment(kind=vat.DOMESTIC, category='S')
    return vat.decide_from_config(country, buyer_details.get('vat_number'))


TREATMENT_FIELDS = ('vat_treatment', 'vat_category', 'vat_exemption_code',
                    'vat_exemption_text')


def _treatment_fields(treatment, language):
    """The Invoice fields storing ``treatment``; the text in ``language``."""
    text = ''
    if treatment.exemption_reason:
        with translation.override(language):
            text = str(treatment.exemption_reason)
    return {'vat_treatment': treatment.kind,
            'vat_category': treatment.category,
            'vat_exemption_code': treatment.exemption_reason_code or '',
            'vat_exemption_text': text}


def _issued(project_id, period_start, type_):
    return Invoice.objects.filter(project_id=project_id,
                                  period_start=period_start,
                                  type=type_).exists()


def _store(invoice, lines, prefix, notify):
    """Number, total, make the documents of and store ``invoice``, at once.

    One transaction: the PDF and the e-invoice are stored with the invoice
    or not at all. An invoice (not a credit note) takes the project's
    available credit, under its credit lock (``credit.ensure_lock`` must
    have created the row).
    """
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
            spends = invoice.type == Invoice.INVOICE
            if spends:
                # First statement, before the series lock: see credit.
                credit.lock(invoice.project_id)
            # First write after the credit lock: see numbering.
            invoice.number = numbering.next_number(prefix)
            # Checked again under the series lock: a concurrent run of the
            # same period may have committed since the check outside.
            if _issued(invoice.project_id, invoice.period_start,
                       invoice.type):
                raise AlreadyIssued(invoice.project_id)
            invoice.payment_reference = ocr.ocr_for(
                ''.join(c for c in invoice.number if c.isdigit()))
            prepaid = (credit.to_apply(invoice.project_id, invoice.currency,
                                       invoice.total) if spends
                       else credit.ZERO)
            document = invoice.as_document(lines, prepaid=prepaid)
            # The e-invoice first: it refuses what the PDF would not,
            # before the render's cost.
            ubl = _ubl(invoice, document)
            invoice.pdf = einvoices.make_facturx(
                invoice, pdf.render_invoice_pdf(document, invoice.language),
                document)
            invoice.pdf_sha256 = hashlib.sha256(invoice.pdf).hexdigest()
            invoice.store(lines)
            credit.record_applied(invoice, prepaid)
            einvoices.store_ubl(invoice, ubl)
            if notify is not None:
                notify(invoice)
    except IntegrityError:
        # Another series (another issue year) raced us to this period.
        if _issued(invoice.project_id, invoice.period_start, invoice.type):
            raise AlreadyIssued(invoice.project_id)
        raise
    return invoice


def _ubl(invoice, document):
    try:
        return einvoices.make_ubl(invoice, document)
    except einvoices.EInvoiceError as e:
        kind = ('credit note' if invoice.type == Invoice.CREDIT_NOTE
                else 'invoice')
        raise einvoices.EInvoiceError('the %s of project %s for %s is not '
                                      'issued: %s' % (
                                          kind, invoice.project_id,
                                          invoice.period_start.strftime(
                                              '%Y-%m'), e))


def _buyer(project_id, details):
    buyer = {field: str(details.get(field) or '') for field in BUYER_FIELDS}
    buyer['name'] = buyer['name'] or project_id
    return buyer
