"""Stored e-invoices: made at issue, immutable, made once for older invoices.

The UBL is validated offline with the official rules, as in
``test_einvoice_ubl`` (whose validator fixtures these tests share).
"""

import datetime
import hashlib
from unittest import mock

from django.core.management import call_command
from django.core.management import CommandError
from django.db import IntegrityError
from lxml import etree
import pytest

from cleura_billing_dashboard.billing import einvoices
from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard.billing.models import EInvoice
from cleura_billing_dashboard.billing.models import ImmutableInvoiceError
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard.billing.models import NumberSeries
from cleura_billing_dashboard import conf
from cleura_billing_dashboard.einvoice import ubl
from tests import factories
from tests.unit import test_einvoice_ubl as ubl_tests

TODAY = datetime.date(2026, 11, 3)
SWEDISH_BUYER = ubl_tests.SWEDISH_BUYER
text = ubl_tests.text
# The UBL check, shared (a fixture by this name; ``validator`` is
# tests/unit/conftest.py's).
check = ubl_tests.check
NS = {'cbc': ubl.NS_CBC, 'cac': ubl.NS_CAC}
OLD_SELLER_FIELDS = tuple(field for field in issue.SELLER_FIELDS
                          if field != 'peppol_id')


@pytest.fixture
def seller():
    """Override [seller] options for one test."""
    settings = conf.get_conf()
    overridden = []

    def override(**values):
        for name, value in values.items():
            settings.set_override(name, value, group='seller')
            overridden.append(name)

    yield override
    for name in overridden:
        settings.clear_override(name, group='seller')


def issue_for(project_id='proj-a', period='2026-10', buyer=SWEDISH_BUYER):
    return factories.issue_invoice(
        project_id, period, factories.instance_and_volume(), today=TODAY,
        buyer_lookup=lambda project: buyer)


def issue_as_before_einvoices(project_id='proj-a', period='2026-10'):
    """An invoice as issued before e-invoices were stored with it."""
    with mock.patch.object(issue, 'SELLER_FIELDS', OLD_SELLER_FIELDS), \
            mock.patch.object(einvoices, 'store_ubl'):
        invoice = issue_for(project_id, period)
    assert 'peppol_id' not in invoice.seller
    assert not EInvoice.objects.filter(invoice=invoice).exists()
    return Invoice.objects.get(pk=invoice.pk)


@pytest.fixture
def invoice(db):
    return issue_for()


class TestStorage:

    def test_saving_a_stored_einvoice_is_refused(self, invoice):
        stored = EInvoice.objects.get(invoice=invoice)
        stored.content = b'<Invoice/>'
        with pytest.raises(ImmutableInvoiceError):
            stored.save()
        with pytest.raises(ImmutableInvoiceError):
            stored.delete()

    def test_queryset_changes_are_refused(self, invoice):
        rows = EInvoice.objects.filter(invoice=invoice)
        with pytest.raises(ImmutableInvoiceError):
            rows.update(content=b'')
        with pytest.raises(ImmutableInvoiceError):
            rows.delete()
        with pytest.raises(ImmutableInvoiceError):
            rows.bulk_update(list(rows), ['content'])
        with pytest.raises(ImmutableInvoiceError):
            EInvoice.objects.bulk_create([EInvoice(invoice=invoice)])
        assert rows.get().sha256 == hashlib.sha256(
            bytes(rows.get().content)).hexdigest()

    def test_one_ubl_per_invoice(self, invoice):
        with pytest.raises(IntegrityError):
            einvoices.store_ubl(invoice, b'<Invoice/>')


