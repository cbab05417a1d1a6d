"""Money: Decimal amounts in the currency's minor units, and formatting.

Every amount in the plugin is a ``decimal.Decimal`` paired with an ISO 4217
currency code; nothing here accepts a float.
"""

import decimal
import re

from babel import numbers

from cleura_billing_dashboard.i18n import _

ROUNDING = decimal.ROUND_HALF_UP
#: Digits before the decimal point an amount may have: the ledger stores
#: 18 digits, 4 of them decimals (``billing.models.AMOUNT``).
INTEGER_DIGITS = 14
_CURRENCY_CODE = re.compile(r'^[A-Z]{3}$')


def minor_units(currency):
    """Digits after the decimal point for ``currency`` (SEK 2, JPY 0)."""
    return numbers.get_currency_precision(currency)


def to_decimal(value):
    """``value`` (Decimal, int or str) as a Decimal; a float is refused."""
    if isinstance(value, float):
        raise TypeError('money must not be a float: %r' % value)
    try:
        result = decimal.Decimal(value)
    except decimal.InvalidOperation:
        raise ValueError('not an amount: %r' % (value,))
    if not result.is_finite():
        raise ValueError('not an amount: %r' % (value,))
    return result


def payment_amount_problem(amount, currency):
    """Why ``amount`` cannot be a payment in ``currency``; None if it can.

    ``amount`` is a Decimal, or the text it was read from (None or ''
    when there was none); a float is refused (``TypeError``). A payment
    is a finite amount above zero (so not -0), under 10**14, with no more
    decimals than ``currency`` has minor units: 0.005 SEK is none, 125.000
    SEK is 125.00 SEK. ``currency`` is an ISO 4217 code. The answer is a
    translated message naming the amount as it was given.
    """
    if isinstance(amount, float):
        raise TypeError('money must not be a float: %r' % amount)
    if amount is None or (isinstance(amount, str) and not amount.strip()):
        return _('no amount')
    text = str(amount).strip()
    values = {'amount': text, 'currency': currency}
    try:
        if isinstance(amount, str) and (not text.isascii() or '_' in text):
            raise decimal.InvalidOperation(text)
        value = decimal.Decimal(text if isinstance(amount, str) else amount)
    except (decimal.InvalidOperation, TypeError, ValueError):
        return _('%(amount)s is not a number') % values
    if value.is_nan():
        return _('%(amount)s is not a number') % values
    if value.is_infinite():
        return _('%(amount)s is not a finite amount') % values
    if value.is_zero():
        if value.is_signed():
            return _('%(amount)s is a negative zero') % values
        return _('%(amount)s is zero') % values
    if value.is_signed():
        return _('%(amount)s is negative') % values
    if value.adjusted() >= INTEGER_DIGITS:
        return _('%(amount)s is too large for a payment') % values
    if not currency:
        return _('no currency')
    if not (_CURRENCY_CODE.match(currency) and numbers.is_currency(currency)):
        return _('%(currency)s is not a currency code') % values
    digits = minor_units(currency)
    if value != value.quantize(decimal.Decimal(1).scaleb(-digits)):
        values['digits'] = digits
        return _('%(amount)s has more decimals than %(currency)s allows '
                 '(%(digits)d)') % values
    return None


def quantize(amount, currency):
    """``amount`` rounded half-up to the minor units of ``currency``."""
    exponent = decimal.Decimal(1).scaleb(-minor_units(currency))
    return to_decimal(amount).quantize(exponent, rounding=ROUNDING)


def to_minor_units(amount, currency):
    """``amount`` as an integer of minor units (12.50 SEK -> 1250).

    Rounded half-up to the minor unit first; what card providers (Stripe)
    take and report.
    """
    return int(quantize(amount, currency).scaleb(minor_units(currency)))


def from_minor_units(value, currency):
    """An integer of minor units as a Decimal amount (1250 SEK -> 12.50)."""
    return decimal.Decimal(int(value)).scaleb(-minor_units(currency))


def format_money(amount, currency, locale='en'):
    """``amount`` in ``currency`` written for ``locale`` (e.g. 1 234,50 kr)."""
    return numbers.format_currency(quantize(amount, currency), currency,
                                   locale=locale or 'en',
                                   currency_digits=True)


def format_decimal(amount, locale='en'):
    """A plain number (quantity, unit price, rate) written for ``locale``."""
    return numbers.format_decimal(to_decimal(amount), locale=locale or 'en',
                                  decimal_quantization=False)
