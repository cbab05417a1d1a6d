"""The lab's Horizon, with this plugin installed as an operator installs it.

Horizon from the same virtualenv: the enabled files copied into
``local/enabled``, a ``local_settings.py`` beside them, migrations run,
static files compressed; served by gunicorn through tools/lab_wsgi.py.
"""

import os
import shlex
import shutil
import subprocess

from tools.lab.keystone import ADMIN_PASSWORD
from tools.lab.process import bin_path
from tools.lab.process import Process
from tools.lab.process import REPO_ROOT
from tools.lab.process import TOOLS_DIR
from tools.lab.process import wait_for_http

ENABLED_DIR = os.path.join(REPO_ROOT, 'enabled')

# Written into the virtualenv's Horizon, as an operator writes theirs; every
# value comes from the environment the lab starts Horizon with.
LOCAL_SETTINGS = '''\
# Written by cleura-billing-dashboard's tools/lab for its demo and tests.
import os

DEBUG = os.environ.get('CLEURA_LAB_DEBUG') == '1'
ALLOWED_HOSTS = ['127.0.0.1', 'localhost']
SECRET_KEY = os.environ['CLEURA_LAB_SECRET_KEY']
OPENSTACK_KEYSTONE_URL = os.environ['CLEURA_LAB_KEYSTONE_URL']
OPENSTACK_KEYSTONE_DEFAULT_ROLE = 'member'
SESSION_ENGINE = 'django.contrib.sessions.backends.signed_cookies'
CACHES = {'default': {
    'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'}}
# Compressed offline at setup, as in production: compressing on the fly
# recompiles Horizon's SCSS on every page (1.6 s a page here).
COMPRESS_OFFLINE = True
STATIC_ROOT = os.path.join(os.environ['CLEURA_LAB_STATE'], 'static')
DATABASES = {'default': {
    'ENGINE': 'django.db.backends.sqlite3',
    'NAME': os.path.join(os.environ['CLEURA_LAB_STATE'], 'horizon.sqlite3'),
    'OPTIONS': {'timeout': 30},
}}
# The load test puts the database (the billing tables with it) on PostgreSQL.
if os.environ.get('CLEURA_LAB_PG_NAME'):
    DATABASES = {'default': {
        'ENGINE': 'django.db.backends.postgresql',
        'NAME': os.environ['CLEURA_LAB_PG_NAME'],
        'USER': os.environ.get('CLEURA_LAB_PG_USER', 'postgres'),
        'HOST': os.environ.get('CLEURA_LAB_PG_HOST', '127.0.0.1'),
        'PORT': os.environ.get('CLEURA_LAB_PG_PORT', '5432'),
    }}
# The database tests (tests/db) put it on MariaDB/MySQL too.
if os.environ.get('CLEURA_LAB_MYSQL_NAME'):
    import pymysql  # the driver installed here; Django asks for MySQLdb
    pymysql.install_as_MySQLdb()
    DATABASES = {'default': {
        'ENGINE': 'django.db.backends.mysql',
        'NAME': os.environ['CLEURA_LAB_MYSQL_NAME'],
        'USER': os.environ.get('CLEURA_LAB_MYSQL_USER', 'root'),
        'HOST': os.environ.get('CLEURA_LAB_MYSQL_HOST', '127.0.0.1'),
        'PORT': os.environ.get('CLEURA_LAB_MYSQL_PORT', '3306'),
        'OPTIONS': {'charset': 'utf8mb4'},
    }}
CLEURA_BILLING_CONFIG_FILE = os.path.join(os.environ['CLEURA_LAB_STATE'],
                                          'cleura-billing.conf')
EMAIL_BACKEND = 'django.core.mail.backends.smtp.EmailBackend'
EMAIL_HOST = '127.0.0.1'
EMAIL_PORT = int(os.environ.get('CLEURA_LAB_SMTP_PORT', '2525'))
'''

# Makes Identity the landing page: without Nova, /project/ answers 403.
LANDING_ENABLED = '''\
# Written by cleura-billing-dashboard's tools/lab (demo only).
DASHBOARD = 'identity'
DEFAULT = True
'''

BILLING_CONF = """\
[billing]
currency = SEK
payment_terms_days = 30

[seller]
name = Cleura Demo AB
address = Sveavägen 1
postal_code = 111 57
city = Stockholm
country = SE
org_number = 556677-8899
vat_number = SE556677889901
email = billing@cleura.example
bankgiro = 5050-1055
iban = SE4550000000058398257466
bic = ESSESESS

# Billing accounts are written with Keystone service credentials: the lab
# uses the bootstrap admin; an operator makes a dedicated service user.
[keystone_service]
auth_url = {keystone_url}
username = admin
password = {admin_password}
project_name = admin
user_domain_name = Default
project_domain_name = Default

[mail]
from_address = billing@cleura.example
invoice_link_base_url = {horizon_url}

# Card payments go to the Stripe stand-in the tests start
# (tools/lab/stripe_standin.py), or to a stripe-mock on its default port.
[payments]
enabled_providers = bank_transfer,stripe

[stripe]
api_key = sk_test_cleura_lab
webhook_secret = whsec_cleura_lab
api_base = {stripe_api_base}
"""


# Requests each gunicorn worker serves at once.
THREADS = 4
# Seconds a threaded worker keeps an idle connection open: nginx's default,
# not gunicorn's 2. A client reusing a connection as the server closes it
# gets no answer; browsers send again, python-requests (the load test's
# locust) does not.
KEEP_ALIVE = 75


