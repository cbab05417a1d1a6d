"""Customer info: who the invoices are addressed to, checked per country.

``validate_customer(data)`` takes what a form posted (a dict of strings,
the keys of ``document.CUSTOMER_FIELDS`` plus ``billing_address``: None or
a dict of ``document.ADDRESS_FIELDS``) and returns the values to store:
trimmed, numbers in their usual printed form. It raises
``errors.InvalidFields`` with one message per bad field; the fields of a
separate billing address are named ``billing_address``, ``billing_city``,
and so on.

Checks: required fields, maximum lengths, no control characters and no
invisible formatting characters (``document.check_one_line``); the
country is an ISO 3166 code; the organisation or personal number uses the
check digits of the country's registers where python-stdnum knows them
(e.g. Swedish organisation and personal numbers); the VAT number is a
valid EU VAT number of the customer's country (or the country's own VAT
number format outside the EU); postal codes follow the country's format
where it is known, read with full-width characters and the digits of
other scripts as their ASCII ones (``１１１５７`` is stored ``111 57``);
the Peppol ID is a ``scheme:identifier`` of Peppol's EAS list, the
identifier checked for the schemes ``peppol`` knows, stored compact.
"""

import functools
import importlib
import re
import unicodedata

from babel import core as babel_core
from django.utils.translation import gettext_lazy as _
from stdnum.eu import vat as eu_vat
from stdnum import exceptions as stdnum_exceptions
from stdnum import util as stdnum_util

from cleura_billing_dashboard.account import document
from cleura_billing_dashboard.account import errors
from cleura_billing_dashboard.account import peppol

MAX_LENGTH = {
    'name': 200,
    'org_number': 32,
    'vat_number': 32,
    'address': 200,
    'postal_code': 16,
    'city': 100,
    'country': 2,
    'po_reference': 64,
    'buyer_reference': 64,
    # scheme, colon and Peppol's 50 characters of identifier.
    'peppol_id': 64,
}
REQUIRED = ('name', 'address', 'postal_code', 'city', 'country')

# Register numbers a customer of the country may give: organisations first,
# then persons; stdnum module names (relative to ``stdnum``).
ID_NUMBERS = {
    'SE': ('se.orgnr', 'se.personnummer'),
    'NO': ('no.orgnr', 'no.fodselsnummer'),
    'DK': ('dk.cvr', 'dk.cpr'),
    'FI': ('fi.ytunnus', 'fi.hetu'),
    'IS': ('is_.kennitala',),
    'EE': ('ee.registrikood', 'ee.ik'),
}
POSTAL_CODES = {
    'SE': re.compile(r'^[0-9]{3} ?[0-9]{2}$'),
    'NO': re.compile(r'^[0-9]{4}$'),
    'DK': re.compile(r'^[0-9]{4}$'),
    'FI': re.compile(r'^[0-9]{5}$'),
    'DE': re.compile(r'^[0-9]{5}$'),
    'EE': re.compile(r'^[0-9]{5}$'),
}
GENERIC_POSTAL_CODE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9 -]{1,15}$')
GENERIC_ID_NUMBER = re.compile(r'^[A-Za-z0-9][A-Za-z0-9 ./-]{0,31}$')
# CLDR territories that are not countries one can be billed in.
NOT_COUNTRIES = frozenset(['EU', 'EZ', 'UN', 'ZZ', 'QO', 'AC', 'CP', 'CQ',
                           'DG', 'EA', 'IC', 'TA', 'XA', 'XB'])
# Greece's VAT numbers start with EL, Northern Ireland's with XI.
VAT_PREFIX = {'GR': ('EL',), 'GB': ('GB', 'XI')}


@functools.lru_cache(maxsize=None)
def country_codes():
    """ISO 3166 alpha-2 codes of the countries a customer may be in."""
    return frozenset(code for code in babel_core.Locale('en').territories
                     if len(code) == 2 and code.isalpha() and
                     code not in NOT_COUNTRIES)


def country_choices(language='en'):
    """``(code, name)`` for every country, named and sorted in ``language``."""
    try:
        names = babel_core.Locale.parse(language.replace('-', '_'))
    except (ValueError, babel_core.UnknownLocaleError):
        names = babel_core.Locale('en')
    territories = names.territories
    return sorted(((code, territories.get(code, code))
                   for code in country_codes()),
                  key=lambda choice: choice[1])


def _module(name):
    return importlib.import_module('stdnum.' + name)


def _clean_text(value, field, errors_, key=None):
    """``value`` trimmed; a problem goes to ``errors_[key or field]``."""
    key = key or field
    value = unicodedata.normalize('NFC', str(value or '')).strip()
    try:
        document.check_one_line(value, key)
    except errors.AccountError as e:
        errors_[key] = e.message
        return value
    if len(value) > MAX_LENGTH[field]:
        errors_[key] = _('Use at most %(max)d characters (it has '
                         '%(length)d).') % {'max': MAX_LENGTH[field],
                                            'length': len(value)}
    return value


