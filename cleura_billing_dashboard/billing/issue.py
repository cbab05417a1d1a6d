"""Issuing: usage in, numbered invoices with stored PDFs and mail out.

The one place that orchestrates issuing. ``issue_usage_file`` is the
operator's run: it reads the usage, asks an injected account reader (see
``account.store.AccountReader``) for each project's buyer details and
Billing recipients, issues, and sends the mail it queued.

Each invoice is issued in two short transactions, so that issuers in
several processes and on several hosts do not wait for each other's
renders:

1. the number: under the project's credit lock and the series lock, take
   the next number, store the invoice, its lines and the credit applied,
   with no PDF yet. A number exists only with its invoice (gap-free).
2. the documents: make the e-invoice (Peppol BIS 3.0 UBL) and the PDF
   (Factur-X: the same invoice as CII inside, PDF/A-3b) from the stored
   invoice, outside any lock but the invoice's own row, then store both
   and queue the mail in one transaction. The PDF is written with a
   conditional update (``Invoice.store_pdf``): of two processes making
   the same invoice's documents, one stores them and queues its mail, the
   other changes nothing. ``workers`` processes make documents at once
   (``documents_pool``); with 1 they are made here, right after step 1.

Until step 2 commits the invoice is left out of every project's view
(``InvoiceQuerySet.for_project``): nothing shows, pays, reminds or exports
it half-made. A run that dies in between (a crash, SIGKILL, a render that
fails) leaves invoices without documents; every run first completes those
(``complete_pending``), whatever their period, then issues.

Credit: the project's available credit in the invoice's currency
(``billing.credit``) is taken off each new invoice, at most its total,
in step 1 under the project's credit lock: the documents show it as
prepaid and the amount due is the rest. Credit notes make credit (when
the invoice they credit was paid) and spend none; they are issued in one
transaction, documents included.

An invoice whose e-invoice cannot be made (a seller without an electronic
address: ``[seller] peppol_id``, org_number or vat_number) is not issued
and the run stops with ``einvoices.EInvoiceError``: the seller is the
same for every project, so the rest would fail alike. That (and missing
fonts) is checked on the run's first invoice before any number is taken.

A project gets one invoice per period: running a period again issues
nothing new for the projects already invoiced and reports them as skipped;
two runs of one period at once issue each project once.

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
from concurrent import futures
import ctypes
import dataclasses
import datetime
import hashlib
import logging
import multiprocessing
import os
import signal
import threading

from django.db import connections
from django.db import IntegrityError
from django.db import router
from django.db import transaction
from django.utils import timezone
from django.utils import translation

from cleura_billing_dashboard.billing import credit
from cleura_billing_dashboard.billing import einvoices
from cleura_billing_dashboard.billing.models import EInvoice
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
    # Numbers of invoices an earlier run issued without their documents
    # (it died before storing them) that this run completed.
    completed: list = dataclasses.field(default_factory=list)


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
                              notify=None, mail=None, workers=1):
    """Issue one invoice per project in ``usage`` for ``period`` ('YYYY-MM').

    ``today`` is the issue date (default: the local date); the due date
    adds ``[billing] payment_terms_days``. ``buyer_lookup(project_id)``
    returns the buyer's details (keys of ``BUYER_FIELDS`` and an optional
    ``language``) or None; the project id then stands in as the name.
    ``notify(invoice)`` runs inside the transaction that stores each
    invoice's documents, once per invoice; ``mail`` (an ``InvoiceMail``)
    queues the invoice mail there instead, also from other processes.

    ``workers`` processes make the documents (see the module doc); more
    than 1 needs ``notify`` None, a database other processes can see and
    no transaction around the call, else the documents are made here.
    The invoices in ``issued`` carry their PDF when made here.

    First completes the invoices of earlier runs left without documents
    (``IssueResult.completed``). Projects that already have an invoice for
    the period are skipped; projects whose VAT treatment cannot be decided
    (``vat.VatError``) are refused: nothing of theirs is written.
    Each invoice commits on its own, so call this outside a transaction.
    An error stops the run; the invoices issued before it stay issued
    (some maybe without documents yet), and running again completes and
    issues the rest.
    """
    if usage.period and usage.period != period:
        raise ValueError('the usage is for %s, not %s'
                         % (usage.period, period))
    if notify is not None and mail is not None:
        raise ValueError('notify or mail, not both')
    period_start, period_end = period_bounds(period)
    today = today or timezone.localdate()
    prefix = numbering.series_prefix(today)
    numbering.ensure_series(prefix)
    result = IssueResult(period)
    checked = False
    with DocumentMaker(workers, notify=notify, mail=mail) as maker:
        result.completed = complete_pending(maker)
        # Read once for the run, not once per project; both are checked
        # again where it matters (under the locks, in ``_take_number``).
        invoiced = _invoiced_projects(period_start, Invoice.INVOICE)
        locked = credit.projects_with_lock()
        for project_id, usage_lines in usage.projects.items():
            if project_id in invoiced:
                result.skipped.append(project_id)
                continue
            details = (buyer_lookup(project_id) if buyer_lookup
                       else None) or {}
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
                                 vat_rate=vat.line_rate(treatment,
                                                        line.vat_rate))
                     for line in usage_lines]
            _prepare(invoice, lines)
            if not checked:
                # What would stop every invoice stops the run before the
                # first number: no invoice is left without documents.
                _check_documents(invoice, lines, prefix)
                checked = True
            if project_id not in locked:
                credit.ensure_lock(project_id)
            try:
                _take_number(invoice, lines, prefix)
            except AlreadyIssued:
                result.skipped.append(project_id)
                continue
            result.issued.append(invoice)
            maker.add(invoice)
        maker.finish()
    return result


def issue_usage_file(path, *, period=None, today=None, accounts=None,
                     workers=1):
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
    issued stays issued). ``workers``: see ``issue_invoices_for_period``.
    """
    return issue_usage(usage_mod.load_usage(path), period=period,
                       today=today, accounts=accounts, workers=workers)


