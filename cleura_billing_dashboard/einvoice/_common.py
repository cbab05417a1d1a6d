"""What the UBL and CII writers decide alike, from the same document dict.

The decisions themselves are described in ``ubl``'s module doc; this
module holds them once, so the two syntaxes cannot drift apart.
"""

import decimal
import re
from xml.etree import ElementTree as etree

from cleura_billing_dashboard import money

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
    # the unit the line names (an item property "Unit").
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
#: The buyer's electronic address when it has no identifier (ubl's doc).
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

# Characters XML 1.0 cannot carry; the account and usage checks keep them
# out, this keeps one that slipped through from breaking the document.
_NOT_XML = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]')


def default_vat_category(rate):
    """The VAT category of a rate without a VAT treatment decision.

    ``S`` (standard) above 0 %, ``Z`` (zero rated) at 0 %.
    """
    return 'S' if decimal.Decimal(rate) > 0 else 'Z'


def unit_code(unit):
    """The Rec 20 code of one of our units (``C62`` when unknown)."""
    return UNIT_CODES.get((unit or '').strip().lower(), DEFAULT_UNIT_CODE)


def text(value):
    """``value`` as XML-safe, stripped text ('' for None)."""
    return '' if value is None else _NOT_XML.sub('', str(value)).strip()


def compact(number):
    """An identifier's letters and digits, upper case."""
    return ''.join(c for c in text(number) if c.isalnum()).upper()


def number(value):
    """A quantity, rate or price in as few digits as it needs."""
    value = money.to_decimal(value)
    if value == value.to_integral_value():
        return str(value.quantize(decimal.Decimal(1)))
    return '{:f}'.format(value.normalize())


def amount(value, sign, currency):
    """``value`` x ``sign`` in the currency's decimals; zero never "-0"."""
    value = money.quantize(sign * money.to_decimal(value), currency)
    # A credit note's zero VAT negated is -0.00, which CEN's BR-CO-14
    # does not count as the sum of 0.00 entries.
    return abs(value) if not value else value


def split_peppol_id(value):
    scheme, sep, identifier = text(value).partition(':')
    if sep and scheme and identifier:
        return scheme, identifier
    return None


def vat_number_scheme(party):
    country = text(party.get('country')).upper()
    scheme = VAT_SCHEMES.get(country)
    number = compact(party.get('vat_number'))
    if country == 'GR' and number.startswith('EL'):
        number = number[2:]   # GR-R-010: the TIN, without its prefix
    if scheme and number:
        return scheme, number
    return None


def org_number_scheme(party):
    """(EAS scheme, digits) of the party's organisation number, or None."""
    scheme = ORG_NUMBER_SCHEMES.get(text(party.get('country')).upper())
    number = compact(party.get('org_number'))
    if scheme and number.isdigit():
        return scheme, number
    return None


def endpoint(party, seller):
    """(scheme, identifier): the party's electronic address (BT-34, BT-49).

    Raises ``ValueError`` for a seller without one.
    """
    found = (split_peppol_id(party.get('peppol_id')) or
             org_number_scheme(party) or vat_number_scheme(party))
    if found:
        return found
    if seller:
        raise ValueError('the seller has no electronic address: set '
                         '[seller] peppol_id or org_number')
    return UNKNOWN_BUYER_ENDPOINT


def parties(document):
    """(seller, buyer) dicts, the buyer's country and name filled in."""
    seller = dict(document.get('seller') or {})
    buyer = dict(document.get('buyer') or {})
    if not text(buyer.get('country')):
        buyer['country'] = text(seller.get('country'))
    if not text(buyer.get('name')):
        buyer['name'] = text(document.get('project_id')) or document['number']
    return seller, buyer


def buyer_reference(document, buyer):
    """BT-10: the buyer's own reference, PO, project or invoice number."""
    return (text(buyer.get('buyer_reference')) or
            text(buyer.get('po_reference')) or
            text(document.get('project_id')) or text(document['number']))


def payment_accounts(seller):
    """[(account, IBAN?, BIC or None)]: the seller's accounts to pay to."""
    accounts = []
    if text(seller.get('iban')):
        accounts.append((compact(seller['iban']), True,
                         compact(seller.get('bic')) or None))
    if text(seller.get('bankgiro')):
        accounts.append((compact(seller['bankgiro']), False, None))
    return accounts


def payment_terms(document):
    """BT-20: the due date and, if any, the OCR reference, in words."""
    terms = 'Due %s.' % document['due_date'].isoformat()
    reference = text(document.get('payment_reference'))
    if reference:
        terms += ' Payment reference (OCR): %s.' % reference
    return terms


def exemption(category, code='', reason=''):
    """(VATEX code, text) of ``category`` ('' where none is wanted)."""
    if category not in EXEMPTION_REASONS:
        return '', ''
    default_code, default_reason = EXEMPTION_REASONS[category]
    code = code or default_code
    reason = reason or (default_reason if not code else '')
    return code, reason


class Writer(object):
    """What both writers do alike: the document, its sign, elements.

    ``NAMESPACES`` maps the element prefixes a subclass writes
    (``'cbc:ID'``) to their namespace URIs.
    """

    NAMESPACES = {}

    def __init__(self, document):
        self.doc = document
        self.credit_note = document.get('type') == 'credit_note'
        self.currency = document['currency']
        # A credit note is stored negative and written positive.
        self.sign = -1 if self.credit_note else 1
        self.seller, self.buyer = parties(document)

    def el(self, parent, tag, text=None, **attrs):
        prefix, local = tag.split(':')
        node = etree.SubElement(
            parent, '{%s}%s' % (self.NAMESPACES[prefix], local), attrs)
        if text is not None:
            node.text = str(text)
        return node

    def opt(self, parent, name, value):
        value = text(value)
        if value:
            self.el(parent, name, value)
