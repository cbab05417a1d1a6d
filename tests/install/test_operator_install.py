"""An operator's install, followed literally from README.rst.

``tox -e install`` runs this; the default run leaves it out (conftest.py
here): it takes minutes and installs Horizon from the package index.

What an operator has before reading the README: Horizon 25.3, the oldest
release the plugin supports (OpenStack 2025.1, Django 4.2), in a virtualenv
of its own, installed with that release's upper-constraints
(tools/constraints/upper-constraints-2025.1.txt), with a
``local_settings.py`` that points it at Keystone. Keystone is the lab's
(tools/lab/keystone.py), with the demo's users, in this tox env; nothing
of this env is on the operator's Horizon's path.

What the test then does is only what the README's section "Installing into
an existing Horizon" says: its ``shell`` blocks run in order in one bash,
its ``ini`` block is added to the plugin's config file and its ``python``
block to ``local_settings.py``, with nothing replaced but the named
placeholders (``PLACEHOLDERS``: paths, Keystone's URL, a password). The
source is a clean ``git clone`` of this repository's HEAD, tagged with a
release version. Then Horizon is served with gunicorn, a user logs in
through the login form and the Invoices and Account settings pages must
answer with their content, the account must be saved in Keystone through
the service credentials, and Horizon and Django must be the versions the
operator had.
"""

import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import zipfile

import pytest
import requests

from tests.forms import form_fields
from tools import lab

README = os.path.join(lab.REPO_ROOT, 'README.rst')
SECTION = 'Installing into an existing Horizon'
CONSTRAINTS = os.path.join(lab.REPO_ROOT, 'tools', 'constraints',
                           'upper-constraints-2025.1.txt')
BUILD_CONSTRAINTS = os.path.join(lab.REPO_ROOT, 'tools', 'constraints',
                                 'build.txt')
# Cloned: this repository, or another clone named by CLEURA_INSTALL_SOURCE
# (a branch to try before it is merged). Its HEAD, never a working tree.
SOURCE = os.environ.get('CLEURA_INSTALL_SOURCE', lab.REPO_ROOT)
# The account attribute in Keystone (cleura_billing_dashboard/account/
# document.py); the plugin is not importable here, on purpose.
ACCOUNT_ATTRIBUTE = 'cleura_billing'

# The README's placeholders, each replaced by the test's own value; each
# must appear in the section, so the README cannot drift from the test.
PLACEHOLDER_NAMES = {
    'venv': '/opt/horizon',
    'constraints': 'https://releases.openstack.org/constraints/upper/2025.1',
    'etc': '/etc/cleura-billing',
    'var': '/var/lib/cleura-billing',
    'keystone': 'https://keystone.example.com:5000/v3',
    'password': 'SERVICE_PASSWORD',
}

# What the operator's Horizon already had in local_settings.py: Keystone,
# its own secret, hosts, sessions and cache (no memcached here).
EXISTING_SETTINGS = '''\
# The operator's own settings, before installing the plugin.
DEBUG = False
ALLOWED_HOSTS = ['127.0.0.1']
SECRET_KEY = {secret!r}
OPENSTACK_KEYSTONE_URL = {keystone!r}
OPENSTACK_KEYSTONE_DEFAULT_ROLE = 'member'
SESSION_ENGINE = 'django.contrib.sessions.backends.signed_cookies'
CACHES = {{'default': {{
    'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'}}}}

'''


def readme_blocks(path=README, section=SECTION):
    """(language, text) of each code-block in ``section``, in order."""
    with open(path, encoding='utf-8') as f:
        lines = f.read().splitlines()
    start = lines.index(section) + 2
    end = next((i for i in range(start, len(lines) - 1)
                if lines[i + 1].startswith('===') and lines[i]),
               len(lines))
    blocks = []
    i = start
    while i < end:
        found = re.match(r'\s*\.\. code-block:: (\w+)\s*$', lines[i])
        i += 1
        if not found:
            continue
        body = []
        indent = None
        while i < end:
            line = lines[i]
            if line.strip():
                width = len(line) - len(line.lstrip())
                if indent is None:
                    indent = width
                elif width < indent:
                    break
            elif indent is not None and not _more(lines, i, end, indent):
                break
            if indent is not None:
                body.append(line[indent:])
            i += 1
        blocks.append((found.group(1), '\n'.join(body).strip() + '\n'))
    return blocks, '\n'.join(lines[start:end])


