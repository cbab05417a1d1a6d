"""The e-invoice (XML) in the invoice mail, when the project asks for it.

The stored UBL comes later (``billing.einvoices.ubl_for``); here it is a
stub passed through ``issue.InvoiceMail.einvoice_for``, the one seam.
"""

import types

from django.core import mail
import pytest

from cleura_billing_dashboard.account import preferences
from cleura_billing_dashboard.account import store as account_store
from cleura_billing_dashboard.billing import einvoices
from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard import conf
from cleura_billing_dashboard import notify
from cleura_billing_dashboard.notify.models import InvoiceMail
from tests import factories
from tests.unit import test_notify_issue as issue_tests
from tests.unit import test_notify_outbox as outbox_tests

pytestmark = pytest.mark.django_db

XML = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
       b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:'
       b'Invoice-2"/>')


# Service credentials, Keystone in memory: test_notify_issue's fixture.
keystone = issue_tests.keystone


@pytest.fixture
def usage_file(tmp_path):
    return factories.usage_file(tmp_path, factories.usage(period='2026-10'))


LINE = ('The e-invoice (EN 16931, Peppol BIS Billing 3.0) is attached as '
        'XML, for your accounting system.')


def test_the_xml_is_attached_next_to_the_pdf_and_the_body_says_so():
    outbox_tests.queue(einvoice=XML,
                       einvoice_filename='2026-000001-ubl.xml')
    notify.send_pending()
    [message] = mail.outbox
    assert message.attachments == [
        ('2026-000001.pdf', outbox_tests.PDF, 'application/pdf'),
        ('2026-000001-ubl.xml', XML, 'application/xml')]
    assert LINE in message.body
    assert 'The invoice is attached as a PDF.' in message.body


def test_the_xml_is_named_after_the_invoice_without_a_filename():
    outbox_tests.queue(einvoice=XML)
    notify.send_pending()
    [message] = mail.outbox
    assert message.attachments[-1] == ('2026-000001.xml', XML,
                                       'application/xml')


def test_a_link_mail_carries_the_xml_as_its_only_attachment():
    outbox_tests.queue(delivery='link', link='https://dash.example/i/1',
                       einvoice=XML)
    notify.send_pending()
    [message] = mail.outbox
    assert message.attachments == [('2026-000001.xml', XML,
                                    'application/xml')]
    assert 'https://dash.example/i/1' in message.body
    assert LINE in message.body
    assert 'attached as a PDF' not in message.body


def test_without_an_einvoice_the_mail_is_as_before():
    outbox_tests.queue()
    notify.send_pending()
    [message] = mail.outbox
    assert message.attachments == [('2026-000001.pdf', outbox_tests.PDF,
                                    'application/pdf')]
    assert 'e-invoice' not in message.body
    row = InvoiceMail.objects.get()
    assert (row.einvoice, row.einvoice_filename) == (None, '')


def test_a_row_queued_before_the_einvoice_existed_is_sent_as_before():
    # What migration 0003 leaves of an older row: the columns' defaults.
    row = InvoiceMail.objects.create(
        number='2026-000009', project_id='proj-a', language='en',
        summary=outbox_tests.SUMMARY, pdf=outbox_tests.PDF,
        filename='2026-000009.pdf')
    row.recipients.create(address='ann@example.com')
    InvoiceMail.objects.filter(pk=row.pk).update(einvoice=None,
                                                 einvoice_filename='')
    report = notify.send_pending()
    assert report.sent == [('2026-000009', 'ann@example.com')]
    [message] = mail.outbox
    assert [name for name, _data, _type in message.attachments] == [
        '2026-000009.pdf']


# Issuing: the setting, the seam and the stub.

def stub_einvoice(calls):
    def einvoice_for(invoice):
        calls.append(invoice.number)
        return types.SimpleNamespace(content=XML,
                                     filename=invoice.number + '-ubl.xml')
    return einvoice_for


def account(einvoice, delivery='attachment'):
    doc = issue_tests.account_with(billing=['ann@example.com'])
    preferences.update_preferences(doc, delivery, 'en', einvoice)
    return doc


