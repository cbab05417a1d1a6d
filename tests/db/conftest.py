"""The lab on the database server CLEURA_TEST_DB names (tox -e pg, mysql).

``db_lab``: a real Keystone, a real Horizon of several gunicorn workers
whose database (the billing tables with it) is a fresh database on that
server, reached through a loopback proxy the tests can cut
(tools/lab/tcp_proxy.py), the Stripe stand-in (through a proxy too) and
the SMTP server.

The tests marked ``database_lab`` need a database server: on SQLite (tox
-e py3) they are deselected, with a line saying so.
"""

import contextlib
import json
import os
import subprocess
import sys

import pytest

from tools import lab
from tools.lab import stripe_standin as standin_module
from tools.lab import tcp_proxy

VENDOR = os.environ.get('CLEURA_TEST_DB', 'sqlite')
SERVER = {
    'postgresql': {'USER': 'postgres', 'HOST': '127.0.0.1', 'PORT': 5432},
    'mysql': {'USER': 'root', 'HOST': '127.0.0.1', 'PORT': 3306},
}
# Pay answers within this plus a margin when Stripe hangs (see the tests).
STRIPE_TIMEOUT = 3
LAB_CONF = '''
[stripe]
timeout = %d
max_network_retries = 0
''' % STRIPE_TIMEOUT
WORKERS = 3


def pytest_collection_modifyitems(config, items):
    if VENDOR in SERVER:
        return
    lab_items = [item for item in items
                 if item.get_closest_marker('database_lab')]
    if lab_items:
        config.hook.pytest_deselected(items=lab_items)
        items[:] = [item for item in items if item not in lab_items]
        config._cleura_lab_deselected = len(lab_items)


def pytest_terminal_summary(terminalreporter, config):
    count = getattr(config, '_cleura_lab_deselected', 0)
    if count:
        terminalreporter.write_line(
            '%d database_lab test(s) deselected: they need CLEURA_TEST_DB='
            'postgresql or mysql (tox -e pg, tox -e mysql)' % count)


def server_settings():
    settings = dict(SERVER[VENDOR])
    for key in settings:
        value = os.environ.get('CLEURA_TEST_DB_%s' % key)
        if value:
            settings[key] = value
    settings['PORT'] = int(settings['PORT'])
    return settings


@contextlib.contextmanager
def admin_cursor(database=None):
    """A cursor on the server itself, autocommit, not through the proxy."""
    settings = server_settings()
    if VENDOR == 'postgresql':
        import psycopg2
        conn = psycopg2.connect(dbname=database or 'postgres',
                                user=settings['USER'],
                                host=settings['HOST'],
                                port=settings['PORT'])
        conn.autocommit = True
    else:
        import pymysql
        conn = pymysql.connect(user=settings['USER'], database=database,
                               host=settings['HOST'],
                               port=settings['PORT'], autocommit=True)
    try:
        with conn.cursor() as cursor:
            yield cursor
    finally:
        conn.close()


def create_database(name):
    with admin_cursor() as cursor:
        cursor.execute('DROP DATABASE IF EXISTS %s' % name)
        if VENDOR == 'mysql':
            cursor.execute('CREATE DATABASE %s CHARACTER SET utf8mb4' % name)
        else:
            cursor.execute('CREATE DATABASE %s' % name)


def drop_database(name):
    with admin_cursor() as cursor:
        if VENDOR == 'postgresql':
            cursor.execute('DROP DATABASE IF EXISTS %s WITH (FORCE)' % name)
        else:
            cursor.execute('DROP DATABASE IF EXISTS %s' % name)


class DbLab(lab.Lab):
    """The running lab, its database's name and the proxy in front of it."""

    def __init__(self, keystone, horizon, proxy, database, stripe_proxy):
        super().__init__(keystone, horizon)
        self.proxy = proxy
        self.database = database
        # Horizon's way to the Stripe stand-in: cut, Stripe is down.
        self.stripe_proxy = stripe_proxy

    def count(self, table):
        """Rows in ``table`` of the lab's database, read beside the proxy."""
        with admin_cursor(self.database) as cursor:
            cursor.execute('SELECT COUNT(*) FROM %s' % table)
            return cursor.fetchone()[0]

    def store(self, *args):
        """What tests/db/worker.py's ``args`` (e.g. ``report``) answer.

        Read with Django's ORM in a process of its own, straight from the
        server (not through the proxy).
        """
        settings = server_settings()
        env = dict(os.environ,
                   DJANGO_SETTINGS_MODULE='tests.db.child_settings',
                   PYTHONPATH=lab.REPO_ROOT,
                   CLEURA_CHILD_DB_NAME=self.database,
                   CLEURA_TEST_DB_HOST=settings['HOST'],
                   CLEURA_TEST_DB_PORT=str(settings['PORT']),
                   CLEURA_TEST_DB_USER=settings['USER'])
        out = subprocess.run([sys.executable, '-m', 'tests.db.worker', '-'] +
                             list(args), env=env, cwd=lab.REPO_ROOT,
                             check=True, capture_output=True,
                             text=True).stdout
        return json.loads(out.splitlines()[-1])


@pytest.fixture(scope='session')
def db_lab(tmp_path_factory, lab_smtp, stripe_standin):
    """Keystone + Horizon (``WORKERS`` workers) on the server's database.

    One for the session: starting it takes half a minute. The tests use
    periods of their own (2045-*, 2046-*) and restore what they cut.
    """
    settings = server_settings()
    name = 'cleura_lab_%d' % os.getpid()
    create_database(name)
    proxy = tcp_proxy.TcpProxy((settings['HOST'], settings['PORT'])).start()
    database = {'NAME': name, 'USER': settings['USER'],
                'HOST': '127.0.0.1', 'PORT': proxy.port}
    state = tmp_path_factory.mktemp('dblab')
    stripe_proxy = tcp_proxy.TcpProxy(('127.0.0.1',
                                       stripe_standin.port)).start()
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv('CLEURA_LAB_STRIPE_API_BASE',
                       'http://127.0.0.1:%d' % stripe_proxy.port)
            keystone, horizon = lab.start_lab(
                str(state), lab.free_port(), lab.free_port(),
                smtp_port=lab_smtp.port, extra_conf=LAB_CONF,
                workers=WORKERS, **{VENDOR: database})
    except BaseException:
        proxy.cut()
        stripe_proxy.cut()
        drop_database(name)
        raise
    stripe_standin.webhook_url = horizon.url + standin_module.WEBHOOK_PATH
    try:
        yield DbLab(keystone, horizon, proxy, name, stripe_proxy)
    finally:
        horizon.stop()
        keystone.stop()
        proxy.cut()
        stripe_proxy.cut()
        drop_database(name)
