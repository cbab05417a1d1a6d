"""Verification codes and invoice mail through the lab's real SMTP server.

The lab's Horizon mails through the session's aiosmtpd server
(``smtp_server``); ``billing_issue`` and ``billing_send_mail`` run as the
operator runs them, on the lab's database and configuration.
"""

import json
import re
import types

from django.test.utils import override_settings
import pytest

from cleura_billing_dashboard.account import document
from cleura_billing_dashboard.account import store as account_store
from cleura_billing_dashboard.billing import issue
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


def globex_account(address, einvoice):
    return {
        'schema_version': 1,
        'customer': {'name': 'Globex Corporation', 'address': 'Main St 1',
                     'postal_code': '111 22', 'city': 'Stockholm',
                     'country': 'SE', 'peppol_id': '0007:5566778899',
                     'buyer_reference': 'Globex AP 4711'},
        'contacts': [{'id': 'x1', 'email': address,
                      'roles': ['billing', 'tech', 'dpo'],
                      'verified': True}],
        'settings': {'delivery': 'attachment', 'language': 'en',
                     'einvoice': einvoice},
    }


def stored_ubl(invoice):
    """Stands in for ``billing.einvoices.ubl_for`` until it is wired in."""
    content = ('<?xml version="1.0" encoding="UTF-8"?>\n<Invoice xmlns="urn:'
               'oasis:names:specification:ubl:schema:xsd:Invoice-2"><cbc:ID '
               'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:'
               'CommonBasicComponents-2">%s</cbc:ID></Invoice>'
               % invoice.number).encode('utf-8')
    return types.SimpleNamespace(content=content,
                                 filename='%s.xml' % invoice.number)


@pytest.mark.django_db
def test_the_einvoice_setting_puts_the_xml_in_the_delivered_mail(
        real_lab, smtp_server, tmp_path, monkeypatch):
    """The setting read from the real Keystone, mailed by real SMTP.

    Issued in this process (its own database), as ``billing_issue`` does,
    with the account reader on the lab's Keystone and the stored UBL
    stubbed through ``InvoiceMail.einvoice_for``.
    """
    address = 'xml@globex.example'
    usage = tmp_path / 'usage.json'
    usage.write_text(json.dumps({'projects': [{
        'project_id': project_id(real_lab, 'globex'),
        'lines': [{'product': 'compute', 'region': 'Sto2', 'quantity': 10,
                   'unit': 'h', 'unit_price': '10'}]}]}))
    monkeypatch.setattr(issue.InvoiceMail, 'einvoice_for',
                        staticmethod(stored_ubl))
    client = real_lab.keystone.admin_client()
    with override_settings(
            EMAIL_BACKEND='django.core.mail.backends.smtp.EmailBackend',
            EMAIL_HOST='127.0.0.1', EMAIL_PORT=smtp_server.port,
            EMAIL_TIMEOUT=10):
        reset(real_lab, 'globex', globex_account(address, True))
        on = issue.issue_usage_file(
            str(usage), period='2031-04',
            accounts=account_store.AccountReader(client=client))
        reset(real_lab, 'globex', globex_account(address, False))
        off = issue.issue_usage_file(
            str(usage), period='2031-05',
            accounts=account_store.AccountReader(client=client))

    [with_xml] = on.issued
    assert with_xml.buyer['peppol_id'] == '0007:5566778899'
    assert with_xml.buyer['buyer_reference'] == 'Globex AP 4711'
    [first, second] = smtp_server.wait_for(address, count=2)
    by_number = {mail.subject.split()[1]: mail for mail in (first, second)}
    attachments = by_number[with_xml.number].attachments()
    assert [(name, kind) for name, kind, _data in attachments] == [
        (with_xml.number + '.pdf', 'application/pdf'),
        (with_xml.number + '.xml', 'application/xml')]
    assert attachments[1][2] == stored_ubl(with_xml).content
    assert 'The e-invoice (EN 16931' in by_number[with_xml.number].text
    [without] = off.issued
    assert [kind for _name, kind, _data in
            by_number[without.number].attachments()] == ['application/pdf']
