"""Carol (reader) looks through acme's invoices in a real browser."""

import io

import pypdf
import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import browser_login
from tests.browser.conftest import wait_for

pytestmark = pytest.mark.browser


def row_of(browser, status):
    icon = browser.find_element(By.CSS_SELECTOR,
                                'td .invoice-status-%s' % status)
    return icon.find_element(By.XPATH, './ancestor::tr')


def test_carol_reads_the_table_and_opens_a_pdf(demo_invoices, browser):
    base = demo_invoices.url
    browser_login(browser, base, 'carol')
    browser.get(base + '/identity/')
    wait_for(browser, (By.LINK_TEXT, 'Invoices')).click()
    wait_for(browser, (By.ID, 'invoices'))

    headers = [th.text for th in browser.find_elements(
        By.CSS_SELECTOR, '#invoices thead tr.table_column_header th')]
    for name in ('Type', 'Invoice No', 'Outstanding Amount',
                 'Invoice Date', 'Due Date', 'Total'):
        assert name in headers

    paid = row_of(browser, 'paid')
    tick = paid.find_element(By.CSS_SELECTOR, '.invoice-status-paid')
    assert 'fa-check-circle' in tick.get_attribute('class')
    assert 'text-success' in tick.get_attribute('class')
    assert 'SEK0.00' in paid.text.replace('\u00a0', '')

    overdue = row_of(browser, 'overdue')
    marker = overdue.find_element(By.CSS_SELECTOR, '.invoice-status-overdue')
    assert 'text-warning' in marker.get_attribute('class')

    # A reader gets no Pay action on any row, paid or not.
    for toggle in browser.find_elements(
            By.CSS_SELECTOR, '#invoices tbody .dropdown-toggle'):
        assert not toggle.find_elements(
            By.XPATH, '..//a[contains(., "Pay this invoice")]')
    assert 'Pay this invoice' not in browser.page_source

    number = overdue.find_element(By.CSS_SELECTOR, 'td a[href*="/identity/'
                                  'invoices/"]').text
    windows = set(browser.window_handles)
    overdue.find_element(By.PARTIAL_LINK_TEXT, 'View PDF').click()
    WebDriverWait(browser, 30).until(
        lambda b: len(b.window_handles) > len(windows))
    new_tab = (set(browser.window_handles) - windows).pop()
    browser.switch_to.window(new_tab)
    WebDriverWait(browser, 30).until(
        lambda b: b.current_url.endswith('/invoices/%s/pdf/' % number))

    # What Download PDF gives, fetched with the browser's own session.
    session = requests.Session()
    for cookie in browser.get_cookies():
        session.cookies.set(cookie['name'], cookie['value'])
    res = session.get('%s/identity/invoices/%s/download/' % (base, number),
                      timeout=60)
    text = pypdf.PdfReader(io.BytesIO(res.content)).pages[0].extract_text()
    assert number in text