def _more(lines, i, end, indent):
    """Whether the block goes on after the blank line ``i``."""
    for line in lines[i + 1:end]:
        if line.strip():
            return len(line) - len(line.lstrip()) >= indent
    return False


def _placeholder(name):
    """A placeholder where it stands alone, not inside a longer path."""
    return re.compile(r'(?<![\w/.-])%s(?![\w.-])'
                      % re.escape(PLACEHOLDER_NAMES[name]))


def substitute(text, values):
    for name in PLACEHOLDER_NAMES:
        text = _placeholder(name).sub(lambda _: values[name], text)
    return text


def ini_options(text):
    return dict(re.findall(r'^(\w+) = (.*)$', text, re.M))


def run(args, **kwargs):
    res = subprocess.run(args, capture_output=True, text=True, **kwargs)
    assert res.returncode == 0, '%s\n%s\n%s' % (
        shlex.join(args), res.stdout[-4000:], res.stderr[-6000:])
    return res.stdout


def operator_env(**extra):
    """The environment of an operator's shell: none of this tox env."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(('PIP_', 'TOX_', 'PYTEST', 'DJANGO_'))
           and key not in ('VIRTUAL_ENV', 'PYTHONPATH', 'PYTHONHOME')}
    tox_bin = os.path.dirname(sys.executable)
    env['PATH'] = os.pathsep.join(
        p for p in env.get('PATH', '').split(os.pathsep) if p != tox_bin)
    env.update(extra)
    return env


def pip_versions(venv):
    out = run([os.path.join(venv, 'bin', 'pip'), 'list', '--format=freeze'],
              env=operator_env())
    return dict(line.lower().split('==', 1) for line in out.splitlines()
                if '==' in line)


def constrained(name):
    with open(CONSTRAINTS) as f:
        for line in f:
            if line.lower().startswith(name + '==='):
                return line.split('===', 1)[1].split(';')[0].strip()
    raise AssertionError('%s is not in %s' % (name, CONSTRAINTS))


def tag_release(clone):
    """The clone's HEAD as a release: its own tag, or the next major one.

    pbr must take the wheel's version from the tag, as for a release.
    """
    git = ['git', '-C', clone]
    res = subprocess.run(git + ['describe', '--tags', '--exact-match'],
                         capture_output=True, text=True)
    if res.returncode == 0:
        return res.stdout.strip()
    majors = [int(tag.split('.')[0]) for tag in
              run(git + ['tag', '--list', '[0-9]*.*.*']).split()
              if tag.split('.')[0].isdigit()]
    release = '%d.0.0' % (max(majors, default=0) + 1)
    run(git + ['-c', 'user.name=install test',
               '-c', 'user.email=install@test.invalid',
               'tag', '-a', release, '-m', 'release ' + release])
    return release


@pytest.fixture(scope='module')
def keystone(tmp_path_factory):
    state = tmp_path_factory.mktemp('keystone')
    server = lab.Keystone(str(state), lab.free_port())
    server.setup()
    server.start()
    lab.ensure_identities(server.admin_client())
    yield server
    server.stop()


def make_service_user(ks, options):
    """The service user the README has the operator create."""
    project = ks.projects.create(options['project_name'], 'default')
    user = ks.users.create(options['username'], domain='default',
                           password=options['password'],
                           default_project=project)
    admin = [role for role in ks.roles.list() if role.name == 'admin'][0]
    ks.roles.grant(admin, user=user, project=project)


@pytest.fixture(scope='module')
def horizon_venv(tmp_path_factory):
    """The operator's Horizon before the plugin: 2025.1, from the index."""
    venv = str(tmp_path_factory.mktemp('operator') / 'horizon')
    run([sys.executable, '-m', 'venv', venv], env=operator_env())
    pip = os.path.join(venv, 'bin', 'pip')
    # Horizon's XStatic sdists need a setuptools with pkg_resources
    # (tools/constraints/build.txt); pip reads that file from 25.3 on.
    run([pip, 'install', '-q', '--upgrade', 'pip>=25.3'], env=operator_env())
    run([pip, 'install', '-q', '-c', CONSTRAINTS, 'horizon', 'gunicorn'],
        env=operator_env(PIP_BUILD_CONSTRAINT=BUILD_CONSTRAINTS))
    versions = pip_versions(venv)
    assert versions['horizon'] == constrained('horizon')
    assert versions['horizon'].startswith('25.3.')
    assert versions['django'].startswith('4.2.')
    return venv


