"""A real Keystone and a real Horizon with this plugin, on loopback.

The demo (``tox -e demo``), the benchmarks (``tox -e bench``) and the
functional and browser tests start the same lab, one module a job:

``keystone``        Keystone from PyPI on SQLite, bootstrapped with
                    keystone-manage (served by tools/keystone_wsgi.py)
``horizon``         Horizon from the same virtualenv with the plugin
                    installed the way an operator installs it (enabled
                    files, ``local_settings.py``, migrations), served by
                    gunicorn (tools/lab_wsgi.py)
``identities``      the demo's projects, users and roles
``demo_data``       billing accounts and invoices for the demo
``login``           logins through Horizon's real login form
``smtp``            a real SMTP server keeping what it receives
``stripe_standin``  the Stripe API and Checkout on loopback
``cloudkitty``      CloudKitty's API on InfluxDB behind Keystone, seeded
                    with rated usage (its own virtualenv and fixture)
``tcp_proxy``       a loopback TCP proxy a test cuts and restores, to take
                    the database (or Stripe) away under a running Horizon
``process``         free ports, waiting for servers, process groups

Everything a run makes lives in one state directory, so a second run
reuses it.
"""

import os

from tools.lab.demo_data import load_demo_data
from tools.lab.horizon import Horizon
from tools.lab.identities import DEMO_PASSWORD
from tools.lab.identities import DEMO_USERS
from tools.lab.identities import ensure_identities
from tools.lab.identities import tenant_users
from tools.lab.keystone import ADMIN_PASSWORD
from tools.lab.keystone import Keystone
from tools.lab.login import hidden_inputs
from tools.lab.login import Lab
from tools.lab.login import LoginFailed
from tools.lab.process import free_port
from tools.lab.process import REPO_ROOT

__all__ = ['ADMIN_PASSWORD', 'DEMO_PASSWORD', 'DEMO_USERS', 'Horizon',
           'Keystone', 'Lab', 'LoginFailed', 'REPO_ROOT', 'ensure_identities',
           'free_port', 'hidden_inputs', 'load_demo_data', 'start_lab',
           'tenant_users']


def start_lab(state_dir, keystone_port, horizon_port, users=DEMO_USERS,
              landing_identity=True, smtp_port=2525, extra_conf='',
              **horizon_options):
    """Keystone and Horizon running, demo identities present.

    ``horizon_options`` go to ``Horizon`` (``workers``, ``postgresql``,
    ``mysql``).
    """
    os.makedirs(state_dir, exist_ok=True)
    keystone = Keystone(state_dir, keystone_port)
    keystone.setup()
    keystone.start()
    try:
        ensure_identities(keystone.admin_client(), users)
        horizon = Horizon(state_dir, horizon_port, keystone.url,
                          smtp_port=smtp_port,
                          landing_identity=landing_identity,
                          extra_conf=extra_conf, **horizon_options)
        horizon.setup()
        horizon.start()
    except BaseException:
        keystone.stop()
        raise
    return keystone, horizon
