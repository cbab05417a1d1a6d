"""Rated usage to usage lines: the [cloudkitty] mapping and the rounding."""

import decimal

import pytest

from cleura_billing_dashboard import usage
from cleura_billing_dashboard.usage import rated

D = decimal.Decimal
MAPPING = [
    'instance | compute.{flavor_name} | h | 25 | {flavor_name} instance',
    'volume.size | storage.volume | GB-h |  | Block storage',
    'image.size | storage.image | GB-h | 12.5',
]


def row(rating_type='instance', qty='720', rate='36', project='p1',
        region='Sto2', **groupby):
    return rated.Row(region, project, rating_type, D(qty), D(rate),
                     groupby or {'flavor_name': 'm1.small'})


def mappings():
    return rated.parse_mapping(MAPPING, ['flavor_name'],
                               default_vat_rate='25')


def problems(call, *args, **kwargs):
    with pytest.raises(usage.UsageError) as raised:
        call(*args, **kwargs)
    return [str(p) for p in raised.value.problems]


def test_a_mapping_names_product_unit_vat_and_description():
    found = mappings()
    assert found['instance'] == rated.Mapping(
        'instance', 'compute.{flavor_name}', 'h', D(25),
        '{flavor_name} instance')
    assert found['volume.size'].vat_rate == D(25)   # the default
    assert found['image.size'].vat_rate == D('12.5')
    assert found['image.size'].description == ''


def test_every_bad_mapping_entry_is_named_by_its_position():
    assert problems(rated.parse_mapping, [
        'instance',
        'instance | compute | h | 25',
        'instance | compute | h | 25',
        'ip | | h | 101',
        'volume | storage.{region} | GB | 25',
        'x | a{ | h | 25',
    ], ['flavor_name'], default_vat_rate='25') == [
        "[cloudkitty] mapping 1: must be TYPE | PRODUCT | UNIT | VAT | "
        "DESCRIPTION, not 'instance'",
        '[cloudkitty] mapping 3: type: instance is mapped twice',
        '[cloudkitty] mapping 4: product: required',
        '[cloudkitty] mapping 4: vat_rate: must be a percentage, 0 to 100',
        '[cloudkitty] mapping 5: product: names region, not in '
        '[cloudkitty] groupby',
        '[cloudkitty] mapping 6: product: a { or } that names no field',
    ]


@pytest.mark.parametrize('qty, rate, expected', [
    # One price per unit: the line is exactly quantity x price.
    ('720', '36.00000000000003', (D('720'), D('0.05'), D('36.00'))),
    ('7200', '71.99999999999989', (D('7200'), D('0.01'), D('72.00'))),
    # Half a cent rounds away from zero.
    ('3', '0.125', (D('3'), D('0.043333'), D('0.13'))),
    ('0.0000004', '0', (D('0'), None, D('0.00'))),
])
def test_the_amount_is_what_was_rated_to_the_cent(qty, rate, expected):
    quantity, unit_price, amount = rated.line_amounts(D(qty), D(rate),
                                                      'SEK')
    assert (quantity, unit_price, amount) == expected
    if unit_price is not None:
        assert (quantity * unit_price).quantize(D('0.01'),
                                                decimal.ROUND_HALF_UP) \
            == amount


def test_rows_become_lines_per_project_with_the_mapping_applied():
    result = rated.usage_from_rows([
        row(),
        row(qty='1440', rate='180', flavor_name='m1.large'),
        row('volume.size', qty='7200', rate='72', flavor_name=None),
        row(project='p2', qty='10', rate='0.004'),   # rated 0.00: no line
        row(project='p3', rate='1.5', region='Kna1'),
    ], mappings(), '2031-05', currency='SEK')
    assert result.period == '2031-05'
    assert list(result.projects) == ['p1', 'p3']
    small, large, volume = result.projects['p1']
    assert small == usage.Line('compute.m1.small', 'm1.small instance',
                               'Sto2', D(720), 'h', D('0.05'), D(25))
    assert (large.product, large.quantity, large.unit_price) == (
        'compute.m1.large', D(1440), D('0.125'))
    assert (volume.product, volume.description, volume.unit) == (
        'storage.volume', 'Block storage', 'GB-h')
    assert result.projects['p3'][0].region == 'Kna1'


def test_a_quantity_no_unit_price_fits_is_one_lot_of_the_amount():
    # 20000 h at mixed prices: no price of 6 places gives 1234.57.
    [line] = rated.usage_from_rows(
        [row(qty='20000', rate='1234.5678')], mappings(), '2031-05',
        currency='SEK').projects['p1']
    assert (line.quantity, line.unit, line.unit_price) == (
        D(1), 'lot', D('1234.57'))
    assert line.description == 'm1.small instance (20000 h)'


def test_an_unmapped_type_anywhere_stops_everything_and_is_named():
    assert problems(rated.usage_from_rows, [
        row(), row('network.floating', project='p2'),
        row('network.floating', project='p3'),
        row(project='p4', rate='-3'), row(project=None)],
        mappings(), '2031-05', currency='SEK') == [
        'project p4 in Sto2: instance: CloudKitty rated -3.00: a negative '
        'amount is not invoiced from usage',
        'a row in Sto2: project_id: CloudKitty rated instance without a '
        'project',
        'CloudKitty: type: network.floating is not in [cloudkitty] mapping '
        '(rated for project p2 in Sto2; project p3 in Sto2)',
    ]
