"""Outages with real parts: the billing database cut under a running Horizon.

The lab's Horizon (several gunicorn workers) reaches PostgreSQL or MariaDB
through a loopback proxy (tools/lab/tcp_proxy.py); cutting it resets the
live connections and refuses new ones, as a database host going away does.
Pages are read as a person reads them, through a session logged in with
the real login form; the store is read beside the proxy.
"""

import json
import re
import subprocess
import time

import pytest
import requests

from cleura_billing_dashboard.account import document
from cleura_billing_dashboard.billing import models
from tests.db import conftest
from tests import factories
from tests.forms import form_fields
from tools import lab
from tools.lab.process import bin_path
from tools.lab import stripe_standin as standin_module

pytestmark = pytest.mark.database_lab

AJAX = {'X-Requested-With': 'XMLHttpRequest'}
INVOICES = '/identity/invoices/'
ACCOUNT = '/settings/account/'
INVOICE_TABLE = models.Invoice._meta.db_table


def issue(db_lab, tmp_path, period, projects):
    """Issue ``period`` for ``projects`` (ids) as an operator does."""
    path = factories.usage_file(
        tmp_path, factories.usage({p: factories.instance_and_volume()
                                   for p in projects}),
        name='usage-%s.json' % period)
    return db_lab.horizon.manage('billing_issue', '--usage', path,
                                 '--period', period, check=False)


def acme_id(db_lab):
    ks = db_lab.keystone.admin_client()
    return ks.projects.list(name='acme', domain='default')[0].id


def get(session, db_lab, path):
    res = session.get(db_lab.url + path, timeout=60)
    assert res.status_code == 200, res.text[-3000:]
    return res


def error_messages(text):
    """Horizon's error messages on the page, as the user reads them."""
    return [re.sub(r'\s+', ' ', re.sub(r'<[^>]+>', ' ', found)).strip()
            for found in re.findall(
                r'class="alert alert-danger alert-dismissable[^>]*>'
                r'(.*?)</div>', text, re.S)]


@pytest.fixture
def restored(db_lab):
    """The proxy is up again after the test, whatever happened in it."""
    yield db_lab
    db_lab.proxy.restore()


def test_pages_answer_with_a_message_while_the_database_is_cut(
        restored, tmp_path):
    db_lab = restored
    result = issue(db_lab, tmp_path, '2045-01', [acme_id(db_lab)])
    assert result.returncode == 0, result.stderr
    number = re.search(r'Issued (\S+) to', result.stdout).group(1)
    alice = db_lab.login('alice')
    assert number in get(alice, db_lab, INVOICES).text
    account_page = get(alice, db_lab, ACCOUNT).text
    before = db_lab.keystone.admin_client().projects.get(acme_id(db_lab))

    db_lab.proxy.cut()
    started = time.monotonic()
    invoices = get(alice, db_lab, INVOICES)
    assert number not in invoices.text
    assert any('Unable to retrieve the invoices.' in message
               for message in error_messages(invoices.text)), \
        invoices.text[-3000:]
    # The invoice's own page sends the user back to the list, with why.
    detail = alice.get(db_lab.url + INVOICES + number + '/', timeout=60)
    assert detail.status_code == 200, detail.text[-3000:]
    assert detail.url.endswith(INVOICES)
    assert any('Unable to retrieve the invoice.' in message
               for message in error_messages(detail.text))
    # The account lives in Keystone: the page reads it; saving needs the
    # database's lock row, and is refused with a message, nothing written.
    # (Parts of it kept in the database, if any, may say they are missing.)
    account = get(alice, db_lab, ACCOUNT)
    assert 'id="customer_form"' in account.text
    assert 'name="revision" value="%d"' % document.load(getattr(
        before, document.ATTRIBUTE, None))['revision'] in account.text
    fields = form_fields(account_page, 'customer_form')
    fields.update({'account_form': 'customer', 'name': 'Acme Cut AB',
                   'address': 'Sveavägen 2', 'postal_code': '111 57',
                   'city': 'Stockholm', 'country': 'SE'})
    saved = alice.post(db_lab.url + ACCOUNT, data=fields, timeout=60,
                       headers={'Referer': db_lab.url + ACCOUNT})
    assert saved.status_code == 200, saved.text[-3000:]
    assert any('Unable to save the billing account.' in message
               for message in error_messages(saved.text)), \
        saved.text[-3000:]
    after = db_lab.keystone.admin_client().projects.get(acme_id(db_lab))
    assert getattr(after, document.ATTRIBUTE, None) == getattr(
        before, document.ATTRIBUTE, None)
    shown = (error_messages(invoices.text) + error_messages(detail.text) +
             error_messages(saved.text))
    print('messages:', shown)
    # Why, in words; never the database's address.
    assert sum('The billing database cannot be reached right now'
               in message for message in shown) >= 2, shown
    assert not any(str(db_lab.proxy.port) in message or
                   'connection' in message for message in shown), shown
    print('four pages with the database cut: %.1f s'
          % (time.monotonic() - started))

    db_lab.proxy.restore()
    invoices = get(alice, db_lab, INVOICES)
    assert number in invoices.text
    assert error_messages(invoices.text) == []


