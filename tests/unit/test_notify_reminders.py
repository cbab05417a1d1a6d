"""Payment reminders: due steps, mailed once, never for a paid invoice.

Invoices issued on 2026-11-02 are due on 2026-12-02 (30 days' terms in
tests/etc); the default schedule is -3, 7, 21 days from the due date.
"""

import datetime
import io

from django.core import mail
from django.core.management import call_command
from django.core.management import CommandError
from django.db import IntegrityError
from django.db import transaction
import pytest

from cleura_billing_dashboard.account import store as account_store
from cleura_billing_dashboard.billing import ledger
from cleura_billing_dashboard.billing import reminders
from cleura_billing_dashboard import conf
from cleura_billing_dashboard.notify.models import InvoiceMail
from cleura_billing_dashboard.notify.models import Recipient
from tests import factories
from tests.unit.test_notify_issue import account_with
from tests.unit.test_notify_issue import keystone  # noqa: F401 (fixture)
from tests.unit.test_notify_issue import store

pytestmark = pytest.mark.django_db

ISSUED = datetime.date(2026, 11, 2)
DUE = datetime.date(2026, 12, 2)


def day(offset):
    return DUE + datetime.timedelta(days=offset)


@pytest.fixture
def bank():
    """The seller's bank details, printed on the invoice at issue."""
    settings = conf.get_conf()
    settings.set_override('bankgiro', '5050-1055', 'seller')
    settings.set_override('iban', 'SE4550000000058398257466', 'seller')
    settings.set_override('bic', 'ESSESESS', 'seller')
    yield
    for name in ('bankgiro', 'iban', 'bic'):
        settings.clear_override(name, 'seller')


@pytest.fixture
def invoice(keystone, bank):  # noqa: F811 (the imported fixture)
    store(keystone, 'proj-a', account_with(
        billing=['ann@example.com', 'bo@example.com'],
        others=['tech@example.com'], language='sv'))
    return factories.issue_invoice('proj-a', today=ISSUED)


def run(*args):
    out = io.StringIO()
    call_command('billing_send_reminders', *args, stdout=out,
                 stderr=io.StringIO())
    return out.getvalue().splitlines()


@pytest.mark.parametrize('today,step', [
    (day(-4), None), (day(-3), -3), (day(0), -3), (day(6), -3),
    (day(7), 7), (day(20), 7), (day(21), 21), (day(400), 21)])
def test_the_latest_step_whose_day_has_come_is_due(today, step):
    assert reminders.due_step(DUE, [-3, 7, 21], today) == step


def test_the_schedule_is_validated():
    schedule = conf.ReminderSchedule()
    assert schedule('21, -3,7') == [-3, 7, 21]
    assert schedule('') == []
    for bad in ('7,7', 'x', '366', '-400'):
        with pytest.raises(ValueError):
            schedule(bad)


def test_nothing_before_the_first_step(invoice):
    assert run('--date', day(-4).isoformat()) == [
        'No reminder due on 2026-11-28.']
    assert mail.outbox == []


def test_a_reminder_reaches_each_billing_address_in_the_accounts_language(
        invoice):
    lines = run('--date', day(-3).isoformat())
    assert lines == [
        'Queued reminder -3 days of %s to ann@example.com' % invoice.number,
        'Queued reminder -3 days of %s to bo@example.com' % invoice.number,
        'Mailed %s to ann@example.com' % invoice.number,
        'Mailed %s to bo@example.com' % invoice.number,
    ]
    assert sorted(m.to[0] for m in mail.outbox) == ['ann@example.com',
                                                    'bo@example.com']
    message = mail.outbox[0]
    assert message.extra_headers['Content-Language'] == 'sv'
    assert invoice.number in message.subject
    assert '125,00' in message.body  # the outstanding amount, in Swedish
    assert invoice.payment_reference in message.body
    assert '5050-1055' in message.body
    assert 'SE4550000000058398257466' in message.body
    [(filename, pdf, content_type)] = message.attachments
    assert (filename, content_type) == (invoice.number + '.pdf',
                                        'application/pdf')
    assert pdf.startswith(b'%PDF')


