"""A project's credit in a browser: shown, then taken off the next invoice.

A project of its own, umbrella (Dana, member), so what other tests issue
or pay changes nothing here: its first invoice (SEK 125.00) is paid
SEK 200.00 by an operator's hand entry, leaving SEK 75.00 of credit; the
next invoice issued takes it off its amount due.
"""

import re

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import wait_for
from tests.browser.test_invoices_browser import open_invoices
from tests.browser.test_overdue_reminders_vat_browser import account
from tests.browser.test_overdue_reminders_vat_browser import issue
from tests.browser.test_overdue_reminders_vat_browser import last_month
from tests.functional.test_account_keystone import reset
from tools import lab

pytestmark = pytest.mark.browser


@pytest.fixture(scope='module')
def umbrella(real_lab, tmp_path_factory):
    """Umbrella's first invoice, overpaid by SEK 75.00."""
    lab.ensure_identities(real_lab.keystone.admin_client(),
                          users=[('umbrella', 'dana', 'member')])
    reset(real_lab, 'umbrella', account('Umbrella AB', 'SE'))
    first = issue(real_lab, 'umbrella', '2010-05',
                  tmp_path_factory.mktemp('umbrella'),
                  issue_date='2010-06-01')
    paid = real_lab.horizon.manage('billing_record_payment', first, '200',
                                   '--reference', 'umbrella-overpaid')
    assert 'Recorded' in paid.stdout, paid.stdout
    return first


def credit_line(browser):
    found = browser.find_elements(By.CSS_SELECTOR, '.invoices-credit')
    return found[0].text.replace('\u00a0', '') if found else None


def test_dana_sees_the_credit_then_the_next_invoice_reduced(
        umbrella, as_user, real_lab, tmp_path):
    browser = as_user('dana')
    open_invoices(browser, real_lab.url)
    assert credit_line(browser) == (
        'Credit: SEK75.00, taken off your next invoice.')

    listed = real_lab.horizon.manage('billing_refund_credit', '--list')
    assert re.search(r'\tSEK\t75\.00$', listed.stdout, re.M), listed.stdout

    following = issue(real_lab, 'umbrella', last_month(), tmp_path)
    open_invoices(browser, real_lab.url)
    assert credit_line(browser) is None
    row = wait_for(browser, (By.ID, 'invoices__row__%s' % following))
    row.find_element(By.LINK_TEXT, following).click()
    detail = wait_for(browser, (By.CSS_SELECTOR, '.invoice-detail'))
    totals = detail.find_element(By.CSS_SELECTOR, '.invoice-totals')
    shown = dict(zip(
        [dt.text for dt in totals.find_elements(By.TAG_NAME, 'dt')],
        [dd.text.replace('\u00a0', '')
         for dd in totals.find_elements(By.TAG_NAME, 'dd')]))
    assert (shown['Total'], shown['Credit applied'], shown['Paid'],
            shown['Outstanding']) == (
        'SEK125.00', 'SEK75.00', 'SEK0.00', 'SEK50.00')
