"""VAT treatment of an invoice, decided per buyer at issue.

This module is the rule; ``billing.issue`` applies it when it issues an
invoice and stores the treatment on the invoice (a buyer without a country
is domestic there), and the PDF, the e-invoice document and the pages show
what was stored.

The seller is established in an EU member state (``[seller] country``);
the buyer's country and VAT number are those of the billing account. The
services are electronically supplied (Annex II of Directive 2006/112/EC),
so the place of supply is the buyer's country, and:

* **domestic**: the buyer is in the seller's country. Category ``S``; each
  line keeps its own rate (today's behaviour).
* **reverse_charge**: a business in another member state, with a VAT
  number of that state (checked with python-stdnum: prefix, format and
  check digits; Greece's numbers start with ``EL``). Category ``AE``, 0 %,
  exemption reason ``VATEX-EU-AE`` "Reverse charge" (Articles 196 and
  226(11a) of the Directive); the invoice must show the buyer's VAT
  number (``Treatment.buyer_vat_number``, compacted).
* **oss**: a consumer (no VAT number) in another member state. Category
  ``S`` at that state's standard rate, from ``[vat] oss_rates`` (the
  One-Stop Shop, Union scheme, Articles 58 and 369a-369k). The EUR 10 000
  threshold of Article 59c, below which the seller's own rate may apply,
  is not modelled: an operator using OSS charges the buyer's rate.
* **outside_eu**: the buyer is outside the EU (Northern Ireland, ``GB``,
  included: its ``XI`` numbers concern goods only). The place of supply is
  outside the EU (Articles 44 and 59), so no EU VAT. Category ``G``
  "Export outside the EU", 0 %, exemption reason ``VATEX-EU-G``: the
  EN 16931 category that Peppol BIS 3.0 pairs with that code and that
  keeps the seller's VAT identifier allowed (BR-G-02 requires it). The
  alternative ``O`` "Not subject to VAT" forbids the seller's and the
  buyer's VAT identifiers on the whole invoice (BR-O-02) and any other
  category beside it (BR-O-11), which a VAT-registered seller's invoice
  cannot meet.

A VAT number that is given but invalid for the buyer's member state is
refused (``InvalidVatNumber``), not treated as a consumer: charging the
buyer's rate to a business that meant to self-assess, or reverse-charging
on a number that does not exist, would both be wrong invoices. The
number is not checked against VIES (that needs the network).

Rates are ``decimal.Decimal`` percentages; a float is refused.
"""

import dataclasses
import decimal

from django.utils import functional
from django.utils.translation import gettext_lazy as _
from stdnum.eu import vat as eu_vat
from stdnum import exceptions as stdnum_exceptions

DOMESTIC = 'domestic'
REVERSE_CHARGE = 'reverse_charge'
OSS = 'oss'
OUTSIDE_EU = 'outside_eu'
KINDS = (DOMESTIC, REVERSE_CHARGE, OSS, OUTSIDE_EU)

#: The 27 member states by ISO 3166 code (Greece GR, not EL).
EU_MEMBER_STATES = frozenset((
    'AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR',
    'HR', 'HU', 'IE', 'IT', 'LT', 'LU', 'LV', 'MT', 'NL', 'PL', 'PT', 'RO',
    'SE', 'SI', 'SK'))

#: The prefix of a member state's VAT numbers where it is not the ISO code.
VAT_PREFIX = {'GR': 'EL'}
#: The ISO code of a country written by its VAT prefix.
_ISO_CODE = {'EL': 'GR'}

ZERO = decimal.Decimal('0')


def _lazy_format(message, values):
    """``message % values``, translated when it is rendered."""
    return functional.lazy(lambda: str(message) % values, str)()


class VatError(ValueError):
    """The treatment cannot be decided.

    ``message`` is for the user (a lazy translation), ``code`` a stable
    identifier for programs.
    """

    def __init__(self, message, code):
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self):
        return str(self.message)


class InvalidVatNumber(VatError):
    """An EU buyer's VAT number is not valid for the buyer's country."""


class MissingOssRate(VatError):
    """The rates table names no rate for the buyer's member state."""


@dataclasses.dataclass(frozen=True)
class Treatment:
    """How VAT applies to one invoice.

    ``category`` is the EN 16931 VAT category code (BT-151/BT-118): S, AE
    or G. ``rate`` is the percentage every line is charged, or None for
    "each line's own rate" (domestic). ``exemption_reason_code`` (BT-121,
    VATEX) and ``exemption_reason`` (BT-120, a lazy translation) are set
    for the 0 % categories. ``buyer_vat_number`` is the number the invoice
    must show (reverse charge), compacted, else None.
    """

    kind: str
    category: str
    rate: decimal.Decimal = None
    exemption_reason_code: str = None
    exemption_reason: object = None
    buyer_vat_number: str = None


