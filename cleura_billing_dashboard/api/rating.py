"""The Horizon side's door to CloudKitty: the month so far, as the user.

Read with the user's own token (CloudKitty keeps a tenant to its own
project) at the ``[cloudkitty] service_type`` endpoint of the user's
catalog in the user's region, always filtered to the user's project: an
admin's token would otherwise see every project. The service credentials
of ``api.cloudkitty`` (issuing) are never used here.

The Invoices page must answer at once whatever CloudKitty does: each
answer is kept in Django's cache per project and region for
``[cloudkitty] card_cache_seconds``, a failure or a timeout
(``card_timeout``) for ``card_failure_cache_seconds``.
"""

from concurrent import futures
import dataclasses
import datetime
import decimal
import hashlib
import logging
import time

from django.core.cache import cache
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import token_endpoint
from openstack_auth import utils as auth_utils
from openstack_dashboard.api import base

from cleura_billing_dashboard.api import billing
from cleura_billing_dashboard.api import cloudkitty
from cleura_billing_dashboard import conf
from cleura_billing_dashboard import money
from cleura_billing_dashboard import usage as usage_mod
from cleura_billing_dashboard.usage import estimate
from cleura_billing_dashboard.usage import rated

LOG = logging.getLogger(__name__)
D = decimal.Decimal
_UNAVAILABLE = 'unavailable'


class Unavailable(Exception):
    """CloudKitty did not answer in time, or not with a v2 summary."""


@dataclasses.dataclass(frozen=True)
class MonthSoFar:
    """What CloudKitty rated for one project this month, at ``as_of``."""

    currency: str
    as_of: datetime.datetime
    so_far: decimal.Decimal
    forecast: decimal.Decimal
    services: list     # estimate.Service, costliest first
    days: list         # (date, amount) for each day up to as_of


def endpoint(request):
    """CloudKitty's URL in the user's catalog and region; None if none."""
    opts = conf.get_conf().cloudkitty
    try:
        return base.url_for(request, opts.service_type,
                            endpoint_type=opts.interface + 'URL')
    except Exception:   # horizon ServiceCatalogException, a bad catalog
        return None


def _summary(session, url, project_id, groupby, deadline):
    """``[row dict]`` of the project's summary this month, every page."""

    def remaining():
        left = deadline - time.monotonic()
        if left <= 0:
            raise Unavailable('no answer within the card timeout')
        return left

    rows = []
    try:
        for row in cloudkitty.summary_results(
                session, url, {'begin': groupby['begin'],
                               'end': groupby['end'],
                               'groupby': groupby['fields'],
                               'filters': 'project_id:%s' % project_id},
                timeout=remaining):
            # The filter is CloudKitty's to apply; a row of another
            # project is never shown, whatever CloudKitty answered.
            if row.get('project_id') == project_id:
                rows.append(row)
            else:
                LOG.warning('CloudKitty at %s answered a row of project '
                            '%r to a request filtered to %s: left out',
                            url, row.get('project_id'), project_id)
    except (ks_exceptions.ClientException, ValueError, KeyError,
            TypeError) as e:
        raise Unavailable('%s: %s' % (type(e).__name__, e))
    return rows


def _utc(text):
    moment = datetime.datetime.fromisoformat(text)
    if moment.tzinfo is None:   # CloudKitty works in UTC
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment


