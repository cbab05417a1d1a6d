"""The invoice store: immutable once issued, status derived, project-scoped."""

import datetime
import decimal

import pytest

from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard.billing import ledger
from cleura_billing_dashboard.billing.models import ImmutableInvoiceError
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard.billing.models import InvoiceLine
from cleura_billing_dashboard.billing.models import Payment
from cleura_billing_dashboard.billing import queries
from tests import factories

D = decimal.Decimal
ISSUED = datetime.date(2026, 11, 1)
DUE = ISSUED + datetime.timedelta(days=30)  # tests/etc: payment_terms_days


def pay(invoice, amount, reference, state=Payment.SETTLED):
    return ledger.record_payment(invoice, D(amount), provider='bank',
                                 reference=reference, state=state).payment


def balance(invoice, today=ISSUED):
    row = queries.get_invoice(invoice.project_id, invoice.pk, today=today)
    return (row.status, row.paid_amount, row.credited_amount, row.balance,
            row.outstanding)


@pytest.fixture
def invoice(db):
    return factories.issue_invoice(today=ISSUED)


class TestImmutability:

    def test_saving_a_changed_invoice_is_refused(self, invoice):
        for field, value in [('number', '2026-999999'), ('total', D('1')),
                             ('pdf', b'%PDF-forged'), ('project_id', 'x')]:
            changed = Invoice.objects.get(pk=invoice.pk)
            setattr(changed, field, value)
            with pytest.raises(ImmutableInvoiceError):
                changed.save()
        stored = Invoice.objects.get(pk=invoice.pk)
        assert (stored.number, stored.total, bytes(stored.pdf)) == (
            invoice.number, invoice.total, invoice.pdf)

    def test_saving_even_unchanged_is_refused(self, invoice):
        with pytest.raises(ImmutableInvoiceError):
            Invoice.objects.get(pk=invoice.pk).save()

    def test_delete_is_refused(self, invoice):
        with pytest.raises(ImmutableInvoiceError):
            invoice.delete()
        with pytest.raises(ImmutableInvoiceError):
            invoice.lines.get().delete()
        assert Invoice.objects.filter(pk=invoice.pk).exists()

    @pytest.mark.parametrize('model', [Invoice, InvoiceLine])
    def test_queryset_update_and_delete_are_refused(self, invoice, model):
        for manager in (model.objects, model._base_manager):
            with pytest.raises(ImmutableInvoiceError):
                manager.all().update(pk=12345)
            with pytest.raises(ImmutableInvoiceError):
                manager.filter(pk__gt=0).delete()
            with pytest.raises(ImmutableInvoiceError):
                manager.bulk_update(list(manager.all()), ['pk'])
        assert model.objects.count() == 1

    def test_lines_cannot_change_or_be_added(self, invoice):
        line = InvoiceLine.objects.get(invoice=invoice)
        line.quantity = D('1000')
        with pytest.raises(ImmutableInvoiceError):
            line.save()
        extra = InvoiceLine(invoice=invoice, position=2, product='free',
                            region='Sto2', quantity=1, unit='h',
                            unit_price=1, vat_rate=0, net_amount=1)
        with pytest.raises(ImmutableInvoiceError):
            extra.save()
        with pytest.raises(ImmutableInvoiceError):
            InvoiceLine.objects.bulk_create([extra])
        assert [(line.position, line.quantity)
                for line in invoice.lines.all()] == [(1, D(10))]

    def test_invoices_are_not_bulk_created(self, db):
        with pytest.raises(ImmutableInvoiceError):
            Invoice.objects.bulk_create([Invoice(number='x')])


class TestBalance:

    def test_unpaid_is_outstanding_until_the_due_date(self, invoice):
        assert invoice.total == D('125.00')
        assert balance(invoice, today=DUE) == (
            'outstanding', D(0), D(0), D('125.00'), D('125.00'))
        assert balance(invoice, today=DUE + datetime.timedelta(days=1))[0] \
            == 'overdue'

    def test_partial_payments_reduce_the_outstanding_amount(self, invoice):
        pay(invoice, '100', 'r1')
        pay(invoice, '20.5', 'r2')
        assert balance(invoice) == (
            'outstanding', D('120.50'), D(0), D('4.50'), D('4.50'))
        assert balance(invoice, today=DUE + datetime.timedelta(days=1))[0] \
            == 'overdue'

    def test_only_settled_payments_count(self, invoice):
        pay(invoice, '125', 'r1', state=Payment.PENDING)
        pay(invoice, '125', 'r2', state=Payment.FAILED)
        assert balance(invoice)[:2] == ('outstanding', D(0))
        ledger.set_payment_state('bank', 'r1', Payment.SETTLED)
        assert balance(invoice)[:2] == ('paid', D('125.00'))

    def test_paid_in_full(self, invoice):
        pay(invoice, '125', 'r1')
        assert balance(invoice, today=DUE + datetime.timedelta(days=99)) == (
            'paid', D('125.00'), D(0), D(0), D(0))

    def test_an_overpayment_is_a_negative_balance(self, invoice):
        pay(invoice, '100', 'r1')
        pay(invoice, '30.25', 'r2')
        assert balance(invoice) == (
            'paid', D('130.25'), D(0), D('-5.25'), D(0))

    def test_a_credited_invoice_owes_nothing(self, invoice):
        note = issue.issue_credit_note('proj-a', invoice, 'wrong price',
                                       today=ISSUED)
        assert balance(invoice, today=DUE + datetime.timedelta(days=1)) == (
            'credited', D(0), D('125.00'), D(0), D(0))
        assert balance(note)[0] == 'credit'

    def test_a_paid_then_credited_invoice_is_a_credit(self, invoice):
        pay(invoice, '125', 'r1')
        issue.issue_credit_note('proj-a', invoice, 'refund', today=ISSUED)
        assert balance(invoice) == (
            'credited', D('125.00'), D('125.00'), D('-125.00'), D(0))

    def test_amounts_carry_the_stored_scale(self, invoice):
        pay(invoice, '1', 'r1')
        for amount in balance(invoice)[1:]:
            assert amount.as_tuple().exponent == -4


