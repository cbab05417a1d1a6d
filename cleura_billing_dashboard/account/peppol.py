"""Peppol participant ids: the buyer's address in the Peppol network.

``clean_peppol_id(value)`` takes what the customer typed and returns the
id to store, ``scheme:identifier`` (``0007:5566778899``), or raises
``PeppolIdError`` with a message for the user. The scheme must be a code
of the Peppol EAS list (``EAS_CODES``); for the schemes below the
identifier is checked with python-stdnum, as the Peppol rules check them
(PEPPOL-COMMON-R040..R042) or as the register defines them, and stored in
its compact form:

* 0007 Swedish organisation number (``se.orgnr``), 10 digits;
* 0192 Norwegian organisation number (``no.orgnr``), 9 digits;
* 0184 Danish CVR number (``dk.cvr``), 8 digits;
* 0088 GLN (``ean``), 13 digits;
* the 99xx "XX:VAT" schemes (``VAT_SCHEMES``): the country's VAT number,
  with its country code for EU countries (``eu.vat``), Greece's without
  EL (GR-R-010); elsewhere stdnum's VAT module of the country when it has
  one.

Any other scheme of the list takes an identifier of visible ASCII
characters, without spaces. The ``iso6523-actorid-upis::`` prefix of a
full Peppol participant identifier is accepted and dropped.
"""

import re
import unicodedata

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from stdnum.dk import cvr as dk_cvr
from stdnum import ean
from stdnum.eu import vat as eu_vat
from stdnum import exceptions as stdnum_exceptions
from stdnum.no import orgnr as no_orgnr
from stdnum.se import orgnr as se_orgnr
from stdnum import util as stdnum_util

from cleura_billing_dashboard.account import document
from cleura_billing_dashboard.einvoice import ubl

# The Peppol Electronic Address Scheme (EAS) codes, as the Peppol BIS
# Billing 3.0 rules 3.0.21 (OpenPeppol release 2026.5, May 2026) list them
# in PEPPOL-EN16931-UBL.sch, variable "eaid" (rules PEPPOL-EN16931-R010,
# R020: the parties' electronic addresses); copied from the compiled
# tests/einvoice/artefacts/peppol/PEPPOL-EN16931-UBL.xslt. Update with the
# rules.
EAS_CODES = frozenset('''
    0002 0007 0009 0060 0088 0096 0097 0106 0130 0135 0142 0151 0183 0184
    0188 0190 0191 0192 0195 0196 0198 0199 0200 0201 0204 0208 0209 0210
    0211 0216 0218 0221 0225 0230 0235 0240 0242 0244 0245 0246 0248 9910
    9913 9914 9915 9918 9919 9920 9922 9923 9924 9925 9926 9927 9928 9929
    9930 9931 9932 9933 9934 9935 9936 9937 9938 9939 9940 9941 9942 9943
    9944 9945 9946 9947 9948 9949 9950 9951 9952 9953 9957 9959
'''.split())

# The "XX:VAT" schemes of the EAS list: scheme -> country (the e-invoice
# writers' table, inverted).
VAT_SCHEMES = {scheme: country
               for country, scheme in ubl.VAT_SCHEMES.items()}
# Scheme -> (stdnum module, what the identifier is, for the message).
REGISTERS = {
    '0007': (se_orgnr, _('Swedish organisation number')),
    '0192': (no_orgnr, _('Norwegian organisation number')),
    '0184': (dk_cvr, _('Danish CVR number')),
    '0088': (ean, _('GLN (13-digit global location number)')),
}
# In a sentence, not the form's label: lower case in Swedish.
VAT_NUMBER = pgettext_lazy('kind of identifier', 'VAT number')
# Peppol's policy for identifiers caps a participant id's value at 50.
MAX_IDENTIFIER = 50
PREFIX = 'iso6523-actorid-upis::'
GENERIC_IDENTIFIER = re.compile(r'^[\x21-\x7e]+$')
# Greece's VAT numbers start with EL.
VAT_PREFIX = {'GR': 'EL'}


class PeppolIdError(ValueError):
    """``message`` tells the user what is wrong with the id."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def clean_peppol_id(value):
    """``value`` as the stored ``scheme:identifier``; '' for an empty one.

    Raises ``PeppolIdError``.
    """
    value = unicodedata.normalize('NFKC', str(value or '')).strip()
    if not value:
        return ''
    if value.lower().startswith(PREFIX):
        value = value[len(PREFIX):]
    scheme, colon, identifier = value.partition(':')
    scheme = document.ascii_digits(scheme).strip()
    identifier = identifier.strip()
    if not colon or not scheme or not identifier:
        raise PeppolIdError(_('Write the Peppol ID as scheme:identifier, '
                              'e.g. 0007:5566778899 for a Swedish '
                              'organisation number.'))
    if scheme not in EAS_CODES:
        raise PeppolIdError(_('%(scheme)s is not a scheme of the Peppol EAS '
                              'code list: start with its four-digit code, '
                              'e.g. 0007 for a Swedish organisation '
                              'number.') % {'scheme': scheme})
    return '%s:%s' % (scheme, _clean_identifier(scheme, identifier))


def _bad(kind):
    return PeppolIdError(_('The identifier is not a valid %(kind)s: check '
                           'the digits.') % {'kind': kind})


def _clean_identifier(scheme, identifier):
    if scheme in REGISTERS:
        module, kind = REGISTERS[scheme]
        try:
            compact = module.validate(document.ascii_digits(identifier))
        except stdnum_exceptions.ValidationError:
            raise _bad(kind)
        if module is ean and len(compact) != 13:
            raise _bad(kind)
        return compact
    if scheme in VAT_SCHEMES:
        return _clean_vat_number(VAT_SCHEMES[scheme], identifier)
    if len(identifier) > MAX_IDENTIFIER or not GENERIC_IDENTIFIER.match(
            identifier):
        raise PeppolIdError(_('Write the identifier without spaces, in at '
                              'most %(max)d letters, digits and '
                              'punctuation.') % {'max': MAX_IDENTIFIER})
    return identifier


def _clean_vat_number(country, identifier):
    compact = re.sub(r'[\s.-]', '', document.ascii_digits(
        identifier)).upper()
    prefix = VAT_PREFIX.get(country, country)
    if country.lower() in eu_vat.MEMBER_STATES or country == 'GR':
        if not compact.startswith(prefix):
            compact = prefix + compact
        try:
            compact = eu_vat.validate(compact)
        except stdnum_exceptions.ValidationError:
            raise _bad(VAT_NUMBER)
        # GR-R-010: a Greek electronic address is the TIN, without EL.
        return compact[2:] if country == 'GR' else compact
    module = stdnum_util.get_cc_module(country.lower(), 'vat')
    if module is not None:
        bare = compact[len(country):] if compact.startswith(country) else (
            compact)
        if not any(_valid(module, number) for number in (compact, bare)):
            raise _bad(VAT_NUMBER)
    elif len(compact) > MAX_IDENTIFIER or not GENERIC_IDENTIFIER.match(
            compact):
        raise _bad(VAT_NUMBER)
    return compact


def _valid(module, number):
    try:
        module.validate(number)
    except stdnum_exceptions.ValidationError:
        return False
    return True
