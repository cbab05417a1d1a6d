"""Factur-X EN 16931 CII of issued invoices, checked with the official rules.

Each invoice is issued the way ``billing_issue`` issues it, written with
``einvoice.cii.invoice_cii`` and validated offline by ``tests/einvoice``
(CEN's CII D16B XSD and the CEN EN 16931 CII schematron 1.3.16 run by
SaxonC-HE): no XSD error and no fatal assert is allowed. The same
invoices inside the Factur-X PDF: ``test_facturx_pdfa.py``.
"""

import decimal

from lxml import etree
import pytest

from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard.einvoice import cii
from tests import factories
from tests.unit import einvoice_cases as cases

NS = {'rsm': cii.NS_RSM, 'ram': cii.NS_RAM, 'udt': cii.NS_UDT,
      'qdt': cii.NS_QDT}
TRADE = 'rsm:SupplyChainTradeTransaction/'
AGREEMENT = TRADE + 'ram:ApplicableHeaderTradeAgreement/'
SETTLEMENT = TRADE + 'ram:ApplicableHeaderTradeSettlement/'
TOTALS = SETTLEMENT + 'ram:SpecifiedTradeSettlementHeaderMonetarySummation/'
LINES = TRADE + 'ram:IncludedSupplyChainTradeLineItem'
MEANS = SETTLEMENT + 'ram:SpecifiedTradeSettlementPaymentMeans'


@pytest.fixture
def check(validator, tmp_path):
    """Validate CII bytes; fail with every XSD error and fatal assert."""
    def check(data, name='factur-x.xml'):
        path = tmp_path / name
        path.write_bytes(data)
        res = validator.validate(str(path))
        assert res['syntax'] == 'CII'
        assert res['guideline'] == cii.GUIDELINE_ID
        assert [rule['name'] for rule in res['rules']] == [
            'EN16931 CII 1.3.16']
        problems = cases.problems(res)
        assert not problems, '\n'.join(problems)
        assert res['valid']
        return etree.fromstring(data)
    return check


def cii_of(invoice, **extra):
    return cii.invoice_cii(cases.document_of(invoice, **extra))


def text(root, path):
    return root.findtext(path, namespaces=NS)


def texts(root, path):
    return [node.text for node in root.iterfind(path, NS)]


def taxes(root):
    """(category, rate, basis, amount, reason code) of each VAT entry."""
    return [(text(tax, 'ram:CategoryCode'),
             text(tax, 'ram:RateApplicablePercent'),
             text(tax, 'ram:BasisAmount'), text(tax, 'ram:CalculatedAmount'),
             text(tax, 'ram:ExemptionReasonCode'))
            for tax in root.iterfind(SETTLEMENT + 'ram:ApplicableTradeTax',
                                     NS)]