def test_readme_install_serves_the_panels(tmp_path, keystone, horizon_venv):
    blocks, section = readme_blocks()
    for name, placeholder in PLACEHOLDER_NAMES.items():
        assert _placeholder(name).search(section), (
            'README %r no longer says %r: update PLACEHOLDER_NAMES'
            % (SECTION, placeholder))
    languages = [language for language, _ in blocks]
    assert languages.count('ini') == 1, languages
    assert languages.count('python') == 1, languages
    assert languages.count('shell') >= 3, languages

    values = {
        'venv': horizon_venv,
        # This machine reaches PyPI only: the same file, pinned in the repo.
        'constraints': CONSTRAINTS,
        'etc': str(tmp_path / 'etc'),
        'var': str(tmp_path / 'var'),
        'keystone': keystone.url,
        'password': os.urandom(12).hex(),
    }
    ini = next(text for language, text in blocks if language == 'ini')
    options = ini_options(substitute(ini, values))
    assert options['auth_url'] == keystone.url, ini
    make_service_user(keystone.admin_client(), options)

    # The operator's Horizon is already configured for Keystone.
    dashboard = run([os.path.join(horizon_venv, 'bin', 'python'), '-c',
                     'import os, openstack_dashboard; '
                     'print(os.path.dirname(openstack_dashboard.__file__))'],
                    env=operator_env()).strip()
    local_settings = os.path.join(dashboard, 'local', 'local_settings.py')
    with open(local_settings, 'w') as f:
        f.write(EXISTING_SETTINGS.format(secret=os.urandom(32).hex(),
                                         keystone=keystone.url))
    before = pip_versions(horizon_venv)

    # A clean clone of HEAD, tagged as a release.
    workdir = tmp_path / 'work'
    workdir.mkdir()
    clone = workdir / 'cleura-billing-dashboard'
    run(['git', 'clone', '-q', SOURCE, str(clone)])
    release = tag_release(str(clone))

    # The README's steps, as one shell session.
    script = ['set -euxo pipefail']
    for language, text in blocks:
        text = substitute(text, values)
        if language == 'shell':
            script.append(text)
        elif language == 'ini':
            script.append("cat >> %s <<'README_INI'\n%sREADME_INI" % (
                shlex.quote(os.path.join(values['etc'],
                                         'cleura-billing.conf')), text))
        elif language == 'python':
            script.append("cat >> \"$DASHBOARD/local/local_settings.py\" "
                          "<<'README_PYTHON'\n%sREADME_PYTHON" % text)
        else:
            raise AssertionError('unknown block %s:\n%s' % (language, text))
    script = '\n'.join(script) + '\n'
    (tmp_path / 'readme-steps.sh').write_text(script)
    res = subprocess.run(['bash', '-c', script], cwd=str(workdir),
                         env=operator_env(), capture_output=True, text=True)
    assert res.returncode == 0, 'README steps failed:\n%s\n%s' % (
        res.stdout[-4000:], res.stderr[-8000:])

    # The wheel the README built carries the Apache-2.0 LICENSE, and the
    # bundled fonts' own licence beside them.
    wheels = glob.glob(os.path.join(str(workdir), '**',
                                    'cleura_billing_dashboard-*.whl'),
                       recursive=True)
    assert len(wheels) == 1, wheels
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = wheel.namelist()
        licences = [name for name in names
                    if re.search(r'\.dist-info/(licenses/)?LICENSE$', name)]
        assert len(licences) == 1, names
        assert b'Apache License' in wheel.read(licences[0])
        assert b'Version 2.0' in wheel.read(licences[0])
        assert 'cleura_billing_dashboard/pdf/fonts/LICENSE' in names

    after = pip_versions(horizon_venv)
    # pbr took the version from the tag, not 0.0.1.devN.
    assert after['cleura-billing-dashboard'] == release
    for name in ('horizon', 'django'):
        assert after[name] == before[name], (name, before[name], after[name])
    with open(local_settings) as f:
        assert 'CLEURA_BILLING_CONFIG_FILE' in f.read()

    # Sample invoices for acme, with the operator's command.
    acme = keystone.admin_client().projects.list(name='acme',
                                                 domain='default')[0]
    manage_env = operator_env(
        DJANGO_SETTINGS_MODULE='openstack_dashboard.settings')
    issued = run([os.path.join(horizon_venv, 'bin', 'django-admin'),
                  'billing_demo_data', acme.id], env=manage_env)
    numbers = re.findall(r'\b\d{4}-\d{6}\b', issued)
    assert numbers, issued

    port = lab.free_port()
    url = 'http://127.0.0.1:%d' % port
    server = lab.process.Process(
        [os.path.join(horizon_venv, 'bin', 'gunicorn'), '--workers', '2',
         '--timeout', '120', '--bind', '127.0.0.1:%d' % port,
         'openstack_dashboard.wsgi:application'],
        str(tmp_path / 'gunicorn.log'), env=operator_env())
    try:
        wait_for_login_page(url, server)
        check_panels(url, numbers)
    finally:
        server.stop()
        shutil.copy(server.log, str(tmp_path / 'gunicorn.log.kept'))

    doc = getattr(keystone.admin_client().projects.get(acme.id),
                  ACCOUNT_ATTRIBUTE)
    assert doc['customer']['name'] == 'Operator Install AB', doc


