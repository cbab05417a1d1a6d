"""Peppol BIS 3.0 UBL of issued invoices, checked with the official rules.

Each invoice is issued the way ``billing_issue`` issues it, written with
``einvoice.ubl.invoice_ubl`` and validated offline by ``tests/einvoice``
(OASIS UBL 2.1 XSD, CEN EN 16931 1.3.16 and Peppol BIS 3.0.21 schematron
run by SaxonC-HE): no XSD error and no fatal assert is allowed.
"""

import datetime
import decimal

from lxml import etree
import pytest

from cleura_billing_dashboard.billing import einvoices
from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard.einvoice import ubl
from tests import factories
from tests.unit import einvoice_cases as cases

D = decimal.Decimal
TODAY = datetime.date(2026, 11, 3)
NS = {'cbc': ubl.NS_CBC, 'cac': ubl.NS_CAC}

# Customer info as the account's validate_customer stores it.
SWEDISH_BUYER = cases.SWEDISH_BUYER
MINIMAL_BUYER = cases.MINIMAL_BUYER   # required fields only


@pytest.fixture
def check(validator, tmp_path):
    """Validate UBL bytes; fail with every XSD error and fatal assert."""
    def check(data, name='invoice.xml'):
        path = tmp_path / name
        path.write_bytes(data)
        res = validator.validate(str(path))
        problems = list(res['xsd_errors']) + [
            '%s [%s] %s: %s' % (rule['name'], item['id'], item['location'],
                                item['text'])
            for rule in res['rules'] for item in rule['fatal']]
        assert [rule['name'] for rule in res['rules']] == [
            'EN16931 UBL 1.3.16', 'Peppol BIS 3.0.21']
        assert not problems, '\n'.join(problems)
        assert res['valid']
        return etree.fromstring(data)
    return check


def issue_for(buyer, lines=None, project_id='proj-a'):
    return factories.issue_invoice(
        project_id, lines=lines, today=TODAY,
        buyer_lookup=lambda project: buyer)


def ubl_of(invoice, **extra):
    return ubl.invoice_ubl(dict(invoice.as_document(),
                                project_id=invoice.project_id, **extra))


def text(root, path):
    return root.findtext(path, namespaces=NS)


def test_domestic_invoice(db, check):
    invoice = issue_for(SWEDISH_BUYER, factories.instance_and_volume())
    root = check(ubl_of(invoice))
    assert etree.QName(root).localname == 'Invoice'
    assert text(root, 'cbc:CustomizationID') == ubl.CUSTOMIZATION_ID
    assert text(root, 'cbc:ProfileID') == ubl.PROFILE_ID
    assert text(root, 'cbc:ID') == invoice.number
    assert text(root, 'cbc:DueDate') == '2026-12-03'
    assert text(root, 'cbc:DocumentCurrencyCode') == 'SEK'
    assert text(root, 'cbc:BuyerReference') == 'PO-4711'
    assert text(root, 'cac:OrderReference/cbc:ID') == 'PO-4711'
    assert text(root, 'cac:InvoicePeriod/cbc:StartDate') == '2026-10-01'
    assert text(root, 'cac:InvoicePeriod/cbc:EndDate') == '2026-10-31'
    seller = root.find('cac:AccountingSupplierParty/cac:Party', NS)
    assert seller.find('cbc:EndpointID', NS).attrib == {'schemeID': '0007'}
    assert text(seller, 'cbc:EndpointID') == '5566778899'
    assert text(seller, 'cac:PartyLegalEntity/cbc:RegistrationName') == (
        'Test Cloud AB')
    buyer = root.find('cac:AccountingCustomerParty/cac:Party', NS)
    assert text(buyer, 'cbc:EndpointID') == '5560360793'
    assert text(buyer, 'cac:PartyTaxScheme/cbc:CompanyID') == (
        'SE556036079301')
    means = root.findall('cac:PaymentMeans', NS)
    assert [(text(m, 'cbc:PaymentMeansCode'), text(m, 'cbc:PaymentID'),
             text(m, 'cac:PayeeFinancialAccount/cbc:ID'),
             text(m, 'cac:PayeeFinancialAccount/'
                     'cac:FinancialInstitutionBranch/cbc:ID'))
            for m in means] == [
        ('30', invoice.payment_reference, 'SE4550000000058398257466',
         'ESSESESS'),
        ('30', invoice.payment_reference, '50501055', 'SE:BANKGIRO')]
    # 744 h x 0.45 + 100 GB x 1.10 = 444.80, 25 % VAT 111.20.
    assert text(root, 'cac:TaxTotal/cbc:TaxAmount') == '111.20'
    assert text(root, 'cac:LegalMonetaryTotal/cbc:PayableAmount') == '556.00'
    lines = root.findall('cac:InvoiceLine', NS)
    assert [(text(line, 'cbc:ID'), text(line, 'cbc:InvoicedQuantity'),
             line.find('cbc:InvoicedQuantity', NS).get('unitCode'),
             text(line, 'cbc:LineExtensionAmount'),
             text(line, 'cac:Price/cbc:PriceAmount'))
            for line in lines] == [('1', '744', 'HUR', '334.80', '0.45'),
                                   ('2', '100', 'E34', '110.00', '1.1')]


