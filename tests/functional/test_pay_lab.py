"""Paying by card in the real Horizon, against the Stripe stand-in.

Concurrency is real here: Horizon's workers are separate processes on
one SQLite file, the webhook deliveries come from separate threads.
"""

import concurrent.futures
import re
import threading

import pytest
import requests

from tests import factories
from tools import lab
from tools.lab import stripe_standin as standin_module

pytestmark = pytest.mark.functional

AJAX = {'X-Requested-With': 'XMLHttpRequest'}


def issue_acme_invoice(real_lab, period, tmp_path):
    """Issue acme's invoice for ``period`` as an operator does."""
    acme = real_lab.keystone.admin_client().projects.list(name='acme')[0]
    path = factories.usage_file(
        tmp_path, factories.usage({acme.id: factories.instance_and_volume()}),
        name='usage-%s.json' % period)
    result = real_lab.horizon.manage('billing_issue', '--usage', path,
                                     '--period', period)
    return re.search(r'Issued (\S+) to', result.stdout).group(1)


def pay_form(session, base_url, number):
    """The Pay modal's URL and its form fields (CSRF token, method)."""
    url = '%s/identity/invoices/%s/pay/' % (base_url, number)
    page = session.get(url, headers=AJAX, timeout=60)
    assert page.status_code == 200, page.text[-2000:]
    return url, dict(lab.hidden_inputs(page.text))


def submit(session, url, form):
    return session.post(url, data=form, timeout=60, allow_redirects=False,
                        headers=dict(AJAX, Referer=url))


def sessions_of(standin, number):
    return [session for session in list(standin.sessions.values())
            if session['client_reference_id'] == number]


def detail(session, base_url, number):
    res = session.get('%s/identity/invoices/%s/' % (base_url, number),
                      timeout=60)
    assert res.status_code == 200
    return res.text


def test_two_payers_at_once_get_one_checkout_session(real_lab,
                                                     stripe_standin,
                                                     tmp_path):
    number = issue_acme_invoice(real_lab, '2019-01', tmp_path)
    payers = [real_lab.login('bob'), real_lab.login('alice')]
    forms = [pay_form(payer, real_lab.url, number) for payer in payers]
    assert forms[0][1]['method'] == 'stripe'
    start = threading.Barrier(len(payers))

    def pay(args):
        payer, (url, form) = args
        start.wait()
        return submit(payer, url, form)

    with concurrent.futures.ThreadPoolExecutor(len(payers)) as pool:
        answers = list(pool.map(pay, zip(payers, forms)))
    assert [answer.status_code for answer in answers] == [200, 200]
    locations = {answer.headers['X-Horizon-Location'] for answer in answers}
    sessions = sessions_of(stripe_standin, number)
    assert len(sessions) == 1
    assert locations == {sessions[0]['url']}
    assert sessions[0]['amount_total'] == 55600
    # Nothing is paid until Stripe says so.
    assert 'No payments recorded yet.' in detail(payers[0], real_lab.url,
                                                 number)


def test_one_event_delivered_twenty_times_pays_once(real_lab,
                                                    stripe_standin,
                                                    tmp_path):
    number = issue_acme_invoice(real_lab, '2019-02', tmp_path)
    bob = real_lab.login('bob')
    url, form = pay_form(bob, real_lab.url, number)
    checkout = submit(bob, url, form).headers['X-Horizon-Location']
    session_id = checkout.rsplit('/', 1)[1]
    event = stripe_standin.complete(session_id, deliver=False)
    body, signature = stripe_standin.signed(event)
    webhook = real_lab.url + standin_module.WEBHOOK_PATH
    start = threading.Barrier(15)

    def deliver(concurrently):
        # Stripe has no Horizon session: a bare client, no cookies.
        if concurrently:
            start.wait()
        res = requests.post(webhook, data=body, timeout=120, headers={
            'Content-Type': 'application/json',
            'Stripe-Signature': signature})
        return res.status_code, res.json()['outcome']

    with concurrent.futures.ThreadPoolExecutor(15) as pool:
        answers = list(pool.map(deliver, [True] * 15))
    answers += [deliver(False) for _ in range(5)]
    assert [status for status, _ in answers] == [200] * 20
    outcomes = sorted(outcome for _, outcome in answers)
    assert outcomes == ['duplicate'] * 19 + ['recorded']
    page = detail(bob, real_lab.url, number)
    payments = page[page.index('invoice-payments'):]
    assert payments.count(event['data']['object']['payment_intent']) == 1
    # One payment, by card (the Stripe provider's name on the page).
    assert payments.count('<td>Card</td>') == 1


def test_a_forged_event_is_refused_by_the_lab(real_lab, stripe_standin,
                                              tmp_path):
    number = issue_acme_invoice(real_lab, '2019-03', tmp_path)
    bob = real_lab.login('bob')
    url, form = pay_form(bob, real_lab.url, number)
    session_id = submit(bob, url, form).headers[
        'X-Horizon-Location'].rsplit('/', 1)[1]
    event = stripe_standin.complete(session_id, deliver=False)
    body, _signature = stripe_standin.signed(event)
    forged = stripe_standin.sign(body.decode(), secret='whsec_guessed')
    res = requests.post(real_lab.url + standin_module.WEBHOOK_PATH,
                        data=body, timeout=60,
                        headers={'Content-Type': 'application/json',
                                 'Stripe-Signature': forged})
    assert res.status_code == 400
    assert 'No payments recorded yet.' in detail(bob, real_lab.url, number)


def test_a_reader_cannot_start_a_payment(real_lab, stripe_standin,
                                         tmp_path):
    number = issue_acme_invoice(real_lab, '2019-04', tmp_path)
    bob = real_lab.login('bob')
    _url, form = pay_form(bob, real_lab.url, number)
    carol = real_lab.login('carol')
    url = '%s/identity/invoices/%s/pay/' % (real_lab.url, number)
    refused = carol.get(url, headers=AJAX, timeout=60)
    assert refused.status_code == 403
    assert 'You are not authorized to access this page' in refused.text
    form['csrfmiddlewaretoken'] = carol.cookies['csrftoken']
    answer = carol.post(url, data=form, timeout=60, allow_redirects=False,
                        headers=dict(AJAX, Referer=url))
    assert answer.status_code == 403
    assert 'You are not authorized to access this page' in answer.text
    assert sessions_of(stripe_standin, number) == []
