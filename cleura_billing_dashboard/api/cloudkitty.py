"""The one door to CloudKitty for issuing: its v2 summary, per region.

Read with the plugin's ``[keystone_service]`` credentials (an admin in
CloudKitty sees every project; the rows are grouped by ``project_id``, so
projects are never mixed). Endpoints are the Keystone catalog's
``[cloudkitty] service_type`` endpoints (``interface``), one per region,
or ``[cloudkitty] endpoints``. Python-cloudkittyclient is not used: it
silently drops ``tenant_id``, and a plain request says exactly what it
asks for.

``CloudKittySource`` is the ``cloudkitty`` usage source
(``cleura_billing.usage_sources``): the summary rows of every region,
mapped to usage lines by ``usage.rated``. Any failure is a
``usage.UsageError`` naming the region and what failed.
"""

import datetime
import decimal
import json

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session

from cleura_billing_dashboard import conf
from cleura_billing_dashboard.i18n import _
from cleura_billing_dashboard import usage as usage_mod
from cleura_billing_dashboard.usage import rated
from cleura_billing_dashboard.usage import sources

PAGE = 1000  # rows per summary request; CloudKitty's default is 100


class Unavailable(Exception):
    """CloudKitty, or Keystone for its catalog, failed (``where``)."""

    def __init__(self, where, message):
        self.where = where
        super().__init__(message)


def _session():
    opts = conf.get_conf().keystone_service
    if not opts.auth_url:
        raise Unavailable('Keystone', _(
            '[keystone_service] auth_url is not set: CloudKitty is read '
            'with those credentials'))
    auth = v3.Password(
        auth_url=opts.auth_url, username=opts.username,
        password=opts.password, project_name=opts.project_name,
        user_domain_name=opts.user_domain_name,
        project_domain_name=opts.project_domain_name)
    return ks_session.Session(auth=auth, verify=opts.cafile or True,
                              timeout=conf.get_conf().cloudkitty.timeout)


def endpoints(session):
    """``{region: url}`` of the CloudKitty instances to read.

    ``[cloudkitty] regions`` if set, else the regions of ``[cloudkitty]
    endpoints``, else every region of the catalog; a region's URL is
    ``endpoints``'s if named there, else the catalog's.
    """
    opts = conf.get_conf().cloudkitty
    found = dict(opts.endpoints)
    # Regions named, else those of [cloudkitty] endpoints, else the
    # catalog's.
    wanted = list(opts.regions) or sorted(found)
    if not wanted or set(wanted) - set(found):
        try:
            catalog = session.auth.get_access(session).service_catalog
        except ks_exceptions.ClientException as e:
            raise Unavailable('Keystone', _('cannot read the catalog: %s')
                              % e)
        for endpoint in catalog.get_endpoints(
                service_type=opts.service_type,
                interface=opts.interface).get(opts.service_type, []):
            found.setdefault(endpoint['region_id'] or endpoint['region'],
                             endpoint['url'])
    if not wanted:
        wanted = sorted(found)
    missing = [region for region in wanted if region not in found]
    if missing or not wanted:
        raise Unavailable('Keystone', _(
            'no %(type)s endpoint (%(interface)s) for %(regions)s in the '
            'catalog or [cloudkitty] endpoints') % {
                'type': opts.service_type, 'interface': opts.interface,
                'regions': ', '.join(missing) or _('any region')})
    return {region: found[region] for region in wanted}


def summary_results(session, url, params, timeout=None):
    """Every result (a dict) of CloudKitty's v2 summary at ``url``.

    ``params``: begin, end, groupby, filters...; the pages (``PAGE`` rows)
    are read one after the other. ``timeout()``, when given, is the
    seconds the next request may take (it may raise to stop). Raises
    keystoneauth's ``ClientException`` for a failed request, and
    ``ValueError``, ``KeyError`` or ``TypeError`` for an answer that is
    not a v2 summary.
    """
    params = dict(params, response_format='object', limit=PAGE)
    offset = 0
    while True:
        extra = {} if timeout is None else {'timeout': timeout()}
        response = session.get(url.rstrip('/') + '/v2/summary',
                               params=dict(params, offset=offset),
                               raise_exc=True, **extra)
        doc = json.loads(response.text, parse_float=decimal.Decimal)
        results, total = doc['results'], int(doc['total'])
        yield from results
        offset += len(results)
        if not results or offset >= total:
            return


def summary_rows(session, region, url, begin, end, groupby):
    """Every ``rated.Row`` of the summary at ``url`` from begin to end."""
    fields = ['project_id', 'type']
    fields += [f for f in groupby if f not in fields]
    params = {'begin': begin.isoformat(), 'end': end.isoformat(),
              'groupby': fields}
    try:
        return [rated.Row(region=region, project_id=result['project_id'],
                          rating_type=result['type'],
                          qty=decimal.Decimal(result['qty']),
                          rate=decimal.Decimal(result['rate']),
                          groupby={f: result.get(f) for f in groupby})
                for result in summary_results(session, url, params)]
    except ks_exceptions.ConnectFailure as e:
        raise Unavailable(region, _('CloudKitty at %(url)s does not '
                                    'answer: %(error)s') % {
            'url': url, 'error': e})
    except ks_exceptions.ClientException as e:
        raise Unavailable(region, _('CloudKitty at %(url)s failed: '
                                    '%(error)s') % {
            'url': url, 'error': e})
    except (ValueError, KeyError, TypeError,
            decimal.InvalidOperation) as e:
        raise Unavailable(region, _('CloudKitty at %(url)s answered '
                                    'something other than a v2 '
                                    'summary: %(error)r') % {
            'url': url, 'error': e})


def period_range(period):
    """[begin, end) of ``period`` ('YYYY-MM') in UTC."""
    year, month = (int(part) for part in period.split('-'))
    begin = datetime.datetime(year, month, 1, tzinfo=datetime.timezone.utc)
    end = datetime.datetime(year + month // 12, month % 12 + 1, 1,
                            tzinfo=datetime.timezone.utc)
    return begin, end


class CloudKittySource(sources.UsageSource):
    """The ``cloudkitty`` usage source: rated usage, every region."""

    def read(self, period):
        opts = conf.get_conf().cloudkitty
        mappings = rated.parse_mapping(opts.mapping, opts.groupby)
        if not mappings:
            raise usage_mod.UsageError([usage_mod.Problem(
                '[cloudkitty] mapping', '', _('no type is mapped'))])
        begin, end = period_range(period)
        rows = []
        try:
            session = _session()
            for region, url in endpoints(session).items():
                rows += summary_rows(session, region, url, begin, end,
                                     opts.groupby)
        except Unavailable as e:
            raise usage_mod.UsageError([usage_mod.Problem(
                'CloudKitty (%s)' % e.where, '', str(e))])
        usage = rated.usage_from_rows(rows, mappings, period)
        if not usage.projects:
            raise usage_mod.UsageError([usage_mod.Problem(
                'CloudKitty', '', _('no rated usage for %s') % period)])
        return usage