def test_domestic_invoice(db, check):
    invoice = cases.issue_for(cases.SWEDISH_BUYER,
                              factories.instance_and_volume())
    root = check(cii_of(invoice))
    assert text(root, 'rsm:ExchangedDocument/ram:ID') == invoice.number
    assert text(root, 'rsm:ExchangedDocument/ram:TypeCode') == '380'
    assert text(root, 'rsm:ExchangedDocument/ram:IssueDateTime/'
                      'udt:DateTimeString') == '20261103'
    assert text(root, AGREEMENT + 'ram:BuyerReference') == 'PO-4711'
    assert text(root, AGREEMENT + 'ram:BuyerOrderReferencedDocument/'
                'ram:IssuerAssignedID') == 'PO-4711'
    seller = root.find(AGREEMENT + 'ram:SellerTradeParty', NS)
    assert [(e.get('schemeID'), e.text) for e in seller.iterfind(
        'ram:URIUniversalCommunication/ram:URIID', NS)] == [
        ('0007', '5566778899')]
    buyer = root.find(AGREEMENT + 'ram:BuyerTradeParty', NS)
    assert [(e.get('schemeID'), e.text) for e in buyer.iterfind(
        'ram:URIUniversalCommunication/ram:URIID', NS)] == [
        ('0007', '5560360793')]
    assert [(e.get('schemeID'), e.text) for e in buyer.iterfind(
        'ram:SpecifiedTaxRegistration/ram:ID', NS)] == [
        ('VA', 'SE556036079301')]
    assert text(root, SETTLEMENT + 'ram:PaymentReference') == (
        invoice.payment_reference)
    means = root.findall(MEANS, NS)
    assert [(text(m, 'ram:TypeCode'),
             text(m, 'ram:PayeePartyCreditorFinancialAccount/ram:IBANID'),
             text(m, 'ram:PayeePartyCreditorFinancialAccount/'
                     'ram:ProprietaryID'),
             text(m, 'ram:PayeeSpecifiedCreditorFinancialInstitution/'
                     'ram:BICID'))
            for m in means] == [
        ('30', 'SE4550000000058398257466', None, 'ESSESESS'),
        ('30', None, '50501055', None)]
    assert text(root, SETTLEMENT + 'ram:SpecifiedTradePaymentTerms/'
                'ram:DueDateDateTime/udt:DateTimeString') == '20261203'
    assert invoice.payment_reference in text(
        root, SETTLEMENT + 'ram:SpecifiedTradePaymentTerms/ram:Description')
    assert texts(root, SETTLEMENT + 'ram:BillingSpecifiedPeriod/*/'
                 'udt:DateTimeString') == ['20261001', '20261031']
    assert taxes(root) == [('S', '25', '444.80', '111.20', None)]
    assert [text(root, TOTALS + name) for name in (
        'ram:LineTotalAmount', 'ram:TaxBasisTotalAmount',
        'ram:TaxTotalAmount', 'ram:GrandTotalAmount',
        'ram:DuePayableAmount')] == [
        '444.80', '444.80', '111.20', '556.00', '556.00']
    assert root.find(TOTALS + 'ram:TaxTotalAmount', NS).get(
        'currencyID') == 'SEK'
    assert [(text(line, 'ram:AssociatedDocumentLineDocument/ram:LineID'),
             text(line, 'ram:SpecifiedLineTradeDelivery/ram:BilledQuantity'),
             line.find('ram:SpecifiedLineTradeDelivery/ram:BilledQuantity',
                       NS).get('unitCode'),
             text(line, 'ram:SpecifiedLineTradeAgreement/'
                        'ram:NetPriceProductTradePrice/ram:ChargeAmount'),
             text(line, 'ram:SpecifiedLineTradeSettlement/'
                        'ram:SpecifiedTradeSettlementLineMonetarySummation/'
                        'ram:LineTotalAmount'))
            for line in root.iterfind(LINES, NS)] == [
        ('1', '744', 'HUR', '0.45', '334.80'),
        ('2', '100', 'E34', '1.1', '110.00')]


def test_several_vat_rates(db, check):
    invoice = cases.issue_for(cases.SWEDISH_BUYER, cases.several_rates())
    root = check(cii_of(invoice))
    assert taxes(root) == [
        ('S', '25', '334.80', '83.70', None),
        ('S', '12', '3.32', '0.40', None),
        ('S', '6', '299.70', '17.98', None),
        ('Z', '0', '100.00', '0.00', None)]
    assert text(root, TOTALS + 'ram:GrandTotalAmount') == '%.2f' % (
        invoice.total)


def test_credit_note_refers_to_its_invoice(db, check):
    invoice = cases.issue_for(cases.SWEDISH_BUYER,
                              factories.instance_and_volume())
    note = issue.issue_credit_note('proj-a', invoice, 'Wrong price',
                                   today=cases.TODAY)
    root = check(cii_of(note, credits_issue_date=invoice.issue_date),
                 'credit-note.xml')
    assert text(root, 'rsm:ExchangedDocument/ram:TypeCode') == '381'
    assert text(root, 'rsm:ExchangedDocument/ram:IncludedNote/'
                      'ram:Content') == 'Wrong price'
    assert text(root, SETTLEMENT + 'ram:InvoiceReferencedDocument/'
                'ram:IssuerAssignedID') == invoice.number
    assert text(root, SETTLEMENT + 'ram:InvoiceReferencedDocument/'
                'ram:FormattedIssueDateTime/qdt:DateTimeString') == (
        '20261103')
    # Stored negative, written positive: what a 381 credits.
    assert text(root, TOTALS + 'ram:DuePayableAmount') == '556.00'
    assert taxes(root) == [('S', '25', '444.80', '111.20', None)]
    assert texts(root, LINES + '/ram:SpecifiedLineTradeDelivery/'
                 'ram:BilledQuantity') == ['744', '100']
    assert root.find(MEANS, NS) is None
    assert root.find(SETTLEMENT + 'ram:PaymentReference', NS) is None


