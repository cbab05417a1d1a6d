"""Invoice totals by EN 16931: line nets, VAT rounded once per rate, total.

* a line's net is ``quantize(quantity * unit_price)``;
* the net total is the sum of the line nets;
* the VAT of a rate is ``quantize(sum of nets at that rate * rate / 100)``,
  rounded once per rate, never per line;
* the VAT total is the sum over the rates; the total is net + VAT.

Rounding is half away from zero (``money.quantize``), so negating every
quantity (a credit note) negates every amount exactly.
"""

import dataclasses
import decimal

from cleura_billing_dashboard import money

HUNDRED = decimal.Decimal(100)


@dataclasses.dataclass(frozen=True)
class VatAmount:
    """The VAT of one rate: ``rate`` percent of ``base`` is ``amount``."""

    rate: decimal.Decimal
    base: decimal.Decimal
    amount: decimal.Decimal


@dataclasses.dataclass(frozen=True)
class Totals:
    net_total: decimal.Decimal
    vat_breakdown: tuple  # of VatAmount, highest rate first
    vat_total: decimal.Decimal
    total: decimal.Decimal


def line_net(quantity, unit_price, currency):
    """The net amount of a line, in the currency's minor units."""
    return money.quantize(money.to_decimal(quantity) *
                          money.to_decimal(unit_price), currency)


def compute(lines, currency):
    """``Totals`` of ``lines``: objects with ``net_amount`` and ``vat_rate``.

    The line nets must already be quantized (see ``line_net``).
    """
    bases = {}
    for line in lines:
        rate = trim(line.vat_rate)
        bases[rate] = bases.get(rate, decimal.Decimal(0)) + line.net_amount
    zero = money.quantize(0, currency)
    net_total = sum(bases.values(), zero)
    breakdown = tuple(
        VatAmount(rate, money.quantize(base, currency),
                  money.quantize(base * rate / HUNDRED, currency))
        for rate, base in sorted(bases.items(), reverse=True))
    vat_total = sum((vat.amount for vat in breakdown), zero)
    return Totals(money.quantize(net_total, currency), breakdown, vat_total,
                  money.quantize(net_total + vat_total, currency))


def trim(value):
    """``value`` without trailing zeros and never in exponent form.

    Database columns give back ``Decimal('25.00')`` for a rate of 25 and
    ``Decimal('744.000000')`` for a quantity of 744; documents show ``25``.
    """
    value = money.to_decimal(value)
    if value == value.to_integral_value():
        return value.quantize(decimal.Decimal(1))
    return value.normalize()
