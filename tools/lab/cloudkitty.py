"""The lab's CloudKitty: its API on storage v2 (InfluxDB), behind Keystone.

The recipe of ../shared/notes/cloudkitty-lab.md, as processes of the lab:

* InfluxDB 1.x from Debian's ``influxdb`` package (installed with
  apt-get when missing, as tools/ensure_browser.py does; no service, our
  own config and data in the state directory, loopback ports);
* cloudkitty 25.0.0 in a virtualenv of its own (tools/lab/
  cloudkitty_venv.py), its database on SQLite, migrated through one
  connection (its hashmap migration fails on SQLite otherwise), served by
  gunicorn on a free loopback port;
* in the lab's Keystone: the ``cloudkitty`` user (admin of ``admin``), the
  ``rating`` service and its endpoints in RegionOne; removed at ``stop``
  so the catalog never points at a dead CloudKitty;
* rated data seeded through CloudKitty's own storage API (no collector):
  ``seed(period, rates)``, hourly frames of a month.

``start`` fails with the log's tail if any part does not come up: a
machine without CloudKitty fails the tests, it does not skip them.
"""

import concurrent.futures
import contextlib
import datetime
import json
import os
import subprocess
import time

from tools.lab import cloudkitty_venv
from tools.lab.process import free_port
from tools.lab.process import Process
from tools.lab.process import wait_for_http

REGION = 'RegionOne'
SERVICE_USER = 'cloudkitty'
SERVICE_PASSWORD = 'cloudkitty-lab'

# What the lab rates each hour, by project name: (type, groupby fields,
# qty, price per unit). CloudKitty's rate is qty x price.
RATES = {
    'acme': [
        ('instance', {'flavor_name': 'm1.small', 'id': 'vm-acme-1'},
         1, '0.05'),
        ('instance', {'flavor_name': 'm1.large', 'id': 'vm-acme-2'},
         1, '0.125'),
        ('volume.size', {'id': 'vol-acme-1'}, 10, '0.01'),
    ],
    'globex': [
        ('instance', {'flavor_name': 'm1.small', 'id': 'vm-globex-1'},
         1, '0.05'),
    ],
}

# The plugin's [cloudkitty] section for the lab's rated types.
BILLING_CONF = """
[cloudkitty]
groupby = flavor_name
mapping = instance | compute.{flavor_name} | h | 25 | {flavor_name} instance
mapping = volume.size | storage.volume | GB-h | 25 | Block storage
"""

INFLUXDB_CONF = """\
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{state}/influx/meta"
[data]
  dir = "{state}/influx/data"
  wal-dir = "{state}/influx/wal"
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:{http_port}"
  log-enabled = false
"""

CLOUDKITTY_CONF = """\
[DEFAULT]
api_paste_config = {state}/api_paste.ini
transport_url = fake://

[database]
connection = sqlite:///{state}/cloudkitty.db

[storage]
backend = influxdb
version = 2

[storage_influxdb]
host = 127.0.0.1
port = {influx_port}
database = cloudkitty

[collect]
scope_key = project_id

[keystone_authtoken]
www_authenticate_uri = {keystone_url}
auth_url = {keystone_url}
auth_type = password
username = {user}
password = {password}
project_name = admin
user_domain_name = Default
project_domain_name = Default
memcached_servers =
"""

# Upstream's etc/cloudkitty/api_paste.ini less healthcheck, which
# oslo.middleware 8 refuses as a filter (the worker then fails to boot).
API_PASTE = """\
[pipeline:cloudkitty+keystone]
pipeline = cors http_proxy_to_wsgi request_id authtoken ck_api

[app:ck_api]
paste.app_factory = cloudkitty.api.app:app_factory

[filter:authtoken]
acl_public_routes = /, /v1
paste.filter_factory = cloudkitty.api.middleware:AuthTokenMiddleware.factory

[filter:request_id]
paste.filter_factory = oslo_middleware:RequestId.factory

[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = cloudkitty

[filter:http_proxy_to_wsgi]
paste.filter_factory = {proxy}
oslo_config_project = cloudkitty
"""
PROXY_FACTORY = 'oslo_middleware.http_proxy_to_wsgi:HTTPProxyToWSGI.factory'

# prepare_service() parses sys.argv: gunicorn's flags must not reach it.
WSGI = """\
import os
import sys

sys.argv = [sys.argv[0], '--config-file', os.environ['CLOUDKITTY_CONF']]
from cloudkitty.wsgi.api import application  # noqa
"""

