"""The Horizon side's one door to the billing store.

Each function takes the request and scopes everything to the project the
user is logged in to: an invoice of another project does not exist here
(``django.http.Http404``). Views call these functions and nothing deeper.
"""

import datetime
import functools
import logging

from django import db
from django import http
from django.utils import translation
from django.utils.translation import gettext as _

from horizon.utils import functions as utils
from openstack_dashboard.api import base

from cleura_billing_dashboard.billing import credit
from cleura_billing_dashboard.billing import einvoices
from cleura_billing_dashboard.billing import models
from cleura_billing_dashboard.billing import queries
from cleura_billing_dashboard.billing import reminders
from cleura_billing_dashboard.billing import vat
from cleura_billing_dashboard import money
from cleura_billing_dashboard.payments import base as payments_base
from cleura_billing_dashboard.payments import providers

LOG = logging.getLogger(__name__)

STATUSES = models.STATUSES
PAYABLE = (models.OUTSTANDING, models.OVERDUE)

ProviderError = payments_base.ProviderError
PaymentInProgress = payments_base.PaymentInProgress
InvalidNotification = payments_base.InvalidNotification


class NothingToPay(Exception):
    """The invoice is paid, credited or a credit note."""


class StoreUnavailable(Exception):
    """The billing database does not answer; the message is for the user.

    Raised for ``django.db.DatabaseError``, whose text names the database
    host and port, which tenants must not read in the page.
    """

    def __init__(self):
        super().__init__(_('The billing database cannot be reached right '
                           'now; try again in a moment.'))


def _store_errors(func):
    """Raise ``StoreUnavailable`` for a database error in ``func``."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except db.DatabaseError as e:
            LOG.error('The billing database failed in %s: %s',
                      func.__name__, e)
            raise StoreUnavailable() from e
    return wrapper


class Invoice(base.APIResourceWrapper):
    """An invoice row as the tables show it, amounts kept as Decimal."""

    _attrs = ['id', 'number', 'type', 'currency', 'issue_date', 'due_date',
              'period_start', 'period_end', 'net_total', 'vat_total',
              'total', 'paid_amount', 'credited_amount', 'credit_applied',
              'balance',
              'outstanding', 'status', 'payment_reference', 'credits_id',
              'reason']

    @property
    def is_payable(self):
        return self.status in PAYABLE


def _project_id(request):
    return request.user.project_id


def user_locale(request):
    """The user's language as a babel/CLDR locale (``sv``, ``en_GB``)."""
    return translation.to_locale(getattr(request, 'LANGUAGE_CODE', None) or
                                 translation.get_language() or 'en')


def format_amount(request, amount, currency):
    return money.format_money(amount, currency, user_locale(request))


@_store_errors
def invoice_list(request, marker=None, **filters):
    """``(invoices, has_more)``: one page of the project's invoices.

    The page size is the user's "Items Per Page" setting, as in Horizon's
    own tables.

    ``filters``: ``status``, ``issued_from``, ``issued_to`` (dates) and
    ``number`` (part of an invoice number). ``marker`` is the number of the
    last invoice on the previous page.
    """
    limit = utils.get_page_size(request)
    try:
        page, has_more = queries.invoice_page(_project_id(request), marker,
                                              limit, **filters)
    except models.Invoice.DoesNotExist:
        raise http.Http404
    return [Invoice(invoice) for invoice in page], has_more


@_store_errors
def overdue_summary(request):
    """The project's overdue invoices: ``{'count': n, 'totals': [...]}``.

    ``totals`` holds the outstanding sum of each currency, written for the
    user's locale; ``count`` is 0 when nothing is overdue.
    """
    count, totals = queries.overdue_totals(_project_id(request))
    return {'count': count,
            'totals': [format_amount(request, amount, currency)
                       for currency, amount in sorted(totals.items())]}


@_store_errors
def credit_summary(request):
    """The project's available credit, one amount per currency.

    Each is written for the user's locale; the list is empty when the
    project has no credit. It is taken off its next invoices at issue.
    """
    return [format_amount(request, found.amount, found.currency)
            for found in credit.project_credits(_project_id(request))]


