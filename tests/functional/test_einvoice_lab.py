"""The e-invoices as issue 10's reviewer checks them, against the lab.

A project of its own (vandelay, Kramer a member) has its Customer Info
changed in Keystone to a German company with a German VAT number, then
to a consumer in France, then to a US company, and the operator issues
a period for each with ``billing_issue``. Kramer, logged in through
Horizon's real login form, downloads each invoice's e-invoice (Peppol BIS
3.0 UBL) and PDF (Factur-X, its CII extracted by the validator) as a
browser would, and each file goes through the offline validator
(tests/einvoice: XSD, CEN EN 16931 1.3.16, Peppol BIS 3.0.21).

No operator command credits a given invoice, so vandelay has no credit
note; the demo's own (acme's, from ``billing_demo_data``) is downloaded
and validated instead, as the reviewer finds it in the panel.
"""

import json
import re

from lxml import etree
import pypdf
import pytest

from tests import factories
from tests.functional.test_account_keystone import project_id
from tests.functional.test_account_keystone import reset
from tests.functional.test_invoices_lab import invoice_rows
from tools import lab
from tools.lab import demo_data

pytestmark = pytest.mark.functional

PROJECT = 'vandelay'
USER = 'kramer'
REVERSE_CHARGE = 'Reverse charge (Article 196 of Directive 2006/112/EC)'
EXPORT = 'Export outside the EU'

# The Customer Info of each case and the period issued under it; far
# from the periods other tests issue.
CASES = {
    'de_business': ('2033-01', {
        'name': 'Vandelay Industries GmbH', 'address': 'Hauptstr. 1',
        'postal_code': '10115', 'city': 'Berlin', 'country': 'DE',
        'vat_number': 'DE136695976'}),
    'fr_consumer': ('2033-02', {
        'name': 'Jeanne Martin', 'address': '1 rue de Rivoli',
        'postal_code': '75001', 'city': 'Paris', 'country': 'FR',
        'vat_number': ''}),
    'us_business': ('2033-03', {
        'name': 'Vandelay Industries Inc', 'address': '129 W 81st St',
        'postal_code': '10024', 'city': 'New York', 'country': 'US',
        'vat_number': ''}),
}

NS = {
    'cbc': 'urn:oasis:names:specification:ubl:schema:xsd:'
           'CommonBasicComponents-2',
    'cac': 'urn:oasis:names:specification:ubl:schema:xsd:'
           'CommonAggregateComponents-2',
    'rsm': 'urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100',
    'ram': 'urn:un:unece:uncefact:data:standard:'
           'ReusableAggregateBusinessInformationEntity:100',
}
UBL_SUBTOTAL = 'cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory'
UBL_LINE = 'cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory'
CII_SETTLEMENT = ('rsm:SupplyChainTradeTransaction/'
                  'ram:ApplicableHeaderTradeSettlement')
CII_BREAKDOWN = CII_SETTLEMENT + '/ram:ApplicableTradeTax'
CII_LINE = ('rsm:SupplyChainTradeTransaction/'
            'ram:IncludedSupplyChainTradeLineItem/'
            'ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax')
CII_TOTALS = (CII_SETTLEMENT +
              '/ram:SpecifiedTradeSettlementHeaderMonetarySummation')
CII_BUYER = ('rsm:SupplyChainTradeTransaction/'
             'ram:ApplicableHeaderTradeAgreement/ram:BuyerTradeParty')


@pytest.fixture(scope='module')
def validator():
    """One validator (one SaxonC processor) for the module."""
    from tests.einvoice import validate
    return validate.Validator()


@pytest.fixture(scope='module')
def issued(real_lab, tmp_path_factory):
    """``{case: (number, billing_issue's line)}``, one period each."""
    tmp_path = tmp_path_factory.mktemp('einvoice-usage')
    lab.ensure_identities(real_lab.keystone.admin_client(),
                          users=[(PROJECT, USER, 'member')])
    usage = tmp_path / 'usage.json'
    # A month of an m1.small and 100 GB of block storage: SEK 444.80 net.
    usage.write_text(json.dumps({'projects': [{
        'project_id': project_id(real_lab, PROJECT),
        'lines': factories.instance_and_volume()}]}))
    numbers = {}
    for case, (period, customer) in CASES.items():
        reset(real_lab, PROJECT, demo_data.account_document(customer))
        run = real_lab.horizon.manage('billing_issue', '--usage',
                                      str(usage), '--period', period)
        assert run.returncode == 0, run.stderr
        found = re.search(r'^Issued (\S+) to \S+: (\S+)$', run.stdout, re.M)
        assert found, run.stdout + run.stderr
        numbers[case] = found.groups()
    return numbers


