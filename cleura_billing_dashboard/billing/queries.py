"""Reading invoices, always within one Keystone project.

Every function takes the project id the caller is scoped to; an invoice of
another project is reported as not existing (``Invoice.DoesNotExist``).
Lists leave the PDF bytes unread; ``get_invoice_pdf`` reads them.

Page with ``invoice_page`` (keyset): with 100,000 invoices in one project a
page takes about 5-20 ms at any depth on SQLite, PostgreSQL and MySQL. A
deep OFFSET computes the balance of every skipped row (PostgreSQL: 0.7-1.8 s
at offset 90,000). PostgreSQL's JIT, on by default, adds ~100 ms to
status-filtered pages of such a project; ``jit = off`` for the billing
database avoids it.
"""

from cleura_billing_dashboard.billing import models
from cleura_billing_dashboard.billing.models import Invoice

PAGE_SIZE = 20


def invoices_for_project(project_id, *, status=None, issued_from=None,
                         issued_to=None, number=None, today=None):
    """The project's invoices and credit notes, newest first, annotated.

    Filters: ``status`` (one of ``models.STATUSES``), issue date from/to
    (inclusive), and ``number`` (a part of the invoice number). Each row
    carries the annotations of ``InvoiceQuerySet.with_balance(today)``.
    Slice it for LIMIT/OFFSET pages, or see ``invoice_page``.
    """
    invoices = (Invoice.objects.for_project(project_id)
                .defer('pdf', 'seller', 'buyer')
                .with_balance(today)
                .newest_first())
    if status:
        invoices = invoices.filter(status=status)
    if issued_from:
        invoices = invoices.filter(issue_date__gte=issued_from)
    if issued_to:
        invoices = invoices.filter(issue_date__lte=issued_to)
    if number:
        invoices = invoices.filter(number__icontains=number.strip())
    return invoices


def invoice_page(project_id, marker=None, limit=PAGE_SIZE, **filters):
    """One page of ``invoices_for_project``: ``(invoices, has_more)``.

    Keyset pagination: ``marker`` is the number of the last invoice of the
    previous page (Horizon's table marker), so a page costs the same at
    any depth. An unknown marker raises ``Invoice.DoesNotExist``.
    """
    invoices = invoices_for_project(project_id, **filters)
    if marker:
        last = Invoice.objects.for_project(project_id).only(
            'issue_date', 'number').get(number=marker)
        invoices = invoices.after(last.issue_date, last.number)
    page = list(invoices[:limit + 1])
    return page[:limit], len(page) > limit


def get_invoice(project_id, invoice_id, today=None):
    """The project's invoice ``invoice_id`` (pk), annotated, PDF unread."""
    return (Invoice.objects.for_project(project_id).defer('pdf')
            .with_balance(today).get(pk=invoice_id))


def get_invoice_by_number(project_id, number, today=None):
    """The project's invoice numbered ``number``, annotated, PDF unread."""
    return (Invoice.objects.for_project(project_id).defer('pdf')
            .with_balance(today).get(number=number))


def get_invoice_pdf(project_id, number):
    """``(filename, pdf bytes, sha256 hex)`` of the project's invoice.

    One indexed read and no balance: a download is a read, not a render.
    """
    invoice = (Invoice.objects.for_project(project_id)
               .only('number', 'pdf', 'pdf_sha256').get(number=number))
    return invoice.filename, bytes(invoice.pdf), invoice.pdf_sha256


def overdue_totals(project_id, today=None):
    """``(count, {currency: outstanding})`` of the project's overdue invoices.

    Summed here, not in SQL: the outstanding amount is itself computed per
    row, and a project has few overdue invoices.
    """
    totals = {}
    count = 0
    for currency, outstanding in (Invoice.objects.for_project(project_id)
                                  .defer('pdf', 'seller', 'buyer')
                                  .with_balance(today)
                                  .filter(status=models.OVERDUE)
                                  .values_list('currency', 'outstanding')):
        count += 1
        totals[currency] = totals.get(currency, 0) + outstanding
    return count, totals


def invoice_for_period(project_id, period_start):
    """The project's invoice (not credit note) for a period, or None.

    ``period_start`` is the period's first day; annotated, PDF unread.
    """
    return (Invoice.objects.for_project(project_id)
            .defer('pdf', 'seller', 'buyer').with_balance()
            .filter(period_start=period_start, type=Invoice.INVOICE)
            .first())