def test_an_issue_run_cut_midway_stops_cleanly_and_a_rerun_completes(
        restored, tmp_path):
    db_lab = restored
    projects = ['cut-run-%02d' % i for i in range(12)]
    path = factories.usage_file(
        tmp_path, factories.usage({p: factories.instance_and_volume()
                                   for p in projects}), name='usage.json')
    already = db_lab.count(INVOICE_TABLE)
    args = [bin_path('django-admin'), 'billing_issue', '--usage', path,
            '--period', '2045-02']
    run = subprocess.Popen(args, env=db_lab.horizon.env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    try:
        deadline = time.monotonic() + 120
        while db_lab.count(INVOICE_TABLE) - already < 2:
            assert run.poll() is None, run.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        db_lab.proxy.cut()
        out, err = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    issued_before_cut = re.findall(r'Issued (\S+) to', out)
    assert run.returncode != 0
    # An operator's message, not a traceback.
    assert 'Traceback' not in err, err
    assert 'The billing database cannot be reached' in err, err
    assert 'run the command again' in err
    stored = db_lab.count(INVOICE_TABLE) - already
    assert 2 <= stored < len(projects)
    report = db_lab.store('report')
    invoiced = [project for _, project in report['invoices']
                if project in projects]
    assert len(invoiced) == len(set(invoiced)) == stored
    print('issued before the cut: %d of %d (reported %d)'
          % (stored, len(projects), len(issued_before_cut)))

    db_lab.proxy.restore()
    rerun = db_lab.horizon.manage('billing_issue', '--usage', path,
                                  '--period', '2045-02', check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert len(re.findall(r'Skipped cut-run-', rerun.stdout)) == stored
    assert len(re.findall(r'Issued \S+ to cut-run-', rerun.stdout)) == (
        len(projects) - stored)
    report = db_lab.store('report')
    invoiced = sorted(project for _, project in report['invoices']
                      if project in projects)
    assert invoiced == projects
    # Numbers without a gap: the cut transaction gave its number back.
    mine = sorted(number for number, project in report['invoices']
                  if project in projects)
    digits = [int(number[-6:]) for number in mine]
    assert digits == list(range(digits[0], digits[0] + len(projects)))
    # After the rerun every invoice is whole: lines, PDF as hashed, UBL.
    whole = db_lab.store('whole', *mine)
    assert whole == {number: True for number in mine}


def pay_click(session, db_lab, number):
    """Open the Pay dialog, submit its form: ``(answer, seconds taken)``."""
    url = '%s/identity/invoices/%s/pay/' % (db_lab.url, number)
    page = session.get(url, headers=AJAX, timeout=60)
    assert page.status_code == 200, page.text[-2000:]
    form = dict(lab.hidden_inputs(page.text))
    assert form['method'] == 'stripe'
    started = time.monotonic()
    answer = session.post(url, data=form, timeout=60, allow_redirects=False,
                          headers=dict(AJAX, Referer=url))
    return answer, time.monotonic() - started


def horizon_messages(answer):
    """The messages Horizon hands an ajax answer (its JavaScript shows)."""
    return json.loads(answer.headers.get('X-Horizon-Messages', '[]'))


def test_pay_answers_within_its_timeout_when_stripe_is_slow_or_down(
        db_lab, stripe_standin, tmp_path):
    result = issue(db_lab, tmp_path, '2045-03', [acme_id(db_lab)])
    number = re.search(r'Issued (\S+) to', result.stdout).group(1)
    bob = db_lab.login('bob')
    unavailable = 'The card payment service cannot be reached right now'
    timings = {}

    # Slow: Stripe answers after the configured timeout.
    stripe_standin.delay_next(conftest.STRIPE_TIMEOUT + 10)
    answer, timings['slow'] = pay_click(bob, db_lab, number)
    assert answer.status_code == 200
    assert 'X-Horizon-Location' not in answer.headers
    assert any(level == 'error' and unavailable in message
               for level, message, _extra in horizon_messages(answer)), \
        answer.headers
    assert timings['slow'] < conftest.STRIPE_TIMEOUT + 3

    # Down: nothing listens where Stripe was.
    db_lab.stripe_proxy.cut()
    try:
        answer, timings['down'] = pay_click(bob, db_lab, number)
    finally:
        db_lab.stripe_proxy.restore()
    assert answer.status_code == 200
    assert 'X-Horizon-Location' not in answer.headers
    assert any(level == 'error' and unavailable in message
               for level, message, _extra in horizon_messages(answer))
    assert timings['down'] < 3
    # No checkout session was kept for either failed click.
    assert [s for s in db_lab.store('checkout')['sessions']
            if s[0] == number] == []

    # Back: the next click opens the one session Stripe has (the slow
    # request made it there, after the plugin gave up waiting).
    answer, timings['back'] = pay_click(bob, db_lab, number)
    assert answer.status_code == 200
    remote = [session for session in list(stripe_standin.sessions.values())
              if session['client_reference_id'] == number]
    assert len(remote) == 1
    assert answer.headers['X-Horizon-Location'] == remote[0]['url']
    assert [s for s in db_lab.store('checkout')['sessions']
            if s[0] == number] == [[number, remote[0]['id'], 'open']]
    print('Pay answered in (s):', {k: round(v, 2)
                                   for k, v in timings.items()})


def test_a_webhook_during_the_cut_asks_stripe_to_retry_and_pays_once(
        restored, stripe_standin, tmp_path):
    db_lab = restored
    result = issue(db_lab, tmp_path, '2045-04', [acme_id(db_lab)])
    number = re.search(r'Issued (\S+) to', result.stdout).group(1)
    bob = db_lab.login('bob')
    answer, _seconds = pay_click(bob, db_lab, number)
    session_id = answer.headers['X-Horizon-Location'].rsplit('/', 1)[1]
    event = stripe_standin.complete(session_id, deliver=False)
    body, signature = stripe_standin.signed(event)

    def deliver():
        res = requests.post(
            db_lab.url + standin_module.WEBHOOK_PATH, data=body, timeout=60,
            headers={'Content-Type': 'application/json',
                     'Stripe-Signature': signature})
        return res.status_code, res.json()

    db_lab.proxy.cut()
    # Not a 2xx: Stripe delivers the event again later.
    assert deliver() == (500, {'error': 'not handled, retry'})
    db_lab.proxy.restore()
    payments = [p for p in db_lab.store('checkout')['payments']
                if p[0] == number]
    assert payments == []
    assert deliver() == (200, {'outcome': 'recorded'})
    assert deliver() == (200, {'outcome': 'duplicate'})
    payments = [p for p in db_lab.store('checkout')['payments']
                if p[0] == number]
    assert [(p[1], p[2]) for p in payments] == [
        ('stripe', event['data']['object']['payment_intent'])]
