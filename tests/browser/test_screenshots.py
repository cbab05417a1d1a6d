"""The user guide's screenshots, taken as a person reaches each page.

Alice (manager of acme) clicks her way to the Invoices list, an invoice,
its Pay dialog and the three tabs of Account settings, with the demo's
invoices in the lab. Each test checks that the page shows what the guide
says it shows, then saves it as a PNG and checks the picture is one.

Where: by default in a directory of pytest's own (``tmp_path_factory``,
e.g. ``/tmp/pytest-of-<user>/pytest-<n>/screenshots0``), so a test run
leaves the checkout as it was. With ``CLEURA_UPDATE_SCREENSHOTS=1`` in the
environment they are saved over the guide's pictures in
``doc/source/user/screenshots/``: run that after changing a page and commit
the PNGs along with the change, so the guide shows the pages as they are::

    CLEURA_UPDATE_SCREENSHOTS=1 .tox/py3/bin/pytest \
        tests/browser/test_screenshots.py

tox does not pass the variable on, so ``tox`` (and CI) never writes there.
"""

import os

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from cleura_billing_dashboard.account import document
from cleura_billing_dashboard.billing import demo
from tests.browser.conftest import tab
from tests.browser.conftest import wait_for
from tests.browser.conftest import wait_until
from tests.browser.test_invoices_browser import open_invoices
from tests.browser.test_invoices_browser import row_of
from tests import factories
from tests.functional.test_account_keystone import reset

pytestmark = pytest.mark.browser

# The user guide's pictures, written only when UPDATE_ENV is 1.
GUIDE_SCREENSHOTS = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
        __file__)))), 'doc', 'source', 'user', 'screenshots')
UPDATE_ENV = 'CLEURA_UPDATE_SCREENSHOTS'
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
# The viewport's width, and the height that shows the whole page or the
# whole open modal dialog.
TALL_AS = """
var dialog = document.querySelector('.modal.in .modal-dialog');
var bottom = dialog ? dialog.getBoundingClientRect().bottom + 30 : 0;
return [window.innerWidth,
        Math.ceil(Math.max(document.documentElement.scrollHeight, bottom))];
"""


def acme_account():
    """acme as the guide shows it: customer, three addresses, a phone."""
    customer = dict(factories.ACME, org_number=factories.ACME_ORG_NUMBER,
                    vat_number='SE556677889901', po_reference='PO-4711')
    contacts = [
        factories.verified_contact('ap', 'invoices@acme.example',
                                   [document.BILLING]),
        factories.verified_contact('ops', 'ops@acme.example',
                                   [document.TECH, document.DPO]),
        {'id': 'cfo', 'email': 'cfo@acme.example', 'name': 'Eva Berg',
         'roles': [], 'verified': False, 'verification': None},
    ]
    doc = factories.account_document(customer=customer, contacts=contacts)
    doc['phones'] = [{'id': 'switchboard', 'number': '+46812345678',
                      'label': 'Switchboard'}]
    doc['settings'] = {'delivery': 'link', 'language': 'en'}
    return doc


@pytest.fixture(scope='module')
def screenshots(tmp_path_factory):
    """The directory pictures are saved in (see the module docstring)."""
    if os.environ.get(UPDATE_ENV) == '1':
        return GUIDE_SCREENSHOTS
    return str(tmp_path_factory.mktemp('screenshots'))


def save(driver, directory, name, full_page=False):
    """Save what ``driver`` shows as ``directory/<name>.png``; its path.

    ``full_page`` makes the viewport as tall as the page, or as an open
    modal dialog, first (a window cannot grow past the headless screen, so
    through the DevTools protocol) and puts it back after.
    """
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name + '.png')
    if os.path.exists(path):
        os.remove(path)
    # No focus ring left by the last click.
    driver.execute_script('document.activeElement && '
                          'document.activeElement.blur()')
    if full_page:
        width, height = driver.execute_script(TALL_AS)
        driver.execute_cdp_cmd('Emulation.setDeviceMetricsOverride', {
            'width': width, 'height': height,
            'deviceScaleFactor': 1, 'mobile': False})
    try:
        assert driver.save_screenshot(path)
    finally:
        if full_page:
            driver.execute_cdp_cmd('Emulation.clearDeviceMetricsOverride',
                                   {})
    with open(path, 'rb') as f:
        assert f.read(8) == PNG_SIGNATURE
    assert os.path.getsize(path) > 10000, 'an empty picture'
    return path


def settled(driver):
    """Wait until nothing is fading in, moving or loading on the page."""
    wait_until(driver, lambda d: d.execute_script(
        'return document.readyState === "complete" && '
        '!document.querySelector(".modal.fade:not(.in)") && '
        '!(window.jQuery && jQuery.active) && '
        '!(window.jQuery && jQuery(":animated").length)'))


def invoice_number(row):
    return row.find_element(By.CSS_SELECTOR,
                            'td a[href*="/identity/invoices/"]').text


