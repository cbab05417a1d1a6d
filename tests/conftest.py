"""Fixtures shared by the functional and browser tests: the real lab.

The lab (tools/lab/) is a real Keystone and a real Horizon with the plugin
installed, on free loopback ports in a temporary directory, started once per
test session and only when a test asks for it.
"""

import pytest

from tools import lab
from tools.lab import cloudkitty as lab_cloudkitty
from tools.lab import smtp
from tools.lab import stripe_standin as lab_stripe


@pytest.fixture(scope='session')
def lab_smtp():
    """The lab's mail server (tools/lab/smtp.py), up before Horizon starts."""
    server = smtp.SmtpServer(lab.free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_server(lab_smtp):
    """The lab's mail server with an empty inbox: one test's mail only.

    The server lives for the session, so without this a test waiting for
    mail to an address would be handed what an earlier test sent there.
    """
    lab_smtp.clear()
    yield lab_smtp
    if not lab_smtp.running:
        lab_smtp.start()


@pytest.fixture(scope='session')
def stripe_standin():
    """The lab's Stripe API (tools/lab/stripe_standin.py), up first."""
    server = lab_stripe.StripeStandIn(lab.free_port()).start()
    with pytest.MonkeyPatch.context() as env:
        env.setenv('CLEURA_LAB_STRIPE_API_BASE', server.url)
        yield server
    server.stop()


# The browser tests resend a code as a person would, after the wait the
# page asks for: 15 seconds here, a minute by default.
RESEND_INTERVAL = 15
LAB_CONF = '''
[mail]
verification_resend_interval = %d
''' % RESEND_INTERVAL + lab_cloudkitty.BILLING_CONF


@pytest.fixture(scope='session')
def real_lab(tmp_path_factory, lab_smtp, stripe_standin):
    state = tmp_path_factory.mktemp('lab')
    keystone, horizon = lab.start_lab(str(state), lab.free_port(),
                                      lab.free_port(),
                                      smtp_port=lab_smtp.port,
                                      extra_conf=LAB_CONF)
    yield lab.Lab(keystone, horizon)
    horizon.stop()
    keystone.stop()


@pytest.fixture(scope='session')
def demo_invoices(real_lab):
    """The demo's sample invoices in the lab (acme: 14 months, globex: 3)."""
    lab.load_demo_data(real_lab.keystone, real_lab.horizon)
    return real_lab


@pytest.fixture(scope='session')
def cloudkitty_lab(real_lab, tmp_path_factory):
    """CloudKitty behind the lab's Keystone (tools/lab/cloudkitty.py).

    Its own fixture: only the tests that ask for it pay its start. A
    machine where it cannot start fails them.
    """
    cloudkitty = lab_cloudkitty.CloudKitty(
        str(tmp_path_factory.mktemp('cloudkitty')), real_lab.keystone)
    try:
        cloudkitty.start()
    except BaseException:
        cloudkitty.stop()
        raise
    yield cloudkitty
    cloudkitty.stop()