# Hashmap migration 8a591f85865f reads through a second connection that
# cannot see alembic's uncommitted DDL on SQLite: one connection for all.
DBSYNC = """\
import sys

from oslo_db.sqlalchemy import engines
from sqlalchemy import pool

_orig = engines._init_connection_args


def _static(url, engine_args, kw):
    _orig(url, engine_args, kw)
    if url.drivername.startswith('sqlite'):
        engine_args['poolclass'] = pool.StaticPool
        engine_args['connect_args']['check_same_thread'] = False


engines._init_connection_args = _static
from cloudkitty.cli import dbsync  # noqa
sys.argv[0] = 'cloudkitty-dbsync'
sys.exit(dbsync.main())
"""

# Rated data without a collector: argv = config file, JSON of
# {"begin": iso, "end": iso, "points": [[project_id, type, groupby,
# qty, price], ...]}; one frame an hour.
SEED = """\
import datetime
import decimal
import json
import sys

from cloudkitty import dataframe
from cloudkitty import service
from cloudkitty import storage

conf_file, spec = sys.argv[1], json.loads(sys.argv[2])
service.prepare_service(['seed', '--config-file', conf_file])
begin = datetime.datetime.fromisoformat(spec['begin'])
end = datetime.datetime.fromisoformat(spec['end'])
hour = datetime.timedelta(hours=1)
frames = []
t = begin
while t < end:
    frame = dataframe.DataFrame(start=t, end=t + hour)
    for project_id, type_, groupby, qty, price in spec['points']:
        groupby = dict(groupby, project_id=project_id)
        price = decimal.Decimal(price) * decimal.Decimal(qty)
        frame.add_point(dataframe.DataPoint(
            'unit', qty, price, groupby, {'seeded': 'yes'}), type_)
    frames.append(frame)
    t += hour
backend = storage.get_storage()
for i in range(0, len(frames), 200):
    backend.push(frames[i:i + 200])
print(len(frames))
"""


def period_range(period):
    """[begin, end) of ``period`` ('YYYY-MM') in UTC, as datetimes."""
    year, month = (int(part) for part in period.split('-'))
    utc = datetime.timezone.utc
    return (datetime.datetime(year, month, 1, tzinfo=utc),
            datetime.datetime(year + month // 12, month % 12 + 1, 1,
                              tzinfo=utc))


