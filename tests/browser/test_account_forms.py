"""Every form and action of Account settings, driven in Chromium by hand.

Alice (manager of acme) opens each tab, fills the fields, clicks the
button and reads the page; what was saved is then read from Keystone with
its own admin API, never through the plugin. Nothing here posts around a
page: each submit is a click on the form the page shows.
"""

import re
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from cleura_billing_dashboard.account import document
from tests.browser.conftest import choose
from tests.browser.conftest import tab
from tests.browser.conftest import wait_for
from tests.browser.conftest import wait_for_message
from tests.browser.conftest import wait_until
from tests.conftest import RESEND_INTERVAL
from tests import factories
from tests.functional.test_account_keystone import reset
from tests.functional.test_account_keystone import stored

pytestmark = pytest.mark.browser

PAGE = '/settings/account/'
OLD = 'ap@acme.example'


def acme_account(**customer):
    """acme with one verified Billing address and the customer given."""
    return factories.account_document(
        customer=dict(dict(factories.ACME,
                           org_number=factories.ACME_ORG_NUMBER), **customer),
        contacts=[factories.verified_contact('ap1', OLD, document.ROLES)])


def open_tab(driver, base_url, name):
    """Account settings from the user menu, then the tab called ``name``."""
    driver.get(base_url + '/identity/')
    wait_for(driver, (By.CSS_SELECTOR, '.user-menu .dropdown-toggle')).click()
    wait_for(driver, (By.PARTIAL_LINK_TEXT, 'Account settings')).click()
    wait_for(driver, (By.CSS_SELECTOR, '.account-settings'))
    wait_for(driver, tab(name)).click()


def type_into(form, name, value):
    field = form.find_element(By.NAME, name)
    field.clear()
    field.send_keys(value)


def click_and_wait(driver, button):
    """Click a button that leaves the page; wait for the next one."""
    button.click()
    wait_until(driver, EC.staleness_of(button))
    wait_for(driver, (By.CSS_SELECTOR, '.page-header h1'))


def test_customer_info_is_saved_by_its_form(real_lab, as_user):
    reset(real_lab, 'acme', acme_account())
    alice = as_user('alice')
    open_tab(alice, real_lab.url, 'Customer Info')
    form = wait_for(alice, (By.ID, 'customer_form'))
    type_into(form, 'name', 'Acme Cloud AB')
    type_into(form, 'po_reference', 'PO-4711')
    type_into(form, 'city', 'Göteborg')
    type_into(form, 'postal_code', '41104')
    Select(form.find_element(By.NAME, 'country')).select_by_value('SE')
    click_and_wait(alice, form.find_element(By.CSS_SELECTOR,
                                            'button[type=submit]'))

    wait_for_message(alice, 'Customer info saved.')
    assert alice.current_url.endswith(PAGE + '?tab=account__customer')
    form = wait_for(alice, (By.ID, 'customer_form'))
    assert form.find_element(By.NAME, 'name').get_attribute(
        'value') == 'Acme Cloud AB'
    saved = stored(real_lab, 'acme')['customer']
    assert (saved['name'], saved['po_reference'], saved['city'],
            saved['postal_code']) == ('Acme Cloud AB', 'PO-4711',
                                      'Göteborg', '411 04')


def test_a_bad_customer_field_is_shown_and_nothing_saved(real_lab,
                                                         as_user):
    before = reset(real_lab, 'acme', acme_account())
    alice = as_user('alice')
    open_tab(alice, real_lab.url, 'Customer Info')
    form = wait_for(alice, (By.ID, 'customer_form'))
    type_into(form, 'org_number', '556677-8898')
    type_into(form, 'name', 'Not saved AB')
    click_and_wait(alice, form.find_element(By.CSS_SELECTOR,
                                            'button[type=submit]'))

    form = wait_for(alice, (By.ID, 'customer_form'))
    field = form.find_element(By.ID, 'id_org_number').find_element(
        By.XPATH, './ancestor::div[contains(@class, "form-group")]')
    assert 'has-error' in field.get_attribute('class')
    assert 'check the digits' in field.text
    assert stored(real_lab, 'acme')['revision'] == before['revision']
    assert stored(real_lab, 'acme')['customer']['name'] == 'Acme AB'