def _read(request, url, now):
    opts = conf.get_conf().cloudkitty
    project_id = request.user.project_id
    begin, end = estimate.month_range(now)
    session = auth_utils.get_session(
        auth=token_endpoint.Token(url, request.user.token.id))
    deadline = time.monotonic() + opts.card_timeout
    window = {'begin': begin.isoformat(), 'end': end.isoformat()}
    # Both at once: with a token CloudKitty has not seen, each request
    # waits for Keystone to validate it, and the card has one timeout.
    # CloudKitty 25's InfluxDB storage groups by its collect period
    # ("time") only, not "time-d": the days are summed here.
    with futures.ThreadPoolExecutor(2) as pool:
        by_type, by_time = [pool.submit(
            _summary, session, url, project_id,
            dict(window, fields=[field, 'project_id']), deadline)
            for field in ('type', 'time')]
    try:
        by_type, by_time = by_type.result(), by_time.result()
        # InfluxDB fills a period nothing was rated in with null.
        amounts = {}
        for row in by_type:
            if row['rate'] is not None:
                amounts[row['type']] = (amounts.get(row['type'], D(0)) +
                                        money.to_decimal(row['rate']))
        hourly = [(_utc(row['begin']), money.to_decimal(row['rate']))
                  for row in by_time if row['rate'] is not None]
    except (KeyError, TypeError, ValueError) as e:
        raise Unavailable('not a v2 summary: %r' % (e,))
    try:
        mappings = rated.parse_mapping(opts.mapping, opts.groupby)
    except usage_mod.UsageError as e:
        # The issuing run names the bad entry; here, types are shown.
        LOG.warning('[cloudkitty] mapping: %s', e)
        mappings = {}
    so_far = sum(amounts.values(), D(0))
    return MonthSoFar(
        currency=conf.get_conf().billing.currency, as_of=now,
        so_far=so_far, forecast=estimate.forecast(so_far, now),
        services=estimate.top_services(amounts, mappings),
        days=estimate.daily_costs(hourly, now))


def _cache_key(request, now):
    region = request.user.services_region or ''
    return 'cleura-billing:month-so-far:%s:%s:%s' % (
        request.user.project_id, now.strftime('%Y-%m'),
        hashlib.sha256(region.encode()).hexdigest()[:16])


def month_so_far(request, now=None):
    """The project's ``MonthSoFar``, from the cache or CloudKitty.

    None when the user's catalog has no CloudKitty in the user's region
    (no card). Raises ``Unavailable`` when CloudKitty failed or did not
    answer within ``[cloudkitty] card_timeout``, now or within the last
    ``card_failure_cache_seconds``.
    """
    url = endpoint(request)
    if url is None:
        return None
    now = now or datetime.datetime.now(datetime.timezone.utc)
    opts = conf.get_conf().cloudkitty
    key = _cache_key(request, now)
    kept = cache.get(key)
    if kept == _UNAVAILABLE:
        raise Unavailable('failed within the last %d s'
                          % opts.card_failure_cache_seconds)
    if kept is not None:
        return kept
    try:
        result = _read(request, url, now)
    except Unavailable as e:
        LOG.warning('CloudKitty at %s for project %s: %s', url,
                    request.user.project_id, e)
        if opts.card_failure_cache_seconds:
            cache.set(key, _UNAVAILABLE, opts.card_failure_cache_seconds)
        raise
    if opts.card_cache_seconds:
        cache.set(key, result, opts.card_cache_seconds)
    return result


def month_card(request, now=None):
    """The "This month" card's figures written for the user's locale.

    None: no CloudKitty in the catalog, no card. ``{'unavailable':
    True}``: CloudKitty failed or is slow. Else ``so_far``, ``forecast``
    (strings), ``as_of`` (datetime), ``services`` (``name``, ``amount``)
    and ``days`` (``date``, ``amount`` as Decimal, ``display``).
    """
    try:
        month = month_so_far(request, now)
    except Unavailable:
        return {'unavailable': True}
    if month is None:
        return None
    locale = billing.user_locale(request)

    def amount(value):
        return money.format_money(value, month.currency, locale)

    return {
        'unavailable': False,
        'as_of': month.as_of,
        'so_far': amount(month.so_far),
        'forecast': amount(month.forecast),
        'services': [{'name': service.name,
                      'amount': amount(service.amount)}
                     for service in month.services],
        'days': [{'date': day, 'amount': value, 'display': amount(value)}
                 for day, value in month.days],
    }