@pytest.fixture(scope='module')
def downloads(real_lab, issued, tmp_path_factory):
    """``{case: {'ubl': response, 'pdf': response, 'paths': ...}}``."""
    folder = tmp_path_factory.mktemp('einvoice-downloads')
    kramer = real_lab.login(USER)
    got = {}
    for case, (number, _total) in issued.items():
        base = '%s/identity/invoices/%s/' % (real_lab.url, number)
        ubl = kramer.get(base + 'einvoice/', timeout=60)
        pdf = kramer.get(base + 'download/', timeout=60)
        (folder / ('%s.xml' % number)).write_bytes(ubl.content)
        (folder / ('%s.pdf' % number)).write_bytes(pdf.content)
        got[case] = {'number': number, 'ubl': ubl, 'pdf': pdf,
                     'ubl_path': str(folder / ('%s.xml' % number)),
                     'pdf_path': str(folder / ('%s.pdf' % number))}
    return got


def fatal_ids(rule):
    return sorted(item['id'] for item in rule['fatal'])


def problems(res):
    return list(res['xsd_errors']) + [
        '%s [%s] %s: %s' % (rule['name'], item['id'], item['location'],
                            item['text'])
        for rule in res['rules'] for item in rule['fatal']]


def checked_ubl(validator, download, peppol_fatal=()):
    """The UBL's root; no XSD error, no fatal but ``peppol_fatal``'s."""
    res = validator.validate(download['ubl_path'])
    assert res['syntax'] == 'UBL-Invoice'
    assert not res['xsd_errors'], res['xsd_errors']
    cen, peppol = res['rules']
    assert (cen['name'], cen['fatal']) == ('EN16931 UBL 1.3.16', []), (
        problems(res))
    assert peppol['name'] == 'Peppol BIS 3.0.21'
    assert fatal_ids(peppol) == sorted(peppol_fatal), problems(res)
    return etree.fromstring(download['ubl'].content)


def checked_cii(validator, download):
    """The CII the PDF carries; no XSD error, no fatal assert."""
    res = validator.validate(str(download['pdf_path']))
    assert res['pdf_attachment'] == 'factur-x.xml'
    assert res['syntax'] == 'CII'
    assert res['guideline'] == 'urn:cen.eu:en16931:2017'
    assert [rule['name'] for rule in res['rules']] == ['EN16931 CII 1.3.16']
    assert not problems(res), '\n'.join(problems(res))
    assert res['valid']
    reader = pypdf.PdfReader(download['pdf_path'])
    return (etree.fromstring(reader.attachments['factur-x.xml'][0]),
            '\n'.join(page.extract_text() for page in reader.pages))


def text(root, path):
    return root.findtext(path, namespaces=NS)


def ubl_categories(root, path):
    return [(text(node, 'cbc:ID'), text(node, 'cbc:Percent'),
             text(node, 'cbc:TaxExemptionReasonCode'),
             text(node, 'cbc:TaxExemptionReason'))
            for node in root.iterfind(path, NS)]


def cii_categories(root, path):
    return [(text(node, 'ram:CategoryCode'),
             text(node, 'ram:RateApplicablePercent'),
             text(node, 'ram:ExemptionReasonCode'),
             text(node, 'ram:ExemptionReason'))
            for node in root.iterfind(path, NS)]


def ubl_totals(root):
    return (text(root, 'cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount'),
            text(root, 'cac:TaxTotal/cbc:TaxAmount'),
            text(root, 'cac:LegalMonetaryTotal/cbc:PayableAmount'))


def cii_totals(root):
    return (text(root, CII_TOTALS + '/ram:TaxBasisTotalAmount'),
            text(root, CII_TOTALS + '/ram:TaxTotalAmount'),
            text(root, CII_TOTALS + '/ram:DuePayableAmount'))


def ubl_buyer_vat(root):
    return text(root, 'cac:AccountingCustomerParty/cac:Party/'
                      'cac:PartyTaxScheme/cbc:CompanyID')


