"""Real Keystone, real Horizon, real login: the plugin's pages, per user."""

import re

import pytest

from tools import lab

pytestmark = pytest.mark.functional

DEMO_USERS = ['alice', 'bob', 'carol', 'dave']


@pytest.mark.parametrize('username', DEMO_USERS)
def test_both_pages_answer_200_for_every_demo_user(real_lab, username):
    session = real_lab.login(username)
    invoices = session.get(real_lab.url + '/identity/invoices/', timeout=60)
    assert invoices.status_code == 200
    assert '<title>Invoices' in invoices.text
    account = session.get(real_lab.url + '/settings/account/', timeout=60)
    assert account.status_code == 200
    assert 'Account settings' in account.text


def test_sidebar_lists_invoices_right_below_users(real_lab):
    session = real_lab.login('alice')
    page = session.get(real_lab.url + '/identity/invoices/', timeout=60)
    identity_links = re.findall(r'href="/identity/([a-z_]+)/"', page.text)
    assert 'invoices' in identity_links
    assert identity_links.index('invoices') == (
        identity_links.index('users') + 1), identity_links


def test_user_menu_has_account_settings(real_lab):
    session = real_lab.login('alice')
    page = session.get(real_lab.url + '/identity/invoices/', timeout=60)
    menu = page.text[page.text.index('class="dropdown user-menu"'):]
    assert re.search(r'href="/settings/account/">\s*<span class="fa '
                     r'fa-credit-card"></span>\s*Account settings', menu)


def test_wrong_password_is_refused_by_keystone(real_lab):
    with pytest.raises(lab.LoginFailed, match='login as alice failed'):
        real_lab.login('alice', 'not-the-password')
