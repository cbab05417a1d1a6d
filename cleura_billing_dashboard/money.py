"""Money: Decimal amounts in the currency's minor units, and formatting.

Every amount in the plugin is a ``decimal.Decimal`` paired with an ISO 4217
currency code; nothing here accepts a float.
"""

import decimal

from babel import numbers

ROUNDING = decimal.ROUND_HALF_UP


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


def quantize(amount, currency):
    """``amount`` rounded half-up to the minor units of ``currency``."""
    exponent = decimal.Decimal(1).scaleb(-minor_units(currency))
    return to_decimal(amount).quantize(exponent, rounding=ROUNDING)


def format_money(amount, currency, locale='en'):
    """``amount`` in ``currency`` written for ``locale`` (e.g. 1 234,50 kr)."""
    return numbers.format_currency(quantize(amount, currency), currency,
                                   locale=locale or 'en',
                                   currency_digits=True)


def format_decimal(amount, locale='en'):
    """A plain number (quantity, unit price, rate) written for ``locale``."""
    return numbers.format_decimal(to_decimal(amount), locale=locale or 'en',
                                  decimal_quantization=False)
