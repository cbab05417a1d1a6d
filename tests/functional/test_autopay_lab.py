"""Automatic card payments in the real lab, against the Stripe stand-in.

alice (acme's manager) saves a card on the Settings tab through the
stand-in's setup page and turns autopay on; ``billing_issue`` and
``billing_autopay`` run as the operator runs them (cron), in separate
processes on the lab's database; Stripe's signed webhooks reach the lab's
Horizon; the mail of a declined card arrives at the aiosmtpd server.
"""

from concurrent import futures
import re
import time

import pytest
import requests

from tests import factories
from tests.functional.test_account_keystone import project_id
from tests.functional.test_account_keystone import reset
from tools import lab
from tools.lab import demo_data
from tools.lab import stripe_standin as standin_module

pytestmark = pytest.mark.functional

SETTINGS = '/settings/account/?tab=account__settings'
ADDRESS = 'autopay@acme.example'
DECLINED = '4000000000000002'
VISA = '4242424242424242'
PAID = '<dt>Status</dt><dd>Paid</dd>'
OUTSTANDING = '<dt>Status</dt><dd>Outstanding</dd>'


def settings_page(session, real_lab):
    res = session.get(real_lab.url + SETTINGS, timeout=60)
    assert res.status_code == 200, res.text[-2000:]
    return res.text


def post_form(session, real_lab, form_id, **fields):
    """Submit the Settings tab's form ``form_id`` as its page has it."""
    page = settings_page(session, real_lab)
    form = re.search(r'<form id="%s"[^>]*action="([^"]+)"(.*?)</form>'
                     % form_id, page, re.S)
    assert form, page[-3000:]
    data = dict(lab.hidden_inputs(form.group(2)), **fields)
    return session.post(real_lab.url + form.group(1), data=data,
                        timeout=60, allow_redirects=False,
                        headers={'Referer': real_lab.url + SETTINGS})


def save_card(session, real_lab, number):
    """Save (or Replace), the stand-in's page, back: the Settings page."""
    form_id = ('card_replace_form' if 'id="card_replace_form"' in
               settings_page(session, real_lab) else 'card_save_form')
    res = post_form(session, real_lab, form_id)
    assert res.status_code == 302, res.text[-2000:]
    checkout = res.headers['Location']
    page = requests.get(checkout, timeout=60)
    assert 'Save card' in page.text
    # The customer picks the test card on Stripe's page and saves it.
    back = requests.post(checkout, data={'card': number, 'exp_month': '4',
                                         'exp_year': '2033'},
                         allow_redirects=False, timeout=60)
    assert back.status_code == 303
    assert back.headers['Location'].startswith(real_lab.url + SETTINGS)
    return settings_page(session, real_lab)


def issue(real_lab, period, tmp_path):
    acme = project_id(real_lab, 'acme')
    path = factories.usage_file(
        tmp_path, factories.usage({acme: factories.instance_and_volume()}),
        name='usage-%s.json' % period)
    result = real_lab.horizon.manage('billing_issue', '--usage', path,
                                     '--period', period)
    return re.search(r'Issued (\S+) to', result.stdout).group(1), result


def invoice_page(session, real_lab, number):
    res = session.get(real_lab.url + '/identity/invoices/%s/' % number,
                      timeout=60)
    assert res.status_code == 200
    return res.text


@pytest.fixture
def alice(real_lab, stripe_standin):
    """alice on acme, its account with one verified Billing address.

    The stand-in delivers webhooks to the lab; the card is removed after
    the test, so no other test's acme invoice is charged.
    """
    reset(real_lab, 'acme', {
        'schema_version': 1,
        'customer': {'name': 'Acme AB', 'address': 'Storgatan 1',
                     'postal_code': '111 22', 'city': 'Stockholm',
                     'country': 'SE'},
        'contacts': [{'id': 'a1', 'email': ADDRESS,
                      'roles': ['billing', 'tech', 'dpo'],
                      'verified': True}],
        'settings': {'delivery': 'link', 'language': 'en'},
    })
    before = stripe_standin.webhook_url
    stripe_standin.webhook_url = real_lab.url + standin_module.WEBHOOK_PATH
    session = real_lab.login('alice')
    yield session
    try:
        if 'id="card_remove_form"' in settings_page(session, real_lab):
            assert post_form(session, real_lab,
                             'card_remove_form').status_code == 302
    finally:
        stripe_standin.settle()
        stripe_standin.webhook_url = before