def country_code(value):
    """``value`` as an ISO 3166 code: upper case, ``EL`` read as ``GR``."""
    code = (value or '').strip().upper()
    return _ISO_CODE.get(code, code)


def rate(value):
    """A VAT rate in percent as a Decimal: 0 <= rate < 100.

    ``value`` is a Decimal, int or str; a float is refused (``TypeError``),
    anything else not a rate is a ``ValueError``.
    """
    if isinstance(value, float):
        raise TypeError('a VAT rate must not be a float: %r' % value)
    try:
        result = decimal.Decimal(value.strip() if isinstance(value, str)
                                 else value)
    except (decimal.InvalidOperation, TypeError, ValueError):
        raise ValueError('not a VAT rate: %r' % (value,))
    if not result.is_finite() or not ZERO <= result < 100:
        raise ValueError('not a VAT rate between 0 and 100: %r' % (value,))
    return result


def buyer_vat_number(country, number):
    """``number`` compacted, if it is a valid VAT number of ``country``.

    ``country`` is a member state's ISO code. Raises ``InvalidVatNumber``
    when the number belongs to another country or fails python-stdnum's
    format and check-digit tests.
    """
    prefix = VAT_PREFIX.get(country, country)
    values = {'number': number, 'prefix': prefix}
    try:
        compact = eu_vat.compact(number)
    except stdnum_exceptions.ValidationError:
        compact = ''
    if compact[:2] != prefix:
        raise InvalidVatNumber(
            _lazy_format(_('The VAT number %(number)s is not one of the '
                           'buyer\'s country: it must start with '
                           '%(prefix)s.'), values),
            'vat_number_country')
    try:
        return eu_vat.validate(compact)
    except stdnum_exceptions.ValidationError:
        raise InvalidVatNumber(
            _lazy_format(_('The VAT number %(number)s is not a valid VAT '
                           'number: check the digits.'), values),
            'vat_number_invalid')


def decide(seller_country, buyer_country, buyer_vat_number_, oss_rates):
    """The ``Treatment`` of an invoice from a seller to a buyer.

    ``seller_country`` is an EU member state (``ValueError`` otherwise: a
    configuration mistake); ``buyer_country`` an ISO 3166 code (``EL`` is
    read as ``GR``); ``buyer_vat_number_`` the buyer's VAT number or
    None/''; ``oss_rates`` maps member states to standard rates (Decimal or
    str), e.g. ``[vat] oss_rates``. Raises ``InvalidVatNumber`` for an EU
    business's invalid number and ``MissingOssRate`` for a consumer whose
    country has no rate.
    """
    seller = country_code(seller_country)
    if seller not in EU_MEMBER_STATES:
        raise ValueError('the seller country %r is not an EU member state'
                         % (seller_country,))
    buyer = country_code(buyer_country)
    if not buyer:
        raise ValueError('no buyer country')
    number = (buyer_vat_number_ or '').strip()
    if buyer == seller:
        return Treatment(kind=DOMESTIC, category='S')
    if buyer not in EU_MEMBER_STATES:
        return Treatment(
            kind=OUTSIDE_EU, category='G', rate=ZERO,
            exemption_reason_code='VATEX-EU-G',
            exemption_reason=_('Export outside the EU: not subject to EU '
                               'VAT, the place of supply is outside the '
                               'EU (Articles 44 and 59 of Directive '
                               '2006/112/EC)'))
    if number:
        return Treatment(
            kind=REVERSE_CHARGE, category='AE', rate=ZERO,
            exemption_reason_code='VATEX-EU-AE',
            exemption_reason=_('Reverse charge (Article 196 of Directive '
                               '2006/112/EC)'),
            buyer_vat_number=buyer_vat_number(buyer, number))
    rates = {country_code(code): value for code, value in oss_rates.items()}
    if buyer not in rates:
        raise MissingOssRate(
            _lazy_format(_('No VAT rate for %(country)s in the OSS rates '
                           'table ([vat] oss_rates of the configuration).'),
                         {'country': buyer}), 'oss_rate_missing')
    return Treatment(kind=OSS, category='S', rate=rate(rates[buyer]))


def decide_from_config(buyer_country, buyer_vat_number_, conf=None):
    """``decide`` with the seller country and OSS rates of the config."""
    if conf is None:
        from cleura_billing_dashboard import conf as conf_mod
        conf = conf_mod.get_conf()
    return decide(conf.seller.country, buyer_country, buyer_vat_number_,
                  conf.vat.oss_rates)


def line_rate(treatment, usage_rate):
    """The rate a line at ``usage_rate`` is charged under ``treatment``."""
    if treatment.rate is None:
        return rate(usage_rate)
    return treatment.rate