def issue_usage(usage, *, period=None, today=None, accounts=None,
                workers=1):
    """Issue ``usage`` (of any source) as ``issue_usage_file`` does."""
    today = today or timezone.localdate()
    period = period or usage.period or previous_period(today)
    mail = InvoiceMail(accounts) if accounts is not None else None
    result = issue_invoices_for_period(
        usage, period, today=today,
        buyer_lookup=accounts.buyer_details if accounts else None,
        mail=mail, workers=workers)
    if mail is not None:
        result.unmailed, result.queued = mail.unmailed, mail.queued
    if result.queued or result.completed:
        # Also what a run that died queued and did not send.
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

    def plan(self, project_id):
        """What ``project_id``'s invoice mail needs from ``accounts``.

        Plain data (``queue_mail`` takes it), so that another process can
        queue the mail without the account reader.
        """
        recipients = list(self.accounts.billing_recipients(project_id) or ())
        if not recipients:
            return {'recipients': []}
        return {'recipients': recipients,
                'link': bool(self.accounts.wants_link(project_id)),
                'einvoice': (self.einvoice_for is not None and
                             bool(self.accounts.wants_einvoice(project_id)))}

    def _einvoice(self, invoice):
        """``(content, filename)`` to attach, or ``(None, '')``."""
        if self.einvoice_for is None or not self.accounts.wants_einvoice(
                invoice.project_id):
            return None, ''
        return _attached(invoice, self.einvoice_for)

    def notify(self, invoice):
        queued = queue_mail(invoice, self.plan(invoice.project_id),
                            self.einvoice_for)
        self.count(invoice, queued)

    def count(self, invoice, queued):
        """Add one invoice's ``queue_mail`` outcome to the counts."""
        if queued is None:
            self.unmailed.append((invoice.number, invoice.project_id))
        else:
            self.queued += queued


def _attached(invoice, einvoice_for):
    """The e-invoice to attach: ``(content, filename)`` or ``(None, '')``."""
    found = einvoice_for(invoice)
    if found is None or not found.content:
        LOG.warning('Project %s wants the e-invoice but invoice %s has '
                    'none: mailed without it', invoice.project_id,
                    invoice.number)
        return None, ''
    return bytes(found.content), found.filename or ''


