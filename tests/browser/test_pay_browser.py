"""Bob pays acme's invoices in a real browser; Carol cannot pay.

By card: the card page is the Stripe stand-in's (tools/lab/stripe_standin.py);
its Pay button sends Horizon the signed webhook, as Stripe does. By bank:
Bob copies the bank details from the Pay dialog into his bank, the bank's
camt.054 notification carries them back and the operator imports it.
"""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import wait_for
from tests.functional.test_pay_lab import issue_acme_invoice
from tools.lab import stripe_standin as standin_module

pytestmark = pytest.mark.browser


def invoice_row(browser, base_url, number):
    browser.get(base_url + '/identity/invoices/')
    return wait_for(browser, (By.ID, 'invoices__row__%s' % number))


def test_bob_pays_by_card_and_sees_the_invoice_paid(
        real_lab, stripe_standin, as_user, tmp_path):
    number = issue_acme_invoice(real_lab, '2019-05', tmp_path)
    stripe_standin.webhook_url = real_lab.url + standin_module.WEBHOOK_PATH
    # Stripe's notification may come after the customer is back.
    stripe_standin.hold_webhooks = True
    browser = as_user('bob')

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
    assert 'Card' in payments.text
    assert 'Settled' in payments.text
    assert 'SEK556.00' in payments.text.replace('\u00a0', '')


def test_carol_has_no_pay_action(real_lab, as_user, tmp_path):
    number = issue_acme_invoice(real_lab, '2019-06', tmp_path)
    browser = as_user('carol')
    row = invoice_row(browser, real_lab.url, number)
    assert row.find_elements(By.CSS_SELECTOR, '.invoice-status-outstanding')
    assert not row.find_elements(
        By.ID, 'invoices__row_%s__action_pay' % number)
    assert 'Pay this invoice' not in row.get_attribute('innerHTML')
    assert 'View PDF' in row.get_attribute('innerHTML')
    browser.get('%s/identity/invoices/%s/' % (real_lab.url, number))
    wait_for(browser, (By.CSS_SELECTOR, '.invoice-detail'))
    assert 'Pay this invoice' not in browser.page_source


CAMT054 = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr><MsgId>LAB-{reference}</MsgId>
      <CreDtTm>2019-08-01T18:00:00+02:00</CreDtTm></GrpHdr>
    <Ntfctn>
      <Id>LAB-NTF-{reference}</Id>
      <CreDtTm>2019-08-01T18:00:00+02:00</CreDtTm>
      <Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>SEK</Ccy></Acct>
      <Ntry>
        <Amt Ccy="SEK">{amount}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>2019-08-01</Dt></BookgDt>
        <AcctSvcrRef>LAB-{reference}</AcctSvcrRef>
        <NtryDtls><TxDtls>
          <Refs><AcctSvcrRef>LAB-{reference}</AcctSvcrRef></Refs>
          <AmtDtls><TxAmt><Amt Ccy="SEK">{amount}</Amt></TxAmt></AmtDtls>
          <RltdPties><Dbtr><Nm>Acme AB</Nm></Dbtr></RltdPties>
          <RmtInf><Strd><CdtrRefInf>
            <Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>
            <Ref>{reference}</Ref>
          </CdtrRefInf></Strd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>
"""


def bank_details(modal):
    """The Bank transfer method's details, as the dialog lists them."""
    method = modal.find_element(By.CSS_SELECTOR,
                                '.payment-method-bank_transfer')
    labels = [dt.text for dt in method.find_elements(By.TAG_NAME, 'dt')]
    values = [dd.text for dd in method.find_elements(By.TAG_NAME, 'dd')]
    return dict(zip(labels, values))


def test_bob_pays_by_bank_with_the_details_the_dialog_gives(
        real_lab, as_user, tmp_path):
    number = issue_acme_invoice(real_lab, '2019-07', tmp_path)
    bob = as_user('bob')
    row = invoice_row(bob, real_lab.url, number)
    row.find_element(By.ID, 'invoices__row_%s__action_pay' % number).click()
    modal = wait_for(bob, (By.ID, 'pay_invoice_modal'))
    details = bank_details(modal)
    assert details['IBAN'] == 'SE4550000000058398257466'
    amount = details['Amount'].replace('\u00a0', '').replace('SEK', '')
    assert amount == '556.00'
    modal.find_element(By.CSS_SELECTOR, '.cancel').click()

    # Bob's bank pays; its notification reaches the operator.
    camt = tmp_path / 'camt054.xml'
    camt.write_text(CAMT054.format(
        reference=details['Reference (OCR)'].replace(' ', ''),
        iban=details['IBAN'], amount=amount))
    imported = real_lab.horizon.manage('billing_import_payments', str(camt))
    assert 'Recorded SEK' in imported.stdout and number in imported.stdout

    row = invoice_row(bob, real_lab.url, number)
    assert row.find_elements(By.CSS_SELECTOR, '.invoice-status-paid')
    assert not row.find_elements(
        By.ID, 'invoices__row_%s__action_pay' % number)
    row.find_element(By.LINK_TEXT, number).click()
    payments = wait_for(bob, (By.CSS_SELECTOR, '.invoice-payments'))
    assert 'SEK556.00' in payments.text.replace('\u00a0', '')