def test_invoices_list(demo_invoices, as_user, screenshots):
    alice = as_user('alice')
    table = open_invoices(alice, demo_invoices.url)
    headers = [th.text for th in table.find_elements(
        By.CSS_SELECTOR, 'thead tr.table_column_header th')]
    for name in ('Type', 'Invoice No', 'Outstanding Amount', 'Invoice Date',
                 'Due Date', 'Total'):
        assert name in headers
    for status in ('paid', 'overdue', 'outstanding'):
        assert row_of(alice, status)
    assert 'Credit note' in table.text
    assert table.find_element(By.ID, 'invoices__action_export_csv')
    overdue = row_of(alice, 'overdue')
    assert overdue.find_elements(By.CSS_SELECTOR, '[id$="__action_pay"]')
    settled(alice)
    assert os.path.exists(save(alice, screenshots, 'invoices'))


def test_invoice_detail(demo_invoices, as_user, screenshots):
    alice = as_user('alice')
    open_invoices(alice, demo_invoices.url)
    # Other tests' invoices to acme are issued today, so they come first;
    # the last paid row is the demo's oldest invoice, with all its lines.
    paid = alice.find_elements(By.CSS_SELECTOR,
                               'td .invoice-status-paid')[-1].find_element(
                                   By.XPATH, './ancestor::tr')
    number = invoice_number(paid)
    paid.find_element(By.LINK_TEXT, number).click()
    detail = wait_for(alice, (By.CSS_SELECTOR, '.invoice-detail'))
    assert number in alice.find_element(By.CSS_SELECTOR,
                                        '.page-header h1').text
    for heading in ('Lines', 'Payments', 'Payment reference (OCR)',
                    'View PDF', 'Download PDF'):
        assert heading in detail.text
    lines = detail.find_elements(By.CSS_SELECTOR,
                                 '.invoice-lines tbody tr')
    assert len(lines) == len(demo.PRODUCTS)
    payments = detail.find_element(By.CSS_SELECTOR, '.invoice-payments')
    assert 'Settled' in payments.text
    settled(alice)
    assert os.path.exists(save(alice, screenshots, 'invoice-detail',
                               full_page=True))


def test_pay_this_invoice(demo_invoices, as_user, screenshots):
    alice = as_user('alice')
    open_invoices(alice, demo_invoices.url)
    overdue = row_of(alice, 'overdue')
    number = invoice_number(overdue)
    pay = overdue.find_element(By.CSS_SELECTOR, '[id$="__action_pay"]')
    if not pay.is_displayed():
        overdue.find_element(By.CSS_SELECTOR, '.dropdown-toggle').click()
        WebDriverWait(alice, 30).until(lambda d: pay.is_displayed())
    pay.click()
    modal = wait_for(alice, (By.ID, 'pay_invoice_modal'))
    wait_until(alice, EC.visibility_of_element_located(
        (By.CSS_SELECTOR, '.modal.in .invoice-pay')))
    text = modal.text.replace('\u00a0', '')
    for expected in (number, 'was due on', 'Dues', 'Outstanding',
                     'Bank transfer', 'SE4550000000058398257466',
                     'Reference (OCR)', 'Card'):
        assert expected in text
    assert modal.find_element(By.CSS_SELECTOR,
                              'input[type=submit][value="Pay by card"]')
    settled(alice)
    try:
        assert os.path.exists(save(alice, screenshots, 'pay-invoice',
                                   full_page=True))
    finally:
        modal.find_element(By.CSS_SELECTOR, '.cancel').click()


@pytest.mark.parametrize('name,check,picture', [
    ('Customer Info', (By.ID, 'customer_form'), 'account-customer-info'),
    ('Contact', (By.CSS_SELECTOR, 'table#emails'), 'account-contact'),
    ('Settings', (By.ID, 'settings_form'), 'account-settings'),
])
def test_account_settings_tab(real_lab, as_user, screenshots, name, check,
                              picture):
    reset(real_lab, 'acme', acme_account())
    alice = as_user('alice')
    alice.get(real_lab.url + '/identity/')
    wait_for(alice, (By.CSS_SELECTOR, '.user-menu .dropdown-toggle')).click()
    wait_for(alice, (By.PARTIAL_LINK_TEXT, 'Account settings')).click()
    wait_for(alice, (By.CSS_SELECTOR, '.account-settings'))
    wait_for(alice, tab(name)).click()
    shown = wait_for(alice, check)

    if name == 'Customer Info':
        assert shown.find_element(By.NAME, 'name').get_attribute(
            'value') == 'Acme AB'
        assert shown.find_element(By.NAME, 'po_reference').get_attribute(
            'value') == 'PO-4711'
    elif name == 'Contact':
        for address in ('invoices@acme.example', 'ops@acme.example',
                        'cfo@acme.example'):
            assert address in shown.text
        assert alice.find_element(By.CSS_SELECTOR, 'table#emails '
                                  'tr[data-display="cfo@acme.example"] '
                                  '[id$="__action_verify"]')
        phones = wait_for(alice, (By.CSS_SELECTOR, 'table#phones'))
        assert 'Switchboard' in phones.text
    else:
        assert shown.find_element(
            By.CSS_SELECTOR, 'input[name=delivery][value=link]').is_selected()
    settled(alice)
    assert os.path.exists(save(alice, screenshots, picture, full_page=True))
