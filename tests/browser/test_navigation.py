"""Alice finds Invoices in the sidebar, Account settings in the user menu."""

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import wait_for

pytestmark = pytest.mark.browser


def test_alice_reaches_both_pages_by_clicking(real_lab, as_user):
    browser = as_user('alice')

    browser.get(real_lab.url + '/identity/')
    wait_for(browser, (By.LINK_TEXT, 'Invoices')).click()
    heading = wait_for(browser, (By.CSS_SELECTOR, '.page-header h1'))
    assert heading.text == 'Invoices'
    assert browser.current_url == real_lab.url + '/identity/invoices/'

    wait_for(browser, (By.CSS_SELECTOR,
                       '.user-menu .dropdown-toggle')).click()
    wait_for(browser, (By.PARTIAL_LINK_TEXT, 'Account settings')).click()
    heading = wait_for(browser, (By.CSS_SELECTOR, '.page-header h1'))
    assert heading.text == 'Account settings'
    assert browser.current_url == real_lab.url + '/settings/account/'