class TestScoping:

    def test_another_projects_invoice_does_not_exist(self, invoice):
        with pytest.raises(Invoice.DoesNotExist):
            queries.get_invoice('proj-b', invoice.pk)
        with pytest.raises(Invoice.DoesNotExist):
            queries.get_invoice_by_number('proj-b', invoice.number)
        with pytest.raises(Invoice.DoesNotExist):
            queries.get_invoice_pdf('proj-b', invoice.number)
        with pytest.raises(Invoice.DoesNotExist):
            issue.issue_credit_note('proj-b', invoice, 'not yours')
        assert list(queries.invoices_for_project('proj-b')) == []

    def test_a_project_id_is_required(self, invoice):
        with pytest.raises(ValueError):
            queries.invoices_for_project('')
        with pytest.raises(ValueError):
            queries.get_invoice(None, invoice.pk)

    def test_own_invoice_and_pdf(self, invoice):
        assert queries.get_invoice('proj-a', invoice.pk).number == \
            invoice.number
        name, data, sha256 = queries.get_invoice_pdf('proj-a', invoice.number)
        assert name == invoice.number + '.pdf'
        assert data == invoice.pdf and sha256 == invoice.pdf_sha256


class TestListing:

    @pytest.fixture
    def history(self, db):
        """proj-a: 2026-01..06 issued on the 1st of the month after."""
        invoices = {}
        for month in range(1, 7):
            invoices[month] = factories.issue_invoice(
                period='2026-%02d' % month,
                today=datetime.date(2026, month + 1, 1))
        factories.issue_invoice(project_id='proj-b', period='2026-01',
                                today=datetime.date(2026, 2, 1))
        pay(invoices[2], '125', 'r2')
        pay(invoices[5], '125', 'r5')
        pay(invoices[6], '25', 'r6')
        return invoices

    def numbers(self, invoices):
        return [invoice.number for invoice in invoices]

    def test_newest_first_and_own_project_only(self, history):
        assert self.numbers(queries.invoices_for_project(
            'proj-a', today=datetime.date(2026, 7, 15))) == self.numbers(
            history[m] for m in (6, 5, 4, 3, 2, 1))

    def test_filter_by_status(self, history):
        today = datetime.date(2026, 7, 15)  # months 1..5 are past due
        by_status = {status: self.numbers(queries.invoices_for_project(
            'proj-a', status=status, today=today))
            for status in ('paid', 'overdue', 'outstanding')}
        assert by_status == {
            'paid': self.numbers([history[5], history[2]]),
            'overdue': self.numbers([history[4], history[3], history[1]]),
            'outstanding': self.numbers([history[6]]),
        }

    def test_filter_by_issue_date_and_number(self, history):
        assert self.numbers(queries.invoices_for_project(
            'proj-a', issued_from=datetime.date(2026, 3, 1),
            issued_to=datetime.date(2026, 4, 1))) == self.numbers(
            [history[3], history[2]])
        assert self.numbers(queries.invoices_for_project(
            'proj-a', number=' %s ' % history[4].number[-3:])) == [
            history[4].number]

    def test_keyset_pages_cover_the_list_once(self, history):
        seen, marker, pages = [], None, 0
        while True:
            page, more = queries.invoice_page('proj-a', marker=marker,
                                              limit=4)
            seen += self.numbers(page)
            pages += 1
            if not more:
                break
            marker = page[-1].number
        assert pages == 2
        assert seen == self.numbers(queries.invoices_for_project('proj-a'))

    def test_keyset_pages_within_one_issue_date(self, db):
        same_day = [factories.issue_invoice(period='2025-%02d' % month,
                                            today=ISSUED)
                    for month in range(1, 6)]
        seen, marker = [], None
        for _ in same_day:
            page, more = queries.invoice_page('proj-a', marker=marker,
                                              limit=2)
            seen += self.numbers(page)
            if not more:
                break
            marker = page[-1].number
        assert seen == self.numbers(reversed(same_day))

    def test_keyset_pages_keep_filters(self, history):
        page, more = queries.invoice_page(
            'proj-a', marker=history[4].number, limit=1, status='overdue',
            today=datetime.date(2026, 7, 15))
        assert (self.numbers(page), more) == ([history[3].number], True)

    def test_another_projects_marker_is_unknown(self, history):
        other = Invoice.objects.get(project_id='proj-b')
        with pytest.raises(Invoice.DoesNotExist):
            queries.invoice_page('proj-a', marker=other.number)

    def test_lists_do_not_read_pdfs(self, history, django_assert_num_queries):
        with django_assert_num_queries(1):
            rows = list(queries.invoices_for_project('proj-a'))
        assert all('pdf' in row.get_deferred_fields() for row in rows)
