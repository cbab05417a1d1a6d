"""Bob pays acme's invoice by card in a real browser; Carol cannot pay.

The card page is the Stripe stand-in's (tests/stripe_standin.py); its Pay
button sends Horizon the signed webhook, as Stripe does.
"""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import browser_login
from tests.browser.conftest import wait_for
from tests.functional.test_pay_lab import issue_acme_invoice
from tests import stripe_standin as standin_module

pytestmark = pytest.mark.browser


def invoice_row(browser, base_url, number):
    browser.get(base_url + '/identity/invoices/')
    return wait_for(browser, (By.ID, 'invoices__row__%s' % number))


def test_bob_pays_by_card_and_sees_the_invoice_paid(
        real_lab, stripe_standin, browser, tmp_path):
    number = issue_acme_invoice(real_lab, '2019-05', tmp_path)
    stripe_standin.webhook_url = real_lab.url + standin_module.WEBHOOK_PATH
    # Stripe's notification may come after the customer is back.
    stripe_standin.hold_webhooks = True
    browser_login(browser, real_lab.url, 'bob')

    row = invoice_row(browser, real_lab.url, number)
    row.find_element(By.ID, 'invoices__row_%s__action_pay' % number).click()
    modal = wait_for(browser, (By.ID, 'pay_invoice_modal'))
    text = modal.text.replace('\u00a0', '')
    for expected in (number, 'compute.m1.small', 'Sto2', 'storage.volume',
                     'Kna1', 'VAT 25 % of SEK444.80', 'SEK556.00',
                     'Bank transfer', 'SE4550000000058398257466',
                     'Card', 'Stripe\'s secure payment page'):
        assert expected in text
    modal.find_element(By.CSS_SELECTOR,
                       'input[type=submit][value="Pay by card"]').click()

    # Stripe's page (the stand-in's), for this invoice and amount.
    pay = wait_for(browser, (By.ID, 'pay'))
    assert browser.current_url.startswith(stripe_standin.url + '/pay/')
    assert 'SEK 556.00' in browser.find_element(By.TAG_NAME, 'body').text
    pay.click()

    message = wait_for(browser, (By.CSS_SELECTOR, '.payment-processing'))
    assert browser.current_url == '%s/identity/invoices/%s/paid/' % (
        real_lab.url, number)
    assert 'is being processed' in message.text
    row = invoice_row(browser, real_lab.url, number)
    assert row.find_elements(By.CSS_SELECTOR, '.invoice-status-outstanding')

    assert stripe_standin.release_webhooks() == [200]
    row = invoice_row(browser, real_lab.url, number)
    tick = row.find_element(By.CSS_SELECTOR, '.invoice-status-paid')
    assert 'fa-check-circle' in tick.get_attribute('class')
    assert 'text-success' in tick.get_attribute('class')
    assert 'SEK0.00' in row.text.replace('\u00a0', '')
    assert not row.find_elements(
        By.ID, 'invoices__row_%s__action_pay' % number)
    assert 'Pay this invoice' not in row.get_attribute('innerHTML')

    # The detail page lists the card payment.
    row.find_element(By.LINK_TEXT, number).click()
    WebDriverWait(browser, 60).until(EC.url_to_be(
        '%s/identity/invoices/%s/' % (real_lab.url, number)))
    payments = wait_for(browser, (By.CSS_SELECTOR, '.invoice-payments'))
    assert 'stripe' in payments.text
    assert 'SEK556.00' in payments.text.replace('\u00a0', '')


def test_carol_has_no_pay_action(real_lab, browser, tmp_path):
    number = issue_acme_invoice(real_lab, '2019-06', tmp_path)
    browser_login(browser, real_lab.url, 'carol')
    row = invoice_row(browser, real_lab.url, number)
    assert row.find_elements(By.CSS_SELECTOR, '.invoice-status-outstanding')
    assert not row.find_elements(
        By.ID, 'invoices__row_%s__action_pay' % number)
    assert 'Pay this invoice' not in row.get_attribute('innerHTML')
    assert 'View PDF' in row.get_attribute('innerHTML')
    browser.get('%s/identity/invoices/%s/' % (real_lab.url, number))
    wait_for(browser, (By.CSS_SELECTOR, '.invoice-detail'))
    assert 'Pay this invoice' not in browser.page_source