class TestIssuing:

    def test_an_issued_invoice_has_its_ubl_stored(self, invoice, check):
        stored = EInvoice.objects.get(invoice=invoice)
        content = bytes(stored.content)
        assert stored.syntax == EInvoice.UBL
        assert stored.sha256 == hashlib.sha256(content).hexdigest()
        root = check(content)
        assert text(root, 'cbc:ID') == invoice.number
        assert text(root, 'cbc:BuyerReference') == 'PO-4711'
        # What was stored is what the stored invoice gives.
        assert content == einvoices.make_ubl(Invoice.objects.get(
            pk=invoice.pk))
        assert invoice.seller['peppol_id'] == ''

    def test_the_seller_snapshot_keeps_the_peppol_id(self, db, seller,
                                                     check):
        seller(peppol_id='0007:5560360793')
        invoice = issue_for()
        assert invoice.seller['peppol_id'] == '0007:5560360793'
        root = check(bytes(EInvoice.objects.get(invoice=invoice).content))
        assert text(root, 'cac:AccountingSupplierParty/cac:Party/'
                          'cbc:EndpointID') == '5560360793'

    def test_a_credit_note_refers_to_its_invoice(self, invoice, check):
        note = issue.issue_credit_note('proj-a', invoice, 'Wrong price',
                                       today=TODAY)
        stored = EInvoice.objects.get(invoice=note)
        assert stored.sha256 == hashlib.sha256(
            bytes(stored.content)).hexdigest()
        root = check(bytes(stored.content), 'credit-note.xml')
        assert etree.QName(root).localname == 'CreditNote'
        reference = 'cac:BillingReference/cac:InvoiceDocumentReference/'
        assert text(root, reference + 'cbc:ID') == invoice.number   # BT-25
        assert text(root, reference + 'cbc:IssueDate') == '2026-11-03'

    def test_no_electronic_address_no_invoice(self, db, seller):
        seller(org_number='', vat_number='', peppol_id=None)
        with pytest.raises(einvoices.EInvoiceError) as raised:
            issue_for()
        assert str(raised.value).startswith(
            'the invoice of project proj-a for 2026-10 is not issued: no '
            'e-invoice can be made: the seller has no electronic address')
        # Nothing half-written, not even the number.
        assert not Invoice.objects.exists()
        assert not EInvoice.objects.exists()
        assert list(NumberSeries.objects.values_list('last_value',
                                                     flat=True)) == [0]

    def test_the_issue_command_says_why_nothing_was_issued(
            self, db, seller, tmp_path):
        seller(org_number='', vat_number='', peppol_id=None)
        usage = factories.usage_file(tmp_path, factories.usage(
            period='2026-10'))
        with pytest.raises(CommandError, match='no electronic address'):
            call_command('billing_issue', '--usage', usage)
        assert not Invoice.objects.exists()


class TestOlderInvoices:

    def test_made_from_stored_data_and_stored_once(self, db, seller, check):
        old = issue_as_before_einvoices()
        seller(peppol_id='0007:5560360793')   # configured since
        first = einvoices.ubl_for(old)
        root = check(bytes(first.content))
        assert text(root, 'cbc:ID') == old.number
        assert text(root, 'cac:AccountingSupplierParty/cac:Party/'
                          'cbc:EndpointID') == '5560360793'
        again = einvoices.ubl_for(Invoice.objects.get(pk=old.pk))
        assert (again.pk, bytes(again.content)) == (
            first.pk, bytes(first.content))
        assert EInvoice.objects.filter(invoice=old).count() == 1

    def test_a_concurrent_first_download_keeps_the_winners(self, db):
        old = issue_as_before_einvoices()
        make = einvoices.make_ubl

        def make_while_another_stores(invoice, document=None):
            content = make(invoice, document)
            # The other request stores its (here: marked) copy first.
            einvoices.store_ubl(invoice, content + b'<!-- winner -->')
            return content

        with mock.patch.object(einvoices, 'make_ubl',
                               make_while_another_stores):
            got = einvoices.ubl_for(old)
        assert bytes(got.content).endswith(b'<!-- winner -->')
        assert EInvoice.objects.filter(invoice=old).count() == 1

    def test_none_made_without_an_electronic_address(self, db):
        old = issue_as_before_einvoices()
        # As if issued by a seller configured without any.
        old.seller.update(org_number='', vat_number='')
        with pytest.raises(einvoices.EInvoiceError,
                           match='%s: no e-invoice can be made: the seller '
                                 'has no electronic address' % old.number):
            einvoices.ubl_for(old)
        assert not EInvoice.objects.filter(invoice=old).exists()

    def test_a_project_reads_only_its_own(self, invoice):
        name, content, sha = einvoices.project_ubl('proj-a', invoice.number)
        assert name == invoice.number + '.xml'
        assert hashlib.sha256(content).hexdigest() == sha
        with pytest.raises(Invoice.DoesNotExist):
            einvoices.project_ubl('proj-b', invoice.number)
        with pytest.raises(Invoice.DoesNotExist):
            einvoices.project_ubl('proj-a', 'no-such-number')
        with pytest.raises(ValueError):
            einvoices.project_ubl('', invoice.number)