def test_several_vat_rates(db, check):
    invoice = issue_for(SWEDISH_BUYER, [
        factories.line('compute', '744', '0.45', vat_rate='25'),
        factories.line('storage', '100.5', '0.033', vat_rate='12'),
        factories.line('books', '3', '99.90', unit='pcs', vat_rate='6'),
        factories.line('export', '2', '50', vat_rate='0'),
    ])
    root = check(ubl_of(invoice))
    assert [(text(sub, 'cac:TaxCategory/cbc:ID'),
             text(sub, 'cac:TaxCategory/cbc:Percent'),
             text(sub, 'cbc:TaxableAmount'), text(sub, 'cbc:TaxAmount'))
            for sub in root.findall('cac:TaxTotal/cac:TaxSubtotal', NS)] == [
        ('S', '25', '334.80', '83.70'), ('S', '12', '3.32', '0.40'),
        ('S', '6', '299.70', '17.98'), ('Z', '0', '100.00', '0.00')]
    assert text(root, 'cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount') == (
        str(invoice.total.quantize(D('0.01'))))


def test_credit_note_refers_to_its_invoice(db, check):
    invoice = issue_for(SWEDISH_BUYER, factories.instance_and_volume())
    note = issue.issue_credit_note('proj-a', invoice, 'Wrong price',
                                   today=TODAY)
    root = check(ubl_of(note, credits_issue_date=invoice.issue_date),
                 'credit-note.xml')
    assert etree.QName(root).localname == 'CreditNote'
    assert text(root, 'cbc:CreditNoteTypeCode') == '381'
    assert text(root, 'cbc:Note') == 'Wrong price'
    assert text(root, 'cac:BillingReference/cac:InvoiceDocumentReference/'
                      'cbc:ID') == invoice.number
    assert text(root, 'cac:BillingReference/cac:InvoiceDocumentReference/'
                      'cbc:IssueDate') == '2026-11-03'
    assert text(root, 'cac:LegalMonetaryTotal/cbc:PayableAmount') == '556.00'
    assert [text(line, 'cbc:CreditedQuantity')
            for line in root.findall('cac:CreditNoteLine', NS)] == [
        '744', '100']
    assert root.find('cac:PaymentMeans', NS) is None


def test_unicode_names(db, check):
    swedish = dict(SWEDISH_BUYER, name='Åkeriet Östersjö & Väst AB',
                   address='Ängsvägen 7', city='Skövde', postal_code='541 30')
    greek = {'name': 'Ελληνική Υπολογιστική Α.Ε.', 'address': 'Οδός Αθηνάς 5',
             'postal_code': '105 51', 'city': 'Αθήνα', 'country': 'GR',
             'vat_number': 'EL094259216', 'org_number': '',
             'po_reference': 'Παραγγελία 12'}
    for project_id, buyer in (('proj-se', swedish), ('proj-gr', greek)):
        invoice = issue_for(buyer, [factories.line(
            'compute', description='Beräkning · Υπολογισμός')], project_id)
        root = check(ubl_of(invoice), project_id + '.xml')
        party = root.find('cac:AccountingCustomerParty/cac:Party', NS)
        assert text(party, 'cac:PartyLegalEntity/cbc:RegistrationName') == (
            buyer['name'])
    assert [(e.get('schemeID'), e.text) for e in party.iterfind(
        'cbc:EndpointID', NS)] == [('9933', '094259216')]


