"""An invoice dict rendered to PDF: ReportLab's platypus, laid out here.

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

The layout is the one the earlier xhtml2pdf template had (A4, DejaVu Sans
8.5 pt, the same blocks, table and footer), built as flowables directly:
xhtml2pdf parsed HTML and CSS and wrapped every table cell two or three
times, about 100 ms for 30 lines; this takes a fraction of that. The fonts
are parsed and registered once per process and font directory.
"""

import io
import logging
import os
import pathlib
import threading
from xml.sax import saxutils

from babel import numbers
from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib import enums
from reportlab.lib import pagesizes
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase import ttfonts
from reportlab import platypus

from cleura_billing_dashboard import conf
from cleura_billing_dashboard import money

LOG = logging.getLogger(__name__)

HERE = os.path.dirname(os.path.abspath(__file__))
# The bundled copies, used unless [pdf] fonts_dir names another directory.
FONTS_DIR = os.path.join(HERE, 'fonts')
# Regular and bold, in this order: the only files a rendering reads.
FONT_FILES = ('DejaVuSans.ttf', 'DejaVuSans-Bold.ttf')

# Registered ReportLab font names by the resolved font files: parsing a
# TrueType file takes longer than a whole invoice, so it is done once per
# process and directory. Forked workers inherit the parsed fonts; a TTFont
# keeps its subsets per document, so renderings never share one.
_FONTS = {}
_FONTS_LOCK = threading.Lock()

PAGE_WIDTH, PAGE_HEIGHT = pagesizes.A4
MARGIN_TOP, MARGIN_SIDE, MARGIN_BOTTOM = 1.5 * cm, 1.5 * cm, 2 * cm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN_SIDE
FOOTER_BOTTOM, FOOTER_HEIGHT = 0.8 * cm, 0.8 * cm
FONT_SIZE, LEADING = 8.5, 8.5 * 1.3
PAD_TOP, PAD_SIDE = 1, 3
RULE, RULE_COLOUR = 0.5, colors.HexColor('#444444')
REGION_RULE_COLOUR = colors.HexColor('#aaaaaa')
FOOTER_COLOUR = colors.HexColor('#666666')
# Description, quantity, unit price, VAT rate, net amount.
LINE_COLUMNS = tuple(FRAME_WIDTH * share
                     for share in (0.50, 0.13, 0.13, 0.08, 0.16))
TOTALS_COLUMNS = tuple(FRAME_WIDTH * 0.45 * share for share in (0.6, 0.4))
FIXED_DATE = b"D:20000101000000+00'00'"


class FontsMissing(RuntimeError):
    """The fonts directory lacks a font file the PDF is set in."""


def fonts_dir():
    """The directory the fonts are read from: ``[pdf] fonts_dir`` or ours."""
    return conf.get_conf().pdf.fonts_dir or FONTS_DIR