def test_two_autopay_runs_at_once_charge_once_and_the_webhook_pays(
        real_lab, stripe_standin, smtp_server, alice, tmp_path):
    page = save_card(alice, real_lab, VISA)
    assert re.search(r'saved-card-number">Visa &bull;&bull;&bull;&bull; '
                     r'4242<', page), page[-3000:]
    assert 'saved-card-expiry">04/2033<' in page
    assert post_form(alice, real_lab, 'card_autopay_form').status_code == 302
    assert 'id="card_autopay_off"' in settings_page(alice, real_lab)

    # Stripe errs while billing_issue charges: the attempt is left for
    # the next run, which two cron hosts start at the same moment.
    stripe_standin.fail_next(1, status=500)
    number, issued = issue(real_lab, '2044-01', tmp_path)
    assert 'Card payment of %s not made (attempt 1)' % number in (
        issued.stdout), issued.stdout
    # What is due (the demo's credit, when loaded, is taken off it).
    due = re.search(r'<dt>Outstanding</dt><dd>SEK([0-9.,]+)</dd>',
                    invoice_page(alice, real_lab, number).replace(
                        '\xa0', '')).group(1)
    with futures.ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: real_lab.horizon.manage(
            'billing_autopay', check=False), range(2)))
    for run in runs:
        assert run.returncode == 0, run.stderr
    output = ''.join(run.stdout for run in runs)
    assert output.count('Charged %s to the saved card' % number) == 1, output
    charges = [intent for intent in stripe_standin.charges()
               if intent['metadata'].get('invoice_number') == number]
    assert len(charges) == 1
    assert charges[0]['amount'] == int(due.replace(',', '').replace(
        '.', ''))
    stripe_standin.settle()
    # The webhook made it paid: one card payment, the PaymentIntent's.
    deadline = time.time() + 30
    while PAID not in invoice_page(alice, real_lab, number):
        assert time.time() < deadline, 'the webhook did not pay it'
        time.sleep(0.5)
    page = invoice_page(alice, real_lab, number)
    payments = page[page.index('invoice-payments'):]
    assert payments.count(charges[0]['id']) == 1
    assert payments.count('<td>Card</td>') == 1
    # However often it runs again: no second charge.
    again = real_lab.horizon.manage('billing_autopay')
    assert number not in again.stdout
    assert len([intent for intent in stripe_standin.charges(None)
                if intent['metadata'].get('invoice_number') == number]) == 1


def test_a_declined_card_mails_a_pay_link_and_leaves_it_outstanding(
        real_lab, stripe_standin, smtp_server, alice, tmp_path):
    page = save_card(alice, real_lab, DECLINED)
    assert 'Visa &bull;&bull;&bull;&bull; 0002' in page
    assert post_form(alice, real_lab, 'card_autopay_form').status_code == 302
    number, issued = issue(real_lab, '2044-02', tmp_path)
    assert re.search(r'Card payment of %s failed \(attempt 1, '
                     r'card_declined\); next attempt after ' % number,
                     issued.stdout), issued.stdout
    smtp_server.wait_for(ADDRESS, count=2)  # the invoice, then the failure
    [failed] = [mail for mail in smtp_server.to(ADDRESS)
                if mail.subject.strip().startswith('Payment of invoice %s'
                                                   % number)]
    assert 'the card was declined' in failed.text
    assert ('%s/identity/invoices/%s/' % (real_lab.url, number)
            in failed.text), failed.text
    assert OUTSTANDING in invoice_page(alice, real_lab, number)
    # Rerun at once: the retry is not due yet; nothing charged or mailed.
    sent = len(smtp_server.to(ADDRESS))
    again = real_lab.horizon.manage('billing_autopay')
    assert number not in again.stdout
    assert len(smtp_server.to(ADDRESS)) == sent


def test_the_demo_saves_a_card_for_acme_with_autopay_off(
        real_lab, stripe_standin, alice):
    line = demo_data.save_demo_card(real_lab.keystone, real_lab.horizon,
                                    stripe_standin)
    assert line == 'Saved the demo card 4242 of alice (autopay off)'
    page = settings_page(alice, real_lab)
    assert 'saved-card-number">Visa &bull;&bull;&bull;&bull; 4242<' in page
    assert 'saved-card-autopay">Off<' in page
    # Run again (a restarted demo on the same state): nothing twice.
    again = demo_data.save_demo_card(real_lab.keystone, real_lab.horizon,
                                     stripe_standin)
    assert again == 'The demo card of alice is saved already'