@_store_errors
def previous_month_invoice(request, today):
    """The project's invoice for the month before ``today``'s, or None.

    An ``Invoice`` with ``display``: its ``net_total`` (excluding VAT, as
    the month's estimate is) and ``total`` written for the user's locale.
    """
    first = today.replace(day=1)
    previous = (first - datetime.timedelta(days=1)).replace(day=1)
    invoice = queries.invoice_for_period(_project_id(request), previous)
    if invoice is None:
        return None
    wrapped = Invoice(invoice)
    wrapped.display = {name: format_amount(request, getattr(invoice, name),
                                           invoice.currency)
                       for name in ('net_total', 'total')}
    return wrapped


@_store_errors
def invoice_list_all(request, **filters):
    """Every invoice of the project matching ``filters``, for the CSV."""
    return [Invoice(invoice) for invoice in
            queries.invoices_for_project(_project_id(request), **filters)]


def _invoice(project_id, number):
    try:
        return queries.get_invoice_by_number(project_id, number)
    except models.Invoice.DoesNotExist:
        raise http.Http404


@_store_errors
def invoice_get(request, number):
    """The project's invoice ``number`` with its lines, VAT and payments.

    Besides the Decimal amounts it carries ``display``: every amount of the
    invoice, its lines, VAT and payments written for the user's locale.
    """
    invoice = _invoice(_project_id(request), number)
    locale = user_locale(request)
    lines = list(invoice.lines.all())

    def amount(value):
        return money.format_money(value, invoice.currency, locale)

    wrapped = Invoice(invoice)
    wrapped.lines = [{
        'region': line.region, 'product': line.product,
        'description': line.description, 'unit': line.unit,
        'quantity': money.format_decimal(line.quantity, locale),
        'unit_price': money.format_decimal(line.unit_price, locale),
        'vat_rate': money.format_decimal(line.vat_rate, locale),
        'net_amount': amount(line.net_amount),
    } for line in lines]
    wrapped.vat = [{'rate': money.format_decimal(vat.rate, locale),
                    'base': amount(vat.base), 'amount': amount(vat.amount)}
                   for vat in invoice.vat_breakdown(lines)]
    wrapped.payments = [{
        'created_at': payment.created_at,
        'provider': providers.display_name(payment.provider),
        'provider_reference': payment.provider_reference,
        'state': payment.get_state_display(),
        'amount': amount(payment.amount),
    } for payment in invoice.payments.order_by('created_at')]
    # Days before (negative) or after the due date each was mailed for.
    wrapped.reminders = [{
        'sent_at': sent_at, 'address': address, 'days': abs(step),
        'before': step < 0,
    } for step, address, sent_at in reminders.reminders_sent(
        invoice.number)]
    wrapped.display = {name: amount(getattr(invoice, name)) for name in (
        'net_total', 'vat_total', 'total', 'paid_amount', 'credit_applied',
        'outstanding')}
    # Paid beyond what is due: the customer's credit (0 when none).
    wrapped.credit = max(-invoice.balance, 0)
    wrapped.display['credit'] = amount(wrapped.credit)
    wrapped.rundown = [dict(row, net_amount=amount(row['net_amount']))
                       for row in _sum_by_product_and_region(lines)]
    wrapped.vat_note, wrapped.vat_buyer_number = _vat_note(invoice)
    return wrapped


def _vat_note(invoice):
    """``(wording, buyer VAT number)`` of the invoice's VAT treatment.

    Empty for a domestic invoice. A reverse charge or an export shows the
    exemption reason as the invoice states it (stored at issue, in the
    invoice's language), a reverse charge also the buyer's VAT number; an
    OSS invoice says whose rate it charges.
    """
    buyer = invoice.buyer or {}
    if invoice.vat_treatment == vat.OSS:
        return _('VAT at the rate of the buyer\'s country, %(country)s '
                 '(One-Stop Shop)') % {'country': buyer.get('country', '')}, ''
    if invoice.vat_treatment == vat.REVERSE_CHARGE:
        return invoice.vat_exemption_text, buyer.get('vat_number', '')
    if invoice.vat_treatment == vat.DOMESTIC:
        return '', ''
    return invoice.vat_exemption_text, ''