def _font_paths(directory):
    """The two font files in ``directory``, resolved (a symlink followed).

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
    return tuple(str(pathlib.Path(directory, name).resolve())
                 for name in FONT_FILES)


def _fonts(paths):
    """ReportLab names of the regular and bold font in ``paths``.

    Registered (a font family, so ``<b>`` picks the bold) on the first
    call for these files in this process, looked up after that.
    """
    with _FONTS_LOCK:
        if paths not in _FONTS:
            regular, bold = names = ('CleuraSans%d' % len(_FONTS),
                                     'CleuraSansBold%d' % len(_FONTS))
            for name, path in zip(names, paths):
                pdfmetrics.registerFont(ttfonts.TTFont(name, path))
            pdfmetrics.registerFontFamily(regular, normal=regular, bold=bold,
                                          italic=regular, boldItalic=bold)
            _FONTS[paths] = names
        return _FONTS[paths]


def load_fonts():
    """Parse and register the fonts now, not on the first rendering.

    For a process about to fork workers: they inherit the parsed fonts
    (about 130 ms of the first rendering). Raises ``FontsMissing`` as
    ``render_invoice_pdf`` would.
    """
    _fonts(_font_paths(fonts_dir()))


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
    regular, bold = _fonts(_font_paths(fonts_dir()))
    out = io.BytesIO()
    with translation.override(language):
        context = _context(invoice, language)
        _Layout(context, regular, bold).build(out)
    pdf = out.getvalue()
    # The issue date, not 2000-01-01; same length, so offsets stay valid.
    issued = invoice['issue_date'].strftime("D:%Y%m%d000000+00'00'")
    return pdf.replace(FIXED_DATE, issued.encode('ascii'))


def _text(value):
    """``value`` as paragraph markup that prints exactly ``value``."""
    return saxutils.escape(str(value)).replace('\n', '<br/>')


class _Layout(object):
    """The flowables of one invoice (``_context``'s values) and its pages."""

    def __init__(self, context, regular, bold):
        self.c = context
        self.regular, self.bold = regular, bold
        self.body = ParagraphStyle('body', fontName=regular,
                                   fontSize=FONT_SIZE, leading=LEADING)
        self.right = ParagraphStyle('right', parent=self.body,
                                    alignment=enums.TA_RIGHT)
        self.h1 = ParagraphStyle('h1', fontName=bold, fontSize=18,
                                 leading=18, spaceAfter=4 + 18 * 0.3)
        self.h2 = ParagraphStyle('h2', fontName=bold, fontSize=10,
                                 leading=10 * 1.3, spaceBefore=10,
                                 spaceAfter=3)
        self.footer = ParagraphStyle('footer', fontName=regular, fontSize=7,
                                     leading=7 * 1.3,
                                     alignment=enums.TA_CENTER,
                                     textColor=FOOTER_COLOUR)

    def build(self, out):
        c = self.c
        doc = platypus.BaseDocTemplate(
            out, pagesize=pagesizes.A4, invariant=1,
            # Never Helvetica: PDF/A wants every font embedded.
            initialFontName=self.regular,
            title='%s %s' % (c['title'], c['number']),
            author=c['seller']['name'], creator='(unspecified)',
            leftMargin=MARGIN_SIDE, rightMargin=MARGIN_SIDE,
            topMargin=MARGIN_TOP, bottomMargin=MARGIN_BOTTOM)
        frame = platypus.Frame(
            MARGIN_SIDE, MARGIN_BOTTOM, FRAME_WIDTH,
            PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM,
            leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        doc.addPageTemplates([platypus.PageTemplate(
            'page', [frame], onPage=self._footer)])
        doc.build(self._story())

    def _footer(self, canvas, doc):
        c = self.c
        parts = [_text(c['seller']['name'])]
        if c['seller'].get('org_number'):
            parts.append('%s %s' % (_text(_('Org. no.')),
                                    _text(c['seller']['org_number'])))
        if c['seller'].get('vat_number'):
            parts.append('%s %s' % (_text(_('VAT no.')),
                                    _text(c['seller']['vat_number'])))
        parts.append('%s %s' % (_text(c['title']), _text(c['number'])))
        parts.append('%s %d' % (_text(_('Page')), doc.page))
        footer = platypus.Paragraph(' · '.join(parts), self.footer)
        height = footer.wrap(FRAME_WIDTH, FOOTER_HEIGHT)[1]
        footer.drawOn(canvas, MARGIN_SIDE,
                      FOOTER_BOTTOM + FOOTER_HEIGHT - height)

    def _para(self, lines, style=None):
        return platypus.Paragraph('<br/>'.join(lines), style or self.body)

    def _cell(self, text, width, style=None, bold=False):
        """A plain string if it fits on one line (cheap), else a paragraph."""
        font = self.bold if bold else self.regular
        if ('\n' not in text and pdfmetrics.stringWidth(
                text, font, FONT_SIZE) <= width - 2 * PAD_SIDE):
            return text
        markup = _text(text)
        return platypus.Paragraph('<b>%s</b>' % markup if bold else markup,
                                  style or self.body)

    def _story(self):
        return ([self._heading()] +
                [platypus.Paragraph(_text(_('Specification')), self.h2),
                 self._lines(), self._totals()] + self._vat_note())

    def _heading(self):
        c, seller, buyer = self.c, self.c['seller'], self.c['buyer']
        first = []
        if c['is_credit_note']:
            first.append('<b>%s</b>' % _text(
                _('Credits invoice %(number)s')
                % {'number': c['credits_number']}))
            if c['reason']:
                first.append('%s: %s' % (_text(_('Reason')),
                                         _text(c['reason'])))
            label = _('Credit note number')
        else:
            label = _('Invoice number')
        first += ['%s: <b>%s</b>' % (_text(label), _text(c['number'])),
                  '%s: %s' % (_text(_('Issue date')), c['issue_date']),
                  '%s: %s – %s' % (_text(_('Billing period')),
                                   c['period_start'], c['period_end'])]
        if buyer.get('buyer_reference'):
            first.append('%s: %s' % (_text(_('Your reference')),
                                     _text(buyer['buyer_reference'])))
        if buyer.get('po_reference'):
            first.append('%s: %s' % (_text(_('Purchase order reference')),
                                     _text(buyer['po_reference'])))

        if c['is_credit_note']:
            payment = [platypus.Paragraph('%s: %s' % (
                _text(_('Amount credited')), _text(c['amount_due'])),
                self.h2)]
        else:
            details = []
            if c['prepaid_amount']:
                details.append('%s: %s' % (_text(_('Credit applied')),
                                           _text(c['prepaid_amount'])))
            details += [
                '%s: <b>%s</b>' % (_text(_('Amount due')),
                                   _text(c['amount_due'])),
                '%s: <b>%s</b>' % (_text(_('Due date')), c['due_date']),
                '%s: <b>%s</b>' % (_text(_('OCR reference')),
                                   _text(c['payment_reference'])),
                _text(_('Always state the OCR reference when you pay.'))]
            for key, label in (('bankgiro', _('Bankgiro')),
                               ('iban', _('IBAN')), ('bic', _('BIC'))):
                if seller.get(key):
                    details.append('%s: %s' % (_text(label),
                                               _text(seller[key])))
            payment = [platypus.Paragraph(_text(_('Payment details')),
                                          self.h2),
                       self._para(details)]

        rows = [[[platypus.Paragraph(_text(c['title']), self.h1),
                  self._para(first)], payment],
                [self._party(_('Bill to'), buyer),
                 self._party(_('From'), seller, email=True)]]
        table = platypus.Table(rows, colWidths=(FRAME_WIDTH / 2,) * 2)
        table.setStyle(self._padding() + [('VALIGN', (0, 0), (-1, -1),
                                           'TOP')])
        return table

    def _party(self, heading, party, email=False):
        lines = ['<b>%s</b>' % _text(party['name'])]
        if party.get('address'):
            lines.append(_text(party['address']))
        if party.get('postal_code') or party.get('city'):
            lines.append('%s %s' % (_text(party.get('postal_code') or ''),
                                    _text(party.get('city') or '')))
        if party.get('country'):
            lines.append(_text(party['country']))
        if party.get('org_number'):
            lines.append('%s %s' % (_text(_('Org. no.')),
                                    _text(party['org_number'])))
        if party.get('vat_number'):
            lines.append('%s %s' % (_text(_('VAT no.')),
                                    _text(party['vat_number'])))
        if email and party.get('email'):
            lines.append(_text(party['email']))
        return [platypus.Paragraph(_text(heading), self.h2),
                self._para(lines)]

    def _padding(self):
        return [('FONTNAME', (0, 0), (-1, -1), self.regular),
                ('FONTSIZE', (0, 0), (-1, -1), FONT_SIZE),
                ('LEADING', (0, 0), (-1, -1), LEADING),
                ('TOPPADDING', (0, 0), (-1, -1), PAD_TOP),
                ('BOTTOMPADDING', (0, 0), (-1, -1), 0),
                ('LEFTPADDING', (0, 0), (-1, -1), PAD_SIDE),
                ('RIGHTPADDING', (0, 0), (-1, -1), PAD_SIDE)]

    def _lines(self):
        c = self.c
        head_right = ParagraphStyle('th-right', parent=self.right,
                                    fontName=self.bold)
        head = ParagraphStyle('th', parent=self.body, fontName=self.bold)
        rows = [[platypus.Paragraph(_text(_('Description')), head)] +
                [platypus.Paragraph(_text(label), head_right)
                 for label in (_('Quantity'), _('Unit price'), _('VAT'),
                               _('Net amount'))]]
        style = self._padding() + [
            ('VALIGN', (0, 0), (-1, -1), 'TOP'),
            ('ALIGN', (1, 0), (-1, -1), 'RIGHT'),
            ('VALIGN', (0, 0), (-1, 0), 'MIDDLE'),
            ('LINEBELOW', (0, 0), (-1, 0), RULE, RULE_COLOUR)]
        widths = LINE_COLUMNS
        for region in c['regions']:
            name = ('%s: %s' % (_('Region'), region['name'])
                    if region['name'] else _('Not region-specific'))
            row = len(rows)
            rows.append([self._cell(name, widths[0], bold=True),
                         '', '', '', ''])
            style += [('FONTNAME', (0, row), (-1, row), self.bold),
                      ('TOPPADDING', (0, row), (-1, row), 6),
                      ('LINEBELOW', (0, row), (-1, row), RULE,
                       REGION_RULE_COLOUR)]
            for line in region['lines']:
                description = line['product']
                if (line['description'] and
                        line['description'] != line['product']):
                    description += ' – ' + line['description']
                rows.append([
                    self._cell(description, widths[0]),
                    self._cell('%s %s' % (line['quantity'], line['unit']),
                               widths[1], self.right),
                    self._cell(line['unit_price'], widths[2], self.right),
                    self._cell(line['vat_rate'], widths[3], self.right),
                    self._cell(line['net_amount'], widths[4], self.right)])
        table = platypus.Table(rows, colWidths=widths, repeatRows=1)
        table.setStyle(style)
        return table

    def _totals(self):
        c = self.c
        rows = [(_('Net total'), c['net_total'], False)]
        for vat in c['vat_breakdown']:
            rows.append((_('VAT %(rate)s of %(base)s')
                         % {'rate': vat['rate'], 'base': vat['base']},
                         vat['amount'], False))
        if len(c['vat_breakdown']) > 1:
            rows.append((_('VAT total'), c['vat_total'], False))
        rows.append((_('Total'), c['total'], True))
        if c['prepaid_amount']:
            rows.append((_('Credit applied'), '−' + c['prepaid_amount'],
                         False))
        rows.append((_('Amount credited') if c['is_credit_note']
                     else _('Amount due'), c['amount_due'], True))
        widths = TOTALS_COLUMNS
        style = self._padding() + [('VALIGN', (0, 0), (-1, -1), 'TOP'),
                                   ('ALIGN', (1, 0), (1, -1), 'RIGHT')]
        cells = []
        for row, (label, value, total) in enumerate(rows):
            cells.append([self._cell(label, widths[0], bold=total),
                          self._cell(value, widths[1], self.right,
                                     bold=total)])
            if total:
                style += [('FONTNAME', (0, row), (-1, row), self.bold),
                          ('LINEABOVE', (0, row), (-1, row), RULE,
                           RULE_COLOUR)]
        table = platypus.Table(cells, colWidths=widths, hAlign='RIGHT')
        table.setStyle(style)
        return platypus.KeepTogether([table])

    def _vat_note(self):
        c = self.c
        if not c['vat_exemption_text']:
            return []
        lines = ['<b>%s</b>' % _text(c['vat_exemption_text'])]
        if c['buyer_vat_number']:
            lines.append('%s %s' % (_text(_("Buyer's VAT no.")),
                                    _text(c['buyer_vat_number'])))
        return [platypus.Spacer(0, 8), self._para(lines)]


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
