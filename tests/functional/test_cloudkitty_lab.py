"""billing_issue --source cloudkitty against the lab's real CloudKitty.

CloudKitty 25 (storage v2 on InfluxDB) behind the lab's Keystone, seeded
with rated data for acme and globex (tools/lab/cloudkitty.py); the
operator command runs through the demo's django-admin wrapper, as an
operator would run it against an installed Horizon.
"""

import decimal
import json
import re
import subprocess

import pytest

from tools.lab import cloudkitty as lab_cloudkitty

pytestmark = pytest.mark.functional

D = decimal.Decimal
# Periods of their own: other functional tests issue 2031's months.
PERIOD = '2037-05'        # acme and globex rated, every type mapped
UNMAPPED = '2037-06'      # globex also rated for a type not mapped
DOWN = '2037-07'          # read while CloudKitty is stopped

INVOICE_LINES = '''
import json
from cleura_billing_dashboard.billing.models import Invoice
print(json.dumps([[i.project_id, i.number, str(i.net_total),
                   [[l.product, l.region, str(l.quantity), l.unit,
                     str(l.net_amount)] for l in i.lines.all()]]
                  for i in Invoice.objects.filter(period_start=%r)]))
'''


@pytest.fixture(scope='module')
def rated(cloudkitty_lab):
    cloudkitty_lab.seed(PERIOD)
    rates = dict(lab_cloudkitty.RATES)
    rates['globex'] = rates['globex'] + [
        ('network.floating', {'id': 'fip-globex-1'}, 1, '0.01')]
    cloudkitty_lab.seed(UNMAPPED, rates)
    return cloudkitty_lab


@pytest.fixture(scope='module')
def issue(real_lab, tmp_path_factory):
    manage = tmp_path_factory.mktemp('ck-issue') / 'django-admin'
    real_lab.horizon.write_manage_script(str(manage))

    def run(period):
        return subprocess.run(
            [str(manage), 'billing_issue', '--source', 'cloudkitty',
             '--period', period], capture_output=True, text=True)
    return run


def invoices(real_lab, period):
    out = real_lab.horizon.manage(
        'shell', '-c', INVOICE_LINES % ('%s-01' % period)).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_a_period_is_issued_once_with_what_cloudkitty_rated(
        real_lab, rated, issue):
    first = issue(PERIOD)
    assert first.returncode == 0, first.stdout + first.stderr
    ids = rated.project_ids()
    issued = dict(re.findall(r'^Issued (\S+) to (\S+): ', first.stdout,
                             re.M))
    assert sorted(issued.values()) == sorted([ids['acme'], ids['globex']])

    again = issue(PERIOD)
    assert again.returncode == 0, again.stderr
    assert 'Issued' not in again.stdout
    assert 'already has an invoice for %s' % PERIOD in again.stdout

    # What CloudKitty's own summary says each project's types cost.
    expected = {}
    for row in rated.summary(PERIOD, ('project_id', 'type',
                                      'flavor_name')):
        product = ('compute.%s' % row['flavor_name']
                   if row['type'] == 'instance' else 'storage.volume')
        expected.setdefault(row['project_id'], {})[product] = (
            D(str(row['qty'])), D(str(row['rate'])).quantize(
                D('0.01'), decimal.ROUND_HALF_UP))
    found = invoices(real_lab, PERIOD)
    assert sorted(p for p, *_ in found) == sorted(expected)
    for project_id, number, net_total, lines in found:
        assert {product: (D(qty), D(amount))
                for product, region, qty, unit, amount in lines} == \
            expected[project_id], number
        assert {region for _p, region, *_r in lines} == {'RegionOne'}
        assert D(net_total) == sum(amount for _q, amount
                                   in expected[project_id].values())
    acme = next(lines for p, _n, _t, lines in found if p == ids['acme'])
    # May: 744 hours of m1.small at 0.05.
    assert [(product, D(qty), unit, D(amount))
            for product, _r, qty, unit, amount in acme
            if product == 'compute.m1.small'] == [
        ('compute.m1.small', D(744), 'h', D('37.20'))]


def test_an_unmapped_type_issues_nothing_and_is_named(real_lab, rated,
                                                      issue):
    res = issue(UNMAPPED)
    assert res.returncode != 0
    globex = rated.project_ids()['globex']
    assert ('CloudKitty: type: network.floating is not in [cloudkitty] '
            'mapping (rated for project %s in RegionOne)' % globex
            ) in res.stderr
    assert 'nothing was issued' in res.stderr
    assert 'Traceback' not in res.stderr
    assert invoices(real_lab, UNMAPPED) == []


def test_cloudkitty_stopped_issues_nothing_and_says_so(real_lab, rated,
                                                       issue):
    rated.stop_api()
    try:
        res = issue(DOWN)
    finally:
        rated.start_api()
    assert res.returncode != 0
    assert 'CloudKitty (RegionOne): CloudKitty at %s does not answer' \
        % rated.url in res.stderr
    assert 'nothing was issued' in res.stderr
    assert 'Traceback' not in res.stderr
    assert invoices(real_lab, DOWN) == []
