"""Carol (reader) reads acme's "This month" card in a real browser.

The lab's real CloudKitty rates the current month up to this hour, as in
tests/functional/test_month_card_lab.py; carol opens the Invoices panel
from the sidebar and reads the card as a person would.
"""

import datetime

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import Browser
from tests.browser.conftest import browser_login
from tests.browser.conftest import wait_for
from tests.functional import test_month_card_lab as lab_card

pytestmark = pytest.mark.browser


@pytest.fixture(scope='module')
def rated(real_lab, cloudkitty_lab):
    now = datetime.datetime.now(datetime.timezone.utc)
    cloudkitty_lab.seed(lab_card.this_period(), lab_card.RATES,
                        until=now.replace(minute=0, second=0,
                                          microsecond=0))
    return cloudkitty_lab


def test_carol_reads_the_month_so_far_above_the_table(real_lab, rated):
    expected = lab_card.expected_so_far(rated, 'acme')
    # An earlier look at acme's card may be kept for a minute.
    lab_card.wait_for_so_far(real_lab.login('carol'), real_lab.url,
                             expected)
    # A login of its own: the catalog is in the token, and a browser
    # logged in before CloudKitty was in the catalog shows no card.
    opened = Browser()
    try:
        browser_login(opened.driver, real_lab.url, 'carol', 'demo')
        read_the_card(opened.driver, real_lab.url, expected)
    finally:
        opened.quit()


def read_the_card(browser, url, expected):
    browser.get(url + '/identity/')
    wait_for(browser, (By.LINK_TEXT, 'Invoices')).click()
    card = wait_for(browser, (By.ID, 'invoices-month'))
    table = wait_for(browser, (By.ID, 'invoices'))
    # Above the table, as a person sees it.
    assert card.location['y'] < table.location['y']
    text = card.text
    assert 'This month' in text
    assert 'Cost so far (estimate, excl. VAT)' in text
    so_far = card.find_element(By.CSS_SELECTOR, '.invoices-month-so-far')
    assert so_far.text == expected.replace('\xa0', ' ') or \
        so_far.text == expected
    assert 'Forecast for the month (excl. VAT)' in text
    assert 'divided by the part of the month that has passed' in text
    assert 'Top services this month' in text
    assert 'Block storage' in text
    # The chart is seen; its table is for screen readers only.
    chart = card.find_element(By.CSS_SELECTOR, '.invoices-month-chart svg')
    assert chart.is_displayed() and chart.size['height'] > 0
    bars = chart.find_elements(By.TAG_NAME, 'rect')
    today = datetime.datetime.now(datetime.timezone.utc).day
    assert len(bars) == today
    hidden = card.find_element(By.CSS_SELECTOR, 'table.sr-only')
    assert len(hidden.find_elements(By.TAG_NAME, 'tr')) == today + 1