def test_reverse_charge_to_an_eu_business(db, check):
    invoice = cases.issue_for(cases.DE_BUSINESS,
                              factories.instance_and_volume())
    root = check(cii_of(invoice), 'reverse-charge.xml')
    assert taxes(root) == [('AE', '0', '444.80', '0.00', 'VATEX-EU-AE')]
    assert text(root, SETTLEMENT + 'ram:ApplicableTradeTax/'
                'ram:ExemptionReason') == (
        'Reverse charge (Article 196 of Directive 2006/112/EC)')
    assert texts(root, LINES + '/ram:SpecifiedLineTradeSettlement/'
                 'ram:ApplicableTradeTax/ram:CategoryCode') == [
        'AE', 'AE']
    assert [(e.get('schemeID'), e.text) for e in root.iterfind(
        AGREEMENT + 'ram:BuyerTradeParty/ram:URIUniversalCommunication/'
        'ram:URIID', NS)] == [('9930', 'DE136695976')]
    assert text(root, TOTALS + 'ram:DuePayableAmount') == '444.80'


def test_reverse_charge_credit_note(db, check):
    invoice = cases.issue_for(cases.DE_BUSINESS)
    note = issue.issue_credit_note(invoice.project_id, invoice, 'Wrong',
                                   today=cases.TODAY)
    root = check(cii_of(note, credits_issue_date=invoice.issue_date))
    assert [row[0] for row in taxes(root)] == ['AE']


def test_oss_consumer_in_another_member_state(db, check):
    # Valid EN 16931 (Peppol's SE-R-006 does not apply to Factur-X).
    invoice = cases.issue_for(cases.FR_CONSUMER,
                              factories.instance_and_volume())
    root = check(cii_of(invoice), 'oss.xml')
    assert taxes(root) == [('S', '20', '444.80', '88.96', None)]
    assert text(root, TOTALS + 'ram:DuePayableAmount') == '533.76'


def test_buyer_outside_the_eu(db, check):
    invoice = cases.issue_for(cases.US_BUSINESS,
                              factories.instance_and_volume())
    root = check(cii_of(invoice), 'outside-eu.xml')
    assert taxes(root) == [('G', '0', '444.80', '0.00', 'VATEX-EU-G')]
    assert text(root, SETTLEMENT + 'ram:ApplicableTradeTax/'
                'ram:ExemptionReason').startswith(
        'Export outside the EU')


def test_unicode_names(db, check):
    for project_id, buyer in (('proj-se', cases.SWEDISH_UNICODE),
                              ('proj-gr', cases.GREEK)):
        invoice = cases.issue_for(buyer, [factories.line(
            'compute', description='Beräkning · Υπολογισμός')], project_id)
        root = check(cii_of(invoice), project_id + '.xml')
        assert text(root, AGREEMENT + 'ram:BuyerTradeParty/ram:Name') == (
            buyer['name'])
        assert text(root, LINES + '/ram:SpecifiedTradeProduct/'
                    'ram:Description') == 'Beräkning · Υπολογισμός'
    assert [(e.get('schemeID'), e.text) for e in root.iterfind(
        AGREEMENT + 'ram:BuyerTradeParty/ram:URIUniversalCommunication/'
        'ram:URIID', NS)] == [('9933', '094259216')]


def test_html_like_customer_text(db, check):
    invoice = cases.issue_for(cases.HTML_LIKE, [factories.line(
        'compute', description='<i>a & b</i> "c" \'d\'')])
    data = cii_of(invoice)
    assert b'<b>' not in data and b'<script>' not in data
    root = check(data)
    assert text(root, AGREEMENT + 'ram:BuyerTradeParty/ram:Name') == (
        cases.HTML_LIKE['name'])
    assert text(root, AGREEMENT + 'ram:BuyerReference') == '<PO & "1">'
    assert text(root, LINES + '/ram:SpecifiedTradeProduct/'
                'ram:Description') == '<i>a & b</i> "c" \'d\''


