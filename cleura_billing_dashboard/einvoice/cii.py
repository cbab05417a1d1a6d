"""Factur-X EN 16931: an invoice or credit note as UN/CEFACT CII D16B XML.

The XML a Factur-X PDF carries (``facturx.make_facturx``), profile
EN 16931 (guideline ``urn:cen.eu:en16931:2017``). One module, like
``ubl``, for the same reason: it writes one document in the order the
schema requires. Written with the standard library's ElementTree.

``invoice_cii(document)`` takes the same dict as ``ubl.invoice_ubl`` (the
plain dict of ``Invoice.as_document()`` plus the optional keys ``ubl``'s
module doc lists) and makes the same decisions, held in ``_common``: the
buyer reference (BT-10: the buyer's own reference, PO reference, project
id or invoice number; a PO reference is BT-13 too), the electronic
addresses with their EAS scheme (BT-34, BT-49), the buyer's country and
name fallbacks, the VAT categories and exemption reasons, the units.

Where CII differs:

* A credit note is TypeCode 381 with its amounts and quantities written
  positive, as stored negated: BR-27 forbids a negative price and CEN
  reads a 381 as the reversal of what it lists. It names the credited
  invoice (BT-25, and BT-26 with ``credits_issue_date``) in
  ``InvoiceReferencedDocument``, and has no payment means (nothing is to
  be paid to the seller); its payment terms say what it credits, as
  BR-CO-25 wants terms or a due date for any positive amount due.
* An invoice's OCR number is the remittance information (BT-83,
  ``PaymentReference``), once for all payment means; each means is credit
  transfer (30, BT-81) to the IBAN (BT-84) with its BIC (BT-86), or to the
  Bankgiro number as a proprietary account id. The payment terms (BT-20)
  repeat the due date (BT-9) and the OCR number in words.
* The billing period is BG-14; the region and a unit Rec 20 has no code
  for are item characteristics (BG-32), as in UBL.
"""

from xml.etree import ElementTree as etree

from cleura_billing_dashboard.einvoice import _common
from cleura_billing_dashboard import money

GUIDELINE_ID = 'urn:cen.eu:en16931:2017'

NS_RSM = 'urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100'
NS_RAM = ('urn:un:unece:uncefact:data:standard:'
          'ReusableAggregateBusinessInformationEntity:100')
NS_UDT = 'urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100'
NS_QDT = 'urn:un:unece:uncefact:data:standard:QualifiedDataType:100'
_NS = {'rsm': NS_RSM, 'ram': NS_RAM, 'udt': NS_UDT, 'qdt': NS_QDT}

# The prefixes of the Factur-X specification and its examples.
for _prefix, _uri in _NS.items():
    etree.register_namespace(_prefix, _uri)

INVOICE_TYPE_CODE = '380'      # commercial invoice
CREDIT_NOTE_TYPE_CODE = '381'  # credit note
CREDIT_TRANSFER = '30'         # UNCL 4461
DATE_FORMAT = '102'            # UNTDID 2379: CCYYMMDD
VAT_ID_SCHEME = 'VA'           # BT-31, BT-48: a VAT identifier


def invoice_cii(document):
    """``document`` (see the module doc) as Factur-X EN 16931 CII bytes."""
    return _Writer(document).write()