def test_overdue_reminder_in_english_with_the_invoice_link(
        keystone, bank):  # noqa: F811
    doc = account_with(billing=['ann@example.com'], language='en')
    doc['settings']['delivery'] = 'link'
    store(keystone, 'proj-a', doc)
    invoice = factories.issue_invoice('proj-a', today=ISSUED)
    settings = conf.get_conf()
    settings.set_override('invoice_link_base_url',
                          'https://dashboard.example.com', 'mail')
    try:
        run('--date', day(7).isoformat())
    finally:
        settings.clear_override('invoice_link_base_url', 'mail')
    [message] = mail.outbox
    assert message.subject == ('Reminder: invoice %s from Test Cloud AB is '
                               'overdue' % invoice.number)
    assert 'was due on December 2, 2026 and is not paid yet' in message.body
    assert 'Outstanding: SEK125.00' in message.body
    assert ('https://dashboard.example.com/identity/invoices/%s/pdf/'
            % invoice.number) in message.body
    assert message.attachments == []


def test_the_command_run_twice_sends_each_reminder_once(invoice):
    run('--date', day(7).isoformat())
    assert run('--date', day(7).isoformat()) == [
        'No reminder due on 2026-12-09.']
    assert run('--date', day(8).isoformat()) == [
        'No reminder due on 2026-12-10.']
    assert len(mail.outbox) == 2
    run('--date', day(21).isoformat())
    assert len(mail.outbox) == 4
    assert sorted(reminders.reminders_sent(invoice.number))[0][:2] == (
        7, 'ann@example.com')
    assert [step for step, _a, _t in reminders.reminders_sent(
        invoice.number)] == [7, 7, 21, 21]


def test_missed_days_mail_only_the_latest_step(invoice):
    run('--date', day(30).isoformat())
    assert len(mail.outbox) == 2
    assert set(InvoiceMail.objects.filter(kind=InvoiceMail.REMINDER)
               .values_list('step', flat=True)) == {21}


def test_a_concurrent_run_cannot_queue_a_reminder_twice(invoice):
    """The database refuses the second row, whoever checked first."""
    reminders.queue_reminders(account_store.account_reader(), today=day(7))
    mail_row = InvoiceMail.objects.get(kind=InvoiceMail.REMINDER)
    with pytest.raises(IntegrityError), transaction.atomic():
        Recipient.objects.create(mail=mail_row, address='ann@example.com')
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceMail.objects.create(number=invoice.number,
                                   kind=InvoiceMail.REMINDER, step=7)
    # A run that read nothing queued yet and inserts after the first
    # committed queues nothing more.
    again = reminders.queue_reminders(account_store.account_reader(),
                                      today=day(7))
    assert again.queued == []
    assert Recipient.objects.count() == 2


def test_an_invoice_paid_between_queue_and_send_gets_no_reminder(invoice):
    accounts = account_store.account_reader()
    result = reminders.queue_reminders(accounts, today=day(7))
    assert len(result.queued) == 2
    ledger.record_payment(invoice, invoice.total, provider='bank_transfer',
                          reference='camt-1')
    out = io.StringIO()
    call_command('billing_send_mail', stdout=out)
    assert mail.outbox == []
    assert out.getvalue().splitlines() == [
        'Reminder not sent, %s is paid: ann@example.com' % invoice.number,
        'Reminder not sent, %s is paid: bo@example.com' % invoice.number,
    ]
    assert set(Recipient.objects.values_list('state', flat=True)) == {
        Recipient.SKIPPED}


def test_a_paid_invoice_is_not_reminded(invoice):
    ledger.record_payment(invoice, invoice.total, provider='bank_transfer',
                          reference='camt-1')
    assert run('--date', day(7).isoformat()) == [
        'No reminder due on 2026-12-09.']
    assert not InvoiceMail.objects.filter(
        kind=InvoiceMail.REMINDER).exists()


def test_issuing_does_not_send_queued_reminders(invoice):
    """Only senders that check for payment send reminders."""
    reminders.queue_reminders(account_store.account_reader(), today=day(7))
    from cleura_billing_dashboard import notify
    assert notify.send_pending().sent == []
    assert mail.outbox == []


def test_a_project_without_billing_address_is_reported(
        keystone, bank):  # noqa: F811
    store(keystone, 'proj-a', account_with(billing=[]))
    invoice = factories.issue_invoice('proj-a', today=ISSUED)
    assert run('--date', day(7).isoformat()) == [
        'No reminder: %s, project proj-a has no verified Billing address'
        % invoice.number,
        'No reminder due on 2026-12-09.']


def test_without_service_credentials_the_command_fails():
    with pytest.raises(CommandError):
        run()