def test_html_like_customer_text(db, check):
    buyer = dict(SWEDISH_BUYER, name='<b>Bold & "Quoted" \'AB\'</b>',
                 address='<script>alert(1)</script>',
                 po_reference='<PO & "1">')
    invoice = issue_for(buyer, [factories.line(
        'compute', description='<i>a & b</i> "c" \'d\'')])
    data = ubl_of(invoice)
    assert b'<b>' not in data and b'<script>' not in data
    root = check(data)
    assert text(root, 'cac:AccountingCustomerParty/cac:Party/'
                      'cac:PartyLegalEntity/cbc:RegistrationName') == (
        buyer['name'])
    assert text(root, 'cbc:BuyerReference') == '<PO & "1">'
    # A character XML cannot carry is dropped, not written.
    doc = dict(invoice.as_document(), project_id=invoice.project_id)
    doc['buyer'] = dict(doc['buyer'], name='Bell\x07 AB')
    root = check(ubl.invoice_ubl(doc), 'control.xml')
    assert text(root, 'cac:AccountingCustomerParty/cac:Party/'
                      'cac:PartyLegalEntity/cbc:RegistrationName') == (
        'Bell AB')


def test_long_descriptions(db, check):
    invoice = issue_for(SWEDISH_BUYER, [factories.line(
        'p' * 100, description='Lång beskrivning ' * 15,
        region='r' * 64)])
    root = check(ubl_of(invoice))
    item = root.find('cac:InvoiceLine/cac:Item', NS)
    assert text(item, 'cbc:Name') == 'p' * 100
    assert len(text(item, 'cbc:Description')) == 254


def test_hundred_lines(db, check):
    lines = [factories.line('product-%03d' % n, str(n), '0.123457',
                            unit=('h', 'GB', 'pcs', 'GB-month')[n % 4],
                            vat_rate=('25', '12', '6')[n % 3])
             for n in range(1, 101)]
    invoice = issue_for(SWEDISH_BUYER, lines)
    root = check(ubl_of(invoice))
    assert len(root.findall('cac:InvoiceLine', NS)) == 100
    assert text(root, 'cac:InvoiceLine[100]/cbc:ID') == '100'
    assert {line.get('unitCode') for line in root.iterfind(
        'cac:InvoiceLine/cbc:InvoicedQuantity', NS)} == {
        'HUR', 'E34', 'H87', 'C62'}


def test_account_with_no_optional_fields(db, check):
    invoice = issue_for(MINIMAL_BUYER)
    root = check(ubl_of(invoice))
    buyer = root.find('cac:AccountingCustomerParty/cac:Party', NS)
    # No org number, no VAT number, no Peppol id: the unroutable fallback.
    assert buyer.find('cbc:EndpointID', NS).attrib == {'schemeID': '0007'}
    assert text(buyer, 'cbc:EndpointID') == '0000000000'
    assert buyer.find('cac:PartyTaxScheme', NS) is None
    assert text(root, 'cbc:BuyerReference') == 'proj-a'
    assert root.find('cac:OrderReference', NS) is None


def test_no_customer_info_at_all(db, check):
    invoice = issue_for(None)
    root = check(ubl_of(invoice))
    buyer = root.find('cac:AccountingCustomerParty/cac:Party', NS)
    assert text(buyer, 'cac:PartyLegalEntity/cbc:RegistrationName') == (
        'proj-a')
    assert text(buyer, 'cac:PostalAddress/cac:Country/'
                       'cbc:IdentificationCode') == 'SE'   # the seller's


def test_peppol_ids_and_vat_category_parameters(db, check):
    invoice = issue_for(SWEDISH_BUYER)
    doc = dict(invoice.as_document(), project_id=invoice.project_id)
    doc['seller'] = dict(doc['seller'], peppol_id='0007:5560125790')
    doc['buyer'] = dict(doc['buyer'], peppol_id='0088:7300010000001')
    root = check(ubl.invoice_ubl(doc))
    assert [(e.get('schemeID'), e.text) for e in root.iterfind(
        'cac:*/cac:Party/cbc:EndpointID', NS)] == [
        ('0007', '5560125790'), ('0088', '7300010000001')]
    # A VAT treatment names the category per line and breakdown entry.
    doc['lines'] = [dict(line, vat_category='AE', vat_rate=D(0))
                    for line in doc['lines']]
    doc['vat_breakdown'] = [{'rate': D(0), 'base': doc['net_total'],
                             'amount': D(0), 'category': 'AE'}]
    doc['vat_total'] = D(0)
    doc['total'] = doc['amount_due'] = doc['net_total']
    root = check(ubl.invoice_ubl(doc), 'reverse-charge.xml')
    assert text(root, 'cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/'
                      'cbc:TaxExemptionReasonCode') == 'VATEX-EU-AE'


