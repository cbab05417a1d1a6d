"""Usage files: good ones read exactly, bad ones refused with every problem."""

import decimal
import json

import pytest

from cleura_billing_dashboard import usage

D = decimal.Decimal


def line(**fields):
    values = {'product': 'compute.m1.small', 'description': 'm1.small',
              'region': 'Sto2', 'quantity': '744', 'unit': 'h',
              'unit_price': '0.45'}
    values.update(fields)
    return values


def problems(data, fmt):
    with pytest.raises(usage.UsageError) as raised:
        usage.parse_usage(data, fmt)
    return [(p.where, p.field) for p in raised.value.problems]


def test_json_is_read_as_decimals_with_the_default_vat_rate():
    data = ('{"period": "2026-10", "currency": "SEK", "projects": ['
            '{"project_id": "p1", "lines": ['
            '{"product": "storage", "region": "Sto2", "quantity": 0.1,'
            ' "unit": "GB", "unit_price": 1.10, "vat_rate": 12.5},'
            '{"product": "ip", "region": "Kna1", "quantity": 3,'
            ' "unit": "pcs", "unit_price": "20", "currency": "SEK"}]},'
            '{"project_id": "p2", "lines": [{"product": "ip",'
            ' "region": "Kna1", "quantity": "1", "unit": "pcs",'
            ' "unit_price": "20"}]}]}')
    result = usage.parse_usage(data, 'json')
    assert result.period == '2026-10'
    assert list(result.projects) == ['p1', 'p2']
    first, second = result.projects['p1']
    # Exact decimals: a float would make 0.1 into 0.1000000000000000055...
    assert first.quantity == D('0.1') and isinstance(first.quantity, D)
    assert first.unit_price == D('1.10')
    assert first.vat_rate == D('12.5')
    assert first.description == ''
    assert second.quantity == D(3) and isinstance(second.quantity, D)
    assert second.vat_rate == D('25')  # [billing] default_vat_rate


def test_csv_is_read_with_optional_columns_left_out():
    data = ('project_id,product,region,quantity,unit,unit_price\r\n'
            'p1,compute,Sto2,744,h,0.45\r\n'
            'p2,ip,Kna1,1,pcs,20\r\n'
            'p1,storage,Sto2, 100.5 ,GB,0.033\r\n').encode('utf-8-sig')
    result = usage.parse_usage(data, 'csv')
    assert result.period is None
    assert [line.product for line in result.projects['p1']] == [
        'compute', 'storage']
    assert result.projects['p1'][1].quantity == D('100.5')
    assert result.projects['p2'][0].vat_rate == D(25)


def test_csv_with_every_column():
    data = ('project_id,product,description,region,quantity,unit,'
            'unit_price,vat_rate,currency\n'
            'p1,compute,"Instance ""web"", 2 vCPU",Sto2,744,h,0.45,6,SEK\n'
            'p1,support,,Sto2,1,month,100,,\n')
    lines = usage.parse_usage(data, 'csv').projects['p1']
    assert lines[0].description == 'Instance "web", 2 vCPU'
    assert lines[0].vat_rate == D(6)
    assert lines[1].vat_rate == D(25)


def test_malformed_csv_lists_every_problem_with_line_and_field():
    data = ('project_id,product,description,region,quantity,unit,'
            'unit_price,vat_rate\n'
            'p1,compute,,Sto2,744,h,0.45,25\n'            # line 2: fine
            ',compute,,Sto2,abc,h,-1,25\n'                # line 3
            'p1,,"two\nlines",,1,h,1,101\n'               # lines 4-5
            'p1,x,,Sto2,1.1234567,%s,1,25\n'              # line 6
            'p1,x,,Sto2,1,h,1,25,extra\n'                 # line 7
            'p1,x,,Sto2,1,h,1,NaN\n'                      # line 8
            % ('u' * 17))
    assert problems(data, 'csv') == [
        ('line 3', 'project_id'),
        ('line 3', 'quantity'),
        ('line 3', 'unit_price'),
        ('line 5', 'product'),
        ('line 5', 'region'),
        ('line 5', 'vat_rate'),
        ('line 6', 'unit'),
        ('line 6', 'quantity'),
        ('line 7', ''),
        ('line 8', 'vat_rate'),
    ]


def test_csv_header_problems_are_all_listed():
    data = 'project,product,region,quantity,unit_price,colour\np,x,r,1,1,r\n'
    assert problems(data, 'csv') == [
        ('line 1', 'project_id'), ('line 1', 'unit'),
        ('line 1', 'project'), ('line 1', 'colour')]


def test_malformed_json_lists_every_problem_with_path_and_field():
    doc = {'period': '2026-13', 'currency': 'EUR', 'projects': [
        {'project_id': 'p1', 'lines': [
            line(),
            line(quantity='1e400000000000000000000000'),
            line(unit_price=True, vat_rate='25.001', region=''),
            'not a line',
        ]},
        {'project_id': 'x' * 65, 'lines': []},
        {'lines': [line(currency='EUR', description='d' * 256)]},
        42,
    ]}
    assert problems(json.dumps(doc), 'json') == [
        ('$', 'period'),
        ('$', 'currency'),
        ('projects[0].lines[1]', 'quantity'),
        ('projects[0].lines[2]', 'region'),
        ('projects[0].lines[2]', 'unit_price'),
        ('projects[0].lines[2]', 'vat_rate'),
        ('projects[0].lines[3]', ''),
        ('projects[1]', 'project_id'),
        ('projects[1]', 'lines'),
        ('projects[2]', 'project_id'),
        ('projects[2].lines[0]', 'description'),
        ('projects[2].lines[0]', 'currency'),
        ('projects[3]', ''),
    ]


@pytest.mark.parametrize('data', [
    '', '{"projects": [', '[]', '{"projects": [{"project_id": "p",'
    ' "lines": [{"quantity": NaN}]}]}', '{"projects": "all"}'])
def test_json_that_is_not_a_usage_document_is_refused(data):
    assert problems(data, 'json')


@pytest.mark.parametrize('data, fmt', [
    ('{"projects": []}', 'json'),
    ('project_id,product,region,quantity,unit,unit_price\n', 'csv'),
])
def test_a_file_without_lines_is_refused(data, fmt):
    assert problems(data, fmt) == [('file', '')]


def test_text_that_is_not_utf8_is_refused():
    assert problems(b'project_id\n\xff\xfe\n', 'csv') == [('file', '')]


def test_problem_reads_where_field_and_message():
    with pytest.raises(usage.UsageError) as raised:
        usage.parse_usage('project_id,product,region,quantity,unit,'
                          'unit_price\np,x,r,1,h,1.5.0\n', 'csv')
    assert str(raised.value) == "line 2: unit_price: not a number: '1.5.0'"


def test_load_usage_picks_the_format_by_extension(tmp_path):
    json_file = tmp_path / 'usage.JSON'
    json_file.write_text(json.dumps(
        {'projects': [{'project_id': 'p', 'lines': [line()]}]}))
    csv_file = tmp_path / 'usage.txt'
    csv_file.write_text('project_id,product,region,quantity,unit,'
                        'unit_price\np,x,r,2,h,1\n')
    assert usage.load_usage(str(json_file)).projects['p'][0].quantity == 744
    assert usage.load_usage(str(csv_file)).projects['p'][0].quantity == 2
    with pytest.raises(usage.UsageError):
        usage.load_usage(str(tmp_path / 'missing.csv'))
