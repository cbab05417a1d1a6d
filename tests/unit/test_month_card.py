"""The Invoices panel's "This month" card: CloudKitty read as the user.

The arithmetic is tested on its own; the card through Horizon's test
client against a stand-in CloudKitty answering the v2 summary (as in
test_usage_sources.py); tests/functional/test_month_card_lab.py reads the
real one.
"""

import datetime
import decimal
import http.server
import json
import threading
import time
from unittest import mock
import urllib.parse

from django.core.cache import cache
from django.test.utils import override_settings
from django.urls import reverse
from openstack_dashboard.test import helpers as test
import pytest
from requests.packages.urllib3.connection import HTTPConnection

from cleura_billing_dashboard import conf
from cleura_billing_dashboard.usage import estimate
from cleura_billing_dashboard.usage import rated
from tests import factories

D = decimal.Decimal
UTC = datetime.timezone.utc
INDEX_URL = reverse('horizon:identity:invoices:index')


# -- the arithmetic -------------------------------------------------------

def test_the_forecast_is_so_far_over_the_elapsed_part_of_the_month():
    # 10 of December's 31 days have passed: 100 so far is 310 a month.
    now = datetime.datetime(2026, 12, 11, tzinfo=UTC)
    assert estimate.elapsed_fraction(now) == D(10) / D(31)
    assert estimate.forecast(D('100.00'), now) == D('310')
    # Half of February 2027 (28 days): double.
    now = datetime.datetime(2027, 2, 15, tzinfo=UTC)
    assert estimate.forecast(D('12.34'), now) == D('24.68')
    # The last second of the month: the forecast is the cost so far,
    # near enough (one second short of the month).
    now = datetime.datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert estimate.forecast(D('100'), now).quantize(D('0.01')) == \
        D('100.00')


def test_the_first_second_of_a_month_divides_by_no_zero():
    now = datetime.datetime(2026, 12, 1, tzinfo=UTC)
    assert estimate.elapsed_fraction(now) > 0
    assert estimate.forecast(D(0), now) == 0
    assert estimate.month_range(now) == (
        now, datetime.datetime(2027, 1, 1, tzinfo=UTC))


def test_top_services_are_the_costliest_types_named_by_the_mapping():
    mappings = rated.parse_mapping([
        'instance | compute.{flavor_name} | h | 25 | {flavor_name} instance',
        'volume.size | storage.volume | GB-h | 25 | Block storage',
        'image.size | storage.image | GB-h | 25',
        'ip.floating | network.{id} | h | 25 | {id}',
    ], groupby=['flavor_name', 'id'], default_vat_rate=D(25))
    amounts = {'instance': D('90.5'), 'volume.size': D('12'),
               'image.size': D('3'), 'ip.floating': D('7'),
               'radosgw.usage': D('1'), 'unused': D('0'),
               'network.bw.out': D('0.5')}
    top = estimate.top_services(amounts, mappings)
    assert [(s.name, s.amount) for s in top] == [
        ('instance', D('90.5')),        # "{flavor_name} instance"
        ('Block storage', D('12')),     # the description
        ('network', D('7')),            # "{id}" leaves nothing: product
        ('storage.image', D('3')),      # no description: the product
        ('radosgw.usage', D('1')),      # unmapped: the type
    ]
    assert [s.rating_type for s in estimate.top_services(
        amounts, {}, count=3)] == ['instance', 'volume.size', 'ip.floating']


def test_daily_costs_sum_the_rated_hours_of_each_utc_day():
    now = datetime.datetime(2026, 12, 3, 5, 30, tzinfo=UTC)
    hours = [(datetime.datetime(2026, 12, 1, hour, tzinfo=UTC), D('0.5'))
             for hour in range(24)]
    hours.append((datetime.datetime(2026, 12, 3, 1, tzinfo=UTC), D('2')))
    assert estimate.daily_costs(hours, now) == [
        (datetime.date(2026, 12, 1), D('12.0')),
        (datetime.date(2026, 12, 2), D(0)),
        (datetime.date(2026, 12, 3), D('2'))]


# -- the card, against a stand-in CloudKitty -----------------------------

PROJECT_ROWS = [('instance', '90.125'), ('volume.size', '12.004')]


class StandInCloudKitty(http.server.BaseHTTPRequestHandler):
    """v2 summary for ``project`` (groupby type or time), as configured."""

    project = None
    extra_rows = []
    delay = 0
    requests = []

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        type(self).requests.append(
            (query, self.headers.get('X-Auth-Token')))
        if self.delay:
            time.sleep(self.delay)
        if url.path != '/v2/summary':
            self.send_error(404)
            return
        now = datetime.datetime.now(UTC)
        begin = datetime.datetime(now.year, now.month, 1, tzinfo=UTC)
        if 'time' in query['groupby']:
            # The whole cost on the month's first hour, for simplicity.
            results = [{'begin': begin.isoformat(), 'qty': 1,
                        'rate': float(D(rate)), 'project_id': self.project}
                       for _type, rate in PROJECT_ROWS]
            # As InfluxDB answers for an hour nothing was rated in.
            results.append({'begin': now.isoformat(), 'qty': None,
                            'rate': None, 'project_id': self.project})
        else:
            results = [{'type': type_, 'qty': 1, 'rate': float(D(rate)),
                        'project_id': self.project}
                       for type_, rate in PROJECT_ROWS]
        results += self.extra_rows
        total = len(results)
        offset, limit = int(query['offset'][0]), int(query['limit'][0])
        results = results[offset:offset + limit]
        body = json.dumps({'total': total, 'results': results,
                           'format': 'object'}).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


