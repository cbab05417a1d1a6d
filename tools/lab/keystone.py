"""The lab's Keystone: from PyPI on SQLite, bootstrapped with keystone-manage.

Served by tools/keystone_wsgi.py, one thread, on a loopback port. It runs
from the tests' own virtualenv, or from the one ``CLEURA_LAB_KEYSTONE_VENV``
names (made by tools/lab/keystone_venv.py for the tox envs that test an older
OpenStack release, whose libraries the newest Keystone does not accept).
"""

import os
import subprocess
import sys

from tools.lab.process import bin_path
from tools.lab.process import Process
from tools.lab.process import TOOLS_DIR
from tools.lab.process import wait_for_http

ADMIN_PASSWORD = 'admin'

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


class Keystone:
    def __init__(self, state_dir, port):
        self.state = os.path.join(os.path.abspath(state_dir), 'keystone')
        self.port = port
        self.url = 'http://127.0.0.1:%d/v3' % port
        self.conf = os.path.join(self.state, 'keystone.conf')
        self.process = None

    def _manage(self, *args):
        subprocess.run([keystone_bin('keystone-manage'), '--config-file',
                        self.conf] + list(args),
                       check=True, capture_output=True)

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
            [keystone_bin('python'),
             os.path.join(TOOLS_DIR, 'keystone_wsgi.py'),
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


def keystone_bin(name):
    """A program of the virtualenv Keystone runs from."""
    venv = os.environ.get('CLEURA_LAB_KEYSTONE_VENV')
    if venv:
        return os.path.join(venv, 'bin', name)
    if name == 'python':
        return sys.executable
    return bin_path(name)


def _user():
    import pwd
    return pwd.getpwuid(os.getuid()).pw_name


def _group():
    import grp
    return grp.getgrgid(os.getgid()).gr_name
