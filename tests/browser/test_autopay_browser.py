"""Alice saves a card and turns autopay on; acme's next invoice pays itself.

The card page is the Stripe stand-in's setup page; Horizon learns the card
from Stripe's signed webhook. The operator issues the invoice
(``billing_issue``, which charges the saved card) and runs
``billing_autopay`` from cron; nobody clicks Pay, and the Invoices panel
shows the invoice paid once Stripe's ``payment_intent.succeeded`` arrives.
"""

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import wait_for
from tests.functional.test_autopay_lab import issue
from tests.functional.test_autopay_lab import VISA
from tools.lab import stripe_standin as standin_module

pytestmark = pytest.mark.browser

SETTINGS = '/settings/account/?tab=account__settings'


def settings_tab(browser, base_url):
    browser.get(base_url + SETTINGS)
    return wait_for(browser, (By.ID, 'saved_card'))


def test_alice_saves_a_card_and_the_next_invoice_is_paid_automatically(
        real_lab, stripe_standin, as_user, tmp_path):
    before = stripe_standin.webhook_url
    stripe_standin.webhook_url = real_lab.url + standin_module.WEBHOOK_PATH
    browser = as_user('alice')
    try:
        section = settings_tab(browser, real_lab.url)
        if section.find_elements(By.ID, 'card_remove'):
            section.find_element(By.ID, 'card_remove').click()
            section = settings_tab(browser, real_lab.url)
        section.find_element(By.ID, 'card_save').click()

        # Stripe's page (the stand-in's): alice picks the Visa test card.
        card = wait_for(browser, (By.ID, 'card'))
        assert browser.current_url.startswith(stripe_standin.url + '/pay/')
        card.find_element(By.CSS_SELECTOR,
                          'option[value="%s"]' % VISA).click()
        browser.find_element(By.ID, 'save').click()

        # Back on the Settings tab: the card, as brand, last four, expiry.
        number = wait_for(browser, (By.CSS_SELECTOR, '.saved-card-number'))
        assert browser.current_url.startswith(real_lab.url + SETTINGS)
        assert number.text == 'Visa \u2022\u2022\u2022\u2022 4242'
        assert browser.find_element(
            By.CSS_SELECTOR, '.saved-card-expiry').text == '12/2034'
        assert browser.find_element(
            By.CSS_SELECTOR, '.saved-card-autopay').text == 'Off'
        browser.find_element(By.ID, 'card_autopay_on').click()
        wait_for(browser, (By.ID, 'card_autopay_off'))
        assert browser.find_element(
            By.CSS_SELECTOR, '.saved-card-autopay').text == 'On'

        # The operator issues acme's invoice, then cron runs autopay.
        invoice, issued = issue(real_lab, '2044-03', tmp_path)
        assert 'Charged %s to the saved card' % invoice in issued.stdout
        real_lab.horizon.manage('billing_autopay')
        stripe_standin.settle()

        browser.get(real_lab.url + '/identity/invoices/')
        row = wait_for(browser, (By.ID, 'invoices__row__%s' % invoice))
        assert row.find_elements(By.CSS_SELECTOR, '.invoice-status-paid')
        assert not row.find_elements(
            By.ID, 'invoices__row_%s__action_pay' % invoice)
        row.find_element(By.LINK_TEXT, invoice).click()
        payments = wait_for(browser, (By.CSS_SELECTOR, '.invoice-payments'))
        rows = payments.find_elements(By.CSS_SELECTOR, 'tbody tr')
        assert len(rows) == 1
        assert 'Card' in rows[0].text and 'Settled' in rows[0].text
        [charge] = [intent for intent in stripe_standin.charges()
                    if intent['metadata']['invoice_number'] == invoice]
        # The whole amount due (what the demo's credit, if loaded, leaves).
        assert 'SEK%d.%02d' % divmod(charge['amount'], 100) in (
            rows[0].text.replace('\u00a0', '').replace(',', ''))
    finally:
        # No other test's acme invoice is to be charged.
        section = settings_tab(browser, real_lab.url)
        if section.find_elements(By.ID, 'card_remove'):
            section.find_element(By.ID, 'card_remove').click()
            wait_for(browser, (By.ID, 'card_save'))
        stripe_standin.webhook_url = before
