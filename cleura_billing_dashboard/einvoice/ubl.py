"""Peppol BIS Billing 3.0 UBL: an invoice or credit note as UBL 2.1 XML.

One module, though long: it writes one document, element by element in
the order UBL requires, and splitting it would scatter that order.

Not yet wired into issuing, storage, the panel or mail: ``invoice_ubl``
is a pure function, tested against the official XSD, CEN EN 16931 and
Peppol rules (``tests/einvoice``). Written with the standard library's
ElementTree: no dependency beyond the plugin's.

``invoice_ubl(document)`` takes the plain dict of ``Invoice.as_document()``
(amounts of a credit note negative, as stored) plus these optional keys:

* ``project_id``: the buyer reference when the account has neither its
  own reference nor a PO reference (see below);
* ``buyer['buyer_reference']``: the reference the customer asked to be
  quoted ("Your reference"), BT-10;
* ``credits_issue_date``: the issue date of the credited invoice (BT-26);
* ``seller['peppol_id']``, ``buyer['peppol_id']``: the parties' Peppol
  participant ids, ``scheme:identifier`` (``0007:5566778899``); the
  seller's is the ``[seller] peppol_id`` option once the issuer keeps it
  in its seller snapshot;
* ``prepaid_amount``: credit applied at issue (BT-113, PrepaidAmount);
  ``amount_due`` (BT-115) is then the total less it;
* per line ``vat_category`` and per VAT breakdown entry ``category``,
  ``exemption_reason_code``, ``exemption_reason``: the VAT treatment.
  Without them the category follows the rate (``default_vat_category``).

Decisions the rules force (``_common`` holds them, shared with ``cii``):

* Peppol R003 requires a buyer reference (BT-10) or an order reference
  (BT-13). BT-10 is the buyer's own reference ("Your reference",
  ``buyer['buyer_reference']``) when the account has one, else its PO
  reference, else the project id, else the invoice number: the project is
  what a buyer routes cloud invoices by. A PO reference is also sent as
  BT-13, the order it names, whatever BT-10 is.
* Peppol R010/R020 require an electronic address (BT-34, BT-49) on both
  parties, under a scheme of Peppol's EAS list (which has no e-mail
  scheme). In this order: the party's ``peppol_id``; its organisation
  number under the country's scheme (``ORG_NUMBER_SCHEMES``: SE 0007,
  NO 0192, DK 0184); its VAT number under the country's Peppol VAT scheme
  (``VAT_SCHEMES``). A seller with none of these is an error. A buyer with
  none (a Swedish customer without an organisation number, or no
  customer info at all) gets ``UNKNOWN_BUYER_ENDPOINT``, 0007:0000000000:
  Luhn-valid, so the rules pass, but no register issues it and no access
  point can route it -- right, as such a buyer cannot receive through
  Peppol; the document is still a valid EN 16931 invoice to download or
  mail.
* The buyer's country (BR-11) falls back to the seller's when the
  customer info has none; the VAT treatment assumed it domestic too.
* A credit note's amounts and quantities are written positive, as UBL
  CreditNote wants; it names the credited invoice (BT-25) and has no
  payment means (nothing is due).
* Units: ``UNIT_CODES`` maps our usage units to UN/ECE Recommendation 20
  codes; a unit it does not know, or one Rec 20 has no code for (GB-month,
  GiB), is sent as C62 ("one") and named in the item's properties.
"""

from xml.etree import ElementTree as etree

from cleura_billing_dashboard.einvoice import _common
from cleura_billing_dashboard import money

CUSTOMIZATION_ID = ('urn:cen.eu:en16931:2017#compliant#'
                    'urn:fdc:peppol.eu:2017:poacc:billing:3.0')
PROFILE_ID = 'urn:fdc:peppol.eu:2017:poacc:billing:01:1.0'

NS_INVOICE = 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'
NS_CREDIT_NOTE = 'urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2'
NS_CAC = ('urn:oasis:names:specification:ubl:schema:xsd:'
          'CommonAggregateComponents-2')
NS_CBC = 'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2'

# The prefixes the UBL specification and Peppol's examples use.
etree.register_namespace('cac', NS_CAC)
etree.register_namespace('cbc', NS_CBC)

INVOICE_TYPE_CODE = '380'      # commercial invoice
CREDIT_NOTE_TYPE_CODE = '381'  # credit note
CREDIT_TRANSFER = '30'         # UNCL 4461