def test_settings_are_saved_by_their_form(real_lab, as_user):
    reset(real_lab, 'acme', acme_account())
    alice = as_user('alice')
    open_tab(alice, real_lab.url, 'Settings')
    form = wait_for(alice, (By.ID, 'settings_form'))
    choose(form, 'delivery', 'link')
    Select(form.find_element(By.NAME, 'language')).select_by_value('sv')
    click_and_wait(alice, form.find_element(By.CSS_SELECTOR,
                                            'button[type=submit]'))

    wait_for_message(alice, 'Settings saved.')
    assert stored(real_lab, 'acme')['settings'] == {'delivery': 'link',
                                                    'language': 'sv',
                                                    'einvoice': False}
    form = wait_for(alice, (By.ID, 'settings_form'))
    assert form.find_element(
        By.CSS_SELECTOR, 'input[name=delivery][value=link]').is_selected()


def form_group(form, field_id):
    return form.find_element(By.ID, field_id).find_element(
        By.XPATH, './ancestor::div[contains(@class, "form-group")]')


def test_peppol_id_and_your_reference_by_hand(real_lab, as_user):
    before = reset(real_lab, 'acme', acme_account())
    alice = as_user('alice')
    open_tab(alice, real_lab.url, 'Customer Info')

    # A wrong check digit: the message on the field, nothing saved.
    form = wait_for(alice, (By.ID, 'customer_form'))
    type_into(form, 'peppol_id', '0007:5566778898')
    type_into(form, 'buyer_reference', 'Not saved')
    click_and_wait(alice, form.find_element(By.CSS_SELECTOR,
                                            'button[type=submit]'))
    form = wait_for(alice, (By.ID, 'customer_form'))
    field = form_group(form, 'id_peppol_id')
    assert 'has-error' in field.get_attribute('class')
    assert ('The identifier is not a valid Swedish organisation number: '
            'check the digits.') in field.text
    after = stored(real_lab, 'acme')
    assert after['revision'] == before['revision']
    assert (after['customer'].get('peppol_id', ''),
            after['customer'].get('buyer_reference', '')) == ('', '')

    # A good one, typed as printed: stored compact, with the reference.
    type_into(form, 'peppol_id', '0007:556677-8899')
    type_into(form, 'buyer_reference', 'Cost centre 17')
    click_and_wait(alice, form.find_element(By.CSS_SELECTOR,
                                            'button[type=submit]'))
    wait_for_message(alice, 'Customer info saved.')

    alice.refresh()
    form = wait_for(alice, (By.ID, 'customer_form'))
    assert form.find_element(By.NAME, 'peppol_id').get_attribute(
        'value') == '0007:5566778899'
    assert form.find_element(By.NAME, 'buyer_reference').get_attribute(
        'value') == 'Cost centre 17'
    saved = stored(real_lab, 'acme')['customer']
    assert (saved['peppol_id'], saved['buyer_reference'],
            saved['name']) == ('0007:5566778899', 'Cost centre 17',
                               'Acme AB')


def test_the_einvoice_setting_is_saved_by_its_checkbox(real_lab, as_user):
    reset(real_lab, 'acme', acme_account())
    alice = as_user('alice')
    open_tab(alice, real_lab.url, 'Settings')
    form = wait_for(alice, (By.ID, 'settings_form'))
    box = form.find_element(By.NAME, 'einvoice')
    assert not box.is_selected()
    # Horizon's themed checkbox: the label is what a person clicks.
    form.find_element(By.CSS_SELECTOR, 'label[for=id_einvoice]').click()
    assert box.is_selected()
    click_and_wait(alice, form.find_element(By.CSS_SELECTOR,
                                            'button[type=submit]'))

    wait_for_message(alice, 'Settings saved.')
    assert stored(real_lab, 'acme')['settings'] == {
        'delivery': 'attachment', 'language': 'en', 'einvoice': True}
    form = wait_for(alice, (By.ID, 'settings_form'))
    assert form.find_element(By.NAME, 'einvoice').is_selected()


# The Contact tab's tables and modals.

