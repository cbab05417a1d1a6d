"""Fixtures shared by the functional and browser tests: the real lab.

The lab (tools/lab.py) is a real Keystone and a real Horizon with the plugin
installed, on free loopback ports in a temporary directory, started once per
test session and only when a test asks for it.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'tools'))

import lab  # noqa: E402


@pytest.fixture(scope='session')
def real_lab(tmp_path_factory):
    state = tmp_path_factory.mktemp('lab')
    keystone, horizon = lab.start_lab(str(state), lab.free_port(),
                                      lab.free_port())
    yield lab.Lab(keystone, horizon)
    horizon.stop()
    keystone.stop()


@pytest.fixture(scope='session')
def demo_invoices(real_lab):
    """The demo's sample invoices in the lab (acme: 14 months, globex: 3)."""
    lab.load_demo_data(real_lab.keystone, real_lab.horizon)
    return real_lab
