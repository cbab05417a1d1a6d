"""Issuing mails the invoice to the project's verified Billing addresses.

``billing_issue`` reads each project's billing account with the service
credentials (an in-memory Keystone here; the functional tests use the real
one), queues the mail in the invoice's transaction and sends it.
"""

import io
from unittest import mock

from django.core import mail
from django.core.management import call_command
from django.core.management import CommandError
import pypdf
import pytest

from cleura_billing_dashboard.account import contacts as contact_rules
from cleura_billing_dashboard.account import document
from cleura_billing_dashboard.account import preferences
from cleura_billing_dashboard.account import store as account_store
from cleura_billing_dashboard.api import account as account_api
from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard.billing import ledger
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard import conf
from cleura_billing_dashboard.notify.models import Recipient
from tests import factories
from tests.unit import test_account_facade as fakes

pytestmark = pytest.mark.django_db


def account_with(billing, others=(), language='en', name='Acme AB'):
    doc = factories.account_document(
        customer=dict(factories.ACME, name=name,
                      org_number=factories.ACME_ORG_NUMBER), revision=3)
    for email in list(billing) + list(others):
        contact = contact_rules.add_contact(doc, email)
        contact['verified'] = True
        contact['roles'] = ['billing'] if email in billing else ['tech']
    preferences.update_preferences(doc, 'attachment', language)
    return doc


@pytest.fixture
def keystone():
    """Service credentials configured; Keystone answered in memory."""
    fake = fakes.FakeKeystone()
    conf.get_conf().set_override('auth_url', 'http://keystone.test/v3',
                                 'keystone_service')
    with mock.patch.object(account_store, 'service_client',
                           return_value=fake):
        yield fake
    conf.get_conf().clear_override('auth_url', 'keystone_service')


@pytest.fixture
def usage_file(tmp_path):
    return factories.usage_file(tmp_path, factories.usage(period='2026-10'))


def store(fake, project_id, doc):
    fake.projects.stored[project_id] = {document.ATTRIBUTE: doc}


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue().splitlines()


def test_issue_mails_only_verified_billing_addresses(keystone, usage_file):
    store(keystone, 'proj-a', account_with(
        billing=['new@example.com'], others=['old@example.com'],
        language='sv'))
    store(keystone, 'proj-b', account_with(billing=[], name='Globex'))
    lines = run('billing_issue', '--usage', usage_file,
                '--issue-date', '2026-11-02')
    assert lines == [
        'Issued 2026-000001 to proj-a: SEK125.00',
        'Issued 2026-000002 to proj-b: SEK25.00',
        'Not mailed: 2026-000002, project proj-b has no verified Billing '
        'address',
        'Mailed 2026-000001 to new@example.com',
    ]
    [message] = mail.outbox
    assert message.to == ['new@example.com']
    assert message.extra_headers['Content-Language'] == 'sv'
    filename, pdf, content_type = message.attachments[0]
    assert (filename, content_type) == ('2026-000001.pdf', 'application/pdf')
    invoice = Invoice.objects.get(number='2026-000001')
    assert pdf == bytes(invoice.pdf)
    # The buyer and language come from the billing account.
    assert (invoice.buyer['name'], invoice.language) == ('Acme AB', 'sv')
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert '2026-000001' in text and 'Acme AB' in text


def test_the_mail_is_queued_in_the_invoices_transaction(keystone):
    store(keystone, 'proj-a', account_with(billing=['ann@example.com']))
    accounts = account_store.account_reader()
    mail_hooks = issue.InvoiceMail(accounts)

    def queue_then_fail(invoice):
        mail_hooks.notify(invoice)
        assert Recipient.objects.filter(
            mail__number=invoice.number).exists()
        raise RuntimeError('disk full')

    parsed = factories.parsed_usage(period='2026-10')
    with pytest.raises(RuntimeError):
        issue.issue_invoices_for_period(parsed, '2026-10',
                                        buyer_lookup=accounts.buyer_details,
                                        notify=queue_then_fail)
    # Numbered and stored without documents (a rerun completes it); its
    # documents and its mail rolled back together.
    assert not Invoice.objects.ready().exists()
    assert Invoice.objects.documents_pending().count() == 1
    assert not Recipient.objects.exists()


def test_keystone_down_while_issuing_stops_the_run(keystone, usage_file):
    from keystoneauth1 import exceptions as ks_exceptions
    keystone.projects.fail = ks_exceptions.ConnectFailure('refused')
    with pytest.raises(CommandError, match='cannot be reached'):
        run('billing_issue', '--usage', usage_file)
    assert not Invoice.objects.exists()
    assert mail.outbox == []


def test_without_service_credentials_invoices_are_issued_unmailed(
        usage_file):
    assert not account_api.is_configured()
    lines = run('billing_issue', '--usage', usage_file)
    assert len(lines) == 2 and all(line.startswith('Issued ')
                                   for line in lines)
    assert mail.outbox == [] and not Recipient.objects.exists()


def test_link_delivery_mails_a_link_to_the_dashboard(keystone, usage_file):
    doc = account_with(billing=['ann@example.com'])
    preferences.update_preferences(doc, 'link', 'en')
    store(keystone, 'proj-a', doc)
    store(keystone, 'proj-b', account_with(billing=[]))
    conf.get_conf().set_override('invoice_link_base_url',
                                 'https://dash.example/', 'mail')
    try:
        run('billing_issue', '--usage', usage_file,
            '--issue-date', '2026-11-02')
    finally:
        conf.get_conf().clear_override('invoice_link_base_url', 'mail')
    [message] = mail.outbox
    assert message.attachments == []
    assert ('https://dash.example/identity/invoices/2026-000001/pdf/'
            in message.body)


def test_a_project_keystone_no_longer_has_is_invoiced_unmailed(keystone,
                                                               usage_file):
    # Only proj-a is in Keystone; proj-b's usage outlived the project.
    store(keystone, 'proj-a', account_with(billing=['ann@example.com']))
    lines = run('billing_issue', '--usage', usage_file,
                '--issue-date', '2026-11-02')
    assert 'Not mailed: 2026-000002, project proj-b has no verified ' \
        'Billing address' in lines
    assert Invoice.objects.get(number='2026-000002').buyer['name'] == 'proj-b'
    assert [m.to for m in mail.outbox] == [['ann@example.com']]


def test_issuing_reads_keystone_once_for_the_whole_run(keystone,
                                                       usage_file):
    store(keystone, 'proj-a', account_with(billing=['ann@example.com']))
    store(keystone, 'proj-b', account_with(billing=['bo@example.com'],
                                           name='Globex'))
    run('billing_issue', '--usage', usage_file, '--issue-date', '2026-11-02')
    # The list reads both accounts; no project is read on its own.
    assert (keystone.projects.lists, keystone.projects.gets) == (1, 0)
    assert sorted(m.to[0] for m in mail.outbox) == ['ann@example.com',
                                                    'bo@example.com']


def test_the_mail_says_what_credit_was_taken_off(keystone, tmp_path):
    store(keystone, 'proj-a', account_with(billing=['ann@example.com']))
    october = factories.issue_invoice('proj-a', '2026-10')
    ledger.record_payment(october, 200, provider='manual', reference='p1')
    path = factories.usage_file(tmp_path, factories.usage(period='2026-11'))
    run('billing_issue', '--usage', path, '--issue-date', '2026-12-02')
    [message] = mail.outbox
    body = message.body.replace('\xa0', '')
    assert 'Total: SEK125.00\nCredit applied: SEK75.00\n' \
        'Amount due: SEK50.00\n' in body
