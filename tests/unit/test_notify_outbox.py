"""The outbox: queued with the invoice, sent once, retried, never lost."""

import datetime
import io
import smtplib

from django.core import mail
from django.core.mail.backends import base as mail_base
from django.core.management import call_command
from django.db import IntegrityError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
import pytest

from cleura_billing_dashboard import notify
from cleura_billing_dashboard.notify.models import InvoiceMail
from cleura_billing_dashboard.notify.models import Recipient
from cleura_billing_dashboard.notify import sender

PDF = b'%PDF-1.4 test invoice'
SUMMARY = {'type': 'invoice', 'total': '556.00', 'currency': 'SEK',
           'issue_date': '2026-11-02', 'due_date': '2026-12-02',
           'seller': 'Cleura Demo AB', 'buyer': 'Acme AB'}
REFUSING = 'tests.unit.test_notify_outbox.RefusingBackend'

pytestmark = pytest.mark.django_db


class RefusingBackend(mail_base.BaseEmailBackend):
    """A mail server that refuses everything, as a down server would."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected('Connection unexpectedly '
                                             'closed')


def queue(number='2026-000001', recipients=('ann@example.com',), **kw):
    args = dict(number=number, project_id='proj-a', recipients=recipients,
                language='en', pdf=PDF, summary=SUMMARY)
    args.update(kw)
    return notify.queue_invoice_mail(**args)


def run_command(*args):
    out = io.StringIO()
    call_command('billing_send_mail', *args, stdout=out)
    return out.getvalue()


def test_queued_mail_is_sent_once_with_the_pdf_attached():
    assert queue(recipients=['ann@example.com', 'bo@example.com']) == 2
    report = notify.send_pending()
    assert sorted(report.sent) == [('2026-000001', 'ann@example.com'),
                                   ('2026-000001', 'bo@example.com')]
    assert len(mail.outbox) == 2
    message = mail.outbox[0]
    assert message.subject == 'Invoice 2026-000001 from Cleura Demo AB'
    assert message.attachments == [('2026-000001.pdf', PDF,
                                    'application/pdf')]
    assert 'SEK556.00' in message.body
    assert message.extra_headers['Auto-Submitted'] == 'auto-generated'
    assert notify.send_pending().sent == []
    assert len(mail.outbox) == 2
    assert set(Recipient.objects.values_list('state', flat=True)) == {
        Recipient.SENT}


def test_queuing_again_adds_only_new_addresses():
    assert queue(recipients=['ann@example.com']) == 1
    assert queue(recipients=['ANN@example.com', 'bo@example.com']) == 1
    assert queue(recipients=['ann@example.com', 'ann@example.com']) == 0
    assert sorted(Recipient.objects.values_list('address', flat=True)) == [
        'ann@example.com', 'bo@example.com']


def test_the_database_refuses_a_second_row_for_one_address():
    queue()
    invoice_mail = InvoiceMail.objects.get()
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            Recipient.objects.create(mail=invoice_mail,
                                     address='ann@example.com')


def test_nothing_is_queued_without_recipients():
    assert queue(recipients=[]) == 0
    assert not InvoiceMail.objects.exists()


def test_a_link_is_mailed_instead_of_the_pdf_when_chosen():
    queue(delivery='link', link='https://dash.example/identity/invoices/'
                                '2026-000001/pdf/', language='sv')
    notify.send_pending()
    [message] = mail.outbox
    assert message.attachments == []
    assert ('https://dash.example/identity/invoices/2026-000001/pdf/'
            in message.body)
    assert message.extra_headers['Content-Language'] == 'sv'
    # Amounts and dates are written the Swedish way.
    assert '556,00\xa0kr' in message.body
    assert '2 december 2026' in message.body
    assert InvoiceMail.objects.get().pdf is None


def test_link_delivery_without_a_link_attaches_the_pdf():
    queue(delivery='link', link='')
    notify.send_pending()
    assert mail.outbox[0].attachments[0][0] == '2026-000001.pdf'


def test_attaching_needs_a_pdf():
    with pytest.raises(ValueError):
        queue(pdf=None)


def test_a_refused_mail_stays_pending_and_is_retried_later():
    queue()
    with override_settings(EMAIL_BACKEND=REFUSING):
        report = notify.send_pending()
    [(number, address, error)] = report.failed
    assert 'Connection unexpectedly closed' in error
    row = Recipient.objects.get()
    assert (row.state, row.attempts, row.claim) == (Recipient.PENDING, 1,
                                                    '')
    assert row.next_attempt_at > timezone.now()
    # Not due yet: a run now sends nothing, and says it waits.
    report = notify.send_pending()
    assert (report.sent, report.waiting) == ([], 1)
    assert mail.outbox == []
    later = timezone.now() + datetime.timedelta(minutes=2)
    report = notify.send_pending(now=later)
    assert report.sent == [('2026-000001', 'ann@example.com')]
    assert len(mail.outbox) == 1
    assert Recipient.objects.get().attempts == 2


def test_the_delay_doubles_up_to_the_configured_ceiling():
    assert [sender.retry_delay(n) for n in (1, 2, 3, 4)] == [60, 120, 240,
                                                             480]
    assert sender.retry_delay(30) == 3600


def test_a_sender_that_died_mid_send_leaves_the_row_for_another():
    queue()
    now = timezone.now()
    Recipient.objects.update(state=Recipient.SENDING, claim='dead',
                             claimed_until=now + sender.LEASE)
    assert notify.send_pending(now=now).sent == []
    report = notify.send_pending(now=now + sender.LEASE +
                                 datetime.timedelta(seconds=1))
    assert report.sent == [('2026-000001', 'ann@example.com')]


def test_rows_claimed_by_another_sender_are_not_sent_twice():
    queue()
    token, rows = sender._claim(timezone.now(), False, 10)
    assert len(rows) == 1
    _other_token, other_rows = sender._claim(timezone.now(), True, 10)
    assert other_rows == []
    assert Recipient.objects.get().claim == token


def test_the_command_reports_what_it_did():
    queue()
    with override_settings(EMAIL_BACKEND=REFUSING):
        out = run_command()
    assert out.startswith('Not sent, will retry: 2026-000001 to '
                          'ann@example.com: SMTPServerDisconnected')
    assert '1 mail(s) wait for a later attempt.' in out
    assert run_command().splitlines()[-1] == 'No mail to send.'
    out = run_command('--retry-now')
    assert out.splitlines() == ['Mailed 2026-000001 to ann@example.com']
    assert len(mail.outbox) == 1


def test_a_credit_note_says_so():
    queue(number='2026-000009',
          summary=dict(SUMMARY, type='credit_note', total='-556.00'))
    notify.send_pending()
    [message] = mail.outbox
    assert message.subject == 'Credit note 2026-000009 from Cleura Demo AB'
    assert 'Due date' not in message.body