def _sum_by_product_and_region(lines):
    """Line nets summed per (product, region), in first-seen order."""
    sums = {}
    for line in lines:
        key = (line.product, line.region)
        sums[key] = sums.get(key, 0) + line.net_amount
    return [{'product': product, 'region': region, 'net_amount': net}
            for (product, region), net in sums.items()]


@_store_errors
def invoice_pdf(request, number):
    """``(filename, bytes)`` of the project's invoice PDF, as issued."""
    try:
        filename, pdf, _sha = queries.get_invoice_pdf(_project_id(request),
                                                      number)
    except models.Invoice.DoesNotExist:
        raise http.Http404
    return filename, pdf


@_store_errors
def invoice_einvoice(request, number):
    """``(filename, bytes)`` of the project's e-invoice (Peppol BIS 3.0 UBL).

    The stored one; an invoice issued before e-invoices were stored has
    its own made and stored on the first download. Raises ``Http404`` as
    ``invoice_pdf`` does and ``einvoices.EInvoiceError`` when none can be
    made.
    """
    try:
        filename, content, _sha = einvoices.project_ubl(
            _project_id(request), number)
    except models.Invoice.DoesNotExist:
        raise http.Http404
    return filename, content


def _start_data(request, return_url='', cancel_url=''):
    return payments_base.StartData(return_url=return_url,
                                   cancel_url=cancel_url,
                                   locale=user_locale(request))


@_store_errors
def payment_methods(request, invoice):
    """The enabled payment methods for ``invoice`` (from ``invoice_get``).

    A list of dicts in the configured order: ``name``, ``verbose_name``,
    ``explanation``, ``icon``, ``redirects`` and ``submit_label``; a method
    that does not redirect also has ``details``, the ``(label, value)``
    pairs the customer pays with (bank details and reference).
    """
    methods = []
    for provider in providers.enabled_providers():
        method = {'name': provider.name,
                  'verbose_name': provider.verbose_name,
                  'explanation': provider.explanation,
                  'icon': provider.icon,
                  'redirects': provider.redirects,
                  'submit_label': provider.submit_label}
        if not provider.redirects:
            action = provider.start(invoice._apiresource,
                                    invoice.outstanding,
                                    _start_data(request))
            method['details'] = list(action.details)
        methods.append(method)
    return methods


@_store_errors
def payment_start(request, number, method, return_url, cancel_url):
    """Start paying what is outstanding of the project's invoice ``number``.

    Returns the provider's action (``payments.base.Redirect`` or
    ``ShowDetails``). Raises ``Http404`` for an invoice of another project,
    ``NothingToPay`` when nothing is outstanding, ``LookupError`` for a
    method that is not enabled, ``ProviderError`` (a message for the user)
    when the provider fails. Nothing is marked paid here.
    """
    invoice = _invoice(_project_id(request), number)
    if invoice.status not in PAYABLE:
        raise NothingToPay(number)
    provider = providers.get_provider(method)
    return provider.start(invoice, invoice.outstanding,
                          _start_data(request, return_url, cancel_url))


def payment_notification(provider_name, body, headers):
    """Hand a provider's notification (webhook) to the enabled provider.

    ``body`` is the raw request body, ``headers`` the request headers.
    Returns a ``payments.base.NotificationResult``. Raises ``Http404``
    when no enabled provider of that name takes notifications and
    ``InvalidNotification`` when it is not authentic or not readable.
    """
    try:
        provider = providers.get_provider(provider_name)
    except LookupError:
        raise http.Http404
    try:
        return provider.handle_notification(body, headers)
    except payments_base.NotificationNotSupported:
        raise http.Http404