class CloudKitty:
    """InfluxDB and the CloudKitty API behind ``keystone`` (tools.lab)."""

    def __init__(self, state_dir, keystone, port=None, influx_port=None):
        self.state = os.path.join(os.path.abspath(state_dir), 'cloudkitty')
        self.keystone = keystone
        self.port = port or free_port()
        self.influx_port = influx_port or free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.conf = os.path.join(self.state, 'cloudkitty.conf')
        self.venv = None
        self.influxd = None
        self.api = None
        self.startup_seconds = None
        self.timings = {}   # seconds per start step, for the report

    @contextlib.contextmanager
    def _step(self, name):
        started = time.monotonic()
        yield
        self.timings[name] = round(time.monotonic() - started, 2)

    def _timed(self, name, call):
        with self._step(name):
            call()

    def _python(self):
        return os.path.join(self.venv, 'bin', 'python')

    def _bin(self, name):
        return os.path.join(self.venv, 'bin', name)

    def _write(self, name, text):
        path = os.path.join(self.state, name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def _run(self, *args):
        env = {key: value for key, value in os.environ.items()
               if key != 'PYTHONPATH'}   # the venv's own libraries only
        res = subprocess.run(list(args), capture_output=True, text=True,
                             env=env)
        if res.returncode:
            raise RuntimeError('%s failed (%d):\n%s%s' % (
                ' '.join(args), res.returncode, res.stdout[-2000:],
                res.stderr[-4000:]))
        return res.stdout

    def start(self):
        """Everything up, Keystone objects made (``timings``)."""
        started = time.monotonic()
        with self._step('install'):
            influxd = cloudkitty_venv.ensure_influxdb()
            self.venv = cloudkitty_venv.ensure()
        # Keystone's user, service and endpoints take seconds (one
        # threaded Keystone, bcrypt): made while the rest starts.
        keystone = concurrent.futures.ThreadPoolExecutor(1)
        made = keystone.submit(self._timed, 'keystone',
                               self._keystone_objects)
        keystone.shutdown(wait=False)
        with self._step('influxdb'):
            self._start_influxdb(influxd)
        self._write('api_paste.ini', API_PASTE.format(proxy=PROXY_FACTORY))
        self._write('ck_wsgi.py', WSGI)
        self._write('cloudkitty.conf', CLOUDKITTY_CONF.format(
            state=self.state, influx_port=self.influx_port,
            keystone_url=self.keystone.url, user=SERVICE_USER,
            password=SERVICE_PASSWORD))
        with self._step('dbsync'):
            if not os.path.exists(os.path.join(self.state, 'db-synced')):
                self._run(self._python(), self._write('dbsync.py', DBSYNC),
                          '--config-file', self.conf, 'upgrade')
                open(os.path.join(self.state, 'db-synced'), 'w').close()
        with self._step('storage-init'):
            self._run(self._bin('cloudkitty-storage-init'),
                      '--config-file', self.conf)
        made.result()
        with self._step('api'):
            self.start_api()
        self.startup_seconds = round(time.monotonic() - started, 2)
        return self

    def _start_influxdb(self, influxd):
        os.makedirs(os.path.join(self.state, 'influx'), exist_ok=True)
        influx_conf = self._write('influxdb.conf', INFLUXDB_CONF.format(
            state=self.state, http_port=self.influx_port,
            rpc_port=free_port()))
        self.influxd = Process([influxd, '-config', influx_conf],
                               os.path.join(self.state, 'influxd.log'))
        influx = 'http://127.0.0.1:%d' % self.influx_port
        wait_for_http(influx + '/ping', 30, self.influxd.popen,
                      self.influxd.log)
        import requests
        requests.post(influx + '/query',
                      data={'q': 'CREATE DATABASE cloudkitty'},
                      timeout=10).raise_for_status()

    def start_api(self):
        env = dict(os.environ, CLOUDKITTY_CONF=self.conf)
        env.pop('PYTHONPATH', None)   # the venv's own libraries only
        # --no-control-socket: else gunicorn 27 takes over (and deletes)
        # ~/.gunicorn/gunicorn.ctl, which Horizon's gunicorn uses.
        self.api = Process(
            [self._bin('gunicorn'), '--chdir', self.state, '--workers', '1',
             '--bind', '127.0.0.1:%d' % self.port, '--no-control-socket',
             'ck_wsgi:application'],
            os.path.join(self.state, 'api.log'), env=env)
        wait_for_http(self.url + '/', 60, self.api.popen, self.api.log)

    def stop_api(self):
        if self.api:
            self.api.stop()
            self.api = None

    def stop(self):
        self.stop_api()
        if self.influxd:
            self.influxd.stop()
            self.influxd = None
        try:
            self._remove_keystone_objects(self.keystone.admin_client())
        except Exception:  # Keystone may be stopping too: best effort
            pass

    def _keystone_objects(self):
        ks = self.keystone.admin_client()
        self._remove_keystone_objects(ks)
        admin = ks.roles.find(name='admin')
        project = ks.projects.find(name='admin')
        user = ks.users.create(SERVICE_USER, domain='default',
                               password=SERVICE_PASSWORD,
                               default_project=project)
        ks.roles.grant(admin, user=user, project=project)
        service = ks.services.create('cloudkitty', type='rating',
                                     description='CloudKitty (lab)')
        for interface in ('public', 'internal', 'admin'):
            ks.endpoints.create(service, self.url, interface=interface,
                                region=REGION)

    @staticmethod
    def _remove_keystone_objects(ks):
        """What an earlier (or this) lab left: removed, idempotent."""
        for service in ks.services.list(type='rating'):
            for endpoint in ks.endpoints.list(service=service):
                ks.endpoints.delete(endpoint)
            ks.services.delete(service)
        for user in ks.users.list(name=SERVICE_USER, domain='default'):
            ks.users.delete(user)

    def project_ids(self):
        ks = self.keystone.admin_client()
        return {project.name: project.id for project in ks.projects.list()}

    def seed(self, period, rates=None, until=None):
        """Rate every hour of ``period`` ('YYYY-MM') as ``rates`` says.

        ``rates``: {project name: [(type, groupby, qty, price)]}, default
        ``RATES``. ``until`` (an aware datetime): rate only the hours
        before it, as a real CloudKitty has rated the current month.
        Seeding again overwrites the same points.
        """
        begin, end = period_range(period)
        if until is not None:
            end = max(begin, min(end, until))
        ids = self.project_ids()
        points = [[ids[name], type_, groupby, qty, price]
                  for name, entries in (rates or RATES).items()
                  for type_, groupby, qty, price in entries]
        out = self._run(
            self._python(), self._write('seed.py', SEED), self.conf,
            json.dumps({'begin': begin.isoformat(), 'end': end.isoformat(),
                        'points': points}))
        return int(out.split()[-1])   # frames; logs may come before

    def summary(self, period, groupby=('project_id', 'type')):
        """Rows (dicts) of CloudKitty's own v2 summary, as the admin."""
        from keystoneauth1.identity import v3
        from keystoneauth1 import session
        from tools.lab.keystone import ADMIN_PASSWORD
        auth = v3.Password(auth_url=self.keystone.url, username='admin',
                           password=ADMIN_PASSWORD, project_name='admin',
                           user_domain_id='default',
                           project_domain_id='default')
        begin, end = period_range(period)
        res = session.Session(auth=auth).get(
            self.url + '/v2/summary', params={
                'begin': begin.isoformat(), 'end': end.isoformat(),
                'groupby': list(groupby), 'response_format': 'object',
                'limit': 1000})
        return res.json()['results']
