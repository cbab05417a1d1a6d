"""Carol (reader) looks through acme's invoices in a real browser.

Every row and table action is a click: View PDF opens a tab, Download PDF,
Download e-invoice and Download CSV land in the browser's download folder,
the filter is typed into the table's search box.
"""

import csv
import io
import os
import time

import pypdf
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import wait_for
from tests.browser.conftest import wait_for_message
from tests.browser.conftest import wait_until

pytestmark = pytest.mark.browser


def row_of(browser, status):
    icon = browser.find_element(By.CSS_SELECTOR,
                                'td .invoice-status-%s' % status)
    return icon.find_element(By.XPATH, './ancestor::tr')


def open_invoices(browser, base_url):
    """The Invoices panel from the sidebar, every invoice shown.

    Horizon keeps a filter in the session, as a person's browser keeps it
    from their last visit: clear it as they would.
    """
    browser.get(base_url + '/identity/')
    wait_for(browser, (By.LINK_TEXT, 'Invoices')).click()
    box = wait_for(browser, (By.NAME, 'invoices__filter__q'))
    if box.get_attribute('value'):
        box.clear()
        box.send_keys(Keys.ENTER)
        wait_until(browser, EC.staleness_of(box))
    return wait_for(browser, (By.ID, 'invoices'))


def row_action(browser, row, name):
    """A row action, from the row's menu when it is not the first one."""
    action = row.find_element(By.CSS_SELECTOR, '[id$="__action_%s"]' % name)
    if not action.is_displayed():
        row.find_element(By.CSS_SELECTOR, '.dropdown-toggle').click()
        WebDriverWait(browser, 30).until(lambda b: action.is_displayed())
    return action


def downloaded(browser, name, timeout=60):
    """The bytes of ``name`` once the browser has finished downloading it."""
    path = os.path.join(browser.downloads, name)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and not os.path.exists(path + '.crdownload'):
            with open(path, 'rb') as f:
                return f.read()
        time.sleep(0.2)
    raise AssertionError('%s was not downloaded: %s' % (
        name, os.listdir(browser.downloads)))


def filter_by(browser, field, value):
    """Choose the filter field in the table's dropdown, type, press Enter."""
    table = wait_for(browser, (By.ID, 'invoices'))
    search = table.find_element(By.CSS_SELECTOR, '.table_search')
    search.find_element(By.CSS_SELECTOR, '.dropdown-toggle').click()
    wait_for(browser, (By.CSS_SELECTOR, '.table_search '
                       '[data-select-value="%s"]' % field)).click()
    box = search.find_element(By.NAME, 'invoices__filter__q')
    box.clear()
    box.send_keys(value + Keys.ENTER)
    wait_until(browser, EC.staleness_of(box))
    wait_until(browser, lambda d: d.execute_script(
        'return document.readyState') == 'complete')
    wait_for(browser, (By.ID, 'invoices'))


def numbers_shown(browser):
    return [tr.get_attribute('data-object-id') for tr in
            browser.find_elements(By.CSS_SELECTOR,
                                  '#invoices tbody tr[data-object-id]')]


def test_carol_reads_the_table_and_opens_a_pdf(demo_invoices, as_user):
    base = demo_invoices.url
    browser = as_user('carol')
    open_invoices(browser, base)

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
    row_action(browser, overdue, 'view_pdf').click()
    WebDriverWait(browser, 30).until(
        lambda b: len(b.window_handles) > len(windows))
    new_tab = (set(browser.window_handles) - windows).pop()
    browser.switch_to.window(new_tab)
    WebDriverWait(browser, 30).until(
        lambda b: b.current_url.endswith('/invoices/%s/pdf/' % number))
    browser.close()
    browser.switch_to.window(windows.pop())

    # Download PDF: the file the browser saves is the invoice's PDF.
    overdue = row_of(browser, 'overdue')
    row_action(browser, overdue, 'download_pdf').click()
    pdf = downloaded(browser, number + '.pdf')
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert number in text


