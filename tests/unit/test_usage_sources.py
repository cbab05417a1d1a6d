"""Usage sources: billing_issue --source file (as before) and cloudkitty.

CloudKitty here is a stand-in HTTP server answering the v2 summary, page
by page; tests/functional/test_cloudkitty_lab.py runs the real one.
"""

import decimal
import http.server
import io
import json
import threading
import urllib.parse

from django.core.management import call_command
from django.core.management import CommandError
from keystoneauth1 import access as ks_access
from keystoneauth1 import session as ks_session
import pytest

from cleura_billing_dashboard.api import cloudkitty
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard import conf
from cleura_billing_dashboard.usage import sources

D = decimal.Decimal
ROWS = [
    {'project_id': 'proj-a', 'type': 'instance', 'flavor_name': 'm1.small',
     'qty': 720.0, 'rate': 36.00000000000003},
    {'project_id': 'proj-a', 'type': 'volume.size', 'flavor_name': None,
     'qty': 7200.0, 'rate': 71.99999999999989},
    {'project_id': 'proj-b', 'type': 'instance', 'flavor_name': 'm1.large',
     'qty': 720.0, 'rate': 90.0},
]
MAPPING = ['instance | compute.{flavor_name} | h | 25 | '
           '{flavor_name} instance',
           'volume.size | storage.volume | GB-h | 25 | Block storage']