def cii_buyer_vat(root):
    return text(root, CII_BUYER + '/ram:SpecifiedTaxRegistration/'
                                  'ram:ID[@schemeID="VA"]')


def test_the_browser_gets_each_e_invoice_and_pdf_as_attachments(
        issued, downloads):
    assert [number for number, _total in issued.values()] == [
        download['number'] for download in downloads.values()]
    assert [total for _number, total in issued.values()] == [
        'SEK444.80', 'SEK533.76', 'SEK444.80']
    for download in downloads.values():
        ubl, pdf = download['ubl'], download['pdf']
        assert ubl.status_code == 200
        assert ubl.headers['Content-Type'] == 'application/xml'
        assert ubl.headers['Content-Disposition'] == (
            'attachment; filename="%s.xml"' % download['number'])
        assert pdf.status_code == 200
        assert pdf.headers['Content-Type'] == 'application/pdf'
        assert pdf.headers['Content-Disposition'].startswith('attachment')
        assert pdf.content.startswith(b'%PDF-')
        root = etree.fromstring(ubl.content)
        assert text(root, 'cbc:ID') == download['number']
        assert text(root, 'cbc:CustomizationID') == (
            'urn:cen.eu:en16931:2017#compliant#'
            'urn:fdc:peppol.eu:2017:poacc:billing:3.0')


def test_a_german_company_is_reverse_charged(validator, downloads):
    download = downloads['de_business']

    root = checked_ubl(validator, download)
    cii, pdf_text = checked_cii(validator, download)

    assert ubl_categories(root, UBL_SUBTOTAL) == [
        ('AE', '0', 'VATEX-EU-AE', REVERSE_CHARGE)]
    assert ubl_categories(root, UBL_LINE) == [
        ('AE', '0', None, None), ('AE', '0', None, None)]
    assert ubl_buyer_vat(root) == 'DE136695976'
    assert text(root, 'cac:AccountingCustomerParty/cac:Party/'
                      'cac:PostalAddress/cac:Country/'
                      'cbc:IdentificationCode') == 'DE'
    assert ubl_totals(root) == ('444.80', '0.00', '444.80')
    assert cii_categories(cii, CII_BREAKDOWN) == [
        ('AE', '0', 'VATEX-EU-AE', REVERSE_CHARGE)]
    assert [row[:2] for row in cii_categories(cii, CII_LINE)] == [
        ('AE', '0'), ('AE', '0')]
    assert cii_buyer_vat(cii) == 'DE136695976'
    assert cii_totals(cii) == ('444.80', '0.00', '444.80')
    assert 'Reverse charge' in pdf_text
    assert 'DE136695976' in pdf_text


def test_a_consumer_in_france_pays_the_french_oss_rate(validator,
                                                       downloads):
    download = downloads['fr_consumer']

    # A valid EN 16931 invoice; Peppol's SE-R-006 allows a Swedish seller
    # only 25, 12 or 6 % in category S, so the OSS rate fails exactly
    # that rule (pinned as in tests/unit/test_einvoice_ubl.py), once for
    # the VAT breakdown and once for each of the two lines.
    root = checked_ubl(validator, download, peppol_fatal=['SE-R-006'] * 3)
    cii, pdf_text = checked_cii(validator, download)

    assert ubl_categories(root, UBL_SUBTOTAL) == [('S', '20', None, None)]
    assert ubl_categories(root, UBL_LINE) == [
        ('S', '20', None, None), ('S', '20', None, None)]
    assert ubl_buyer_vat(root) is None
    assert text(root, 'cac:AccountingCustomerParty/cac:Party/'
                      'cac:PostalAddress/cac:Country/'
                      'cbc:IdentificationCode') == 'FR'
    # 444.80 at 20 %.
    assert ubl_totals(root) == ('444.80', '88.96', '533.76')
    assert cii_categories(cii, CII_BREAKDOWN) == [('S', '20', None, None)]
    assert [row[:2] for row in cii_categories(cii, CII_LINE)] == [
        ('S', '20'), ('S', '20')]
    assert cii_buyer_vat(cii) is None
    assert cii_totals(cii) == ('444.80', '88.96', '533.76')
    assert 'Reverse charge' not in pdf_text
    assert EXPORT not in pdf_text