def wait_for_login_page(url, server, timeout=300):
    """Until Horizon answers its login page, however slowly it renders.

    The first page of each worker imports most of Horizon: seconds on a
    busy machine, longer than tools/lab's five-second probe waits.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.popen.poll() is None, open(server.log).read()[-4000:]
        try:
            requests.get(url + '/auth/login/', timeout=60)
            return
        except requests.ConnectionError:
            time.sleep(0.5)
    raise AssertionError('Horizon did not answer within %ss:\n%s' % (
        timeout, open(server.log).read()[-4000:]))


def login(url, username):
    """A session logged in through Horizon's form, as a browser does."""
    session = requests.Session()
    page = session.get(url + '/auth/login/', timeout=60)
    assert page.status_code == 200, page.text[-2000:]
    form = dict(lab.hidden_inputs(page.text))
    form.update(username=username, password=lab.DEMO_PASSWORD)
    res = session.post(url + '/auth/login/', data=form,
                       headers={'Referer': url + '/auth/login/'},
                       allow_redirects=False, timeout=60)
    # A good login redirects away; a bad one shows the form again (200).
    assert res.status_code == 302, res.text[-2000:]
    assert '/auth/login' not in res.headers['Location']
    return session


def check_panels(url, numbers):
    alice = login(url, 'alice')

    res = alice.get(url + '/identity/invoices/', timeout=120)
    assert res.status_code == 200, res.text[-3000:]
    assert '<title>Invoices' in res.text, res.text[-3000:]
    assert 'id="invoices"' in res.text
    assert 'class="dropdown user-menu"' in res.text
    for number in numbers[-3:]:
        assert '/identity/invoices/%s/' % number in res.text, number

    res = alice.get(url + '/settings/account/', timeout=120)
    assert res.status_code == 200, res.text[-3000:]
    assert '<title>Account settings' in res.text, res.text[-3000:]
    # A manager gets the form: the account can be written.
    assert 'id="customer_form"' in res.text, res.text[-3000:]
    assert 'account-unavailable' not in res.text
    data = form_fields(res.text, 'customer_form')
    data.update(name='Operator Install AB', address='Sveavägen 1',
                postal_code='111 57', city='Stockholm', country='SE')
    saved = alice.post(url + '/settings/account/?tab=account__customer',
                       data=data,
                       headers={'Referer': url + '/settings/account/'},
                       allow_redirects=False, timeout=120)
    assert saved.status_code == 302, saved.text[-3000:]
    shown = alice.get(url + saved.headers['Location'], timeout=120)
    assert shown.status_code == 200
    assert 'Operator Install AB' in shown.text