def test_buyer_reference_before_po_reference(db, check):
    # Issuing does not snapshot "Your reference" yet: added as it will be.
    invoice = issue_for(SWEDISH_BUYER)
    doc = dict(invoice.as_document(), project_id=invoice.project_id)
    doc['buyer'] = dict(doc['buyer'], buyer_reference='Anna Andersson')
    root = check(ubl.invoice_ubl(doc))
    assert text(root, 'cbc:BuyerReference') == 'Anna Andersson'
    assert text(root, 'cac:OrderReference/cbc:ID') == 'PO-4711'
    # Without a PO reference there is no order reference (BT-13).
    doc['buyer'] = dict(doc['buyer'], po_reference='')
    root = check(ubl.invoice_ubl(doc))
    assert text(root, 'cbc:BuyerReference') == 'Anna Andersson'
    assert root.find('cac:OrderReference', NS) is None


def test_unit_codes():
    assert [ubl.unit_code(unit) for unit in (
        'h', 'H', 'GB', 'pcs', 'GB-month', 'month', 'furlong', '')] == [
        'HUR', 'HUR', 'E34', 'H87', 'C62', 'MON', 'C62', 'C62']


@pytest.mark.parametrize('buyer, endpoint', [
    ({'country': 'NO', 'org_number': '974 760 673', 'postal_code': '0150'},
     ('0192', '974760673')),
    ({'country': 'DK', 'org_number': '13585628',
      'vat_number': 'DK13585628', 'postal_code': '1050'},
     ('0184', '13585628')),
    ({'country': 'DE', 'vat_number': 'DE136695976', 'postal_code': '10115'},
     ('9930', 'DE136695976')),
    ({'country': 'US', 'postal_code': '10001'}, ubl.UNKNOWN_BUYER_ENDPOINT),
])
def test_foreign_buyers(db, check, buyer, endpoint):
    buyer = dict(factories.ACME, name='Kunde', city='By', **buyer)
    root = check(ubl_of(issue_for(buyer)))
    assert [(e.get('schemeID'), e.text) for e in root.iterfind(
        'cac:AccountingCustomerParty/cac:Party/cbc:EndpointID', NS)] == [
        endpoint]


def test_the_validator_catches_a_missing_buyer_reference(db, validator,
                                                         tmp_path):
    invoice = issue_for(SWEDISH_BUYER)
    data = ubl_of(invoice)
    path = tmp_path / 'broken.xml'
    path.write_bytes(data.replace(b'<cbc:BuyerReference>PO-4711'
                                  b'</cbc:BuyerReference>', b'').replace(
        b'<cac:OrderReference><cbc:ID>PO-4711</cbc:ID></cac:OrderReference>',
        b''))
    res = validator.validate(str(path))
    assert not res['valid']
    assert 'PEPPOL-EN16931-R003' in {
        item['id'] for rule in res['rules'] for item in rule['fatal']}


# Issued through issue.py: the VAT treatment of billing/vat.py.
DE_BUSINESS = cases.DE_BUSINESS
FR_CONSUMER = cases.FR_CONSUMER
US_BUSINESS = cases.US_BUSINESS


def tax_categories(root, path):
    return [(text(node, 'cbc:ID'), text(node, 'cbc:Percent'),
             text(node, 'cbc:TaxExemptionReasonCode'),
             text(node, 'cbc:TaxExemptionReason'))
            for node in root.iterfind(path, NS)]


SUBTOTAL_CATEGORY = 'cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory'
LINE_CATEGORY = 'cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory'