def _clean_country(value, field, errors_):
    value = value.upper()
    if value and value not in country_codes():
        errors_[field] = _('Choose a country from the list.')
    return value


def _clean_postal_code(value, country, field, errors_):
    if not value or field in errors_:
        return value
    value = document.ascii_digits(unicodedata.normalize('NFKC', value))
    pattern = POSTAL_CODES.get(country)
    if pattern is None:
        if not GENERIC_POSTAL_CODE.match(value):
            errors_[field] = _('Enter a postal code of letters, digits, '
                               'spaces and dashes.')
        return value
    if not pattern.match(value):
        errors_[field] = _('This is not a postal code of the chosen '
                           'country.')
        return value
    if country == 'SE':
        digits = value.replace(' ', '')
        return '%s %s' % (digits[:3], digits[3:])
    return value


def _clean_id_number(value, country, errors_):
    if not value or 'org_number' in errors_:
        return value
    modules = [_module(name) for name in ID_NUMBERS.get(country, ())]
    if not modules:
        if not GENERIC_ID_NUMBER.match(value):
            errors_['org_number'] = _('Enter the number with letters, '
                                      'digits, spaces, dots and dashes '
                                      'only.')
        return value
    for module in modules:
        try:
            compact = module.validate(value)
        except stdnum_exceptions.ValidationError:
            continue
        return module.format(compact) if hasattr(module, 'format') else (
            compact)
    errors_['org_number'] = _('This is not a valid organisation or personal '
                              'number of the chosen country: check the '
                              'digits.')
    return value


def _clean_vat_number(value, country, errors_):
    if not value or 'vat_number' in errors_:
        return value
    compact = re.sub(r'[\s.-]', '', value).upper()
    prefixes = VAT_PREFIX.get(country, (country,))
    if country.lower() in eu_vat.MEMBER_STATES or country == 'GR':
        if not compact.startswith(prefixes):
            errors_['vat_number'] = _('An EU VAT number starts with its '
                                      'country code (%(prefix)s for the '
                                      'chosen country).') % {
                'prefix': prefixes[0]}
            return value
        try:
            return eu_vat.validate(compact)
        except stdnum_exceptions.ValidationError:
            errors_['vat_number'] = _('This is not a valid VAT number: '
                                      'check the digits.')
            return value
    module = stdnum_util.get_cc_module(country.lower(), 'vat')
    if module is None:
        if not GENERIC_ID_NUMBER.match(value):
            errors_['vat_number'] = _('Enter the number with letters, '
                                      'digits, spaces, dots and dashes '
                                      'only.')
        return value
    try:
        return module.validate(value)
    except stdnum_exceptions.ValidationError:
        errors_['vat_number'] = _('This is not a valid VAT number of the '
                                  'chosen country: check the digits.')
        return value


def validate_customer(data):
    """The customer info to store, or ``errors.InvalidFields``."""
    errors_ = {}
    clean = {field: _clean_text(data.get(field), field, errors_)
             for field in document.CUSTOMER_FIELDS}
    for field in REQUIRED:
        if not clean[field] and field not in errors_:
            errors_[field] = _('This field is required.')
    country = _clean_country(clean['country'], 'country', errors_)
    clean['country'] = country
    if 'country' not in errors_:
        clean['postal_code'] = _clean_postal_code(
            clean['postal_code'], country, 'postal_code', errors_)
        clean['org_number'] = _clean_id_number(clean['org_number'],
                                               country, errors_)
        clean['vat_number'] = _clean_vat_number(clean['vat_number'],
                                                country, errors_)
    if clean['peppol_id'] and 'peppol_id' not in errors_:
        try:
            clean['peppol_id'] = peppol.clean_peppol_id(clean['peppol_id'])
        except peppol.PeppolIdError as e:
            errors_['peppol_id'] = e.message
    clean['billing_address'] = _clean_billing_address(
        data.get('billing_address'), errors_)
    if errors_:
        raise errors.InvalidFields(errors_)
    return clean


def _clean_billing_address(value, errors_):
    if not value:
        return None
    address = {}
    for field in document.ADDRESS_FIELDS:
        name = 'billing_' + field
        text = _clean_text(value.get(field), field, errors_, key=name)
        if not text and name not in errors_:
            errors_[name] = _('This field is required for a separate '
                              'billing address.')
        address[field] = text
    if 'billing_country' not in errors_:
        address['country'] = _clean_country(address['country'],
                                            'billing_country', errors_)
        if 'billing_country' not in errors_:
            address['postal_code'] = _clean_postal_code(
                address['postal_code'], address['country'],
                'billing_postal_code', errors_)
    return address


def update_customer(doc, data):
    """Store the validated ``data`` in ``doc`` (in place); returns it."""
    doc['customer'] = validate_customer(data)
    return doc['customer']
