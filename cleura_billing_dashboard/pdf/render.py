"""An invoice dict rendered to PDF: a Django template, then xhtml2pdf.

The invoice dict (money is ``Decimal``, dates are ``datetime.date``)::

    number, type ('invoice' | 'credit_note'), credits_number (str or None),
    currency, issue_date, due_date, period_start, period_end,
    seller: {name, address, postal_code, city, country, org_number,
             vat_number, email, bankgiro, iban, bic},
    buyer: {name, org_number, vat_number, address, postal_code, city,
            country, po_reference},
    lines: [{product, description, region, quantity, unit, unit_price,
             vat_rate (percent), net_amount}],
    net_total, vat_breakdown: [{rate, base, amount}], vat_total, total,
    amount_due, payment_reference (the OCR number),
    reason (optional: why a credit note was issued)
"""

import contextlib
import io
import os
import threading

from babel import numbers
from django import template
from django.utils import translation
from django.utils.translation import gettext as _
from reportlab import rl_config
from xhtml2pdf.config.resources import ResourceAccessPolicy
from xhtml2pdf import pisa

from cleura_billing_dashboard import money

HERE = os.path.dirname(os.path.abspath(__file__))
FONTS_DIR = os.path.join(HERE, 'fonts')
TEMPLATE = 'cleura_billing/pdf/invoice.html'

# Our own engine, so the template is found without INSTALLED_APPS.
ENGINE = template.Engine(
    dirs=[os.path.join(HERE, 'templates')],
    libraries={'i18n': 'django.templatetags.i18n'},
)

# The document may read the package's fonts and nothing else, local or remote.
RESOURCE_POLICY = ResourceAccessPolicy.server(base_dir=FONTS_DIR,
                                              allow_remote=False)

# Without invariant mode ReportLab stamps the clock into the date and the ID.
_INVARIANT_LOCK = threading.Lock()
FIXED_DATE = b"D:20000101000000+00'00'"


def render_invoice_pdf(invoice, language='en'):
    """The PDF of ``invoice`` with labels in ``language``, as bytes."""
    if invoice['type'] not in ('invoice', 'credit_note'):
        raise ValueError('invoice %s: unknown type %r'
                         % (invoice['number'], invoice['type']))
    if invoice['type'] == 'credit_note' and not invoice.get('credits_number'):
        raise ValueError('credit note %s does not name the invoice it credits'
                         % invoice['number'])
    with translation.override(language):
        context = _context(invoice, language)
        html = ENGINE.render_to_string(TEMPLATE, context)
    meta = {'title': '%s %s' % (context['title'], invoice['number']),
            'author': invoice['seller']['name']}
    out = io.BytesIO()
    with _invariant():
        # Relative font URLs resolve against the fonts folder.
        status = pisa.CreatePDF(html, dest=out, encoding='utf-8',
                                path=os.path.join(FONTS_DIR, 'invoice.html'),
                                resource_policy=RESOURCE_POLICY,
                                context_meta=meta)
    pdf = out.getvalue()
    if status.err or not pdf.startswith(b'%PDF'):
        raise RuntimeError('invoice %s: xhtml2pdf reported %d error(s)'
                           % (invoice['number'], status.err))
    if b'DejaVuSans' not in pdf:
        # A font that failed to load falls back to Helvetica without an error.
        raise RuntimeError('invoice %s: DejaVu Sans was not embedded'
                           % invoice['number'])
    # The issue date, not 2000-01-01; same length, so offsets stay valid.
    issued = invoice['issue_date'].strftime("D:%Y%m%d000000+00'00'")
    return pdf.replace(FIXED_DATE, issued.encode('ascii'))


@contextlib.contextmanager
def _invariant():
    with _INVARIANT_LOCK:
        previous = rl_config.invariant
        rl_config.invariant = 1
        try:
            yield
        finally:
            rl_config.invariant = previous


def _context(invoice, language):
    """What the template shows, every number already written for the locale.

    Called with ``language`` active, for the translated title.
    """
    locale = translation.to_locale(language)
    currency = invoice['currency']

    def amount(value):
        return money.format_money(value, currency, locale)

    def rate(value):
        return numbers.format_percent(money.to_decimal(value) / 100,
                                      locale=locale,
                                      decimal_quantization=False)

    # Regions in the order they first appear; lines keep the caller's order.
    regions = {}
    for line in invoice['lines']:
        regions.setdefault(line['region'], []).append({
            'product': line['product'],
            'description': line['description'],
            'quantity': money.format_decimal(line['quantity'], locale),
            'unit': line['unit'],
            # A unit price keeps all its digits (0,0123 kr per GB hour).
            'unit_price': numbers.format_currency(
                money.to_decimal(line['unit_price']), currency,
                locale=locale, decimal_quantization=False),
            'vat_rate': rate(line['vat_rate']),
            'net_amount': amount(line['net_amount']),
        })

    return {
        'language': language,
        'is_credit_note': invoice['type'] == 'credit_note',
        'title': (_('Credit note') if invoice['type'] == 'credit_note'
                  else _('Invoice')),
        'number': invoice['number'],
        'credits_number': invoice.get('credits_number') or '',
        'reason': invoice.get('reason') or '',
        'currency': currency,
        'issue_date': invoice['issue_date'].isoformat(),
        'due_date': invoice['due_date'].isoformat(),
        'period_start': invoice['period_start'].isoformat(),
        'period_end': invoice['period_end'].isoformat(),
        'seller': invoice['seller'],
        'buyer': invoice['buyer'],
        'regions': [{'name': name, 'lines': lines}
                    for name, lines in regions.items()],
        'net_total': amount(invoice['net_total']),
        'vat_breakdown': [{'rate': rate(vat['rate']),
                           'base': amount(vat['base']),
                           'amount': amount(vat['amount'])}
                          for vat in invoice['vat_breakdown']],
        'vat_total': amount(invoice['vat_total']),
        'total': amount(invoice['total']),
        'amount_due': amount(invoice['amount_due']),
        'payment_reference': invoice['payment_reference'],
    }