def queue_mail(invoice, plan, einvoice_for=einvoices.ubl_for):
    """Queue ``invoice``'s mail as ``plan`` (``InvoiceMail.plan``) says.

    Call it in the transaction that stores the invoice's documents. The
    number of addresses queued, or None when the project has no verified
    Billing address (nothing is queued).
    """
    if not plan['recipients']:
        LOG.warning('Project %s has no verified Billing address: '
                    'invoice %s is not mailed', invoice.project_id,
                    invoice.number)
        return None
    link = plan['link']
    einvoice, einvoice_filename = None, ''
    if plan['einvoice'] and einvoice_for is not None:
        einvoice, einvoice_filename = _attached(invoice, einvoice_for)
    return notify_mail.queue_invoice_mail(
        number=invoice.number,
        project_id=invoice.project_id,
        recipients=plan['recipients'],
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
    _prepare(note, lines)
    # One transaction: a credit note has its documents or is not issued.
    with transaction.atomic():
        _take_number(note, lines, prefix)
        make_documents(note.pk, notify=notify, invoice=note)
    return note


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


def _invoiced_projects(period_start, type_):
    """The ids of the projects that have a ``type_`` for the period."""
    return set(Invoice.objects.filter(period_start=period_start, type=type_)
               .values_list('project_id', flat=True))


def _prepare(invoice, lines):
    """Currency, seller, line amounts and totals of a new ``invoice``."""
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


def _check_documents(invoice, lines, prefix):
    """Make ``invoice``'s documents as if numbered, and store nothing.

    Raises what making them would (``einvoices.EInvoiceError``,
    ``pdf.FontsMissing``) before a number is taken.
    """
    invoice.number = numbering.format_number(prefix, 0)
    try:
        document = invoice.as_document(lines, prepaid=credit.ZERO)
        _ubl(invoice, document)
        einvoices.make_facturx(
            invoice, pdf.render_invoice_pdf(document, invoice.language),
            document)
    finally:
        invoice.number = ''


def _take_number(invoice, lines, prefix):
    """Step 1: number and store ``invoice`` and ``lines``, no documents.

    One short transaction. An invoice (not a credit note) takes the
    project's available credit, under its credit lock
    (``credit.ensure_lock`` must have created the row). Raises
    ``AlreadyIssued`` when the project has one for the period.
    """
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
            invoice.pdf, invoice.pdf_sha256 = b'', ''
            invoice.store(lines)
            credit.record_applied(invoice, prepaid)
    except IntegrityError:
        # Another series (another issue year) raced us to this period.
        if _issued(invoice.project_id, invoice.period_start, invoice.type):
            raise AlreadyIssued(invoice.project_id)
        raise
    return invoice


def make_documents(invoice_id, notify=None, invoice=None):
    """Step 2: make and store the documents of a numbered invoice, once.

    The UBL and the Factur-X PDF made from the stored invoice, then stored
    write-once and ``notify(stored invoice)`` called in one transaction.
    PostgreSQL, MySQL 8 and MariaDB 10.6 hold the invoice's row from
    before the render (other processes skip it); elsewhere the conditional
    write of the PDF decides who stores them. Returns
    the stored invoice, or None when its documents are stored already or
    are being stored by another process (nothing is done). ``invoice``,
    the caller's copy, gets the PDF too. Raises
    ``einvoices.EInvoiceError`` and ``pdf.FontsMissing`` (nothing stored:
    the invoice stays without documents until a later run).
    """
    using = router.db_for_write(Invoice)
    features = connections[using].features
    pending = Invoice.objects.using(using).documents_pending().filter(
        pk=invoice_id)
    if features.has_select_for_update_skip_locked:
        # Hold the row while rendering: another process skips it instead
        # of rendering it too. NO KEY: references to it may still be made.
        with transaction.atomic(using=using):
            stored = pending.select_for_update(
                skip_locked=True,
                no_key=features.has_select_for_no_key_update).first()
            if stored is None or not _store_documents(
                    stored, _render(stored), notify):
                return None
    else:
        # SQLite: render first, then a transaction whose first statement
        # writes, so it takes the write lock at once (see numbering).
        stored = pending.first()
        if stored is None:
            return None
        documents = _render(stored)
        with transaction.atomic(using=using):
            if not _store_documents(stored, documents, notify):
                return None
    if invoice is not None:
        invoice.pdf, invoice.pdf_sha256 = stored.pdf, stored.pdf_sha256
    return stored


def _render(stored):
    """``(ubl, pdf)`` of the stored invoice ``stored``."""
    document = stored.as_document()
    # The e-invoice first: it refuses what the PDF would not.
    ubl = _ubl(stored, document)
    content = einvoices.make_facturx(
        stored, pdf.render_invoice_pdf(document, stored.language), document)
    return ubl, content


def _store_documents(stored, documents, notify):
    """Store the PDF (first: the write), the UBL, and notify; or nothing.

    False when another process stored the PDF first.
    """
    ubl, content = documents
    if not stored.store_pdf(content, hashlib.sha256(content).hexdigest()):
        return False
    if not EInvoice.objects.filter(invoice=stored,
                                   syntax=EInvoice.UBL).exists():
        einvoices.store_ubl(stored, ubl)
    if notify is not None:
        notify(stored)
    return True


def complete_pending(maker):
    """Hand every invoice without documents to ``maker``; their numbers.

    An earlier run died between an invoice's number and its documents;
    this completes them (any period), each once.
    """
    pending = list(Invoice.objects.documents_pending().order_by('number')
                   .values_list('pk', 'project_id', 'number'))
    if pending:
        LOG.info('Completing %d invoice(s) left without documents',
                 len(pending))
    for pk, project_id, number in pending:
        maker.add(Invoice(pk=pk, project_id=project_id, number=number))
    return [number for pk, project_id, number in pending]


def _die_with_parent():
    """In a documents process: end with the issuer, whatever kills it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass


def _make_documents_in_worker(invoice_id, plan):
    """``make_documents`` in a documents process; ``(done, queued)``.

    ``queued`` is ``queue_mail``'s outcome (None: no address), or False
    when no mail was planned.
    """
    outcome = [False]

    def notify(invoice):
        outcome[0] = queue_mail(invoice, plan)

    done = make_documents(invoice_id,
                          notify=notify if plan is not None else None)
    return done is not None, outcome[0]


class DocumentMaker(object):
    """Step 2 of a run: here, or in a pool of ``workers`` processes.

    ``add(invoice)`` after the invoice's step 1 committed; ``finish()``
    waits for all and raises the first error. Used as a context manager:
    the pool ends with it.
    """

    def __init__(self, workers, notify=None, mail=None):
        self.notify = notify
        self.mail = mail
        self.pool = None
        self.outstanding = {}
        self.done = []
        self.lock = threading.Lock()
        self.workers = workers if self._can_fork(workers) else 1

    def _can_fork(self, workers):
        if workers is None or workers <= 1 or self.notify is not None:
            return False
        connection = connections[router.db_for_write(Invoice)]
        # Other processes must see what step 1 committed.
        if connection.in_atomic_block:
            return False
        return not (connection.vendor == 'sqlite' and
                    connection.is_in_memory_db())

    def __enter__(self):
        if self.workers > 1:
            # The processes open connections of their own.
            connections.close_all()
            self.pool = futures.ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context('fork'),
                initializer=_die_with_parent)
            # Forks them all now, before this process connects again.
            self.pool.submit(os.getpid).result()
        return self

    def __exit__(self, *exc_info):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        return False

    def add(self, invoice):
        if self.pool is None:
            notify = self.notify or (self.mail.notify if self.mail else None)
            # The caller's stored copy gets its PDF; a stand-in does not.
            make_documents(invoice.pk, notify=notify,
                           invoice=None if invoice._state.adding else invoice)
            return
        self._collect()
        plan = self.mail.plan(invoice.project_id) if self.mail else None
        future = self.pool.submit(_make_documents_in_worker, invoice.pk,
                                  plan)
        self.outstanding[future] = invoice
        future.add_done_callback(self._done)

    def _done(self, future):
        with self.lock:
            self.done.append(future)

    def _collect(self):
        """Count what finished; raise the first error of a process."""
        with self.lock:
            finished, self.done = self.done, []
        for future in finished:
            invoice = self.outstanding.pop(future)
            _made, queued = future.result()
            if self.mail is not None and queued is not False:
                self.mail.count(invoice, queued)

    def finish(self):
        if self.pool is not None:
            futures.wait(list(self.outstanding))
            # All done; their callbacks may not have run yet.
            with self.lock:
                self.done = list(self.outstanding)
            self._collect()


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