def test_reverse_charge_to_an_eu_business(db, check):
    invoice = issue_for(DE_BUSINESS, factories.instance_and_volume())

    root = check(ubl_of(invoice), 'reverse-charge.xml')

    assert tax_categories(root, SUBTOTAL_CATEGORY) == [
        ('AE', '0', 'VATEX-EU-AE',
         'Reverse charge (Article 196 of Directive 2006/112/EC)')]
    assert tax_categories(root, LINE_CATEGORY) == [
        ('AE', '0', None, None), ('AE', '0', None, None)]
    assert text(root, 'cac:AccountingCustomerParty/cac:Party/'
                      'cac:PartyTaxScheme/cbc:CompanyID') == 'DE136695976'
    assert text(root, 'cac:TaxTotal/cbc:TaxAmount') == '0.00'
    assert text(root, 'cac:LegalMonetaryTotal/cbc:PayableAmount') == '444.80'


def test_reverse_charge_credit_note(db, check):
    invoice = issue_for(DE_BUSINESS)
    note = issue.issue_credit_note(invoice.project_id, invoice, 'Wrong',
                                   today=TODAY)

    root = check(ubl_of(note, credits_issue_date=invoice.issue_date),
                 'reverse-charge-credit-note.xml')

    assert [row[:3] for row in tax_categories(root, SUBTOTAL_CATEGORY)] == [
        ('AE', '0', 'VATEX-EU-AE')]


def test_oss_consumer_in_another_member_state(db, validator, tmp_path):
    invoice = issue_for(FR_CONSUMER, factories.instance_and_volume())
    data = ubl_of(invoice)
    path = tmp_path / 'oss.xml'
    path.write_bytes(data)

    res = validator.validate(str(path))

    # A valid EN 16931 invoice. Peppol's Swedish rule SE-R-006 allows a
    # Swedish seller only 25, 12 or 6 % in category S, so the buyer's
    # rate fails it: such an invoice cannot go through Peppol (a consumer
    # has no Peppol address anyway; it is mailed as PDF). Known limit,
    # pinned here so a Peppol release that allows OSS rates shows.
    assert not res['xsd_errors']
    cen, peppol = res['rules']
    assert (cen['name'], cen['fatal']) == ('EN16931 UBL 1.3.16', [])
    assert {item['id'] for item in peppol['fatal']} == {'SE-R-006'}
    root = etree.fromstring(data)

    assert tax_categories(root, SUBTOTAL_CATEGORY) == [
        ('S', '20', None, None)]
    assert tax_categories(root, LINE_CATEGORY) == [
        ('S', '20', None, None), ('S', '20', None, None)]
    # 444.80 at 20 %.
    assert text(root, 'cac:TaxTotal/cbc:TaxAmount') == '88.96'
    assert text(root, 'cac:LegalMonetaryTotal/cbc:PayableAmount') == '533.76'


def test_buyer_outside_the_eu(db, check):
    invoice = issue_for(US_BUSINESS, factories.instance_and_volume())

    root = check(ubl_of(invoice), 'outside-eu.xml')

    (category, percent, code, reason), = tax_categories(
        root, SUBTOTAL_CATEGORY)
    assert (category, percent, code) == ('G', '0', 'VATEX-EU-G')
    assert reason.startswith('Export outside the EU')
    assert [row[0] for row in tax_categories(root, LINE_CATEGORY)] == [
        'G', 'G']
    assert text(root, 'cac:LegalMonetaryTotal/cbc:PayableAmount') == '444.80'


@pytest.mark.parametrize('paid, prepaid, payable', [
    ('200', '75.00', '50.00'),     # part of the total
    ('300', '125.00', '0.00'),     # all of it: nothing left to pay
])
def test_credit_applied_at_issue_is_prepaid(db, check, paid, prepaid,
                                            payable):
    invoice = cases.with_credit(D(paid))
    for data in (ubl_of(invoice),
                 bytes(einvoices.ubl_for(invoice).content)):   # as stored
        root = check(data)
        totals = 'cac:LegalMonetaryTotal/cbc:'
        assert (text(root, totals + 'TaxInclusiveAmount'),
                text(root, totals + 'PrepaidAmount'),
                text(root, totals + 'PayableAmount')) == (
            '125.00', prepaid, payable)


def test_no_prepaid_amount_without_credit(db, check):
    root = check(ubl_of(issue_for(SWEDISH_BUYER)))
    assert root.find('cac:LegalMonetaryTotal/cbc:PrepaidAmount', NS) is None