def issue_with(keystone, usage_file, monkeypatch, doc,
               einvoice_for):
    issue_tests.store(keystone, 'proj-a', doc)
    issue_tests.store(keystone, 'proj-b',
                      issue_tests.account_with(billing=[]))
    monkeypatch.setattr(issue.InvoiceMail, 'einvoice_for', einvoice_for)
    return issue_tests.run('billing_issue', '--usage', usage_file,
                           '--issue-date', '2026-11-02')


def test_the_setting_on_attaches_the_stored_einvoice(
        keystone, usage_file, monkeypatch):
    calls = []
    issue_with(keystone, usage_file, monkeypatch, account(True),
               staticmethod(stub_einvoice(calls)))
    assert calls == ['2026-000001']   # proj-b is not mailed: not asked
    [message] = mail.outbox
    assert [(name, kind) for name, _data, kind in message.attachments] == [
        ('2026-000001.pdf', 'application/pdf'),
        ('2026-000001-ubl.xml', 'application/xml')]
    assert message.attachments[1][1] == XML
    assert LINE in message.body


def test_the_setting_off_attaches_nothing_and_asks_for_nothing(
        keystone, usage_file, monkeypatch):
    calls = []
    issue_with(keystone, usage_file, monkeypatch, account(False),
               staticmethod(stub_einvoice(calls)))
    assert calls == []
    [message] = mail.outbox
    assert len(message.attachments) == 1
    assert 'e-invoice' not in message.body


def test_with_the_link_the_xml_is_the_only_attachment(
        keystone, usage_file, monkeypatch):
    conf.get_conf().set_override('invoice_link_base_url',
                                 'https://dash.example/', 'mail')
    try:
        issue_with(keystone, usage_file, monkeypatch,
                   account(True, delivery='link'),
                   staticmethod(stub_einvoice([])))
    finally:
        conf.get_conf().clear_override('invoice_link_base_url', 'mail')
    [message] = mail.outbox
    assert [name for name, _data, _type in message.attachments] == [
        '2026-000001-ubl.xml']
    assert 'https://dash.example/' in message.body


def test_no_stored_einvoice_is_mailed_without_it(keystone, usage_file,
                                                 monkeypatch):
    issue_with(keystone, usage_file, monkeypatch, account(True),
               staticmethod(lambda invoice: None))
    [message] = mail.outbox
    assert len(message.attachments) == 1


def test_the_seam_is_the_stored_ubl():
    assert issue.InvoiceMail.einvoice_for is einvoices.ubl_for


def test_without_the_seam_nothing_is_attached(keystone, usage_file,
                                              monkeypatch):
    monkeypatch.setattr(issue.InvoiceMail, 'einvoice_for', None)
    issue_with(keystone, usage_file, monkeypatch, account(True), None)
    [message] = mail.outbox
    assert len(message.attachments) == 1


def test_the_seam_can_be_passed_in_and_accounts_are_asked():
    class Accounts(object):
        asked = []

        def wants_einvoice(self, project_id):
            self.asked.append(project_id)
            return True

    invoice = types.SimpleNamespace(project_id='proj-a', number='N-1')
    mail_ = issue.InvoiceMail(Accounts(),
                              einvoice_for=stub_einvoice([]))
    assert mail_._einvoice(invoice) == (XML, 'N-1-ubl.xml')
    assert Accounts.asked == ['proj-a']
    unset = issue.InvoiceMail(Accounts())
    unset.einvoice_for = None
    assert unset._einvoice(invoice) == (None, '')
    assert Accounts.asked == ['proj-a']


def test_the_account_reader_answers_wants_einvoice(keystone):
    issue_tests.store(keystone, 'proj-a', account(True))
    issue_tests.store(keystone, 'proj-b', account(False))
    issue_tests.store(keystone, 'proj-c', factories.account_document())
    reader = account_store.account_reader()
    assert [reader.wants_einvoice(project) for project in (
        'proj-a', 'proj-b', 'proj-c', 'proj-gone')] == [
        True, False, False, False]