def row(table, object_id):
    return (By.ID, '%s__row__%s' % (table, object_id))


def row_action(driver, table, object_id, action):
    """The row's action button, opening its menu first when it is in it."""
    locator = (By.ID, '%s__row_%s__action_%s' % (table, object_id, action))
    element = driver.find_element(*locator)
    if not element.is_displayed():
        wait_for(driver, row(table, object_id)).find_element(
            By.CSS_SELECTOR, '.dropdown-toggle').click()
        wait_for(driver, locator)
    return element


def submit_modal(driver, form_id, values):
    form = wait_for(driver, (By.ID, form_id))
    for name, value in values.items():
        type_into(form, name, value)
    button = form.find_element(By.CSS_SELECTOR, 'input[type=submit]')
    button.click()
    wait_until(driver, EC.staleness_of(button))
    wait_for(driver, (By.CSS_SELECTOR, '.page-header h1'))


def confirm_delete(driver):
    """Horizon asks before deleting: click the dialog's red button."""
    dialog = wait_for(driver, (By.CSS_SELECTOR, '.modal-dialog'))
    button = dialog.find_element(By.CSS_SELECTOR, '.btn-danger')
    button.click()
    wait_until(driver, EC.staleness_of(button))
    wait_for(driver, (By.CSS_SELECTOR, '.page-header h1'))


def contact_of(real_lab, email):
    return next(c for c in stored(real_lab, 'acme')['contacts']
                if c['email'] == email)


def code_in(received):
    return re.search(r'^ {4}(\d{6})$', received.text, re.M).group(1)


def test_every_email_action_by_hand(real_lab, as_user, smtp_server):
    reset(real_lab, 'acme', acme_account())
    alice = as_user('alice')
    open_tab(alice, real_lab.url, 'Contact')

    # Create new Email: pending, a code in the mail.
    wait_for(alice, (By.ID, 'emails__action_create')).click()
    submit_modal(alice, 'create_email_form',
                 {'email': 'ops@acme.example', 'name': 'Operations'})
    wait_for_message(alice, 'A verification code was mailed to '
                     'ops@acme.example')
    ops = contact_of(real_lab, 'ops@acme.example')
    assert (ops['verified'], ops['name']) == (False, 'Operations')
    [first] = smtp_server.wait_for('ops@acme.example')
    wait_for(alice, row('emails', ops['id']))
    assert 'Pending verification' in alice.find_element(
        *row('emails', ops['id'])).text

    # Resend at once: refused, nothing mailed; after the wait: a new code.
    wait_for(alice, tab('Contact')).click()
    click_and_wait(alice, row_action(alice, 'emails', ops['id'], 'resend'))
    refusal = wait_for_message(alice, 'seconds')
    assert 'Wait' in refusal
    assert len(smtp_server.to('ops@acme.example')) == 1
    sent = smtp_server.to('ops@acme.example')[0].received_at
    time.sleep(max(0, sent + RESEND_INTERVAL + 1 - time.time()))
    wait_for(alice, tab('Contact')).click()
    click_and_wait(alice, row_action(alice, 'emails', ops['id'], 'resend'))
    wait_for_message(alice, 'A new code was mailed to ops@acme.example.')
    second = smtp_server.wait_for('ops@acme.example', count=2)[-1]

    # The first code no longer counts; the newest one verifies.
    wait_for(alice, tab('Contact')).click()
    row_action(alice, 'emails', ops['id'], 'verify').click()
    if code_in(first) != code_in(second):
        form = wait_for(alice, (By.ID, 'verify_email_form'))
        type_into(form, 'code', code_in(first))
        form.find_element(By.CSS_SELECTOR, 'input[type=submit]').click()
        error = wait_until(alice, lambda d: d.find_element(
            By.CSS_SELECTOR, '#verify_email_form .has-error'))
        assert 'This is not the code we mailed' in error.text
        assert not contact_of(real_lab, 'ops@acme.example')['verified']
    submit_modal(alice, 'verify_email_form', {'code': code_in(second)})
    wait_for_message(alice, 'ops@acme.example is verified.')
    assert contact_of(real_lab, 'ops@acme.example')['verified']

    # Edit: a new name keeps it verified.
    wait_for(alice, tab('Contact')).click()
    row_action(alice, 'emails', ops['id'], 'edit').click()
    submit_modal(alice, 'update_email_form', {'name': 'Ops team'})
    wait_for_message(alice, 'Saved ops@acme.example.')
    ops = contact_of(real_lab, 'ops@acme.example')
    assert (ops['name'], ops['verified']) == ('Ops team', True)

    # Delete, after the dialog asks.
    wait_for(alice, tab('Contact')).click()
    row_action(alice, 'emails', ops['id'], 'delete').click()
    confirm_delete(alice)
    wait_for_message(alice, 'Deleted ops@acme.example.')
    emails = [c['email'] for c in stored(real_lab, 'acme')['contacts']]
    assert emails == [OLD]


