"""Verification codes and invoice mail through the lab's real SMTP server.

The lab's Horizon mails through the session's aiosmtpd server
(``smtp_server``); ``billing_issue`` and ``billing_send_mail`` run as the
operator runs them, on the lab's database and configuration.
"""

import json
import re

import pytest

from cleura_billing_dashboard.account import document
from tests.functional.test_account_keystone import open_page
from tests.functional.test_account_keystone import post
from tests.functional.test_account_keystone import project_id
from tests.functional.test_account_keystone import reset
from tests.functional.test_account_keystone import stored

pytestmark = pytest.mark.functional

PAGE = '/settings/account/'


def code_in(received):
    return re.search(r'^ {4}(\d{6})$', received.text, re.M).group(1)


def contact(real_lab, project, email):
    return next(c for c in stored(real_lab, project)['contacts']
                if c['email'] == email)


def test_a_new_address_is_verified_with_the_mailed_code(real_lab,
                                                        smtp_server):
    reset(real_lab, 'acme', document.new_document())
    alice = real_lab.login('alice')
    page = open_page(alice, real_lab, 'emails/create/')
    res = post(alice, real_lab, PAGE + 'emails/create/',
               {'email': 'ap@acme.example', 'name': 'Accounts payable'},
               page, 'create_email_form')
    assert res.status_code == 302, res.text[-2000:]
    [received] = smtp_server.wait_for('ap@acme.example')
    assert received.subject.startswith('Your verification code')
    pending = contact(real_lab, 'acme', 'ap@acme.example')
    assert (pending['verified'], pending['roles']) == (False, [])
    assert code_in(received) not in json.dumps(stored(real_lab, 'acme'))

    verify = PAGE + 'emails/%s/verify/' % pending['id']
    page = open_page(alice, real_lab, verify[len(PAGE):])
    res = post(alice, real_lab, verify, {'code': code_in(received)}, page,
               'verify_email_form')
    assert res.status_code == 302, res.text[-2000:]
    verified = contact(real_lab, 'acme', 'ap@acme.example')
    assert (verified['verified'], verified['roles']) == (
        True, ['billing', 'tech', 'dpo'])


def test_invoice_mail_waits_for_a_down_smtp_server_and_arrives_once(
        real_lab, smtp_server, tmp_path):
    reset(real_lab, 'globex', {
        'schema_version': 1,
        'customer': {'name': 'Globex Corporation', 'address': 'Main St 1',
                     'postal_code': '111 22', 'city': 'Stockholm',
                     'country': 'SE'},
        'contacts': [{'id': 'g1', 'email': 'ap@globex.example',
                      'roles': ['billing', 'tech', 'dpo'],
                      'verified': True}],
        'settings': {'delivery': 'attachment', 'language': 'en'},
    })
    usage = tmp_path / 'usage.json'
    usage.write_text(json.dumps({'projects': [{
        'project_id': project_id(real_lab, 'globex'),
        'lines': [{'product': 'compute', 'region': 'Sto2', 'quantity': 10,
                   'unit': 'h', 'unit_price': '10'}]}]}))
    smtp_server.stop()
    try:
        issued = real_lab.horizon.manage('billing_issue', '--usage',
                                         str(usage), '--period', '2031-03')
    finally:
        smtp_server.start()
    number = re.search(r'Issued (\S+) to', issued.stdout).group(1)
    assert ('Not sent, will retry: %s to ap@globex.example' % number
            in issued.stdout), issued.stdout
    assert smtp_server.to('ap@globex.example') == []

    sent = real_lab.horizon.manage('billing_send_mail', '--retry-now')
    assert sent.stdout.splitlines() == [
        'Mailed %s to ap@globex.example' % number]
    again = real_lab.horizon.manage('billing_send_mail', '--retry-now')
    assert again.stdout.splitlines() == ['No mail to send.']
    [received] = smtp_server.wait_for('ap@globex.example')
    [(filename, content_type, pdf)] = received.attachments()
    assert (filename, content_type) == (number + '.pdf', 'application/pdf')
    assert pdf.startswith(b'%PDF')
    assert len(smtp_server.to('ap@globex.example')) == 1
