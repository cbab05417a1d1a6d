"""An invoice dict rendered to PDF: a Django template, then xhtml2pdf.

The invoice dict (money is ``Decimal``, dates are ``datetime.date``)::

    number, type ('invoice' | 'credit_note'), credits_number (str or None),
    currency, issue_date, due_date, period_start, period_end,
    seller: {name, address, postal_code, city, country, org_number,
             vat_number, email, bankgiro, iban, bic},
    buyer: {name, org_number, vat_number, address, postal_code, city,
            country, po_reference, buyer_reference (optional)},
    lines: [{product, description, region, quantity, unit, unit_price,
             vat_rate (percent), net_amount, vat_category (optional)}],
    net_total, vat_breakdown: [{rate, base, amount} (+ optional category,
    exemption_reason_code, exemption_reason)], vat_total, total,
    prepaid_amount (optional: credit taken off at issue), amount_due,
    payment_reference (the OCR number),
    reason (optional: why a credit note was issued),
    vat_treatment, vat_exemption_text (optional: the VAT treatment as
    issued; the text is printed, and for 'reverse_charge' the buyer's
    VAT number too)
"""

import contextlib
import io
import logging
import os
import pathlib
import threading

from babel import numbers
from django import template
from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase import ttfonts
from reportlab.platypus import tables
from reportlab import rl_config
from xhtml2pdf.config.resources import ResourceAccessPolicy
from xhtml2pdf import pisa

from cleura_billing_dashboard import conf
from cleura_billing_dashboard import money

LOG = logging.getLogger(__name__)

HERE = os.path.dirname(os.path.abspath(__file__))
# The bundled copies, used unless [pdf] fonts_dir names another directory.
FONTS_DIR = os.path.join(HERE, 'fonts')
# What the template's @font-face rules load, by these names.
FONT_FILES = ('DejaVuSans.ttf', 'DejaVuSans-Bold.ttf')
TEMPLATE = 'cleura_billing/pdf/invoice.html'

# Our own engine, so the template is found without INSTALLED_APPS.
ENGINE = template.Engine(
    dirs=[os.path.join(HERE, 'templates')],
    libraries={'i18n': 'django.templatetags.i18n'},
)

# Without invariant mode ReportLab stamps the clock into the date and the ID.
# The lock also guards the base font, a process-wide ReportLab setting.
_INVARIANT_LOCK = threading.Lock()
# ReportLab's base font (a page's initial font, a table cell's default) is
# Helvetica, never embedded: PDF/A wants every font embedded, so it is set
# to DejaVu Sans, registered once per font file under this name.
_BASE_FONTS = {}
FIXED_DATE = b"D:20000101000000+00'00'"


class FontsMissing(RuntimeError):
    """The fonts directory lacks a font file the PDF is set in."""


def fonts_dir():
    """The directory the fonts are read from: ``[pdf] fonts_dir`` or ours."""
    return conf.get_conf().pdf.fonts_dir or FONTS_DIR


def _resource_policy(directory):
    """What the document may read: the two font files in ``directory``.

    Raises ``FontsMissing`` (and logs it) if either is not a file there.
    """
    missing = [name for name in FONT_FILES
               if not os.path.isfile(os.path.join(directory, name))]
    if missing:
        message = ('The fonts directory %s (option [pdf] fonts_dir) lacks '
                   '%s: no PDF can be rendered, so no invoice is issued. '
                   'Install the DejaVu fonts there or leave the option '
                   'empty for the bundled copies.'
                   % (directory, ', '.join(missing)))
        LOG.error(message)
        raise FontsMissing(message)
    # The files themselves, resolved: a system font may be a symlink, and
    # nothing else in its directory, local or remote, may be read.
    fonts = tuple(pathlib.Path(directory, name).resolve()
                  for name in FONT_FILES)
    return ResourceAccessPolicy.server(base_dir=None, extra_roots=fonts,
                                       allow_remote=False)


def render_invoice_pdf(invoice, language='en'):
    """The PDF of ``invoice`` with labels in ``language``, as bytes.

    Raises ``FontsMissing`` before rendering anything if the fonts
    directory lacks DejaVu Sans or DejaVu Sans Bold.
    """
    if invoice['type'] not in ('invoice', 'credit_note'):
        raise ValueError('invoice %s: unknown type %r'
                         % (invoice['number'], invoice['type']))
    if invoice['type'] == 'credit_note' and not invoice.get('credits_number'):
        raise ValueError('credit note %s does not name the invoice it credits'
                         % invoice['number'])
    directory = fonts_dir()
    policy = _resource_policy(directory)
    with translation.override(language):
        context = _context(invoice, language)
        html = ENGINE.render_to_string(TEMPLATE, context)
    meta = {'title': '%s %s' % (context['title'], invoice['number']),
            'author': invoice['seller']['name']}
    out = io.BytesIO()
    with _invariant(_base_font(directory)):
        # Relative font URLs resolve against the fonts folder.
        status = pisa.CreatePDF(html, dest=out, encoding='utf-8',
                                path=os.path.join(directory, 'invoice.html'),
                                resource_policy=policy,
                                context_meta=meta)
    pdf = out.getvalue()
    if status.err or not pdf.startswith(b'%PDF'):
        raise RuntimeError('invoice %s: xhtml2pdf reported %d error(s)'
                           % (invoice['number'], status.err))
    if b'DejaVuSans' not in pdf:
        # A font that failed to load falls back to Helvetica without an error.
        raise RuntimeError('invoice %s: DejaVu Sans from %s was not '
                           'embedded' % (invoice['number'], directory))
    # The issue date, not 2000-01-01; same length, so offsets stay valid.
    issued = invoice['issue_date'].strftime("D:%Y%m%d000000+00'00'")
    return pdf.replace(FIXED_DATE, issued.encode('ascii'))


def _base_font(directory):
    """The ReportLab name of DejaVu Sans in ``directory``, registered."""
    path = str(pathlib.Path(directory, FONT_FILES[0]).resolve())
    with _INVARIANT_LOCK:
        if path not in _BASE_FONTS:
            name = 'CleuraBase%d' % len(_BASE_FONTS)
            pdfmetrics.registerFont(ttfonts.TTFont(name, path))
            _BASE_FONTS[path] = name
        return _BASE_FONTS[path]


@contextlib.contextmanager
def _invariant(base_font):
    with _INVARIANT_LOCK:
        previous = (rl_config.invariant, rl_config.canvas_basefontname,
                    tables.CellStyle.fontname)
        rl_config.invariant = 1
        # The canvas reads the first, a table cell the second (bound when
        # ReportLab was imported); without both Helvetica is referenced.
        rl_config.canvas_basefontname = base_font
        tables.CellStyle.fontname = base_font
        try:
            yield
        finally:
            (rl_config.invariant, rl_config.canvas_basefontname,
             tables.CellStyle.fontname) = previous


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
        'prepaid_amount': (amount(invoice['prepaid_amount'])
                           if invoice.get('prepaid_amount') else ''),
        'amount_due': amount(invoice['amount_due']),
        'payment_reference': invoice['payment_reference'],
        # The VAT treatment's wording as issued (0 % categories), and for
        # a reverse charge the buyer's VAT number (Article 226 (4), (11a)).
        'vat_exemption_text': invoice.get('vat_exemption_text') or '',
        'buyer_vat_number': (
            (invoice['buyer'] or {}).get('vat_number') or ''
            if invoice.get('vat_treatment') == 'reverse_charge' else ''),
    }
