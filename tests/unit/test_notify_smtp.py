"""Mail through a real SMTP server (aiosmtpd on loopback), down and up."""

import io

from django.test.utils import override_settings
import pypdf
import pytest

from cleura_billing_dashboard import notify
from cleura_billing_dashboard.notify.models import Recipient
from tests import factories
from tests.unit import test_account_facade as fakes
from tests.unit import test_notify_outbox as outbox_tests
from tools.lab.smtp import SmtpServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp():
    server = SmtpServer(fakes.unused_port())
    server.start()
    with override_settings(
            EMAIL_BACKEND='django.core.mail.backends.smtp.EmailBackend',
            EMAIL_HOST='127.0.0.1', EMAIL_PORT=server.port,
            EMAIL_TIMEOUT=10):
        yield server
    server.stop()


def invoice_pdf():
    """A real invoice PDF, issued the way billing_issue issues it."""
    invoice = factories.issue_invoice('proj-a', '2026-10')
    return invoice.number, bytes(invoice.pdf)


def test_the_verification_code_arrives(smtp):
    notify.send_verification_code('ann@example.com', '123456',
                                  project_name='acme', minutes=30)
    [received] = smtp.wait_for('ann@example.com')
    assert received.subject == 'Your verification code: 123456'
    assert '    123456' in received.text
    assert 'valid for 30 minutes' in received.text
    assert received.message['From'] == 'billing@example.com'


def test_the_invoice_arrives_with_its_pdf(smtp):
    number, pdf = invoice_pdf()
    outbox_tests.queue(number=number, pdf=pdf)
    report = notify.send_pending()
    assert report.sent == [(number, 'ann@example.com')]
    [received] = smtp.wait_for('ann@example.com')
    [(filename, content_type, data)] = received.attachments()
    assert (filename, content_type) == (number + '.pdf', 'application/pdf')
    assert data == pdf
    text = pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert number in text


def test_the_einvoice_arrives_next_to_the_pdf(smtp):
    number, pdf = invoice_pdf()
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<Invoice xmlns="urn:'
           'oasis:names:specification:ubl:schema:xsd:Invoice-2"><cbc:ID '
           'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:'
           'CommonBasicComponents-2">%s</cbc:ID><!-- Å --></Invoice>'
           % number).encode('utf-8')
    outbox_tests.queue(number=number, pdf=pdf, einvoice=xml,
                       einvoice_filename=number + '.xml')
    notify.send_pending()
    [received] = smtp.wait_for('ann@example.com')
    assert received.attachments() == [
        (number + '.pdf', 'application/pdf', pdf),
        (number + '.xml', 'application/xml', xml)]
    assert 'e-invoice' in received.text


def test_smtp_down_then_up_the_mail_arrives_once(smtp):
    outbox_tests.queue()
    smtp.stop()
    report = notify.send_pending()
    assert len(report.failed) == 1
    assert Recipient.objects.get().state == Recipient.PENDING
    smtp.start()
    assert notify.send_pending(retry_now=True).sent == [
        ('2026-000001', 'ann@example.com')]
    assert notify.send_pending(retry_now=True).sent == []
    smtp.wait_for('ann@example.com')
    assert len(smtp.to('ann@example.com')) == 1
    assert Recipient.objects.get().state == Recipient.SENT


def test_a_failed_verification_mail_raises(smtp):
    smtp.stop()
    with pytest.raises(OSError):
        notify.send_verification_code('ann@example.com', '123456')