class _Writer(_common.Writer):

    NAMESPACES = _NS

    # -- helpers

    def amount(self, parent, name, value, **attrs):
        value = _common.amount(value, self.sign, self.currency)
        return self.el(parent, name, '%s' % value, **attrs)

    def date(self, parent, name, value, qualified=False):
        node = self.el(parent, name)
        self.el(node, 'qdt:DateTimeString' if qualified
                else 'udt:DateTimeString', value.strftime('%Y%m%d'),
                format=DATE_FORMAT)
        return node

    # -- document

    def write(self):
        doc = self.doc
        root = etree.Element('{%s}CrossIndustryInvoice' % NS_RSM)
        context = self.el(root, 'rsm:ExchangedDocumentContext')
        self.el(self.el(context,
                        'ram:GuidelineSpecifiedDocumentContextParameter'),
                'ram:ID', GUIDELINE_ID)
        header = self.el(root, 'rsm:ExchangedDocument')
        self.el(header, 'ram:ID', _common.text(doc['number']))
        self.el(header, 'ram:TypeCode', CREDIT_NOTE_TYPE_CODE
                if self.credit_note else INVOICE_TYPE_CODE)
        self.date(header, 'ram:IssueDateTime', doc['issue_date'])
        if _common.text(doc.get('reason')):
            self.el(self.el(header, 'ram:IncludedNote'), 'ram:Content',
                    _common.text(doc['reason']))
        transaction = self.el(root, 'rsm:SupplyChainTradeTransaction')
        for position, line in enumerate(doc['lines'], 1):
            self.line(transaction, position, line)
        self.agreement(transaction)
        self.el(transaction, 'ram:ApplicableHeaderTradeDelivery')
        self.settlement(transaction)
        return etree.tostring(root, encoding='UTF-8', xml_declaration=True)

    def agreement(self, transaction):
        agreement = self.el(transaction, 'ram:ApplicableHeaderTradeAgreement')
        self.el(agreement, 'ram:BuyerReference',
                _common.buyer_reference(self.doc, self.buyer))
        self.party(self.el(agreement, 'ram:SellerTradeParty'), self.seller,
                   seller=True)
        self.party(self.el(agreement, 'ram:BuyerTradeParty'), self.buyer,
                   seller=False)
        po_reference = _common.text(self.buyer.get('po_reference'))
        if po_reference:
            self.el(self.el(agreement, 'ram:BuyerOrderReferencedDocument'),
                    'ram:IssuerAssignedID', po_reference)

    def party(self, node, data, seller):
        self.el(node, 'ram:Name', _common.text(data.get('name')))
        org = _common.org_number_scheme(data)
        if org:
            self.el(self.el(node, 'ram:SpecifiedLegalOrganization'),
                    'ram:ID', org[1], schemeID=org[0])
        elif _common.text(data.get('org_number')):
            self.el(self.el(node, 'ram:SpecifiedLegalOrganization'),
                    'ram:ID', _common.text(data['org_number']))
        if seller and _common.text(data.get('email')):
            contact = self.el(node, 'ram:DefinedTradeContact')
            self.el(self.el(contact, 'ram:EmailURIUniversalCommunication'),
                    'ram:URIID', _common.text(data['email']))
        address = self.el(node, 'ram:PostalTradeAddress')
        self.opt(address, 'ram:PostcodeCode', data.get('postal_code'))
        self.opt(address, 'ram:LineOne', data.get('address'))
        self.opt(address, 'ram:CityName', data.get('city'))
        self.el(address, 'ram:CountryID',
                _common.text(data.get('country')).upper())
        scheme, identifier = _common.endpoint(data, seller)
        self.el(self.el(node, 'ram:URIUniversalCommunication'), 'ram:URIID',
                identifier, schemeID=scheme)
        vat_number = _common.compact(data.get('vat_number'))
        if vat_number:
            self.el(self.el(node, 'ram:SpecifiedTaxRegistration'), 'ram:ID',
                    vat_number, schemeID=VAT_ID_SCHEME)

    def settlement(self, transaction):
        doc = self.doc
        settlement = self.el(transaction,
                             'ram:ApplicableHeaderTradeSettlement')
        reference = _common.text(doc.get('payment_reference'))
        if reference and not self.credit_note:
            self.el(settlement, 'ram:PaymentReference', reference)
        self.el(settlement, 'ram:InvoiceCurrencyCode', self.currency)
        if not self.credit_note:
            for account, iban, bic in _common.payment_accounts(self.seller):
                means = self.el(settlement,
                                'ram:SpecifiedTradeSettlementPaymentMeans')
                self.el(means, 'ram:TypeCode', CREDIT_TRANSFER)
                if not iban:
                    self.el(means, 'ram:Information', 'Bankgiro')
                creditor = self.el(means,
                                   'ram:PayeePartyCreditorFinancialAccount')
                self.el(creditor, 'ram:IBANID' if iban else
                        'ram:ProprietaryID', account)
                if bic:
                    self.el(self.el(means, 'ram:PayeeSpecified'
                                    'CreditorFinancialInstitution'),
                            'ram:BICID', bic)
        for vat in doc['vat_breakdown']:
            self.trade_tax(
                settlement,
                vat.get('category') or _common.default_vat_category(
                    vat['rate']),
                vat['rate'], vat,
                _common.text(vat.get('exemption_reason_code')),
                _common.text(vat.get('exemption_reason')))
        period = self.el(settlement, 'ram:BillingSpecifiedPeriod')
        self.date(period, 'ram:StartDateTime', doc['period_start'])
        self.date(period, 'ram:EndDateTime', doc['period_end'])
        terms = self.el(settlement, 'ram:SpecifiedTradePaymentTerms')
        if self.credit_note:
            self.el(terms, 'ram:Description', 'Credits invoice %s.'
                    % _common.text(doc.get('credits_number')))
        else:
            self.el(terms, 'ram:Description', _common.payment_terms(doc))
            self.date(terms, 'ram:DueDateDateTime', doc['due_date'])
        totals = self.el(settlement,
                         'ram:SpecifiedTradeSettlementHeaderMonetarySummation')
        self.amount(totals, 'ram:LineTotalAmount', doc['net_total'])
        self.amount(totals, 'ram:TaxBasisTotalAmount', doc['net_total'])
        self.amount(totals, 'ram:TaxTotalAmount', doc['vat_total'],
                    currencyID=self.currency)
        self.amount(totals, 'ram:GrandTotalAmount', doc['total'])
        if doc.get('prepaid_amount'):
            # BT-113: the customer's credit taken off at issue.
            self.amount(totals, 'ram:TotalPrepaidAmount',
                        doc['prepaid_amount'])
        self.amount(totals, 'ram:DuePayableAmount',
                    doc.get('amount_due', doc['total']))
        if doc.get('credits_number'):
            ref = self.el(settlement, 'ram:InvoiceReferencedDocument')
            self.el(ref, 'ram:IssuerAssignedID',
                    _common.text(doc['credits_number']))
            if doc.get('credits_issue_date'):
                self.date(ref, 'ram:FormattedIssueDateTime',
                          doc['credits_issue_date'], qualified=True)

    def trade_tax(self, parent, category, rate, vat=None, code='',
                  reason=''):
        """BG-23 (``vat`` given: amounts and reasons) or BG-30 (a line)."""
        tax = self.el(parent, 'ram:ApplicableTradeTax')
        if vat is not None:
            self.amount(tax, 'ram:CalculatedAmount', vat['amount'])
        self.el(tax, 'ram:TypeCode', 'VAT')
        if vat is not None:
            code, reason = _common.exemption(category, code, reason)
            self.opt(tax, 'ram:ExemptionReason', reason)
            self.amount(tax, 'ram:BasisAmount', vat['base'])
        self.el(tax, 'ram:CategoryCode', category)
        if vat is not None:
            self.opt(tax, 'ram:ExemptionReasonCode', code)
        if category != 'O':
            self.el(tax, 'ram:RateApplicablePercent', _common.number(rate))
        return tax

    def line(self, transaction, position, line):
        item = self.el(transaction, 'ram:IncludedSupplyChainTradeLineItem')
        self.el(self.el(item, 'ram:AssociatedDocumentLineDocument'),
                'ram:LineID', position)
        product = self.el(item, 'ram:SpecifiedTradeProduct')
        self.el(product, 'ram:Name', _common.text(line.get('product')) or
                _common.text(line.get('description')) or '-')
        self.opt(product, 'ram:Description', line.get('description'))
        for name, value in (('Region', line.get('region')),
                            ('Unit', line.get('unit'))):
            if _common.text(value):
                prop = self.el(product, 'ram:ApplicableProductCharacteristic')
                self.el(prop, 'ram:Description', name)
                self.el(prop, 'ram:Value', _common.text(value))
        agreement = self.el(item, 'ram:SpecifiedLineTradeAgreement')
        self.el(self.el(agreement, 'ram:NetPriceProductTradePrice'),
                'ram:ChargeAmount', _common.number(line['unit_price']))
        self.el(self.el(item, 'ram:SpecifiedLineTradeDelivery'),
                'ram:BilledQuantity', _common.number(
                    self.sign * money.to_decimal(line['quantity'])),
                unitCode=_common.unit_code(line.get('unit')))
        settlement = self.el(item, 'ram:SpecifiedLineTradeSettlement')
        self.trade_tax(settlement, line.get('vat_category') or
                       _common.default_vat_category(line['vat_rate']),
                       line['vat_rate'])
        self.amount(self.el(
            settlement, 'ram:SpecifiedTradeSettlementLineMonetarySummation'),
            'ram:LineTotalAmount', line['net_amount'])
