"""The overdue banner, the reminders sent and the VAT note, in a browser.

Two projects of their own, so what other tests issue or pay does not
change what these see: hooli (Gavin, member) has one overdue invoice, which
the operator's daily ``billing_send_reminders`` reminds, and one not yet
due; initech (Erin, member) has nothing overdue, and three invoices issued
under three VAT treatments, the account changed between the runs as a
customer moving country would.
"""

import datetime
import json
import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from tests.browser.conftest import wait_for
from tests.browser.conftest import wait_until
from tests.browser.test_invoices_browser import numbers_shown
from tests.browser.test_invoices_browser import open_invoices
from tests.functional.test_account_keystone import project_id
from tests.functional.test_account_keystone import reset
from tools import lab
from tools.lab import demo_data

pytestmark = pytest.mark.browser

HOOLI_BILLING = 'ap@hooli.example'
REVERSE_CHARGE = 'Reverse charge (Article 196 of Directive 2006/112/EC)'
OUTSIDE_EU = ('Export outside the EU: not subject to EU VAT, the place of '
              'supply is outside the EU (Articles 44 and 59 of Directive '
              '2006/112/EC)')


def account(name, country, vat_number='', contacts=()):
    return demo_data.account_document(
        customer={'name': name, 'address': 'Street 1', 'postal_code': '12345',
                  'city': 'City', 'country': country,
                  'vat_number': vat_number},
        contacts=contacts)


def issue(real_lab, project, period, tmp_path, issue_date=None):
    """Issue ``project``'s SEK 100 + VAT for ``period`` as an operator."""
    usage = tmp_path / ('usage-%s-%s.json' % (project, period))
    usage.write_text(json.dumps({'projects': [{
        'project_id': project_id(real_lab, project),
        'lines': [{'product': 'compute', 'region': 'Sto2', 'quantity': 10,
                   'unit': 'h', 'unit_price': '10', 'vat_rate': '25'}]}]}))
    args = ['billing_issue', '--usage', str(usage), '--period', period]
    if issue_date:
        args += ['--issue-date', issue_date]
    issued = real_lab.horizon.manage(*args)
    return re.search(r'^Issued (\S+) to', issued.stdout, re.M).group(1)


def last_month():
    return (datetime.date.today().replace(day=1)
            - datetime.timedelta(days=1)).strftime('%Y-%m')


@pytest.fixture(scope='module')
def hooli(real_lab, lab_smtp, tmp_path_factory):
    """Hooli's overdue invoice, reminded 7 days after its due date."""
    tmp_path = tmp_path_factory.mktemp('hooli')
    lab.ensure_identities(real_lab.keystone.admin_client(),
                          users=[('hooli', 'gavin', 'member')])
    reset(real_lab, 'hooli', account(
        'Hooli AB', 'SE', contacts=[demo_data.verified_contact(
            'h1', HOOLI_BILLING)]))
    # Due 2010-12-31 with the lab's 30 days: overdue, and older than any
    # other test's invoice, so the reminder run below reminds only it.
    overdue = issue(real_lab, 'hooli', '2010-11', tmp_path,
                    issue_date='2010-12-01')
    outstanding = issue(real_lab, 'hooli', last_month(), tmp_path)
    run = real_lab.horizon.manage('billing_send_reminders',
                                  '--date', '2011-01-07')
    assert ('Queued reminder +7 days of %s to %s' % (overdue, HOOLI_BILLING)
            in run.stdout), run.stdout
    assert 'Mailed %s to %s' % (overdue, HOOLI_BILLING) in run.stdout
    return {'overdue': overdue, 'outstanding': outstanding}


@pytest.fixture(scope='module')
def initech(real_lab, tmp_path_factory):
    """Initech's invoices by VAT treatment, none of them due yet."""
    tmp_path = tmp_path_factory.mktemp('initech')
    lab.ensure_identities(real_lab.keystone.admin_client(),
                          users=[('initech', 'erin', 'member')])
    numbers = {}
    for treatment, period, doc in (
            ('reverse_charge', '2026-01',
             account('Initech GmbH', 'DE', 'DE136695976')),
            ('outside_eu', '2026-02', account('Initech AS', 'NO')),
            ('domestic', '2026-03', account('Initech AB', 'SE'))):
        reset(real_lab, 'initech', doc)
        numbers[treatment] = issue(real_lab, 'initech', period, tmp_path)
    return numbers


def banner(browser):
    return browser.find_elements(By.CSS_SELECTOR, '.invoices-overdue')