def test_a_us_company_is_not_subject_to_eu_vat(validator, downloads):
    download = downloads['us_business']

    root = checked_ubl(validator, download)
    cii, pdf_text = checked_cii(validator, download)

    (category, percent, code, reason), = ubl_categories(root, UBL_SUBTOTAL)
    assert (category, percent, code) == ('G', '0', 'VATEX-EU-G')
    assert reason.startswith(EXPORT)
    assert ubl_categories(root, UBL_LINE) == [
        ('G', '0', None, None), ('G', '0', None, None)]
    assert text(root, 'cac:AccountingCustomerParty/cac:Party/'
                      'cac:PostalAddress/cac:Country/'
                      'cbc:IdentificationCode') == 'US'
    assert ubl_totals(root) == ('444.80', '0.00', '444.80')
    assert cii_categories(cii, CII_BREAKDOWN) == [
        ('G', '0', 'VATEX-EU-G', reason)]
    assert [row[:2] for row in cii_categories(cii, CII_LINE)] == [
        ('G', '0'), ('G', '0')]
    assert cii_totals(cii) == ('444.80', '0.00', '444.80')
    assert EXPORT in pdf_text


def test_another_projects_user_gets_404(real_lab, downloads):
    dave = real_lab.login('dave')
    for download in downloads.values():
        base = '%s/identity/invoices/%s/' % (real_lab.url,
                                             download['number'])
        assert dave.get(base + 'einvoice/', timeout=60).status_code == 404
        assert dave.get(base + 'download/', timeout=60).status_code == 404


def test_the_export_writes_each_period_once(real_lab, downloads, tmp_path):
    folder = tmp_path / 'access-point'
    download = downloads['de_business']
    path = folder / ('%s.xml' % download['number'])

    first = real_lab.horizon.manage('billing_export_einvoices', '--period',
                                    CASES['de_business'][0], '--to',
                                    str(folder))
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == ['Wrote %s' % path]
    assert [p.name for p in folder.iterdir()] == [path.name]
    assert path.read_bytes() == download['ubl'].content
    written = path.stat()

    second = real_lab.horizon.manage('billing_export_einvoices',
                                     '--period', CASES['de_business'][0],
                                     '--to', str(folder))
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines() == ['Already exported: %s' % path]
    assert [p.name for p in folder.iterdir()] == [path.name]
    assert path.stat().st_mtime_ns == written.st_mtime_ns
    assert path.stat().st_ino == written.st_ino


def test_the_demos_credit_note_validates_and_refers_to_its_invoice(
        demo_invoices, validator, tmp_path):
    carol = demo_invoices.login('carol')
    by_status = {row['Status']: row['Invoice No']
                 for row in invoice_rows(carol, demo_invoices.url)}
    note, credited = by_status['Credit'], by_status['Credited']
    base = '%s/identity/invoices/%s/' % (demo_invoices.url, note)
    ubl = carol.get(base + 'einvoice/', timeout=60)
    pdf = carol.get(base + 'download/', timeout=60)
    assert (ubl.status_code, pdf.status_code) == (200, 200)
    ubl_path, pdf_path = tmp_path / 'note.xml', tmp_path / 'note.pdf'
    ubl_path.write_bytes(ubl.content)
    pdf_path.write_bytes(pdf.content)

    res = validator.validate(str(ubl_path))
    cii, _pdf_text = checked_cii(validator, {'pdf_path': pdf_path})

    assert res['syntax'] == 'UBL-CreditNote'
    assert [rule['name'] for rule in res['rules']] == [
        'EN16931 UBL 1.3.16', 'Peppol BIS 3.0.21']
    assert not problems(res), '\n'.join(problems(res))
    root = etree.fromstring(ubl.content)
    assert text(root, 'cbc:ID') == note
    assert text(root, 'cbc:CreditNoteTypeCode') == '381'
    assert text(root, 'cac:BillingReference/cac:InvoiceDocumentReference/'
                      'cbc:ID') == credited
    assert text(cii, 'rsm:ExchangedDocument/ram:TypeCode') == '381'
    assert text(cii, CII_SETTLEMENT + '/ram:InvoiceReferencedDocument/'
                                      'ram:IssuerAssignedID') == credited
    # Acme is Swedish: the credit note carries the domestic 25 %.
    assert [row[:2] for row in cii_categories(cii, CII_BREAKDOWN)] == [
        ('S', '25')]
