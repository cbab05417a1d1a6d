"""The invoice PDF, read back with pypdf as a person or an auditor would."""

import datetime
from decimal import Decimal
import io

import pypdf
import pytest

from cleura_billing_dashboard import money
from cleura_billing_dashboard.pdf import render_invoice_pdf


def make_invoice(**changes):
    lines = [
        # Regions interleaved on purpose: the PDF groups them.
        _line('Compute', 'Flavor b.2c4gb', 'Stockholm', '720', 'h',
              '0.5', '25', '360.00'),
        _line('Storage', 'Volume 100 GB', 'Karlskrona', '100', 'GB',
              '1.25', '25', '125.00'),
        _line('Network', 'Floating IP', 'Stockholm', '1', 'pcs',
              '40', '25', '40.00'),
        _line('Training', 'Workshop seat', 'Frankfurt', '2', 'pcs',
              '500', '6', '1000.00'),
    ]
    invoice = {
        'number': '2026-000123',
        'type': 'invoice',
        'credits_number': None,
        'currency': 'SEK',
        'issue_date': datetime.date(2026, 3, 1),
        'due_date': datetime.date(2026, 3, 31),
        'period_start': datetime.date(2026, 2, 1),
        'period_end': datetime.date(2026, 2, 28),
        'seller': {
            'name': 'Cleura AB', 'address': 'Box 123',
            'postal_code': '371 21', 'city': 'Karlskrona',
            'country': 'Sweden', 'org_number': '556000-0000',
            'vat_number': 'SE556000000001', 'email': 'billing@example.com',
            'bankgiro': '123-4567', 'iban': 'SE4550000000058398257466',
            'bic': 'ESSESESS',
        },
        'buyer': {
            'name': 'Example Kund AB', 'org_number': '559999-9999',
            'vat_number': 'SE559999999901', 'address': 'Storgatan 1',
            'postal_code': '111 22', 'city': 'Stockholm', 'country': '',
            'po_reference': 'PO-42',
        },
        'lines': lines,
        'net_total': Decimal('1525.00'),
        'vat_breakdown': [
            {'rate': Decimal('25'), 'base': Decimal('525.00'),
             'amount': Decimal('131.25')},
            {'rate': Decimal('6'), 'base': Decimal('1000.00'),
             'amount': Decimal('60.00')},
        ],
        'vat_total': Decimal('191.25'),
        'total': Decimal('1716.25'),
        'amount_due': Decimal('1716.25'),
        'payment_reference': '12345678901234',
    }
    invoice.update(changes)
    return invoice


def _line(product, description, region, quantity, unit, unit_price,
          vat_rate, net_amount):
    return {'product': product, 'description': description, 'region': region,
            'quantity': Decimal(quantity), 'unit': unit,
            'unit_price': Decimal(unit_price), 'vat_rate': Decimal(vat_rate),
            'net_amount': Decimal(net_amount)}


def pdf_text(pdf):
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return '\n'.join(page.extract_text() for page in reader.pages)


def sek(amount):
    return money.format_money(Decimal(amount), 'SEK', 'en')


def test_a_pdf_and_the_same_bytes_every_time():
    invoice = make_invoice()

    pdf = render_invoice_pdf(invoice)

    assert pdf.startswith(b'%PDF-')
    assert render_invoice_pdf(invoice) == pdf


def test_metadata_dates_are_the_issue_date_not_the_clock():
    reader = pypdf.PdfReader(io.BytesIO(render_invoice_pdf(make_invoice())))

    assert reader.metadata['/CreationDate'].startswith('D:20260301')
    assert reader.metadata['/ModDate'].startswith('D:20260301')
    assert reader.metadata['/Title'] == 'Invoice 2026-000123'


def test_the_invoice_says_what_it_bills_and_how_to_pay():
    invoice = make_invoice()

    text = pdf_text(render_invoice_pdf(invoice))

    assert 'Invoice' in text
    assert '2026-000123' in text
    for line in invoice['lines']:
        assert line['description'] in text
    assert '2026-03-01' in text  # issue date
    assert '2026-03-31' in text  # due date
    assert '2026-02-01 – 2026-02-28' in text  # billing period
    assert sek('1525.00') in text  # net total
    assert 'VAT 25% of ' + sek('525.00') in text
    assert sek('131.25') in text
    assert 'VAT 6% of ' + sek('1000.00') in text
    assert sek('60.00') in text
    assert sek('191.25') in text  # VAT total
    assert sek('1716.25') in text  # total and amount due
    assert '0.50' in text  # unit price keeps its digits, 0.5 -> SEK0.50
    assert '720 h' in text
    assert 'OCR reference: 12345678901234' in text
    assert 'Bankgiro: 123-4567' in text
    assert 'IBAN: SE4550000000058398257466' in text
    assert 'BIC: ESSESESS' in text
    assert 'SE556000000001' in text  # seller VAT number
    assert '556000-0000' in text  # seller org number
    assert 'Example Kund AB' in text
    assert 'SE559999999901' in text  # buyer VAT number
    assert 'PO-42' in text


def test_your_reference_is_printed_next_to_the_po_reference():
    invoice = make_invoice()
    invoice['buyer'].update(buyer_reference='Cost centre <17> & Co')

    text = pdf_text(render_invoice_pdf(invoice))

    assert 'Your reference: Cost centre <17> & Co' in text
    assert 'Purchase order reference: PO-42' in text
    assert text.index('Your reference') < text.index('Purchase order')


