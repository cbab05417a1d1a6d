from django.template import defaultfilters
from django.urls import reverse
from django.utils import html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from horizon import tables

from cleura_billing_dashboard.api import billing
from cleura_billing_dashboard import policy

STATUS_DISPLAY_CHOICES = (
    ('paid', pgettext_lazy('Invoice status', 'Paid')),
    ('outstanding', pgettext_lazy('Invoice status', 'Outstanding')),
    ('overdue', pgettext_lazy('Invoice status', 'Overdue')),
    ('credited', pgettext_lazy('Invoice status', 'Credited')),
    ('credit', pgettext_lazy('Invoice status', 'Credit')),
)
TYPE_DISPLAY_CHOICES = (
    ('invoice', pgettext_lazy('Invoice type', 'Invoice')),
    ('credit_note', pgettext_lazy('Invoice type', 'Credit note')),
)
# (icon, colour class): a paid invoice shows a green circle with a tick.
STATUS_ICONS = {
    'paid': ('fa-check-circle', 'text-success'),
    'credited': ('fa-check-circle', 'text-success'),
    'credit': ('fa-minus-circle', 'text-muted'),
    'outstanding': ('fa-clock', 'text-info'),
    'overdue': ('fa-exclamation-triangle', 'text-warning'),
}
POLICY_GET = policy.INVOICE_GET
POLICY_PAY = policy.INVOICE_PAY


def status_icon(invoice):
    icon, colour = STATUS_ICONS[invoice.status]
    label = dict(STATUS_DISPLAY_CHOICES)[invoice.status]
    return html.format_html(
        '<span class="fa {} {} invoice-status-{}" title="{}"></span>'
        '<span class="sr-only">{}</span>',
        icon, colour, invoice.status, label, label)


class AmountColumn(tables.Column):
    """A money column written for the user's locale and the row's currency."""

    def get_data(self, datum):
        amount = getattr(datum, self.transform)
        return billing.format_amount(self.table.request, amount,
                                     datum.currency)


class ViewPDF(tables.LinkAction):
    name = 'view_pdf'
    verbose_name = _("View PDF")
    icon = 'file-pdf'
    policy_rules = POLICY_GET

    def get_link_url(self, datum):
        return reverse('horizon:identity:invoices:pdf', args=[datum.number])

    def get_default_attrs(self):
        attrs = super().get_default_attrs()
        attrs.update(target='_blank', rel='noopener')
        return attrs


class DownloadPDF(tables.LinkAction):
    name = 'download_pdf'
    verbose_name = _("Download PDF")
    icon = 'download'
    policy_rules = POLICY_GET

    def get_link_url(self, datum):
        return reverse('horizon:identity:invoices:download',
                       args=[datum.number])


class DownloadEInvoice(tables.LinkAction):
    name = 'download_einvoice'
    verbose_name = _("Download e-invoice")
    icon = 'download'
    policy_rules = POLICY_GET

    def get_link_url(self, datum):
        return reverse('horizon:identity:invoices:einvoice',
                       args=[datum.number])


class PayInvoice(tables.LinkAction):
    name = 'pay'
    verbose_name = _("Pay this invoice")
    icon = 'credit-card'
    classes = ('ajax-modal', 'btn-primary')
    policy_rules = POLICY_PAY

    def get_link_url(self, datum):
        return reverse('horizon:identity:invoices:pay', args=[datum.number])

    def allowed(self, request, datum=None):
        return datum is not None and datum.is_payable


class ExportCSV(tables.LinkAction):
    name = 'export_csv'
    verbose_name = _("Download CSV")
    icon = 'download'
    policy_rules = policy.INVOICE_LIST

    def get_link_url(self, datum=None):
        return reverse('horizon:identity:invoices:csv')


class InvoiceFilterAction(tables.FilterAction):
    filter_type = 'server'
    filter_choices = (
        ('number', _("Invoice No ="), True),
        ('status', _("Status ="), True,
         _("paid, outstanding, overdue, credited or credit")),
        ('issued', _("Invoice Date ="), True,
         _("A month (2026-05), a day (2026-05-31) or a range "
           "(2026-01-01..2026-03-31)")),
    )


class InvoicesTable(tables.DataTable):
    status_icon = tables.Column(status_icon, verbose_name='',
                                classes=('invoice-status',))
    type = tables.Column('type', verbose_name=_("Type"),
                         display_choices=TYPE_DISPLAY_CHOICES)
    number = tables.WrappingColumn(
        'number', verbose_name=_("Invoice No"),
        link='horizon:identity:invoices:detail')
    outstanding = AmountColumn('outstanding',
                               verbose_name=_("Outstanding Amount"))
    issue_date = tables.Column('issue_date', verbose_name=_("Invoice Date"),
                               filters=(defaultfilters.date,))
    due_date = tables.Column('due_date', verbose_name=_("Due Date"),
                             filters=(defaultfilters.date,))
    total = AmountColumn('total', verbose_name=_("Total"))
    status = tables.Column('status', verbose_name=_("Status"), hidden=True,
                           status=True,
                           status_choices=(('paid', True),
                                           ('credited', True),
                                           ('credit', True),
                                           ('outstanding', True),
                                           ('overdue', False)),
                           display_choices=STATUS_DISPLAY_CHOICES)

    def get_object_id(self, datum):
        return datum.number

    def get_object_display(self, datum):
        return datum.number

    class Meta(object):
        name = 'invoices'
        verbose_name = _("Invoices")
        pagination_param = 'marker'
        status_columns = ['status']
        table_actions = (InvoiceFilterAction, ExportCSV)
        row_actions = (PayInvoice, ViewPDF, DownloadPDF, DownloadEInvoice)
