"""Fixtures shared by the functional and browser tests: the real lab.

The lab (tools/lab.py) is a real Keystone and a real Horizon with the plugin
installed, on free loopback ports in a temporary directory, started once per
test session and only when a test asks for it.
"""

import html.parser
import os
import sys

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'tools'))

import lab  # noqa: E402


class Lab:
    def __init__(self, keystone, horizon):
        self.keystone = keystone
        self.horizon = horizon
        self.url = horizon.url

    def login(self, username, password=lab.DEMO_PASSWORD):
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
        assert 'class="dropdown user-menu"' in res.text, (
            'login as %s failed: %s' % (username, res.text[-2000:]))
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


@pytest.fixture(scope='session')
def real_lab(tmp_path_factory):
    state = tmp_path_factory.mktemp('lab')
    keystone, horizon = lab.start_lab(str(state), lab.free_port(),
                                      lab.free_port())
    yield Lab(keystone, horizon)
    horizon.stop()
    keystone.stop()
