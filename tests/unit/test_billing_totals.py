"""EN 16931 totals: line nets rounded, VAT rounded once per rate."""

import decimal
import types

import pytest

from cleura_billing_dashboard.billing import totals

D = decimal.Decimal


def lines(*specs, currency='SEK'):
    return [types.SimpleNamespace(
        net_amount=totals.line_net(D(q), D(p), currency), vat_rate=D(rate))
        for q, p, rate in specs]


@pytest.mark.parametrize('quantity, price, net', [
    ('3', '0.3333', '1.00'),        # 0.9999 rounds up
    ('1', '0.005', '0.01'),         # half rounds away from zero
    ('1', '0.00499', '0.00'),
    ('-1', '0.005', '-0.01'),       # symmetric for credit notes
    ('744', '0.45', '334.80'),
])
def test_line_net_is_rounded_to_minor_units(quantity, price, net):
    assert totals.line_net(D(quantity), D(price), 'SEK') == D(net)


def test_vat_is_rounded_once_per_rate_not_per_line():
    # Three lines of 0.10 at 25 %: per line 0.025 -> 0.03, three times 0.09;
    # once on the 0.30 base: 0.075 -> 0.08.
    result = totals.compute(lines(('1', '0.10', '25'), ('1', '0.10', '25'),
                                  ('1', '0.10', '25')), 'SEK')
    assert result.net_total == D('0.30')
    assert result.vat_total == D('0.08')
    assert result.total == D('0.38')


def test_breakdown_per_rate_highest_first():
    result = totals.compute(lines(
        ('744', '0.45', '25'),      # 334.80
        ('100.5', '0.033', '12'),   # 3.3165 -> 3.32
        ('2', '10', '25.00'),       # 20.00, same rate written otherwise
        ('1', '99.99', '0'),        # 99.99, no VAT
    ), 'SEK')
    assert [(v.rate, v.base, v.amount) for v in result.vat_breakdown] == [
        (D(25), D('354.80'), D('88.70')),
        (D(12), D('3.32'), D('0.40')),   # 0.3984
        (D(0), D('99.99'), D('0.00')),
    ]
    assert result.net_total == D('458.11')
    assert result.vat_total == D('89.10')
    assert result.total == D('547.21')


def test_negated_quantities_negate_every_amount():
    specs = [('3', '0.3333', '25'), ('1', '0.125', '12'), ('7', '1.01', '6')]
    invoice = totals.compute(lines(*specs), 'SEK')
    credit = totals.compute(lines(*[('-' + q, p, r) for q, p, r in specs]),
                            'SEK')
    assert credit.net_total == -invoice.net_total != 0
    assert credit.vat_total == -invoice.vat_total != 0
    assert credit.total == -invoice.total
    assert [v.amount for v in credit.vat_breakdown] == [
        -v.amount for v in invoice.vat_breakdown]


def test_currency_without_minor_units():
    result = totals.compute(lines(('3', '33.5', '10'), currency='JPY'),
                            'JPY')
    assert result.net_total == D('101')   # 100.5 rounds up
    assert result.vat_total == D('10')    # 10.1
    assert result.total == D('111')


def test_empty_invoice_totals_zero():
    result = totals.compute([], 'SEK')
    assert (result.net_total, result.vat_total, result.total) == (
        D('0.00'), D('0.00'), D('0.00'))
    assert result.vat_breakdown == ()


@pytest.mark.parametrize('value, text', [
    ('25.00', '25'), ('744.000000', '744'), ('0.450000', '0.45'),
    ('1000', '1000'), ('-3.10', '-3.1')])
def test_trim_drops_trailing_zeros_without_exponents(value, text):
    assert str(totals.trim(D(value))) == text