class FakeCloudKitty(http.server.BaseHTTPRequestHandler):
    rows = ROWS
    requests = []

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        type(self).requests.append(query)
        if url.path != '/v2/summary':
            self.send_error(404)
            return
        offset, limit = int(query['offset'][0]), int(query['limit'][0])
        page = self.rows[offset:offset + limit]
        body = json.dumps({'total': len(self.rows), 'results': page,
                           'format': 'object'}).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_cloudkitty(monkeypatch):
    FakeCloudKitty.requests = []
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                             FakeCloudKitty)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = 'http://127.0.0.1:%d' % server.server_port
    options = conf.get_conf()
    overrides = {'endpoints': {'Sto2': url}, 'mapping': MAPPING,
                 'groupby': ['flavor_name']}
    for name, value in overrides.items():
        options.set_override(name, value, 'cloudkitty')
    # No Keystone here: requests go to [cloudkitty] endpoints unsigned.
    monkeypatch.setattr(cloudkitty, '_session',
                        lambda: ks_session.Session(timeout=5))
    yield url
    for name in overrides:
        options.clear_override(name, 'cloudkitty')
    server.shutdown()
    server.server_close()


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command('billing_issue', *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_file_and_cloudkitty_are_installed_sources():
    assert {'file', 'cloudkitty'} <= set(sources.names())
    assert isinstance(sources.load('file', usage='x.json'),
                      sources.FileSource)
    with pytest.raises(LookupError, match='installed: .*file'):
        sources.load('nosuch')


@pytest.mark.django_db
def test_the_file_source_needs_a_file():
    with pytest.raises(CommandError, match='--usage FILE is required'):
        run('--source', 'file')


@pytest.mark.django_db
def test_a_period_from_cloudkitty_is_issued_once(fake_cloudkitty,
                                                 monkeypatch):
    monkeypatch.setattr(cloudkitty, 'PAGE', 2)   # three rows: two pages
    out, err = run('--source', 'cloudkitty', '--period', '2031-05',
                   '--issue-date', '2031-06-02')
    assert out.splitlines() == [
        'Issued 2031-000001 to proj-a: SEK135.00',   # (36 + 72) + 25 %
        'Issued 2031-000002 to proj-b: SEK112.50',
    ], err
    first = FakeCloudKitty.requests[0]
    assert first['begin'] == ['2031-05-01T00:00:00+00:00']
    assert first['end'] == ['2031-06-01T00:00:00+00:00']
    assert first['groupby'] == ['project_id', 'type', 'flavor_name']
    assert [q['offset'] for q in FakeCloudKitty.requests] == [['0'], ['2']]
    lines = sorted((line.product, line.description, line.region,
                    line.quantity, line.unit, line.unit_price,
                    line.net_amount)
                   for line in Invoice.objects.get(project_id='proj-a')
                   .lines.all())
    assert lines == [
        ('compute.m1.small', 'm1.small instance', 'Sto2', 720, 'h',
         D('0.05'), 36),
        ('storage.volume', 'Block storage', 'Sto2', 7200, 'GB-h',
         D('0.01'), 72)]

    out, err = run('--source', 'cloudkitty', '--period', '2031-05')
    assert 'Issued' not in out
    assert Invoice.objects.count() == 2


@pytest.mark.django_db
def test_an_unmapped_type_issues_nothing_and_names_it(fake_cloudkitty,
                                                      monkeypatch):
    monkeypatch.setattr(FakeCloudKitty, 'rows', ROWS + [
        {'project_id': 'proj-b', 'type': 'network.floating',
         'flavor_name': None, 'qty': 1.0, 'rate': 3.0}])
    with pytest.raises(CommandError) as raised:
        run('--source', 'cloudkitty', '--period', '2031-05')
    assert '1 problem(s) in the usage from cloudkitty; nothing was issued' \
        in str(raised.value)
    assert not Invoice.objects.exists()


@pytest.mark.django_db
def test_cloudkitty_down_issues_nothing_and_says_so(fake_cloudkitty):
    conf.get_conf().set_override(
        'endpoints', {'Sto2': 'http://127.0.0.1:9'}, 'cloudkitty')
    err = io.StringIO()
    with pytest.raises(CommandError, match='nothing was issued'):
        call_command('billing_issue', '--source', 'cloudkitty',
                     '--period', '2031-05', stdout=io.StringIO(),
                     stderr=err)
    assert err.getvalue().startswith(
        'CloudKitty (Sto2): CloudKitty at http://127.0.0.1:9 does not '
        'answer')
    assert not Invoice.objects.exists()


@pytest.mark.django_db
def test_the_period_defaults_to_the_month_before_the_issue_date(
        fake_cloudkitty):
    run('--source', 'cloudkitty', '--issue-date', '2031-01-10')
    assert FakeCloudKitty.requests[0]['begin'] == [
        '2030-12-01T00:00:00+00:00']
    assert Invoice.objects.filter(period_start='2030-12-01').count() == 2


class CatalogSession:
    """Just enough of a keystoneauth session to read a catalog from."""

    def __init__(self):
        def endpoint(region, interface, url):
            return {'id': url + interface, 'region': region,
                    'region_id': region, 'interface': interface,
                    'url': url}
        token = {'token': {
            'methods': ['password'], 'expires_at': '2999-01-01T00:00:00Z',
            'user': {'id': 'u', 'name': 'u', 'domain': {'id': 'default'}},
            'project': {'id': 'p', 'name': 'p',
                        'domain': {'id': 'default'}},
            'catalog': [{'type': 'rating', 'name': 'cloudkitty', 'id': 's',
                         'endpoints': [
                             endpoint('Sto2', 'public', 'http://ck-sto2:8889'),
                             endpoint('Sto2', 'internal',
                                      'http://ck-sto2-int:8889'),
                             endpoint('Kna1', 'public',
                                      'http://ck-kna1:8889')]}]}}
        access = ks_access.create(body=token)
        self.auth = type('Auth', (), {'get_access': lambda s, _: access})()


@pytest.fixture
def cloudkitty_options():
    options = conf.get_conf()
    yield options
    for name in ('regions', 'endpoints', 'interface'):
        options.clear_override(name, 'cloudkitty')


def test_endpoints_come_from_the_catalog_per_region(cloudkitty_options):
    session = CatalogSession()
    assert cloudkitty.endpoints(session) == {
        'Kna1': 'http://ck-kna1:8889', 'Sto2': 'http://ck-sto2:8889'}
    cloudkitty_options.set_override('interface', 'internal', 'cloudkitty')
    cloudkitty_options.set_override('regions', ['Sto2'], 'cloudkitty')
    assert cloudkitty.endpoints(session) == {
        'Sto2': 'http://ck-sto2-int:8889'}
    cloudkitty_options.set_override('regions', ['Sto2', 'Fra1'],
                                    'cloudkitty')
    with pytest.raises(cloudkitty.Unavailable, match='for Fra1 in the'):
        cloudkitty.endpoints(session)
    cloudkitty_options.set_override('endpoints', {'Fra1': 'http://ck-fra1'},
                                    'cloudkitty')
    assert cloudkitty.endpoints(session) == {
        'Sto2': 'http://ck-sto2-int:8889', 'Fra1': 'http://ck-fra1'}