MAPPING = ['instance | compute.{flavor_name} | h | 25 | Compute',
           'volume.size | storage.volume | GB-h | 25 | Block storage']


# A page of Horizon's test settings writes ~280 compressor and template
# entries: beyond LocMem's default 300 they would cull the card's.
@override_settings(CACHES={'default': {
    'BACKEND': 'django.core.cache.backends.locmem.LocMemCache',
    'LOCATION': 'month-card-tests', 'OPTIONS': {'MAX_ENTRIES': 10000}}})
class MonthCardTests(test.TestCase):

    def setUp(self):
        super().setUp()
        # A real (loopback) HTTP CloudKitty: Horizon's guard against
        # unmocked calls is lifted for these tests.
        HTTPConnection.connect = self._real_conn_request
        cache.clear()
        self.addCleanup(cache.clear)
        handler = type('Handler', (StandInCloudKitty,), {
            'project': self.tenant.id, 'requests': [], 'extra_rows': [],
            'delay': 0})
        self.handler = handler
        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                      handler)
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.url = 'http://127.0.0.1:%d' % self.server.server_port
        options = conf.get_conf()
        options.set_override('mapping', MAPPING, 'cloudkitty')
        options.set_override('groupby', ['flavor_name'], 'cloudkitty')
        self.addCleanup(options.clear_override, 'mapping', 'cloudkitty')
        self.addCleanup(options.clear_override, 'groupby', 'cloudkitty')
        # Both regions of Horizon's test catalog: whichever is the user's.
        self.service_catalog.append({
            'type': 'rating', 'name': 'cloudkitty', 'endpoints_links': [],
            'endpoints': [{'region': region, 'interface': interface,
                           'url': self.url}
                          for region in ('RegionOne', 'RegionTwo')
                          for interface in ('public', 'internal',
                                            'admin')]})

    def override(self, **values):
        options = conf.get_conf()
        for name, value in values.items():
            options.set_override(name, value, 'cloudkitty')
            self.addCleanup(options.clear_override, name, 'cloudkitty')

    def card(self, res):
        content = res.content.decode()
        start = content.find('id="invoices-month"')
        end = content.find('class="table_wrapper"', start)
        return content[start:end] if start >= 0 else None

    def test_the_card_shows_the_month_so_far_forecast_and_services(self):
        res = self.client.get(INDEX_URL)
        card = self.card(res).replace('\xa0', ' ')
        self.assertIn('Cost so far (estimate, excl. VAT)', card)
        # 90.125 + 12.004 = 102.129: 102.13 as shown.
        self.assertIn('SEK102.13', card.replace(' ', ''))
        month = res.context['month']
        self.assertEqual(['Compute', 'Block storage'],
                         [s['name'] for s in month['services']])
        self.assertEqual(['SEK90.13', 'SEK12.00'],
                         [s['amount'].replace('\xa0', '')
                          for s in month['services']])
        self.assertIn('divided by the part of the month', card)
        self.assertIn('<svg', card)
        self.assertIn('class="sr-only"', card)

    def test_amounts_follow_the_users_language(self):
        res = self.client.get(INDEX_URL, HTTP_ACCEPT_LANGUAGE='sv')
        self.assertEqual('102,13\xa0kr', res.context['month']['so_far'])

    def test_cloudkitty_is_asked_with_the_users_token_for_the_project(self):
        self.client.get(INDEX_URL)
        self.assertEqual(2, len(self.handler.requests))
        for query, token in self.handler.requests:
            self.assertEqual(['project_id:%s' % self.tenant.id],
                             query['filters'])
            self.assertEqual(self.token.id, token)
            self.assertIn('project_id', query['groupby'])

    def test_rows_of_another_project_are_never_counted(self):
        # A CloudKitty that ignored the filter (an admin's token).
        self.handler.extra_rows = [
            {'type': 'instance', 'begin': '2026-12-01T00:00:00+00:00',
             'qty': 1, 'rate': 5000.0, 'project_id': 'another-project'}]
        res = self.client.get(INDEX_URL)
        self.assertEqual('SEK102.13',
                         res.context['month']['so_far'].replace('\xa0', ''))

    def test_every_page_of_the_summary_is_read(self):
        # The summary pager is the issuing source's (api/cloudkitty.py).
        from cleura_billing_dashboard.api import cloudkitty
        with mock.patch.object(cloudkitty, 'PAGE', 1):
            res = self.client.get(INDEX_URL)
        self.assertEqual('SEK102.13',
                         res.context['month']['so_far'].replace('\xa0', ''))
        # Two rows by type, three by time (one an empty hour): a page each.
        offsets = sorted((q['groupby'][0], q['offset'][0])
                         for q, _token in self.handler.requests)
        self.assertEqual([('time', '0'), ('time', '1'), ('time', '2'),
                          ('type', '0'), ('type', '1')], offsets)

    def test_a_reload_within_the_cache_time_does_not_ask_again(self):
        self.client.get(INDEX_URL)
        self.client.get(INDEX_URL)
        self.assertEqual(2, len(self.handler.requests))
        cache.clear()
        self.client.get(INDEX_URL)
        self.assertEqual(4, len(self.handler.requests))

    def test_a_slow_cloudkitty_gives_the_table_and_a_note_at_once(self):
        self.override(card_timeout=0.5)
        self.handler.delay = 5
        factories.issue_invoice(self.tenant.id, '2026-03',
                                factories.instance_and_volume())
        started = time.monotonic()
        res = self.client.get(INDEX_URL)
        took = time.monotonic() - started
        # Not CloudKitty's 5 s: the timeout, plus the page itself (under
        # a second here, on a busy machine more).
        self.assertLess(took, 0.5 + 2.5)
        self.assertEqual(1, len(res.context['table'].data))
        self.assertContains(res, 'Cost estimate unavailable right now.')
        self.assertNotContains(res, 'Cost so far')
        asked = len(self.handler.requests)      # by type and by time
        self.assertEqual(2, asked)
        # Kept: a reload does not ask (nor wait) again.
        self.handler.delay = 0
        res = self.client.get(INDEX_URL)
        self.assertContains(res, 'Cost estimate unavailable right now.')
        self.assertEqual(asked, len(self.handler.requests))

    def test_a_cloudkitty_that_is_down_gives_the_note(self):
        self.server.shutdown()
        self.server.server_close()
        res = self.client.get(INDEX_URL)
        self.assertEqual(200, res.status_code)
        self.assertContains(res, 'Cost estimate unavailable right now.')

    def test_an_answer_that_is_not_a_summary_gives_the_note(self):
        self.handler.extra_rows = [{'project_id': self.tenant.id}]
        res = self.client.get(INDEX_URL)
        self.assertContains(res, 'Cost estimate unavailable right now.')

    def test_no_cloudkitty_in_the_catalog_no_card(self):
        self.service_catalog.pop()
        res = self.client.get(INDEX_URL)
        self.assertIsNone(res.context['month'])
        self.assertNotContains(res, 'invoices-month')
        self.assertEqual([], self.handler.requests)

    def test_no_cloudkitty_in_the_users_region_no_card(self):
        for endpoint in self.service_catalog[-1]['endpoints']:
            endpoint['region'] = 'ElsewhereRegion'
        res = self.client.get(INDEX_URL)
        self.assertIsNone(res.context['month'])

    def test_a_user_the_get_rule_refuses_sees_no_card(self):
        from openstack_dashboard import policy
        real_check = policy.check

        def check(rules, request, *args, **kwargs):
            if rules == (('billing', 'billing:invoice:get'),):
                return False
            return real_check(rules, request, *args, **kwargs)

        with mock.patch.object(policy, 'check', side_effect=check):
            res = self.client.get(INDEX_URL)
        self.assertEqual(200, res.status_code)
        self.assertIsNone(res.context['month'])
        self.assertEqual([], self.handler.requests)

    def test_last_months_invoice_is_shown_beside_it(self):
        today = datetime.date.today()
        previous = (today.replace(day=1) - datetime.timedelta(days=1))
        invoice = factories.issue_invoice(
            self.tenant.id, previous.strftime('%Y-%m'),
            factories.instance_and_volume())
        factories.issue_invoice('another-project', '2020-01',
                                factories.instance_and_volume())
        res = self.client.get(INDEX_URL)
        card = self.card(res).replace('\xa0', '')
        self.assertIn(reverse('horizon:identity:invoices:detail',
                              args=[invoice.number]), card)
        # 744 * 0.45 + 100 * 1.10 = 444.80 net, 556.00 with 25 % VAT.
        self.assertIn('SEK444.80', card)
        self.assertIn('SEK556.00 incl. VAT', card)

    def test_without_last_months_invoice_the_card_says_so(self):
        res = self.client.get(INDEX_URL)
        self.assertIn('No invoice for last month', self.card(res))


@pytest.mark.parametrize('amounts, heights', [
    ([D(10), D(5), D(0)], ['40.00', '20.00', '0']),
    ([D('0.001'), D(100)], ['1', '40.00']),   # a sliver, not nothing
    ([D(0)], ['0']),
])
def test_the_daily_chart_scales_to_the_costliest_day(amounts, heights):
    from cleura_billing_dashboard.content.invoices import views
    days = [{'date': datetime.date(2026, 12, n + 1), 'amount': amount,
             'display': str(amount)} for n, amount in enumerate(amounts)]
    chart = views.day_bars(days)
    assert chart['width'] == 310
    assert [bar['height'] for bar in chart['bars']] == heights
    assert chart['bars'][-1]['x'] == str((len(amounts) - 1) * 10 + 1)