def test_gavin_follows_the_overdue_banner_to_the_overdue_invoices(
        hooli, as_user, real_lab):
    browser = as_user('gavin')
    open_invoices(browser, real_lab.url)
    assert sorted(numbers_shown(browser)) == sorted(hooli.values())
    [shown] = banner(browser)
    assert shown.text.replace('\u00a0', '') == (
        '1 invoice is overdue: SEK125.00 outstanding. '
        'Show the overdue invoices')

    table = browser.find_element(By.ID, 'invoices')
    shown.find_element(By.LINK_TEXT, 'Show the overdue invoices').click()
    wait_until(browser, EC.staleness_of(table))
    wait_for(browser, (By.ID, 'invoices'))
    assert browser.current_url == real_lab.url + '/identity/invoices/'
    assert numbers_shown(browser) == [hooli['overdue']]
    assert browser.find_elements(
        By.CSS_SELECTOR, '#invoices__row__%s .invoice-status-overdue'
        % hooli['overdue'])
    # The filter control says what the table is filtered by.
    search = browser.find_element(By.CSS_SELECTOR, '#invoices .table_search')
    assert search.find_element(
        By.NAME, 'invoices__filter__q').get_attribute('value') == 'overdue'
    assert search.find_element(
        By.CSS_SELECTOR, '.dropdown-title').text == 'Status ='

    # Cleared the way a person clears it, every invoice is back.
    open_invoices(browser, real_lab.url)
    assert len(numbers_shown(browser)) == 2


def test_erin_with_nothing_overdue_sees_no_banner(
        initech, as_user, real_lab):
    browser = as_user('erin')
    open_invoices(browser, real_lab.url)
    assert sorted(numbers_shown(browser)) == sorted(initech.values())
    assert not banner(browser)
    assert 'overdue' not in browser.find_element(
        By.CSS_SELECTOR, '#content_body').text


def test_gavin_reads_the_reminder_sent_on_the_invoice_page(
        hooli, as_user, real_lab):
    browser = as_user('gavin')
    open_invoices(browser, real_lab.url)
    row = wait_for(browser, (By.ID, 'invoices__row__%s' % hooli['overdue']))
    row.find_element(By.LINK_TEXT, hooli['overdue']).click()
    detail = wait_for(browser, (By.CSS_SELECTOR, '.invoice-detail'))
    assert 'Reminders sent' in detail.text
    rows = [[td.text for td in tr.find_elements(By.TAG_NAME, 'td')]
            for tr in detail.find_elements(
                By.CSS_SELECTOR, '.invoice-reminders tbody tr')]
    assert [row[1:] for row in rows] == [
        ['7 days after the due date', HOOLI_BILLING]]
    # Sent by the run above, today, whatever day the run was for.
    assert str(datetime.date.today().year) in rows[0][0]

    # The invoice not yet due was reminded of nothing.
    open_invoices(browser, real_lab.url)
    row = wait_for(browser, (By.ID, 'invoices__row__%s'
                             % hooli['outstanding']))
    row.find_element(By.LINK_TEXT, hooli['outstanding']).click()
    detail = wait_for(browser, (By.CSS_SELECTOR, '.invoice-detail'))
    assert 'Reminders sent' not in detail.text


def vat_note_in(element):
    """``(note, buyer VAT number)`` shown in ``element``; None if absent."""
    note = element.find_elements(By.CSS_SELECTOR, '.invoice-vat-note')
    vat_number = element.find_elements(By.CSS_SELECTOR,
                                       '.invoice-buyer-vat-number')
    return (note[0].text if note else None,
            vat_number[0].text if vat_number else None)


def vat_notes_of(browser, real_lab, number):
    """The VAT note on the invoice's page and in its Pay dialog.

    Both opened from the table: the number's link, then the row's Pay
    action.
    """
    open_invoices(browser, real_lab.url)
    row = wait_for(browser, (By.ID, 'invoices__row__%s' % number))
    row.find_element(By.LINK_TEXT, number).click()
    page = wait_for(browser, (By.CSS_SELECTOR, '.invoice-detail'))
    assert number in browser.find_element(By.CSS_SELECTOR,
                                          '.page-header h1').text
    on_page = vat_note_in(page)

    open_invoices(browser, real_lab.url)
    row = wait_for(browser, (By.ID, 'invoices__row__%s' % number))
    row.find_element(By.ID, 'invoices__row_%s__action_pay' % number).click()
    modal = wait_for(browser, (By.ID, 'pay_invoice_modal'))
    assert modal.find_element(By.CSS_SELECTOR,
                              '.invoice-number').text == number
    in_dialog = vat_note_in(modal)
    modal.find_element(By.CSS_SELECTOR, '.cancel').click()
    return [on_page, in_dialog]


def test_erin_reads_the_reverse_charge_note_and_her_vat_number(
        initech, as_user, real_lab):
    browser = as_user('erin')
    for note, vat_number in vat_notes_of(browser, real_lab,
                                         initech['reverse_charge']):
        assert note.splitlines() == [REVERSE_CHARGE,
                                     "Buyer's VAT no. DE136695976"]
        assert vat_number == 'DE136695976'


def test_erin_reads_the_export_note_without_a_vat_number(
        initech, as_user, real_lab):
    browser = as_user('erin')
    for note, vat_number in vat_notes_of(browser, real_lab,
                                         initech['outside_eu']):
        assert note == OUTSIDE_EU
        assert vat_number is None


def test_a_domestic_invoice_has_no_vat_note(initech, as_user, real_lab):
    browser = as_user('erin')
    found = vat_notes_of(browser, real_lab, initech['domestic'])
    assert found == [(None, None), (None, None)]
