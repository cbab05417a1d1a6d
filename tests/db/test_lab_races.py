"""Races on PostgreSQL and MariaDB through a Horizon of several workers.

Each racer is a real client of the lab: a requests session logged in
through Horizon's login form that GETs the page, reads its form and CSRF
token and submits it (two at once reach two gunicorn worker processes:
sync workers serve one request each), Stripe's webhook deliveries from
threads, the bank import as the operator's command in its own process.
What was stored is read with the ORM beside the lab (tests/db/worker.py).
"""

import concurrent.futures
import decimal
import re
import subprocess
import threading
import time

import pytest
import requests

from cleura_billing_dashboard.account import document
from tests.browser.test_pay_browser import CAMT054
from tests import factories
from tests.forms import form_fields
from tests.functional.test_pay_lab import pay_form
from tests.functional.test_pay_lab import submit
from tools.lab.process import bin_path
from tools.lab import stripe_standin as standin_module

pytestmark = pytest.mark.database_lab

ACCOUNT = '/settings/account/'
D = decimal.Decimal


def acme_id(db_lab):
    ks = db_lab.keystone.admin_client()
    return ks.projects.list(name='acme', domain='default')[0].id


def issue_acme_invoice(db_lab, period, tmp_path):
    """Issue acme's invoice for ``period`` as an operator does."""
    path = factories.usage_file(
        tmp_path, factories.usage({acme_id(db_lab):
                                   factories.instance_and_volume()}),
        name='usage-%s.json' % period)
    result = db_lab.horizon.manage('billing_issue', '--usage', path,
                                   '--period', period)
    return re.search(r'Issued (\S+) to', result.stdout).group(1)


def at_once(calls):
    """Run the callables together (a barrier first); their results."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait(60)
        return call()

    with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def checkout(db_lab, number):
    """The store's payments and checkout sessions of invoice ``number``."""
    found = db_lab.store('checkout')
    return ([p for p in found['payments'] if p[0] == number],
            [s for s in found['sessions'] if s[0] == number])


def test_two_pay_clicks_at_once_open_one_checkout_session(
        db_lab, stripe_standin, tmp_path):
    number = issue_acme_invoice(db_lab, '2046-01', tmp_path)
    payers = [db_lab.login('bob'), db_lab.login('alice'),
              db_lab.login('bob')]
    forms = [pay_form(payer, db_lab.url, number) for payer in payers]
    assert forms[0][1]['method'] == 'stripe'
    started = time.monotonic()
    answers = at_once([
        (lambda payer=payer, form=form: submit(payer, *form))
        for payer, form in zip(payers, forms)])
    print('three Pay clicks at once: %.2f s' % (time.monotonic() - started))
    assert [answer.status_code for answer in answers] == [200] * 3
    locations = {answer.headers['X-Horizon-Location'] for answer in answers}
    remote = [session for session in list(stripe_standin.sessions.values())
              if session['client_reference_id'] == number]
    assert len(remote) == 1
    assert locations == {remote[0]['url']}
    payments, sessions = checkout(db_lab, number)
    assert payments == []
    assert sessions == [[number, remote[0]['id'], 'open']]


def test_one_event_delivered_twenty_times_at_once_pays_once(
        db_lab, stripe_standin, tmp_path):
    number = issue_acme_invoice(db_lab, '2046-02', tmp_path)
    bob = db_lab.login('bob')
    url, form = pay_form(bob, db_lab.url, number)
    session_id = submit(bob, url, form).headers[
        'X-Horizon-Location'].rsplit('/', 1)[1]
    event = stripe_standin.complete(session_id, deliver=False)
    body, signature = stripe_standin.signed(event)
    webhook = db_lab.url + standin_module.WEBHOOK_PATH

    def deliver():
        # Stripe has no Horizon session: a bare client, no cookies.
        res = requests.post(webhook, data=body, timeout=120, headers={
            'Content-Type': 'application/json',
            'Stripe-Signature': signature})
        return res.status_code, res.json()['outcome']

    started = time.monotonic()
    answers = at_once([deliver] * 20)
    print('20 deliveries at once: %.2f s' % (time.monotonic() - started))
    assert [status for status, _ in answers] == [200] * 20
    assert sorted(outcome for _, outcome in answers) == (
        ['duplicate'] * 19 + ['recorded'])
    payments, sessions = checkout(db_lab, number)
    reference = event['data']['object']['payment_intent']
    assert [(p[1], p[2], p[4]) for p in payments] == [
        ('stripe', reference, 'settled')]
    assert sessions == [[number, session_id, 'complete']]


def invoice_row(db_lab, number):
    """``(total, payment reference)`` of invoice ``number`` in the store."""
    from cleura_billing_dashboard.billing import models
    from tests.db.conftest import admin_cursor
    with admin_cursor(db_lab.database) as cursor:
        cursor.execute('SELECT total, payment_reference FROM %s WHERE '
                       'number = %%s' % models.Invoice._meta.db_table,
                       [number])
        total, reference = cursor.fetchone()
    return D(total), reference