def test_the_last_billing_address_cannot_be_deleted(real_lab, as_user):
    before = reset(real_lab, 'acme', acme_account())
    alice = as_user('alice')
    open_tab(alice, real_lab.url, 'Contact')
    row_action(alice, 'emails', 'ap1', 'delete').click()
    confirm_delete(alice)
    wait_for_message(alice, 'At least one verified address must receive '
                     'invoices')
    assert stored(real_lab, 'acme')['contacts'] == before['contacts']


def test_every_phone_action_by_hand(real_lab, as_user):
    reset(real_lab, 'acme', acme_account())
    alice = as_user('alice')
    open_tab(alice, real_lab.url, 'Contact')

    wait_for(alice, (By.ID, 'phones__action_create')).click()
    submit_modal(alice, 'create_phone_form',
                 {'number': '+46 70-123 45 67', 'label': 'On call'})
    wait_for_message(alice, 'Added +46701234567.')
    [phone] = stored(real_lab, 'acme')['phones']
    assert (phone['number'], phone['label']) == ('+46701234567', 'On call')

    wait_for(alice, tab('Contact')).click()
    row_action(alice, 'phones', phone['id'], 'edit').click()
    # Typed with full-width digits, as some input methods do: stored ASCII.
    submit_modal(alice, 'update_phone_form',
                 {'number': '+４６ ８ １２３ ４５６ ７８',
                  'label': 'Switchboard'})
    wait_for_message(alice, 'Saved +46812345678.')
    [phone] = stored(real_lab, 'acme')['phones']
    assert (phone['number'], phone['label']) == ('+46812345678',
                                                 'Switchboard')

    wait_for(alice, tab('Contact')).click()
    row_action(alice, 'phones', phone['id'], 'delete').click()
    confirm_delete(alice)
    wait_for_message(alice, 'Deleted +46812345678.')
    assert stored(real_lab, 'acme')['phones'] == []


def test_a_bad_phone_number_is_refused_in_the_modal(real_lab, as_user):
    reset(real_lab, 'acme', acme_account())
    alice = as_user('alice')
    open_tab(alice, real_lab.url, 'Contact')
    wait_for(alice, (By.ID, 'phones__action_create')).click()
    form = wait_for(alice, (By.ID, 'create_phone_form'))
    type_into(form, 'number', '12')
    form.find_element(By.CSS_SELECTOR, 'input[type=submit]').click()
    error = wait_until(alice, lambda d: d.find_element(
        By.CSS_SELECTOR, '#create_phone_form .has-error'))
    assert error.text
    assert stored(real_lab, 'acme')['phones'] == []


def test_readers_get_no_form_and_no_action(real_lab, as_user):
    reset(real_lab, 'acme', acme_account())
    carol = as_user('carol')
    open_tab(carol, real_lab.url, 'Customer Info')
    wait_for(carol, (By.CSS_SELECTOR, '.account-readonly'))
    assert not carol.find_elements(By.ID, 'customer_form')
    wait_for(carol, tab('Contact')).click()
    wait_for(carol, (By.ID, 'emails'))
    assert not carol.find_elements(By.ID, 'emails__action_create')
    assert not carol.find_elements(By.ID, 'phones__action_create')
    assert not carol.find_elements(By.CSS_SELECTOR,
                                   '#emails .dropdown-toggle')