class Horizon:
    def __init__(self, state_dir, port, keystone_url, smtp_port=2525,
                 landing_identity=True, extra_conf='', workers=2,
                 threads=THREADS,
                 postgresql=None, mysql=None):
        self.state = os.path.join(os.path.abspath(state_dir), 'horizon')
        self.port = port
        self.url = 'http://127.0.0.1:%d' % port
        self.keystone_url = keystone_url
        self.smtp_port = smtp_port
        self.landing_identity = landing_identity
        # More of the plugin's config file, e.g. shorter waits for tests.
        self.extra_conf = extra_conf
        # gunicorn's worker processes, each serving ``threads`` requests
        # at once (gthread); 1: sync workers, one request each.
        self.workers = workers
        self.threads = threads
        # {'NAME': ..., 'HOST', 'PORT', 'USER'}: Django's database on
        # PostgreSQL instead of SQLite in the state directory.
        self.postgresql = postgresql
        # The same keys: Django's database on MariaDB/MySQL.
        self.mysql = mysql
        self.process = None

    @property
    def env(self):
        env = dict(os.environ)
        env.update({
            'DJANGO_SETTINGS_MODULE': 'openstack_dashboard.settings',
            'CLEURA_LAB_STATE': self.state,
            'CLEURA_LAB_KEYSTONE_URL': self.keystone_url,
            'CLEURA_LAB_SECRET_KEY': self._secret_key(),
            'CLEURA_LAB_SMTP_PORT': str(self.smtp_port),
        })
        for key, value in (self.postgresql or {}).items():
            env['CLEURA_LAB_PG_%s' % key] = str(value)
        for key, value in (self.mysql or {}).items():
            env['CLEURA_LAB_MYSQL_%s' % key] = str(value)
        return env

    def _secret_key(self):
        path = os.path.join(self.state, 'secret_key')
        if not os.path.exists(path):
            with open(path, 'w') as f:
                f.write(os.urandom(32).hex())
        with open(path) as f:
            return f.read().strip()

    def install_plugin(self):
        """Do what README.rst tells an operator: enabled files, settings."""
        import openstack_dashboard
        local = os.path.join(os.path.dirname(openstack_dashboard.__file__),
                             'local')
        for name in os.listdir(ENABLED_DIR):
            if name.endswith('.py'):
                shutil.copy(os.path.join(ENABLED_DIR, name),
                            os.path.join(local, 'enabled', name))
        landing = os.path.join(local, 'enabled', '_3001_lab_landing.py')
        if self.landing_identity:
            with open(landing, 'w') as f:
                f.write(LANDING_ENABLED)
        elif os.path.exists(landing):
            os.remove(landing)
        with open(os.path.join(local, 'local_settings.py'), 'w') as f:
            f.write(LOCAL_SETTINGS)

    def setup(self):
        os.makedirs(self.state, exist_ok=True)
        conf = os.path.join(self.state, 'cleura-billing.conf')
        # Written on every start: Keystone's port may differ from last run.
        with open(conf, 'w') as f:
            f.write(BILLING_CONF.format(
                keystone_url=self.keystone_url,
                admin_password=ADMIN_PASSWORD, horizon_url=self.url,
                stripe_api_base=os.environ.get('CLEURA_LAB_STRIPE_API_BASE',
                                               'http://127.0.0.1:12111')))
            f.write(self.extra_conf)
        self.install_plugin()
        self.manage('migrate', '--noinput')
        self.manage('compress', '--force')

    def write_manage_script(self, path):
        """Write ``path``: django-admin with this Horizon's environment.

        So an operator command runs against the running demo as it would
        against an installed Horizon (``.demo/django-admin billing_issue
        ...``). Written on every start: the mail port changes.
        """
        env = self.env
        names = ('DJANGO_SETTINGS_MODULE', 'CLEURA_LAB_STATE',
                 'CLEURA_LAB_KEYSTONE_URL', 'CLEURA_LAB_SECRET_KEY',
                 'CLEURA_LAB_SMTP_PORT') + tuple(
                     sorted(n for n in env if n.startswith(
                         ('CLEURA_LAB_PG_', 'CLEURA_LAB_MYSQL_'))))
        lines = ['#!/bin/sh',
                 '# Written by tools/demo.py: operator commands against '
                 'the running demo.']
        lines += ['export %s=%s' % (name, shlex.quote(env[name]))
                  for name in names]
        lines.append('exec %s "$@"' % shlex.quote(bin_path('django-admin')))
        with open(path, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        os.chmod(path, 0o755)

    def manage(self, *args, check=True):
        return subprocess.run([bin_path('django-admin')] + list(args),
                              env=self.env, check=check, capture_output=True,
                              text=True)

    def start(self):
        # gunicorn, as Horizon is served in production: runserver's
        # unbuffered writes meet delayed ACKs and add 40 ms to every
        # response, which would swamp what the benchmarks measure.
        # Threaded workers (Horizon's mod_wsgi daemons run threads too): a
        # sync worker is held by a client's idle socket until the client
        # sends or closes it (a browser's spare connection), so a webhook
        # from the Stripe stand-in could wait on every worker at once.
        env = dict(self.env, PYTHONPATH=os.pathsep.join(
            filter(None, [TOOLS_DIR, os.environ.get('PYTHONPATH')])))
        self.process = Process(
            [bin_path('gunicorn'), '--workers', str(self.workers)] +
            (['--worker-class', 'gthread', '--threads', str(self.threads),
              '--keep-alive', str(KEEP_ALIVE)]
             if self.threads > 1 else []) + [
             '--timeout', '120',
             '--bind', '127.0.0.1:%d' % self.port, 'lab_wsgi:application'],
            os.path.join(self.state, 'server.log'), env=env)
        wait_for_http(self.url + '/auth/login/', 120, self.process.popen,
                      self.process.log)

    def stop(self):
        if self.process:
            self.process.stop()
