"""A real Keystone and a real Horizon with this plugin, on loopback.

The demo (``tox -e demo``) and the functional and browser tests start the
same lab: Keystone from PyPI on SQLite, bootstrapped with keystone-manage,
and Horizon from the same virtualenv with the plugin installed the way an
operator installs it (enabled files copied into ``local/enabled``, a
``local_settings.py`` beside them, migrations run). Everything a run makes
lives in one state directory, so a second run reuses it.
"""

import contextlib
import html.parser
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import requests

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENABLED_DIR = os.path.join(REPO_ROOT, 'enabled')
ADMIN_PASSWORD = 'admin'
DEMO_PASSWORD = 'demo'

# (project, user, role): the identities the issue names for the demo.
DEMO_USERS = [
    ('acme', 'alice', 'manager'),
    ('acme', 'bob', 'member'),
    ('acme', 'carol', 'reader'),
    ('globex', 'dave', 'manager'),
]

KEYSTONE_CONF = """\
[DEFAULT]
log_file = {state}/keystone.log

[database]
connection = sqlite:///{state}/keystone.db

[token]
provider = fernet

[fernet_tokens]
key_repository = {state}/fernet-keys

[fernet_receipts]
key_repository = {state}/fernet-receipts

[credential]
key_repository = {state}/credential-keys

[cache]
enabled = false
"""

# Written into the virtualenv's Horizon, as an operator writes theirs; every
# value comes from the environment the lab starts Horizon with.
LOCAL_SETTINGS = '''\
# Written by cleura-billing-dashboard's tools/lab.py for its demo and tests.
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
CLEURA_BILLING_CONFIG_FILE = os.path.join(os.environ['CLEURA_LAB_STATE'],
                                          'cleura-billing.conf')
EMAIL_BACKEND = 'django.core.mail.backends.smtp.EmailBackend'
EMAIL_HOST = '127.0.0.1'
EMAIL_PORT = int(os.environ.get('CLEURA_LAB_SMTP_PORT', '2525'))
'''