# The shared tables and rules, under the names callers know from here.
UNIT_CODES = _common.UNIT_CODES
DEFAULT_UNIT_CODE = _common.DEFAULT_UNIT_CODE
ORG_NUMBER_SCHEMES = _common.ORG_NUMBER_SCHEMES
VAT_SCHEMES = _common.VAT_SCHEMES
UNKNOWN_BUYER_ENDPOINT = _common.UNKNOWN_BUYER_ENDPOINT
EXEMPTION_REASONS = _common.EXEMPTION_REASONS
default_vat_category = _common.default_vat_category
unit_code = _common.unit_code

_text = _common.text
_compact = _common.compact


def invoice_ubl(document):
    """``document`` (see the module doc) as Peppol BIS 3.0 UBL bytes."""
    return _Writer(document).write()


class _Writer(_common.Writer):

    NAMESPACES = {'cac': NS_CAC, 'cbc': NS_CBC}

    # -- helpers

    def amount(self, parent, name, value):
        value = _common.amount(value, self.sign, self.currency)
        return self.el(parent, name, '%s' % value, currencyID=self.currency)

    number = staticmethod(_common.number)

    # -- document

    def write(self):
        doc = self.doc
        kind = 'CreditNote' if self.credit_note else 'Invoice'
        ns = NS_CREDIT_NOTE if self.credit_note else NS_INVOICE
        # The document's namespace as the default one, as in Peppol's
        # examples: ElementTree's default_namespace refuses unqualified
        # attributes (schemeID, currencyID), so it is declared by hand on
        # the one unqualified element.
        root = etree.Element(kind, {'xmlns': ns})
        self.el(root, 'cbc:CustomizationID', CUSTOMIZATION_ID)
        self.el(root, 'cbc:ProfileID', PROFILE_ID)
        self.el(root, 'cbc:ID', _text(doc['number']))
        self.el(root, 'cbc:IssueDate', doc['issue_date'].isoformat())
        if self.credit_note:
            self.el(root, 'cbc:CreditNoteTypeCode', CREDIT_NOTE_TYPE_CODE)
        else:
            self.el(root, 'cbc:DueDate', doc['due_date'].isoformat())
            self.el(root, 'cbc:InvoiceTypeCode', INVOICE_TYPE_CODE)
        self.opt(root, 'cbc:Note', doc.get('reason'))
        self.el(root, 'cbc:DocumentCurrencyCode', self.currency)
        po_reference = _text(self.buyer.get('po_reference'))
        self.el(root, 'cbc:BuyerReference',
                _common.buyer_reference(doc, self.buyer))
        period = self.el(root, 'cac:InvoicePeriod')
        self.el(period, 'cbc:StartDate', doc['period_start'].isoformat())
        self.el(period, 'cbc:EndDate', doc['period_end'].isoformat())
        if po_reference:
            self.el(self.el(root, 'cac:OrderReference'), 'cbc:ID',
                    po_reference)
        if doc.get('credits_number'):
            ref = self.el(self.el(root, 'cac:BillingReference'),
                          'cac:InvoiceDocumentReference')
            self.el(ref, 'cbc:ID', doc['credits_number'])
            if doc.get('credits_issue_date'):
                self.el(ref, 'cbc:IssueDate',
                        doc['credits_issue_date'].isoformat())
        self.party(self.el(root, 'cac:AccountingSupplierParty'),
                   self.seller, seller=True)
        self.party(self.el(root, 'cac:AccountingCustomerParty'),
                   self.buyer, seller=False)
        if not self.credit_note:
            self.payment(root)
        self.tax_total(root)
        self.totals(root)
        for position, line in enumerate(doc['lines'], 1):
            self.line(root, position, line)
        return etree.tostring(root, encoding='UTF-8', xml_declaration=True)

    def party(self, parent, data, seller):
        party = self.el(parent, 'cac:Party')
        scheme, identifier = _common.endpoint(data, seller)
        self.el(party, 'cbc:EndpointID', identifier, schemeID=scheme)
        address = self.el(party, 'cac:PostalAddress')
        self.opt(address, 'cbc:StreetName', data.get('address'))
        self.opt(address, 'cbc:CityName', data.get('city'))
        self.opt(address, 'cbc:PostalZone', data.get('postal_code'))
        self.el(self.el(address, 'cac:Country'), 'cbc:IdentificationCode',
                _text(data.get('country')).upper())
        vat_number = _compact(data.get('vat_number'))
        if vat_number:
            scheme_el = self.el(party, 'cac:PartyTaxScheme')
            self.el(scheme_el, 'cbc:CompanyID', vat_number)
            self.el(self.el(scheme_el, 'cac:TaxScheme'), 'cbc:ID', 'VAT')
        legal = self.el(party, 'cac:PartyLegalEntity')
        self.el(legal, 'cbc:RegistrationName', _text(data.get('name')))
        org = _common.org_number_scheme(data)
        if org:
            self.el(legal, 'cbc:CompanyID', org[1], schemeID=org[0])
        else:
            self.opt(legal, 'cbc:CompanyID', data.get('org_number'))
        if seller and _text(data.get('email')):
            self.el(self.el(party, 'cac:Contact'), 'cbc:ElectronicMail',
                    _text(data['email']))

    def payment(self, root):
        reference = _text(self.doc.get('payment_reference'))
        for account, iban, bic in _common.payment_accounts(self.seller):
            branch = bic if iban else 'SE:BANKGIRO'
            means = self.el(root, 'cac:PaymentMeans')
            self.el(means, 'cbc:PaymentMeansCode', CREDIT_TRANSFER)
            if reference:
                self.el(means, 'cbc:PaymentID', reference)
            financial = self.el(means, 'cac:PayeeFinancialAccount')
            self.el(financial, 'cbc:ID', account)
            if branch:
                self.el(self.el(financial, 'cac:FinancialInstitutionBranch'),
                        'cbc:ID', branch)
        self.el(self.el(root, 'cac:PaymentTerms'), 'cbc:Note',
                _common.payment_terms(self.doc))

    def tax_category(self, parent, name, category, rate, code='',
                     reason='', reasons=True):
        node = self.el(parent, name)
        self.el(node, 'cbc:ID', category)
        if category != 'O':
            self.el(node, 'cbc:Percent', self.number(rate))
        if reasons:
            code, reason = _common.exemption(category, code, reason)
            self.opt(node, 'cbc:TaxExemptionReasonCode', code)
            self.opt(node, 'cbc:TaxExemptionReason', reason)
        self.el(self.el(node, 'cac:TaxScheme'), 'cbc:ID', 'VAT')

    def tax_total(self, root):
        total = self.el(root, 'cac:TaxTotal')
        self.amount(total, 'cbc:TaxAmount', self.doc['vat_total'])
        for vat in self.doc['vat_breakdown']:
            sub = self.el(total, 'cac:TaxSubtotal')
            self.amount(sub, 'cbc:TaxableAmount', vat['base'])
            self.amount(sub, 'cbc:TaxAmount', vat['amount'])
            self.tax_category(
                sub, 'cac:TaxCategory',
                vat.get('category') or default_vat_category(vat['rate']),
                vat['rate'], _text(vat.get('exemption_reason_code')),
                _text(vat.get('exemption_reason')))

    def totals(self, root):
        totals = self.el(root, 'cac:LegalMonetaryTotal')
        self.amount(totals, 'cbc:LineExtensionAmount', self.doc['net_total'])
        self.amount(totals, 'cbc:TaxExclusiveAmount', self.doc['net_total'])
        self.amount(totals, 'cbc:TaxInclusiveAmount', self.doc['total'])
        if self.doc.get('prepaid_amount'):
            # BT-113: the customer's credit taken off at issue.
            self.amount(totals, 'cbc:PrepaidAmount',
                        self.doc['prepaid_amount'])
        self.amount(totals, 'cbc:PayableAmount',
                    self.doc.get('amount_due', self.doc['total']))

    def line(self, root, position, line):
        if self.credit_note:
            node = self.el(root, 'cac:CreditNoteLine')
            quantity_name = 'cbc:CreditedQuantity'
        else:
            node = self.el(root, 'cac:InvoiceLine')
            quantity_name = 'cbc:InvoicedQuantity'
        self.el(node, 'cbc:ID', position)
        code = unit_code(line.get('unit'))
        self.el(node, quantity_name,
                self.number(self.sign * money.to_decimal(line['quantity'])),
                unitCode=code)
        self.amount(node, 'cbc:LineExtensionAmount', line['net_amount'])
        item = self.el(node, 'cac:Item')
        self.opt(item, 'cbc:Description', line.get('description'))
        self.el(item, 'cbc:Name', _text(line.get('product')) or
                _text(line.get('description')) or '-')
        self.tax_category(item, 'cac:ClassifiedTaxCategory',
                          line.get('vat_category') or
                          default_vat_category(line['vat_rate']),
                          line['vat_rate'], reasons=False)
        for name, value in (('Region', line.get('region')),
                            ('Unit', line.get('unit'))):
            if _text(value):
                prop = self.el(item, 'cac:AdditionalItemProperty')
                self.el(prop, 'cbc:Name', name)
                self.el(prop, 'cbc:Value', _text(value))
        price = self.el(node, 'cac:Price')
        self.el(price, 'cbc:PriceAmount',
                self.number(line['unit_price']), currencyID=self.currency)
