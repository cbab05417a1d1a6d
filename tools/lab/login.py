"""Logins to the lab's Horizon through its real login form."""

import html.parser

import requests

from tools.lab.identities import DEMO_PASSWORD


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