def test_long_descriptions(db, check):
    invoice = cases.issue_for(cases.SWEDISH_BUYER, cases.long_lines())
    root = check(cii_of(invoice))
    assert text(root, LINES + '/ram:SpecifiedTradeProduct/ram:Name') == (
        'p' * 100)
    assert len(text(root, LINES + '/ram:SpecifiedTradeProduct/'
                    'ram:Description')) == 254


def test_hundred_lines(db, check):
    invoice = cases.issue_for(cases.SWEDISH_BUYER, cases.hundred_lines())
    root = check(cii_of(invoice))
    assert texts(root, LINES + '/ram:AssociatedDocumentLineDocument/'
                 'ram:LineID') == [str(n) for n in range(1, 101)]
    assert {node.get('unitCode') for node in root.iterfind(
        LINES + '/ram:SpecifiedLineTradeDelivery/ram:BilledQuantity',
        NS)} == {'HUR', 'E34', 'H87', 'C62'}


def test_account_with_no_optional_fields(db, check):
    invoice = cases.issue_for(cases.MINIMAL_BUYER)
    root = check(cii_of(invoice))
    buyer = root.find(AGREEMENT + 'ram:BuyerTradeParty', NS)
    assert [(e.get('schemeID'), e.text) for e in buyer.iterfind(
        'ram:URIUniversalCommunication/ram:URIID', NS)] == [
        ('0007', '0000000000')]
    assert buyer.find('ram:SpecifiedTaxRegistration', NS) is None
    assert text(root, AGREEMENT + 'ram:BuyerReference') == 'proj-a'
    assert root.find(AGREEMENT + 'ram:BuyerOrderReferencedDocument',
                     NS) is None


def test_no_customer_info_at_all(db, check):
    root = check(cii_of(cases.issue_for(None)))
    buyer = root.find(AGREEMENT + 'ram:BuyerTradeParty', NS)
    assert text(buyer, 'ram:Name') == 'proj-a'
    assert text(buyer, 'ram:PostalTradeAddress/ram:CountryID') == 'SE'


def test_buyer_reference_before_po_reference(db, check):
    # Issuing does not snapshot "Your reference" yet: added as it will be.
    doc = cases.document_of(cases.issue_for(cases.SWEDISH_BUYER))
    doc['buyer'] = dict(doc['buyer'], buyer_reference='Anna Andersson')
    root = check(cii.invoice_cii(doc))
    assert text(root, AGREEMENT + 'ram:BuyerReference') == 'Anna Andersson'
    assert text(root, AGREEMENT + 'ram:BuyerOrderReferencedDocument/'
                'ram:IssuerAssignedID') == 'PO-4711'


def test_the_validator_catches_a_missing_seller_vat_number(db, validator,
                                                           tmp_path):
    invoice = cases.issue_for(cases.SWEDISH_BUYER)
    doc = cases.document_of(invoice)
    doc['seller'] = dict(doc['seller'], vat_number='')
    path = tmp_path / 'broken.xml'
    path.write_bytes(cii.invoice_cii(doc))
    res = validator.validate(str(path))
    assert not res['valid']
    assert 'BR-S-02' in {item['id'] for rule in res['rules']
                         for item in rule['fatal']}


@pytest.mark.parametrize('paid, prepaid, payable', [
    ('200', '75.00', '50.00'), ('300', '125.00', '0.00')])
def test_credit_applied_at_issue_is_prepaid(db, check, paid, prepaid,
                                            payable):
    invoice = cases.with_credit(decimal.Decimal(paid))
    root = check(cii_of(invoice))
    assert (text(root, TOTALS + 'ram:GrandTotalAmount'),
            text(root, TOTALS + 'ram:TotalPrepaidAmount'),
            text(root, TOTALS + 'ram:DuePayableAmount')) == (
        '125.00', prepaid, payable)
