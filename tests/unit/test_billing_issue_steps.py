"""Issuing in two steps: the number with the invoice, then its documents."""

import datetime
import decimal
import hashlib

from django.core.management import call_command
from django.core.management import CommandError
from django.urls import reverse
from openstack_dashboard.test import helpers as test
import pytest

from cleura_billing_dashboard.billing import credit
from cleura_billing_dashboard.billing import einvoices
from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard.billing.models import EInvoice
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard.billing.models import InvoiceLine
from cleura_billing_dashboard.billing.models import NumberSeries
from cleura_billing_dashboard.billing import numbering
from cleura_billing_dashboard.billing import queries
from cleura_billing_dashboard.billing import reminders
from cleura_billing_dashboard.notify.models import InvoiceMail
from cleura_billing_dashboard.notify.models import Recipient
from tests import factories

TODAY = datetime.date(2041, 3, 1)
PREFIX = '2041-'


class Accounts(object):
    """What the Keystone account reader answers, for ``InvoiceMail``."""

    def buyer_details(self, project_id):
        return {'name': 'Kund %s' % project_id}

    def billing_recipients(self, project_id):
        return ['billing@%s.example' % project_id]

    def wants_link(self, project_id):
        return False

    def wants_einvoice(self, project_id):
        return True


def numbered_without_documents(project_id='proj-a', period='2041-02'):
    """Step 1 only, as a run killed right after it leaves an invoice."""
    invoice = Invoice(
        project_id=project_id, type=Invoice.INVOICE, issue_date=TODAY,
        due_date=TODAY + datetime.timedelta(days=30),
        period_start=issue.period_bounds(period)[0],
        period_end=issue.period_bounds(period)[1],
        buyer={'name': project_id}, language='en')
    lines = [InvoiceLine(product=line.product, description=line.description,
                         region=line.region, quantity=line.quantity,
                         unit=line.unit, unit_price=line.unit_price,
                         vat_rate=line.vat_rate)
             for line in factories.parsed_usage().projects['proj-a']]
    issue._prepare(invoice, lines)
    numbering.ensure_series(PREFIX)
    credit.ensure_lock(project_id)
    return issue._take_number(invoice, lines, PREFIX)


def test_step_one_stores_the_number_and_invoice_without_documents(db):
    invoice = numbered_without_documents()
    stored = Invoice.objects.get(pk=invoice.pk)
    assert (stored.number, stored.total) == (PREFIX + '000001',
                                             decimal.Decimal('125.0000'))
    assert not stored.documents_ready and bytes(stored.pdf) == b''
    assert stored.lines.count() == 1
    assert not EInvoice.objects.exists()
    assert list(Invoice.objects.documents_pending()) == [stored]


def test_a_half_made_invoice_is_nowhere_in_its_projects_view(db):
    invoice = numbered_without_documents()
    assert not queries.invoices_for_project('proj-a').exists()
    with pytest.raises(Invoice.DoesNotExist):
        queries.get_invoice_pdf('proj-a', invoice.number)
    with pytest.raises(Invoice.DoesNotExist):
        queries.get_invoice('proj-a', invoice.pk)
    with pytest.raises(Invoice.DoesNotExist):
        einvoices.project_ubl('proj-a', invoice.number)
    later = TODAY + datetime.timedelta(days=90)
    assert not reminders.unpaid_invoices(later, [1, 14]).exists()
    assert not EInvoice.objects.exists()  # nothing made it on the side


def test_making_the_documents_stores_them_and_the_mail_once(db):
    invoice = numbered_without_documents()
    mail = issue.InvoiceMail(Accounts())
    done = issue.make_documents(invoice.pk, notify=mail.notify,
                                invoice=invoice)
    assert done == invoice and invoice.documents_ready
    stored = Invoice.objects.get(pk=invoice.pk)
    content = bytes(stored.pdf)
    assert content.startswith(b'%PDF')
    assert stored.pdf_sha256 == hashlib.sha256(content).hexdigest()
    assert EInvoice.objects.filter(invoice=stored).count() == 1
    assert mail.queued == 1
    # A second maker (a rerun, another host) finds nothing to do.
    assert issue.make_documents(invoice.pk, notify=mail.notify) is None
    assert mail.queued == 1
    assert Invoice.objects.get(pk=invoice.pk).pdf_sha256 == stored.pdf_sha256
    assert EInvoice.objects.filter(invoice=stored).count() == 1
    assert bytes(InvoiceMail.objects.get(number=invoice.number).pdf) == content
    assert Recipient.objects.count() == 1
    assert queries.get_invoice_pdf('proj-a', invoice.number)[1] == content


