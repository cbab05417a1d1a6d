"""The Invoices panel in the real Horizon, on the demo's sample data."""

import csv
import decimal
import io

import pypdf
import pytest

from cleura_billing_dashboard.billing import demo

pytestmark = pytest.mark.functional


def invoice_rows(session, base_url):
    """The project's invoices as the CSV export lists them."""
    res = session.get(base_url + '/identity/invoices/export.csv', timeout=60)
    assert res.status_code == 200
    assert res.headers['Content-Type'].startswith('text/csv')
    return list(csv.DictReader(io.StringIO(res.text)))


@pytest.fixture(scope='module')
def carol(demo_invoices):
    return demo_invoices.login('carol')


def test_acme_sees_every_status_of_the_demo(demo_invoices, carol):
    statuses = {row['Status'] for row in invoice_rows(carol,
                                                      demo_invoices.url)}
    assert {'Paid', 'Outstanding', 'Overdue', 'Credited',
            'Credit'} <= statuses


def test_every_acme_invoice_url_is_404_for_globex(demo_invoices, carol):
    rows = invoice_rows(carol, demo_invoices.url)
    acme = [row['Invoice No'] for row in rows]
    # Every URL of a paid, an overdue invoice and a credit note: each
    # Horizon page costs over a second here, so not every invoice.
    by_status = {row['Status']: row['Invoice No'] for row in rows}
    sample = [by_status['Paid'], by_status['Overdue'], by_status['Credit']]
    dave = demo_invoices.login('dave')
    globex = {row['Invoice No'] for row in invoice_rows(dave,
                                                        demo_invoices.url)}
    assert globex and not globex & set(acme)
    for number in sample:
        for action in ('', 'pdf/', 'download/', 'pay/'):
            url = '%s/identity/invoices/%s/%s' % (
                demo_invoices.url, number, action)
            res = dave.get(url, timeout=60, allow_redirects=False)
            assert res.status_code == 404, url


def test_downloaded_pdf_holds_number_lines_vat_and_total(demo_invoices,
                                                         carol):
    row = next(row for row in invoice_rows(carol, demo_invoices.url)
               if row['Status'] == 'Overdue')
    res = carol.get('%s/identity/invoices/%s/download/'
                    % (demo_invoices.url, row['Invoice No']), timeout=60)
    assert res.headers['Content-Disposition'] == (
        'attachment; filename="%s.pdf"' % row['Invoice No'])
    text = '\n'.join(page.extract_text() for page in
                     pypdf.PdfReader(io.BytesIO(res.content)).pages)
    assert row['Invoice No'] in text
    for _product, description, *_rest in demo.PRODUCTS:
        assert description in text
    assert 'VAT' in text and '25' in text
    # The CSV's total is a plain decimal; the PDF writes it as money.
    assert '{:,.2f}'.format(decimal.Decimal(row['Total'])) in text


def test_readers_cannot_open_the_pay_page(demo_invoices, carol):
    row = next(row for row in invoice_rows(carol, demo_invoices.url)
               if row['Status'] == 'Outstanding')
    res = carol.get('%s/identity/invoices/%s/pay/'
                    % (demo_invoices.url, row['Invoice No']), timeout=60,
                    allow_redirects=False)
    assert res.status_code in (302, 403)
    assert 'Dues' not in res.text
