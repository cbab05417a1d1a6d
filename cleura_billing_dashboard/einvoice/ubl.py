"""Peppol BIS Billing 3.0 UBL: an invoice or credit note as UBL 2.1 XML.

One module, though long: it writes one document, element by element in
the order UBL requires, and splitting it would scatter that order.

Not yet wired into issuing, storage, the panel or mail: ``invoice_ubl``
is a pure function, tested against the official XSD, CEN EN 16931 and
Peppol rules (``tests/einvoice``). Written with the standard library's
ElementTree: no dependency beyond the plugin's.

``invoice_ubl(document)`` takes the plain dict of ``Invoice.as_document()``
(amounts of a credit note negative, as stored) plus these optional keys:

* ``project_id``: the buyer reference when the account has no PO
  reference (see below);
* ``credits_issue_date``: the issue date of the credited invoice (BT-26);
* ``seller['peppol_id']``, ``buyer['peppol_id']``: the parties' Peppol
  participant ids, ``scheme:identifier`` (``0007:5566778899``); the
  seller's is the ``[seller] peppol_id`` option once the issuer keeps it
  in its seller snapshot;
* per line ``vat_category`` and per VAT breakdown entry ``category``,
  ``exemption_reason_code``, ``exemption_reason``: the VAT treatment.
  Without them the category follows the rate (``default_vat_category``).

Decisions the rules force:

* Peppol R003 requires a buyer reference (BT-10) or an order reference
  (BT-13). BT-10 is the account's PO reference when it has one (then also
  sent as BT-13, the order it names), else the project id, else the
  invoice number: the project is what a buyer routes cloud invoices by.
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

import decimal
import re
from xml.etree import ElementTree as etree

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

#: Our usage units (case-insensitive) -> UN/ECE Rec 20 unit codes.
UNIT_CODES = {
    'h': 'HUR', 'hour': 'HUR', 'hours': 'HUR',
    'min': 'MIN', 's': 'SEC',
    'day': 'DAY', 'days': 'DAY',
    'month': 'MON', 'months': 'MON', 'mo': 'MON',
    'pcs': 'H87', 'pc': 'H87', 'piece': 'H87', 'pieces': 'H87',
    'mb': '4L', 'gb': 'E34', 'tb': 'E35',
    'ea': 'C62', 'each': 'C62', 'unit': 'C62', 'units': 'C62',
    # Rec 20 has no gigabyte-month, gigabyte-hour or gibibyte: "one" of
    # the unit the line names (AdditionalItemProperty "Unit").
    'gb-month': 'C62', 'gb-h': 'C62', 'gib': 'C62',
}
DEFAULT_UNIT_CODE = 'C62'

#: Country -> Peppol EAS scheme of its organisation numbers.
ORG_NUMBER_SCHEMES = {'SE': '0007', 'NO': '0192', 'DK': '0184'}

#: Country -> Peppol EAS scheme of its VAT numbers (the "XX:VAT" schemes).
VAT_SCHEMES = {
    'HU': '9910', 'AT': '9914', 'ES': '9920', 'AD': '9922', 'AL': '9923',
    'BA': '9924', 'BE': '9925', 'BG': '9926', 'CH': '9927', 'CY': '9928',
    'CZ': '9929', 'DE': '9930', 'EE': '9931', 'GB': '9932', 'GR': '9933',
    'HR': '9934', 'IE': '9935', 'LI': '9936', 'LT': '9937', 'LU': '9938',
    'LV': '9939', 'MC': '9940', 'ME': '9941', 'MK': '9942', 'MT': '9943',
    'NL': '9944', 'PL': '9945', 'PT': '9946', 'RO': '9947', 'RS': '9948',
    'SI': '9949', 'SK': '9950', 'SM': '9951', 'TR': '9952', 'VA': '9953',
    'FR': '9957',
}
#: The buyer's electronic address when it has no identifier (module doc).
UNKNOWN_BUYER_ENDPOINT = ('0007', '0000000000')

#: VAT category (UNCL 5305) -> default (VATEX code, text) where the rules
#: require an exemption reason (BR-E-10, BR-AE-10, BR-G-10, BR-IC-10,
#: BR-O-10). The VAT treatment may pass its own.
EXEMPTION_REASONS = {
    'E': ('', 'Exempt from VAT'),
    'AE': ('VATEX-EU-AE', 'Reverse charge'),
    'K': ('VATEX-EU-IC', 'Intra-Community supply'),
    'G': ('VATEX-EU-G', 'Export outside the EU'),
    'O': ('VATEX-EU-O', 'Not subject to VAT'),
}


def default_vat_category(rate):
    """The VAT category of a rate without a VAT treatment decision.

    ``S`` (standard) above 0 %, ``Z`` (zero rated) at 0 %.
    """
    return 'S' if decimal.Decimal(rate) > 0 else 'Z'


def unit_code(unit):
    """The Rec 20 code of one of our units (``C62`` when unknown)."""
    return UNIT_CODES.get((unit or '').strip().lower(), DEFAULT_UNIT_CODE)


def invoice_ubl(document):
    """``document`` (see the module doc) as Peppol BIS 3.0 UBL bytes."""
    return _Writer(document).write()


# Characters XML 1.0 cannot carry; the account and usage checks keep them
# out, this keeps one that slipped through from breaking the document.
_NOT_XML = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]')


def _text(value):
    return '' if value is None else _NOT_XML.sub('', str(value)).strip()


def _compact(number):
    return ''.join(c for c in _text(number) if c.isalnum()).upper()


def _split_peppol_id(value):
    scheme, sep, identifier = _text(value).partition(':')
    if sep and scheme and identifier:
        return scheme, identifier
    return None


def _vat_number_scheme(party):
    country = _text(party.get('country')).upper()
    scheme = VAT_SCHEMES.get(country)
    number = _compact(party.get('vat_number'))
    if country == 'GR' and number.startswith('EL'):
        number = number[2:]   # GR-R-010: the TIN, without its prefix
    if scheme and number:
        return scheme, number
    return None


def _org_number_scheme(party):
    scheme = ORG_NUMBER_SCHEMES.get(_text(party.get('country')).upper())
    number = _compact(party.get('org_number'))
    if scheme and number.isdigit():
        return scheme, number
    return None


class _Writer(object):

    def __init__(self, document):
        self.doc = document
        self.credit_note = document.get('type') == 'credit_note'
        self.currency = document['currency']
        # A credit note is stored negative and written positive.
        self.sign = -1 if self.credit_note else 1
        self.seller = dict(document.get('seller') or {})
        self.buyer = dict(document.get('buyer') or {})
        if not _text(self.buyer.get('country')):
            self.buyer['country'] = _text(self.seller.get('country'))
        if not _text(self.buyer.get('name')):
            self.buyer['name'] = (_text(document.get('project_id')) or
                                  document['number'])

    # -- helpers

    def el(self, parent, tag, text=None, **attrs):
        prefix, local = tag.split(':')
        ns = {'cac': NS_CAC, 'cbc': NS_CBC}[prefix]
        node = etree.SubElement(parent, '{%s}%s' % (ns, local), attrs)
        if text is not None:
            node.text = str(text)
        return node

    def opt(self, parent, name, text):
        text = _text(text)
        if text:
            self.el(parent, name, text)

    def amount(self, parent, name, value):
        value = money.quantize(self.sign * money.to_decimal(value),
                               self.currency)
        return self.el(parent, name, '%s' % value, currencyID=self.currency)

    @staticmethod
    def number(value):
        value = money.to_decimal(value)
        if value == value.to_integral_value():
            return str(value.quantize(decimal.Decimal(1)))
        return '{:f}'.format(value.normalize())

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
                po_reference or _text(doc.get('project_id')) or
                doc['number'])
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

    def endpoint(self, party, seller):
        found = (_split_peppol_id(party.get('peppol_id')) or
                 _org_number_scheme(party) or _vat_number_scheme(party))
        if found:
            return found
        if seller:
            raise ValueError('the seller has no electronic address: set '
                             '[seller] peppol_id or org_number')
        return UNKNOWN_BUYER_ENDPOINT

    def party(self, parent, data, seller):
        party = self.el(parent, 'cac:Party')
        scheme, identifier = self.endpoint(data, seller)
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
        org = _org_number_scheme(data)
        if org:
            self.el(legal, 'cbc:CompanyID', org[1], schemeID=org[0])
        else:
            self.opt(legal, 'cbc:CompanyID', data.get('org_number'))
        if seller and _text(data.get('email')):
            self.el(self.el(party, 'cac:Contact'), 'cbc:ElectronicMail',
                    _text(data['email']))

    def payment(self, root):
        reference = _text(self.doc.get('payment_reference'))
        accounts = []
        if _text(self.seller.get('iban')):
            accounts.append((_compact(self.seller['iban']),
                             _compact(self.seller.get('bic'))))
        if _text(self.seller.get('bankgiro')):
            accounts.append((_compact(self.seller['bankgiro']),
                             'SE:BANKGIRO'))
        for account, branch in accounts:
            means = self.el(root, 'cac:PaymentMeans')
            self.el(means, 'cbc:PaymentMeansCode', CREDIT_TRANSFER)
            if reference:
                self.el(means, 'cbc:PaymentID', reference)
            financial = self.el(means, 'cac:PayeeFinancialAccount')
            self.el(financial, 'cbc:ID', account)
            if branch:
                self.el(self.el(financial, 'cac:FinancialInstitutionBranch'),
                        'cbc:ID', branch)
        terms = 'Due %s.' % self.doc['due_date'].isoformat()
        if reference:
            terms += ' Payment reference (OCR): %s.' % reference
        self.el(self.el(root, 'cac:PaymentTerms'), 'cbc:Note', terms)

    def tax_category(self, parent, name, category, rate, code='',
                     reason='', reasons=True):
        node = self.el(parent, name)
        self.el(node, 'cbc:ID', category)
        if category != 'O':
            self.el(node, 'cbc:Percent', self.number(rate))
        if reasons and category in EXEMPTION_REASONS:
            default_code, default_reason = EXEMPTION_REASONS[category]
            code = code or default_code
            reason = reason or (default_reason if not code else '')
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
