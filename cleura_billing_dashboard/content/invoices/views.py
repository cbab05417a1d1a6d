import calendar
import csv
import datetime
import decimal

from django import http
from django import shortcuts
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from horizon import exceptions
from horizon import forms
from horizon import messages
from horizon import tables
from horizon.utils import memoized
from horizon import views
from openstack_dashboard import policy

from cleura_billing_dashboard.api import billing
from cleura_billing_dashboard.api import rating
from cleura_billing_dashboard.content.invoices import filters
from cleura_billing_dashboard.content.invoices import forms as inv_forms
from cleura_billing_dashboard.content.invoices.forms import INDEX_URL
from cleura_billing_dashboard.content.invoices import tables as inv_tables


def _filters_from(request, table_class):
    """The facade's filter keywords from the table's server filter.

    Horizon keeps a server filter in the session, so the CSV export sees
    the filter the table was last shown with.
    """
    table = table_class(request)
    field, value = table.get_filter_field(), table.get_filter_string()
    return filters.to_keywords(field, value)


class IndexView(tables.DataTableView):
    table_class = inv_tables.InvoicesTable
    template_name = 'identity/invoices/index.html'
    page_title = _("Invoices")

    def has_more_data(self, table):
        return self._more

    def get(self, request, *args, **kwargs):
        # The overdue banner's link: filter the table to overdue invoices
        # as the filter box would, then show the panel's own URL.
        if request.GET.get('status') == 'overdue':
            action = self.get_table()._meta._filter_action
            param = action.get_param_name()
            request.session[param] = 'overdue'
            request.session[param + '_field'] = 'status'
            return shortcuts.redirect(INDEX_URL)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context['overdue'] = None
        if policy.check(inv_tables.POLICY_PAY, self.request):
            try:
                context['overdue'] = billing.overdue_summary(self.request)
            except Exception:
                # Logged, no message: the table reports a failing store,
                # and the page works on without its banner.
                exceptions.handle(self.request,
                                  _('Unable to count the overdue invoices.'),
                                  ignore=True, force_log=True)
        context['overdue_url'] = str(INDEX_URL) + '?status=overdue'
        context['credit'] = None
        try:
            context['credit'] = billing.credit_summary(self.request)
        except Exception:
            exceptions.handle(self.request,
                              _('Unable to retrieve the credit balance.'),
                              ignore=True, force_log=True)
        context['month'] = None
        if policy.check(inv_tables.POLICY_GET, self.request):
            context['month'] = self._month_card()
        return context

    def _month_card(self):
        """The "This month" card, None without CloudKitty in the catalog.

        Never raises: the table is the page, the card a bonus.
        """
        try:
            month = rating.month_card(self.request)
        except Exception:
            exceptions.handle(self.request,
                              _('Unable to estimate this month\'s cost.'),
                              ignore=True, force_log=True)
            month = {'unavailable': True}
        if month is None:
            return None
        today = datetime.datetime.now(datetime.timezone.utc).date()
        try:
            month['last'] = billing.previous_month_invoice(self.request,
                                                           today)
        except Exception:
            exceptions.handle(self.request,
                              _('Unable to retrieve last month\'s '
                                'invoice.'), ignore=True, force_log=True)
            month['last'] = None
        if month['last'] is not None:
            month['last_url'] = reverse('horizon:identity:invoices:detail',
                                        args=[month['last'].number])
        month['chart'] = day_bars(month.get('days') or [])
        return month

    def post(self, request, *args, **kwargs):
        # Horizon keeps a new filter in the session: refuse an overlong one
        # before it gets there, and show the table as it was.
        info = self.get_server_filter_info(request)
        try:
            filters.check_length(info and info['value'])
        except filters.FilterError as e:
            messages.error(request, str(e))
            return shortcuts.redirect(self.get_table().get_absolute_url())
        return super().post(request, *args, **kwargs)

    def get_data(self):
        self._more = False
        try:
            info = self.get_server_filter_info(self.request)
            keywords = filters.to_keywords(info['field'], info['value'])
            marker = self.request.GET.get(
                self.table_class._meta.pagination_param)
            invoices, self._more = billing.invoice_list(
                self.request, marker=marker, **keywords)
        except filters.FilterError as e:
            exceptions.handle(self.request, str(e))
            return []
        except http.Http404:
            raise
        except Exception:
            exceptions.handle(self.request,
                              _('Unable to retrieve the invoices.'))
            return []
        return invoices