def test_carol_filters_the_table_and_downloads_it_as_csv(demo_invoices,
                                                         as_user):
    browser = as_user('carol')
    open_invoices(browser, demo_invoices.url)
    filter_by(browser, 'status', 'overdue')
    shown = numbers_shown(browser)
    assert shown
    assert len(browser.find_elements(
        By.CSS_SELECTOR, '#invoices tbody .invoice-status-overdue')) == len(
            shown)

    # The CSV is the table as filtered.
    path = os.path.join(browser.downloads, 'invoices.csv')
    if os.path.exists(path):
        os.remove(path)
    wait_for(browser, (By.ID, 'invoices__action_export_csv')).click()
    rows = list(csv.reader(io.StringIO(
        downloaded(browser, 'invoices.csv').decode('utf-8-sig'))))
    assert sorted(row[1] for row in rows[1:]) == sorted(shown)

    # Back to every invoice.
    filter_by(browser, 'status', '')
    assert len(numbers_shown(browser)) > len(shown)


def test_an_overlong_filter_is_refused_and_the_page_keeps_working(
        demo_invoices, as_user):
    browser = as_user('carol')
    open_invoices(browser, demo_invoices.url)
    filter_by(browser, 'number', '9' * 2000)
    wait_for_message(browser, 'A filter has at most 64 characters.')
    assert numbers_shown(browser)
    # The next pages still answer: nothing oversized rides in the session.
    open_invoices(browser, demo_invoices.url)
    assert numbers_shown(browser)
    cookie = sum(len(c['value']) for c in browser.get_cookies())
    assert cookie < 4096


def test_carol_opens_an_invoice_from_the_table(demo_invoices, as_user):
    browser = as_user('carol')
    open_invoices(browser, demo_invoices.url)
    paid = row_of(browser, 'paid')
    number = paid.find_element(By.CSS_SELECTOR, 'td a[href*="/identity/'
                               'invoices/"]').text
    paid.find_element(By.LINK_TEXT, number).click()
    detail = wait_for(browser, (By.CSS_SELECTOR, '.invoice-detail'))
    assert number in browser.find_element(
        By.CSS_SELECTOR, '.page-header h1').text
    assert 'Pay this invoice' not in detail.text


def assert_valid_ubl(path):
    """No XSD error and no fatal EN 16931 or Peppol assert in ``path``."""
    from tests.einvoice import validate
    res = validate.Validator().validate(path)
    fatal = [item for rule in res['rules'] for item in rule['fatal']]
    assert [rule['name'] for rule in res['rules']] == [
        'EN16931 UBL 1.3.16', 'Peppol BIS 3.0.21']
    assert (res['xsd_errors'], fatal) == ([], [])
    assert res['valid']


def test_carol_downloads_e_invoices_from_the_table_and_the_invoice(
        demo_invoices, as_user):
    browser = as_user('carol')
    open_invoices(browser, demo_invoices.url)

    # The row action: the file the browser saves is the invoice's UBL.
    overdue = row_of(browser, 'overdue')
    number = overdue.find_element(By.CSS_SELECTOR, 'td a[href*="/identity/'
                                  'invoices/"]').text
    row_action(browser, overdue, 'download_einvoice').click()
    xml = downloaded(browser, number + '.xml')
    assert b'<cbc:ID>%s</cbc:ID>' % number.encode() in xml
    assert_valid_ubl(os.path.join(browser.downloads, number + '.xml'))

    # The invoice page's button, for another invoice.
    open_invoices(browser, demo_invoices.url)
    paid = row_of(browser, 'paid')
    number = paid.find_element(By.CSS_SELECTOR, 'td a[href*="/identity/'
                               'invoices/"]').text
    paid.find_element(By.LINK_TEXT, number).click()
    wait_for(browser, (By.CSS_SELECTOR, '.invoice-detail'))
    wait_for(browser, (By.LINK_TEXT, 'Download e-invoice')).click()
    xml = downloaded(browser, number + '.xml')
    assert b'<cbc:ID>%s</cbc:ID>' % number.encode() in xml
    assert_valid_ubl(os.path.join(browser.downloads, number + '.xml'))