def test_the_pdf_is_written_once(db):
    invoice = numbered_without_documents()
    assert invoice.store_pdf(b'%PDF-first', 'a' * 64)
    again = Invoice.objects.get(pk=invoice.pk)
    assert not again.store_pdf(b'%PDF-2', 'b' * 64)
    stored = Invoice.objects.get(pk=invoice.pk)
    assert (bytes(stored.pdf), stored.pdf_sha256) == (b'%PDF-first',
                                                      'a' * 64)


def test_a_run_first_completes_what_an_earlier_one_left(db):
    left = numbered_without_documents('proj-old', '2041-01')
    result = issue.issue_usage(factories.parsed_usage(period='2041-02'),
                               today=TODAY, accounts=Accounts())
    assert result.completed == [left.number]
    assert [i.number for i in result.issued] == [PREFIX + '000002',
                                                 PREFIX + '000003']
    assert result.queued == 3
    assert not Invoice.objects.documents_pending().exists()
    assert sorted(InvoiceMail.objects.values_list('number', flat=True)) == [
        PREFIX + '000001', PREFIX + '000002', PREFIX + '000003']


def test_a_seller_without_an_electronic_address_takes_no_number(
        db, monkeypatch):
    def refuse(invoice, document=None):
        raise einvoices.EInvoiceError('no e-invoice can be made: the seller '
                                      'has no electronic address')

    monkeypatch.setattr(einvoices, 'make_ubl', refuse)
    with pytest.raises(einvoices.EInvoiceError):
        issue.issue_invoices_for_period(
            factories.parsed_usage(period='2041-02'), '2041-02', today=TODAY)
    assert not Invoice.objects.exists()
    assert NumberSeries.objects.get(prefix=PREFIX).last_value == 0


def test_inside_a_transaction_the_documents_are_made_here(db):
    # A test's transaction: other processes would not see the invoices.
    with issue.DocumentMaker(2) as maker:
        assert (maker.workers, maker.pool) == (1, None)


def test_workers_must_be_a_whole_number_of_at_least_one(db, tmp_path):
    path = factories.usage_file(tmp_path, {'period': '2041-02',
                                           'projects': []})
    for bad in ('0', 'two'):
        with pytest.raises(CommandError, match='--workers'):
            call_command('billing_issue', '--usage', path, '--workers', bad)


class HalfMadeInvoicePanelTests(test.TestCase):

    def setUp(self):
        super().setUp()
        self.ready = factories.issue_invoice(self.tenant.id, '2041-01',
                                             today=TODAY)
        self.pending = numbered_without_documents(self.tenant.id, '2041-02')

    def test_the_index_lists_only_invoices_with_their_documents(self):
        res = self.client.get(reverse('horizon:identity:invoices:index'))
        self.assertEqual(200, res.status_code)
        numbers = [row.number for row in res.context['table'].data]
        self.assertEqual([self.ready.number], numbers)
        self.assertNotContains(res, self.pending.number)

    def test_every_url_of_a_half_made_invoice_is_404(self):
        for name in ('detail', 'pdf', 'download', 'einvoice', 'pay'):
            url = reverse('horizon:identity:invoices:' + name,
                          args=[self.pending.number])
            self.assertEqual(404, self.client.get(url).status_code, name)
        issue.make_documents(self.pending.pk)
        res = self.client.get(reverse('horizon:identity:invoices:pdf',
                                      args=[self.pending.number]))
        self.assertEqual(200, res.status_code)
        self.assertTrue(res.content.startswith(b'%PDF'))