CHART_HEIGHT = 40   # SVG units; each day is 10 wide, its bar 8


def day_bars(days):
    """SVG bars of the month's daily costs, scaled to the costliest day.

    The chart spans every day of the month, so it fills up as the month
    goes; ``days`` are ``{'date', 'amount', 'display'}`` up to today.
    """
    if not days:
        return None
    first = days[0]['date']
    length = calendar.monthrange(first.year, first.month)[1]
    top = max(day['amount'] for day in days)
    bars = []
    for day in days:
        height = decimal.Decimal(0)
        if day['amount'] > 0:
            # At least a sliver: a cheap day is not a day without cost.
            height = max((day['amount'] * CHART_HEIGHT / top).quantize(
                decimal.Decimal('0.01')), decimal.Decimal(1))
        # Strings: SVG attributes must not be localized (0,5).
        bars.append(dict(day, x=str((day['date'].day - 1) * 10 + 1),
                         y=str(CHART_HEIGHT - height),
                         height=str(height)))
    return {'width': length * 10, 'height': CHART_HEIGHT, 'bars': bars}


def invoice_or_redirect(request, number):
    """The project's invoice ``number`` with its lines and payments.

    Another project's invoice stays a 404; a failing store sends the user
    back to the list with Horizon's error message.
    """
    try:
        return billing.invoice_get(request, number)
    except http.Http404:
        raise
    except Exception:
        exceptions.handle(request, _('Unable to retrieve the invoice.'),
                          redirect=INDEX_URL)


class PolicyMixin(object):
    """Refuse the view unless the plugin's ``policy_rules`` allow the user.

    The panel's own rule (list) already guards every URL of the panel.
    """

    policy_rules = inv_tables.POLICY_GET

    def dispatch(self, request, *args, **kwargs):
        if not policy.check(self.policy_rules, request):
            raise exceptions.NotAuthorized(
                _('You are not allowed to do this.'))
        return super().dispatch(request, *args, **kwargs)


class DetailView(PolicyMixin, views.HorizonTemplateView):
    template_name = 'identity/invoices/detail.html'
    page_title = _("Invoice {{ invoice.number }}")

    @memoized.memoized_method
    def get_object(self):
        return invoice_or_redirect(self.request, self.kwargs['number'])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        invoice = self.get_object()
        context['invoice'] = invoice
        context['type_display'] = dict(
            inv_tables.TYPE_DISPLAY_CHOICES)[invoice.type]
        context['status_display'] = dict(
            inv_tables.STATUS_DISPLAY_CHOICES)[invoice.status]
        context['can_pay'] = policy.check(inv_tables.POLICY_PAY,
                                          self.request)
        context['url'] = INDEX_URL
        return context


class _StoredDocumentView(PolicyMixin, views.APIView):
    """A document stored at issue, served as it was stored."""

    disposition = 'attachment'
    content_type = None
    error_message = None

    def fetch(self, request, number):
        """``(filename, bytes)`` of the project's invoice ``number``."""
        raise NotImplementedError

    def get(self, request, number):
        try:
            filename, content = self.fetch(request, number)
        except http.Http404:
            raise
        except Exception:
            exceptions.handle(request, self.error_message,
                              redirect=INDEX_URL)
        response = http.HttpResponse(content,
                                     content_type=self.content_type)
        response['Content-Disposition'] = '%s; filename="%s"' % (
            self.disposition, filename)
        response['Content-Length'] = len(content)
        response['X-Content-Type-Options'] = 'nosniff'
        return response


class PdfView(_StoredDocumentView):
    """The stored PDF, inline (View PDF) or as an attachment (Download)."""

    disposition = 'inline'
    content_type = 'application/pdf'
    error_message = _('Unable to retrieve the invoice PDF.')

    def fetch(self, request, number):
        return billing.invoice_pdf(request, number)


class DownloadView(PdfView):
    disposition = 'attachment'