# Makes Identity the landing page: without Nova, /project/ answers 403.
LANDING_ENABLED = '''\
# Written by cleura-billing-dashboard's tools/lab.py (demo only).
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
# (tests/stripe_standin.py), or to a stripe-mock on its default port.
[payments]
enabled_providers = bank_transfer,stripe

[stripe]
api_key = sk_test_cleura_lab
webhook_secret = whsec_cleura_lab
api_base = {stripe_api_base}
"""


def free_port():
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def wait_for_http(url, timeout, proc=None, log=None):
    """Return once ``url`` answers anything; fail with the log otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    tail = ''
    if log and os.path.exists(log):
        with open(log, encoding='utf-8', errors='replace') as f:
            tail = f.read()[-4000:]
    raise RuntimeError('%s did not answer within %ss\n%s'
                       % (url, timeout, tail))


def _bin(name):
    return os.path.join(os.path.dirname(sys.executable), name)


class Process:
    """A child in its own process group, stopped with everything it started."""

    def __init__(self, args, log, env=None):
        self.log = log
        self._log_file = open(log, 'ab')
        self.popen = subprocess.Popen(
            args, stdout=self._log_file, stderr=subprocess.STDOUT,
            env=env, start_new_session=True)

    def stop(self, timeout=10):
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        self._log_file.close()


class Keystone:
    def __init__(self, state_dir, port):
        self.state = os.path.join(os.path.abspath(state_dir), 'keystone')
        self.port = port
        self.url = 'http://127.0.0.1:%d/v3' % port
        self.conf = os.path.join(self.state, 'keystone.conf')
        self.process = None

    def _manage(self, *args):
        subprocess.run([_bin('keystone-manage'), '--config-file', self.conf]
                       + list(args), check=True, capture_output=True)

    def setup(self):
        """Create the database and keys once; later runs reuse them."""
        os.makedirs(self.state, exist_ok=True)
        with open(self.conf, 'w') as f:
            f.write(KEYSTONE_CONF.format(state=self.state))
        if os.path.exists(os.path.join(self.state, 'bootstrapped')):
            # The port may differ from the first run: point the catalog at it.
            self._manage('db_sync')
            self._bootstrap()
            return
        owner = ['--keystone-user', _user(), '--keystone-group', _group()]
        self._manage('db_sync')
        self._manage('fernet_setup', *owner)
        self._manage('credential_setup', *owner)
        self._bootstrap()
        open(os.path.join(self.state, 'bootstrapped'), 'w').close()

    def _bootstrap(self):
        # bootstrap is idempotent and updates the endpoints to this port.
        self._manage(
            'bootstrap', '--bootstrap-password', ADMIN_PASSWORD,
            '--bootstrap-username', 'admin',
            '--bootstrap-project-name', 'admin',
            '--bootstrap-role-name', 'admin',
            '--bootstrap-service-name', 'keystone',
            '--bootstrap-region-id', 'RegionOne',
            '--bootstrap-admin-url', self.url,
            '--bootstrap-internal-url', self.url,
            '--bootstrap-public-url', self.url)

    def start(self):
        self.process = Process(
            [sys.executable, os.path.join(REPO_ROOT, 'tools',
                                          'keystone_wsgi.py'),
             '--config-file', self.conf, '--port', str(self.port)],
            os.path.join(self.state, 'server.log'))
        wait_for_http(self.url, 60, self.process.popen, self.process.log)

    def stop(self):
        if self.process:
            self.process.stop()

    def admin_client(self):
        from keystoneauth1.identity import v3
        from keystoneauth1 import session
        from keystoneclient.v3 import client
        auth = v3.Password(auth_url=self.url, username='admin',
                           password=ADMIN_PASSWORD, project_name='admin',
                           user_domain_id='default',
                           project_domain_id='default')
        return client.Client(session=session.Session(auth=auth))


def _user():
    import pwd
    return pwd.getpwuid(os.getuid()).pw_name


def _group():
    import grp
    return grp.getgrgid(os.getgid()).gr_name


def ensure_identities(ks, users=DEMO_USERS, password=DEMO_PASSWORD):
    """Projects, users and role assignments; what exists already is kept."""
    roles = {role.name: role for role in ks.roles.list()}
    for name in {role for _, _, role in users} - set(roles):
        roles[name] = ks.roles.create(name)
    projects = {}
    for project_name, user_name, role_name in users:
        if project_name not in projects:
            found = ks.projects.list(name=project_name, domain='default')
            projects[project_name] = found[0] if found else (
                ks.projects.create(project_name, 'default'))
        project = projects[project_name]
        found = ks.users.list(name=user_name, domain='default')
        user = found[0] if found else ks.users.create(
            user_name, domain='default', password=password,
            default_project=project)
        ks.roles.grant(roles[role_name], user=user, project=project)
    return projects


class Horizon:
    def __init__(self, state_dir, port, keystone_url, smtp_port=2525,
                 landing_identity=True, extra_conf=''):
        self.state = os.path.join(os.path.abspath(state_dir), 'horizon')
        self.port = port
        self.url = 'http://127.0.0.1:%d' % port
        self.keystone_url = keystone_url
        self.smtp_port = smtp_port
        self.landing_identity = landing_identity
        # More of the plugin's config file, e.g. shorter waits for tests.
        self.extra_conf = extra_conf
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

    def manage(self, *args, check=True):
        return subprocess.run([_bin('django-admin')] + list(args),
                              env=self.env, check=check, capture_output=True,
                              text=True)

    def start(self):
        # gunicorn, sync workers, as Horizon is served in production:
        # runserver's unbuffered writes meet delayed ACKs and add 40 ms to
        # every response, which would swamp what the benchmarks measure.
        env = dict(self.env, PYTHONPATH=os.pathsep.join(
            filter(None, [os.path.join(REPO_ROOT, 'tools'),
                          os.environ.get('PYTHONPATH')])))
        self.process = Process(
            [_bin('gunicorn'), '--workers', '2', '--timeout', '120',
             '--bind', '127.0.0.1:%d' % self.port, 'lab_wsgi:application'],
            os.path.join(self.state, 'server.log'), env=env)
        wait_for_http(self.url + '/auth/login/', 120, self.process.popen,
                      self.process.log)

    def stop(self):
        if self.process:
            self.process.stop()


def start_lab(state_dir, keystone_port, horizon_port, users=DEMO_USERS,
              landing_identity=True, smtp_port=2525, extra_conf=''):
    """Keystone and Horizon running, demo identities present."""
    os.makedirs(state_dir, exist_ok=True)
    keystone = Keystone(state_dir, keystone_port)
    keystone.setup()
    keystone.start()
    try:
        ensure_identities(keystone.admin_client(), users)
        horizon = Horizon(state_dir, horizon_port, keystone.url,
                          smtp_port=smtp_port,
                          landing_identity=landing_identity,
                          extra_conf=extra_conf)
        horizon.setup()
        horizon.start()
    except BaseException:
        keystone.stop()
        raise
    return keystone, horizon


class LoginFailed(Exception):
    pass


class Lab:
    """A running Keystone and Horizon, and logins to them."""

    def __init__(self, keystone, horizon):
        self.keystone = keystone
        self.horizon = horizon
        self.url = horizon.url

    def login(self, username, password=DEMO_PASSWORD):
        """A requests session logged in through Horizon's real login form."""
        session = requests.Session()
        page = session.get(self.url + '/auth/login/', timeout=60)
        page.raise_for_status()
        form = dict(hidden_inputs(page.text))
        form.update(username=username, password=password)
        res = session.post(self.url + '/auth/login/', data=form,
                           headers={'Referer': self.url + '/auth/login/'},
                           timeout=60)
        res.raise_for_status()
        # A failed login shows the form again; a good one, the user menu.
        if 'class="dropdown user-menu"' not in res.text:
            raise LoginFailed('login as %s failed: %s'
                              % (username, res.text[-2000:]))
        return session


class _HiddenInputs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'input' and attrs.get('type') == 'hidden':
            self.fields.append((attrs.get('name'), attrs.get('value', '')))


def hidden_inputs(text):
    parser = _HiddenInputs()
    parser.feed(text)
    return parser.fields


def load_demo_data(keystone, horizon):
    """Sample billing data for the demo; returns what it did, line by line.

    Runs the operator commands (billing_issue among them), so a second run
    finds everything issued and issues nothing twice.
    """
    ks = keystone.admin_client()
    projects = [ks.projects.list(name=name, domain='default')[0]
                for name in ('acme', 'globex')]
    for project in projects:
        ensure_billing_account(ks, project)
    result = horizon.manage('billing_demo_data',
                            *[project.id for project in projects])
    return result.stdout.splitlines()


def ensure_billing_account(ks, project):
    """A billing account with one verified Billing address, unless set."""
    from cleura_billing_dashboard.account import document
    if getattr(project, document.ATTRIBUTE, None):
        return
    doc = document.new_document()
    doc['revision'] = 1
    doc['customer'].update(name='%s AB' % project.name.capitalize(),
                           address='Kungsgatan 1', postal_code='111 43',
                           city='Stockholm', country='SE')
    doc['contacts'] = [{
        'id': 'demo-billing', 'email': 'billing@%s.example' % project.name,
        'name': '', 'roles': ['billing', 'tech', 'dpo'], 'verified': True,
        'verification': None}]
    ks.projects.update(project.id, **{document.ATTRIBUTE:
                                      document.dump(doc)})