def test_an_invoice_issued_before_your_reference_renders_as_before():
    invoice = make_invoice()
    invoice['buyer'].pop('buyer_reference', None)

    text = pdf_text(render_invoice_pdf(invoice))

    assert 'Your reference' not in text
    assert 'Purchase order reference: PO-42' in text


def test_a_unit_price_is_not_rounded_to_the_currency():
    invoice = make_invoice()
    invoice['lines'][0]['unit_price'] = Decimal('0.0123')

    assert 'SEK0.0123' in pdf_text(render_invoice_pdf(invoice))


def test_swedish_greek_and_euro_text_extracts_exactly():
    invoice = make_invoice(currency='EUR')
    invoice['buyer']['name'] = 'Åke Ärlig Östlund'
    invoice['buyer']['city'] = 'Växjö åäö'
    invoice['lines'][0]['description'] = 'Ελληνικά'

    text = pdf_text(render_invoice_pdf(invoice))

    assert 'Åke Ärlig Östlund' in text
    assert 'Växjö åäö' in text
    assert 'Ελληνικά' in text
    assert money.format_money(Decimal('1716.25'), 'EUR', 'en') in text
    assert '€1,716.25' in text


def test_amounts_are_written_for_the_language():
    text = pdf_text(render_invoice_pdf(make_invoice(), language='sv'))

    # Babel's no-break spaces come back from the PDF as plain spaces.
    total = money.format_money(Decimal('1716.25'), 'SEK', 'sv')
    assert total.replace('\xa0', ' ') == '1 716,25 kr'
    assert '1 716,25 kr' in text
    assert '0,50 kr' in text  # unit price
    assert '25 %' in text.replace('\xa0', ' ')


def test_every_piece_of_text_is_set_in_the_embedded_dejavu_sans():
    reader = pypdf.PdfReader(io.BytesIO(render_invoice_pdf(make_invoice())))
    fonts = set()

    def visit(text, cm, tm, font, size):
        if text.strip():
            fonts.add(str(font['/BaseFont']))

    for page in reader.pages:
        page.extract_text(visitor_text=visit)

    assert fonts
    assert all('DejaVuSans' in name for name in fonts), fonts
    # Embedded, not merely named: a subset TrueType font file is in the PDF.
    page_fonts = [font.get_object() for font
                  in reader.pages[0]['/Resources']['/Font'].values()]
    embedded = sorted(font['/BaseFont'].split('+')[-1] for font in page_fonts
                      if '/FontFile2' in font.get('/FontDescriptor', {}))
    assert embedded == ['DejaVuSans', 'DejaVuSans-Bold']


def test_a_credit_note_is_negative_and_names_the_invoice_it_credits():
    invoice = make_invoice(
        type='credit_note', number='2026-000200',
        credits_number='2026-000123', reason='Double-billed volume',
        net_total=Decimal('-1525.00'), vat_total=Decimal('-191.25'),
        total=Decimal('-1716.25'), amount_due=Decimal('-1716.25'),
        vat_breakdown=[{'rate': Decimal('25'), 'base': Decimal('-525.00'),
                        'amount': Decimal('-131.25')},
                       {'rate': Decimal('6'), 'base': Decimal('-1000.00'),
                        'amount': Decimal('-60.00')}])
    for line in invoice['lines']:
        line['net_amount'] = -line['net_amount']

    text = pdf_text(render_invoice_pdf(invoice))

    assert 'Credit note' in text
    assert 'Credits invoice 2026-000123' in text
    assert 'Reason: Double-billed volume' in text
    assert '2026-000200' in text
    assert sek('-1716.25') in text
    assert sek('-1716.25').startswith('-')
    assert 'OCR reference' not in text  # nothing to pay


def test_a_credit_note_without_the_invoice_it_credits_is_refused():
    invoice = make_invoice(type='credit_note', credits_number=None)

    with pytest.raises(ValueError, match='credits'):
        render_invoice_pdf(invoice)


def test_markup_in_the_data_is_printed_as_text():
    invoice = make_invoice()
    invoice['buyer']['name'] = '<b>Evil</b> & Co'
    invoice['lines'][1]['description'] = '<img src="/etc/passwd">'

    text = pdf_text(render_invoice_pdf(invoice))

    assert '<b>Evil</b> & Co' in text
    assert '<img src="/etc/passwd">' in text


def test_lines_are_grouped_under_their_region_in_first_seen_order():
    text = pdf_text(render_invoice_pdf(make_invoice()))

    order = ['Region: Stockholm', 'Flavor b.2c4gb', 'Floating IP',
             'Region: Karlskrona', 'Volume 100 GB',
             'Region: Frankfurt', 'Workshop seat']
    positions = [text.index(item) for item in order]
    assert positions == sorted(positions)
    assert text.count('Region: Stockholm') == 1


def test_empty_buyer_fields_leave_no_empty_labels():
    invoice = make_invoice()
    invoice['buyer'].update(org_number='', vat_number='', po_reference='')

    text = pdf_text(render_invoice_pdf(invoice))

    assert 'Your reference' not in text
    assert 'Purchase order reference' not in text
    assert text.count('VAT no.') == 2  # the seller's, in the block and footer
