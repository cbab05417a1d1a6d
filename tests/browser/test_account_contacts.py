"""The seed's journey in a real browser: Billing moves to a new address.

Alice opens Account settings from the user menu, changes Customer Info and
Settings, adds a new address,
verifies it with the code from the mail the lab's SMTP server received,
gives it Billing and takes Billing from the old address. The next invoice
issued for acme reaches only the new address.
"""

import json
import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from tests.browser.conftest import choose
from tests.browser.conftest import tab
from tests.browser.conftest import wait_for
from tests.browser.conftest import wait_for_message
from tests.browser.conftest import wait_until
from tests import factories
from tests.functional.test_account_keystone import project_id
from tests.functional.test_account_keystone import reset
from tests.functional.test_account_keystone import stored

pytestmark = pytest.mark.browser

OLD = 'old-billing@acme.example'
NEW = 'new-billing@acme.example'


def row(email):
    return (By.CSS_SELECTOR, 'table#emails tr[data-display="%s"]' % email)


def toggle(email, role):
    return (By.CSS_SELECTOR, 'button.role-toggle[data-contact="%s"]'
                             '[data-role="%s"]' % (email, role))


def click_and_reload(driver, locator):
    """Click something that reloads the page; wait for the new page."""
    element = wait_for(driver, locator)
    element.click()
    wait_until(driver, EC.staleness_of(element))
    wait_for(driver, (By.CSS_SELECTOR, '.page-header h1'))


def submit_modal(driver, form_id, values):
    form = wait_for(driver, (By.ID, form_id))
    for name, value in values.items():
        field = form.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)
    button = form.find_element(By.CSS_SELECTOR, 'input[type=submit]')
    button.click()
    wait_until(driver, EC.staleness_of(button))


def test_billing_moves_to_a_verified_new_address(real_lab, as_user,
                                                 smtp_server, tmp_path):
    old = factories.verified_contact('old1', OLD)
    doc = factories.account_document(customer=factories.ACME, contacts=[old])
    reset(real_lab, 'acme', doc)

    browser = as_user('alice')
    browser.get(real_lab.url + '/identity/')
    wait_for(browser, (By.CSS_SELECTOR,
                       '.user-menu .dropdown-toggle')).click()
    wait_for(browser, (By.PARTIAL_LINK_TEXT, 'Account settings')).click()
    heading = wait_for(browser, (By.CSS_SELECTOR, '.page-header h1'))
    assert heading.text == 'Account settings'
    tabs = [tab.text for tab in browser.find_elements(
        By.CSS_SELECTOR, '.nav-tabs li a')]
    assert tabs == ['Customer Info', 'Contact', 'Settings']

    # Customer Info and Settings, saved with their own Save buttons.
    form = wait_for(browser, (By.ID, 'customer_form'))
    field = form.find_element(By.NAME, 'vat_number')
    field.clear()
    field.send_keys('SE556677889901')
    click_and_reload(browser, (By.CSS_SELECTOR,
                               '#customer_form button[type=submit]'))
    wait_for_message(browser, 'Customer info saved.')
    wait_for(browser, tab('Settings')).click()
    form = wait_for(browser, (By.ID, 'settings_form'))
    choose(form, 'delivery', 'link')
    click_and_reload(browser, (By.CSS_SELECTOR,
                               '#settings_form button[type=submit]'))
    wait_for_message(browser, 'Settings saved.')
    account = stored(real_lab, 'acme')
    assert account['customer']['vat_number'] == 'SE556677889901'
    assert account['settings']['delivery'] == 'link'

    wait_for(browser, tab('Contact')).click()

    # A new address: pending until the mailed code is entered.
    wait_for(browser, (By.ID, 'emails__action_create')).click()
    submit_modal(browser, 'create_email_form', {'email': NEW})
    wait_for(browser, row(NEW))
    assert 'Pending verification' in browser.find_element(*row(NEW)).text
    [mail] = smtp_server.wait_for(NEW)
    code = re.search(r'^ {4}(\d{6})$', mail.text, re.M).group(1)

    browser.find_element(*row(NEW)).find_element(
        By.CSS_SELECTOR, 'a[href$="/verify/"]').click()
    submit_modal(browser, 'verify_email_form', {'code': code})
    wait_until(browser, lambda d: 'Verified' in d.find_element(
        *row(NEW)).text)

    # Billing on for the new address, then off for the old one.
    click_and_reload(browser, toggle(NEW, 'billing'))
    wait_for(browser, tab('Contact')).click()
    assert wait_for(browser, toggle(NEW, 'billing')).get_attribute(
        'aria-pressed') == 'true'
    click_and_reload(browser, toggle(OLD, 'billing'))
    wait_for(browser, tab('Contact')).click()
    assert wait_for(browser, toggle(OLD, 'billing')).get_attribute(
        'aria-pressed') == 'false'

    saved = {c['email']: c for c in stored(real_lab, 'acme')['contacts']}
    assert saved[NEW]['verified'] and 'billing' in saved[NEW]['roles']
    assert 'billing' not in saved[OLD]['roles']

    # The next invoice reaches only the new address.
    usage = tmp_path / 'usage.json'
    usage.write_text(json.dumps({'projects': [{
        'project_id': project_id(real_lab, 'acme'),
        'lines': [{'product': 'compute', 'region': 'Sto2', 'quantity': 744,
                   'unit': 'h', 'unit_price': '0.45'}]}]}))
    issued = real_lab.horizon.manage('billing_issue', '--usage', str(usage),
                                     '--period', '2031-05')
    number = re.search(r'Issued (\S+) to', issued.stdout).group(1)
    assert 'Mailed %s to %s' % (number, NEW) in issued.stdout
    real_lab.horizon.manage('billing_send_mail')
    invoice_mail = [m for m in smtp_server.wait_for(NEW, count=2)
                    if number in m.subject]
    assert len(invoice_mail) == 1
    # Delivery is "link" since Alice's Settings: a link, no attachment.
    assert invoice_mail[0].attachments() == []
    assert '%s/identity/invoices/%s/pdf/' % (real_lab.url, number) in (
        invoice_mail[0].text)
    assert smtp_server.to(OLD) == []