class EInvoiceView(_StoredDocumentView):
    """The stored e-invoice (Peppol BIS 3.0 UBL) as an attachment."""

    content_type = 'application/xml'
    error_message = _('Unable to retrieve the e-invoice.')

    def fetch(self, request, number):
        return billing.invoice_einvoice(request, number)


class CsvView(views.APIView):
    """The filtered list as CSV, the way the table shows it."""

    def get(self, request):
        try:
            keywords = _filters_from(request, inv_tables.InvoicesTable)
            invoices = billing.invoice_list_all(request, **keywords)
        except Exception:
            exceptions.handle(request, _('Unable to export the invoices.'),
                              redirect=INDEX_URL)
        response = http.HttpResponse(content_type='text/csv; charset=utf-8')
        response['Content-Disposition'] = 'attachment; filename="invoices.csv"'
        writer = csv.writer(response)
        writer.writerow([_('Type'), _('Invoice No'), _('Status'),
                         _('Currency'), _('Outstanding Amount'), _('Total'),
                         _('Invoice Date'), _('Due Date')])
        types = dict(inv_tables.TYPE_DISPLAY_CHOICES)
        statuses = dict(inv_tables.STATUS_DISPLAY_CHOICES)
        for invoice in invoices:
            writer.writerow([types[invoice.type], invoice.number,
                             statuses[invoice.status], invoice.currency,
                             invoice.outstanding, invoice.total,
                             invoice.issue_date.isoformat(),
                             invoice.due_date.isoformat()])
        return response


class PayView(PolicyMixin, forms.ModalFormView):
    """The dues of an outstanding invoice and how to pay them.

    ``billing:invoice:pay`` is checked for the GET and the POST alike; an
    invoice of another project is a 404, one with nothing left to pay
    sends the user back to the list with a message. Submitting starts the
    chosen provider's payment and sends the browser to its page.
    """

    policy_rules = inv_tables.POLICY_PAY
    form_class = inv_forms.PayForm
    form_id = 'pay_invoice_form'
    modal_id = 'pay_invoice_modal'
    template_name = 'identity/invoices/pay.html'
    page_title = _("Pay invoice {{ invoice.number }}")
    success_url = INDEX_URL
    cancel_url = INDEX_URL
    cancel_label = _("Close")

    @memoized.memoized_method
    def get_object(self):
        invoice = invoice_or_redirect(self.request, self.kwargs['number'])
        if not invoice.is_payable:
            messages.info(self.request, _('Invoice %s has nothing left to '
                                          'pay.') % invoice.number)
            raise exceptions.Http302(INDEX_URL)
        return invoice

    @memoized.memoized_method
    def get_methods(self):
        try:
            return billing.payment_methods(self.request, self.get_object())
        except Exception:
            exceptions.handle(self.request,
                              _('Unable to list the payment methods.'))
            return []

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs['number'] = self.get_object().number
        kwargs['methods'] = self.get_methods()
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        invoice = self.get_object()
        methods = self.get_methods()
        redirecting = [method for method in methods if method['redirects']]
        context['invoice'] = invoice
        context['methods'] = methods
        context['can_submit'] = bool(redirecting)
        if len(redirecting) == 1:
            context['submit_label'] = redirecting[0]['submit_label']
        else:
            context['submit_label'] = _("Continue to payment")
        context['submit_url'] = reverse('horizon:identity:invoices:pay',
                                        args=[invoice.number])
        return context


class PaidView(PolicyMixin, views.HorizonTemplateView):
    """Where a payment provider sends the customer back after paying.

    It only shows the invoice's status: payments are recorded from the
    provider's own notification, never from this page.
    """

    policy_rules = inv_tables.POLICY_PAY
    template_name = 'identity/invoices/pay_return.html'
    page_title = _("Payment of invoice {{ invoice.number }}")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        invoice = invoice_or_redirect(self.request, self.kwargs['number'])
        context['invoice'] = invoice
        context['is_settled'] = not invoice.is_payable
        context['status_display'] = dict(
            inv_tables.STATUS_DISPLAY_CHOICES)[invoice.status]
        context['detail_url'] = reverse('horizon:identity:invoices:detail',
                                        args=[invoice.number])
        context['url'] = INDEX_URL
        return context