def test_a_bank_import_and_a_card_payment_at_once_leave_one_credit(
        db_lab, stripe_standin, tmp_path):
    """The customer pays twice, by bank and by card, at the same moment.

    Both payments are recorded; the invoice is paid and the second
    payment's amount is the project's credit, whichever came first.
    """
    number = issue_acme_invoice(db_lab, '2046-03', tmp_path)
    total, reference = invoice_row(db_lab, number)
    bob = db_lab.login('bob')
    url, form = pay_form(bob, db_lab.url, number)
    session_id = submit(bob, url, form).headers[
        'X-Horizon-Location'].rsplit('/', 1)[1]
    event = stripe_standin.complete(session_id, deliver=False)
    body, signature = stripe_standin.signed(event)
    camt = tmp_path / 'camt054.xml'
    camt.write_text(CAMT054.format(reference=reference, amount=total,
                                   iban='SE4550000000058398257466'))

    def card():
        res = requests.post(
            db_lab.url + standin_module.WEBHOOK_PATH, data=body,
            timeout=120, headers={'Content-Type': 'application/json',
                                  'Stripe-Signature': signature})
        return res.status_code, res.json()['outcome']

    def bank():
        # The operator's import, in a process of its own.
        done = subprocess.run(
            [bin_path('django-admin'), 'billing_import_payments', str(camt)],
            env=db_lab.horizon.env, capture_output=True, text=True,
            timeout=120)
        return done.returncode, done.stdout + done.stderr

    card_answer, bank_answer = at_once([card, bank])
    assert card_answer == (200, 'recorded')
    assert bank_answer[0] == 0, bank_answer[1]
    assert '1 recorded' in bank_answer[1], bank_answer[1]
    payments, _sessions = checkout(db_lab, number)
    assert sorted((p[1], D(p[3]), p[4]) for p in payments) == [
        ('bank_transfer', total, 'settled'),
        ('stripe', total, 'settled')]
    credit = db_lab.store('report')['credit'][acme_id(db_lab)]
    row = next(i for i in credit['invoices'] if i[0] == number)
    assert D(row[1]) == total
    # Paid once over: the invoice's negative balance is the project's
    # credit, none spent yet (its next invoice takes it).
    assert D(credit['earned']) == total
    assert D(credit['available']) == total
    assert credit['entries'] == []
    page = bob.get('%s/identity/invoices/%s/' % (db_lab.url, number),
                   timeout=60)
    assert page.status_code == 200
    assert '<dt>Status</dt><dd>Paid</dd>' in page.text


def account_doc(db_lab):
    ks = db_lab.keystone.admin_client()
    return getattr(ks.projects.get(acme_id(db_lab)), document.ATTRIBUTE,
                   None)


def revision(text):
    return int(re.search(r'name="revision" value="(\d+)"', text).group(1))


def test_concurrent_account_edits_from_two_workers_lose_nothing(db_lab):
    """Two managers' tabs save different forms from one revision, 4 times.

    Each time one is saved and the other refused with a message; the
    refused one reloads and saves again, as the message asks. In the end
    every change is in Keystone, none overwritten.
    """
    first, second = db_lab.login('alice'), db_lab.login('alice')
    rounds = 4
    languages = ['sv', 'en', 'sv', 'en']
    outcomes = []
    for i in range(rounds):
        pages = [first.get(db_lab.url + ACCOUNT, timeout=60).text,
                 second.get(db_lab.url + ACCOUNT, timeout=60).text]
        start = revision(pages[0])
        assert revision(pages[1]) == start
        customer = dict(form_fields(pages[0], 'customer_form'),
                        account_form='customer', name='Acme AB',
                        address='Sveavägen %d' % (i + 1),
                        postal_code='111 57', city='Stockholm',
                        country='SE', po_reference='PO-%d' % i)
        settings = dict(form_fields(pages[1], 'settings_form'),
                        account_form='settings', delivery='attachment',
                        language=languages[i])
        edits = [(first, customer), (second, settings)]

        def save(session, data):
            return session.post(db_lab.url + ACCOUNT, data=data, timeout=60,
                                allow_redirects=False,
                                headers={'Referer': db_lab.url + ACCOUNT})

        answers = at_once([(lambda s=s, d=d: save(s, d)) for s, d in edits])
        codes = [answer.status_code for answer in answers]
        assert sorted(codes) == [200, 302], codes
        loser = codes.index(200)
        assert 'changed by someone else' in answers[loser].text
        outcomes.append(loser)
        # The refused tab reloads and makes its change again.
        session, data = edits[loser]
        page = session.get(db_lab.url + ACCOUNT, timeout=60).text
        assert revision(page) == start + 1
        form_id = 'customer_form' if loser == 0 else 'settings_form'
        data = dict(data, revision=str(start + 1),
                    csrfmiddlewaretoken=form_fields(
                        page, form_id)['csrfmiddlewaretoken'])
        assert save(session, data).status_code == 302
        doc = account_doc(db_lab)
        assert doc['revision'] == start + 2
        assert doc['customer']['po_reference'] == 'PO-%d' % i
        assert doc['customer']['address'] == 'Sveavägen %d' % (i + 1)
        assert doc['settings']['language'] == languages[i]
    print('refused first (0: customer, 1: settings):', outcomes)
