"""A project's credit: earned by overpaid and credited invoices, spent at
issue or refunded, each use a ledger entry."""

import datetime
import decimal
import io

import pypdf
import pytest

from cleura_billing_dashboard.billing import credit
from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard.billing import ledger
from cleura_billing_dashboard.billing.models import CreditEntry
from cleura_billing_dashboard.billing.models import CreditLock
from cleura_billing_dashboard.billing.models import ImmutableInvoiceError
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard.billing import queries
from cleura_billing_dashboard import conf
from tests import factories

D = decimal.Decimal
OCT = datetime.date(2026, 11, 3)
NOV = datetime.date(2026, 12, 2)
DEC = datetime.date(2027, 1, 4)


def october(project_id='proj-a'):
    """10 x 10 + 25 % VAT: 125.00 SEK."""
    return factories.issue_invoice(project_id, '2026-10', today=OCT)


def november(project_id='proj-a', lines=None):
    return factories.issue_invoice(project_id, '2026-11', lines=lines,
                                   today=NOV)


def pay(invoice, amount, reference):
    return ledger.record_payment(invoice, D(amount), provider='manual',
                                 reference=reference)


def balance(invoice):
    return queries.get_invoice(invoice.project_id, invoice.pk)


def pdf_text(data):
    return ''.join(page.extract_text()
                   for page in pypdf.PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def eur():
    options = conf.get_conf()
    options.set_override('currency', 'EUR', group='billing')
    yield
    options.clear_override('currency', group='billing')


def test_no_credit_without_invoices(db):
    assert credit.available('proj-a', 'SEK') == 0
    assert credit.project_credits('proj-a') == []
    with pytest.raises(ValueError):
        credit.available('', 'SEK')


def test_an_overpayment_is_credit(db):
    invoice = october()
    pay(invoice, '100', 'p1')
    assert credit.available('proj-a', 'SEK') == 0   # 25.00 still due
    pay(invoice, '100', 'p2')
    assert credit.available('proj-a', 'SEK') == D('75.00')
    assert credit.project_credits('proj-a') == [
        credit.Credit('proj-a', 'SEK', D('75.00'))]
    assert credit.available('proj-b', 'SEK') == 0   # scoped to the project


def test_a_pending_payment_is_not_credit(db):
    invoice = october()
    ledger.record_payment(invoice, D('300'), provider='manual',
                          reference='p1', state='pending')
    assert credit.available('proj-a', 'SEK') == 0


def test_a_credit_note_of_a_paid_invoice_is_credit(db):
    invoice = october()
    pay(invoice, '125', 'p1')
    assert credit.available('proj-a', 'SEK') == 0
    issue.issue_credit_note('proj-a', invoice, 'goodwill', today=OCT)
    assert credit.available('proj-a', 'SEK') == D('125.00')


def test_a_credit_note_gives_back_only_what_was_paid(db):
    unpaid, part_paid = october('proj-a'), october('proj-b')
    pay(part_paid, '40', 'p1')
    for invoice in (unpaid, part_paid):
        issue.issue_credit_note(invoice.project_id, invoice, 'wrong',
                                today=OCT)
    # Credited beyond what remained outstanding: the 40 paid.
    assert credit.available('proj-a', 'SEK') == 0
    assert credit.available('proj-b', 'SEK') == D('40.00')


def test_credit_is_applied_to_the_next_invoice(db):
    pay(october(), '200', 'p1')   # 75.00 credit
    invoice = november()
    assert credit.available('proj-a', 'SEK') == 0
    entry, = CreditEntry.objects.all()
    assert (entry.project_id, entry.currency, entry.kind, entry.amount,
            entry.invoice_id, entry.reference) == (
        'proj-a', 'SEK', CreditEntry.APPLIED, D('-75.00'), invoice.pk,
        invoice.number)
    stored = balance(invoice)
    assert (stored.total, stored.paid_amount, stored.credit_applied,
            stored.outstanding, stored.status) == (
        D('125.00'), 0, D('75.00'), D('50.00'), 'outstanding')
    assert credit.applied_to(invoice) == D('75.00')
    document = Invoice.objects.get(pk=invoice.pk).as_document()
    assert (document['total'], document['prepaid_amount'],
            document['amount_due']) == (D('125.00'), D('75.00'),
                                        D('50.00'))
    text = pdf_text(bytes(Invoice.objects.get(pk=invoice.pk).pdf))
    assert 'Credit applied' in text
    assert 'SEK75.00' in text and 'SEK50.00' in text


def test_credit_above_the_total_is_applied_in_part(db):
    pay(october(), '425', 'p1')   # 300.00 credit
    invoice = november()
    stored = balance(invoice)
    assert (stored.credit_applied, stored.outstanding, stored.status) == (
        D('125.00'), 0, 'paid')
    assert credit.available('proj-a', 'SEK') == D('175.00')
    assert Invoice.objects.get(pk=invoice.pk).as_document()[
        'amount_due'] == 0
    later = factories.issue_invoice('proj-a', '2026-12', today=DEC)
    assert balance(later).credit_applied == D('125.00')
    assert credit.available('proj-a', 'SEK') == D('50.00')


def test_credit_is_not_used_twice(db):
    pay(october(), '150', 'p1')   # 25.00 credit
    first, second = november('proj-a'), factories.issue_invoice(
        'proj-a', '2026-12', today=DEC)
    assert (balance(first).credit_applied,
            balance(second).credit_applied) == (D('25.00'), 0)
    assert CreditEntry.objects.count() == 1
    # Issuing the period again issues nothing and spends nothing.
    result = issue.issue_invoices_for_period(
        factories.parsed_usage({'proj-a': [factories.line()]}), '2026-11',
        today=NOV)
    assert result.skipped == ['proj-a']
    assert CreditEntry.objects.count() == 1


def test_credit_in_another_currency_is_not_applied(db, eur):
    pay(october(), '200', 'p1')   # 75.00 EUR credit
    assert credit.available('proj-a', 'EUR') == D('75.00')
    assert credit.available('proj-a', 'SEK') == 0
    options = conf.get_conf()
    options.set_override('currency', 'SEK', group='billing')
    invoice = november()
    assert invoice.currency == 'SEK'
    assert balance(invoice).credit_applied == 0
    assert credit.project_credits('proj-a') == [
        credit.Credit('proj-a', 'EUR', D('75.00'))]


def test_a_credit_note_spends_no_credit(db):
    invoice = october()
    pay(invoice, '200', 'p1')
    issue.issue_credit_note('proj-a', invoice, 'wrong', today=OCT)
    assert CreditEntry.objects.count() == 0
    assert credit.available('proj-a', 'SEK') == D('200.00')


def test_credit_applied_to_an_invoice_later_credited_comes_back(db):
    pay(october(), '250', 'p1')   # 125.00 credit
    invoice = november()
    assert credit.available('proj-a', 'SEK') == 0
    issue.issue_credit_note('proj-a', invoice, 'wrong', today=NOV)
    assert credit.available('proj-a', 'SEK') == D('125.00')


def test_refund(db):
    pay(october(), '200', 'p1')   # 75.00 credit
    refunded = credit.refund('proj-a', D('50'), reference='R1',
                             currency='SEK', reason='asked by mail')
    assert (refunded.created, refunded.available) == (True, D('25.00'))
    assert (refunded.entry.kind, refunded.entry.amount,
            refunded.entry.invoice) == (CreditEntry.REFUNDED, D('-50.00'),
                                        None)
    assert credit.available('proj-a', 'SEK') == D('25.00')
    again = credit.refund('proj-a', D('50.00'), reference='R1',
                          currency='SEK')
    assert (again.created, again.entry.pk) == (False, refunded.entry.pk)
    assert credit.available('proj-a', 'SEK') == D('25.00')
    assert balance(november()).credit_applied == D('25.00')


@pytest.mark.parametrize('amount, reference, message', [
    ('75.01', 'R2', 'has 75.00 SEK of credit, less than 75.01'),
    ('0', 'R2', 'positive amount'),
    ('-5', 'R2', 'positive amount'),
    ('10', 'R1', 'reference R1 was recorded as a refund of 50.00 SEK'),
    ('10', '', 'needs a reference'),
])
def test_refund_refused(db, amount, reference, message):
    pay(october(), '250', 'p1')   # 125.00 credit
    credit.refund('proj-a', D('50'), reference='R1', currency='SEK')
    with pytest.raises(credit.CreditError, match=message):
        credit.refund('proj-a', D(amount), reference=reference,
                      currency='SEK')
    assert credit.available('proj-a', 'SEK') == D('75.00')


def test_refund_of_another_projects_reference_is_refused(db):
    pay(october('proj-a'), '250', 'p1')
    pay(october('proj-b'), '250', 'p2')
    credit.refund('proj-a', D('10'), reference='R1', currency='SEK')
    with pytest.raises(credit.CreditError, match='to project proj-a'):
        credit.refund('proj-b', D('10'), reference='R1', currency='SEK')


def test_an_outstanding_invoice_leaves_the_credit_another_holds(db):
    """Only negative balances are credit, in each of the three readings."""
    october_invoice = october()
    november()   # issued with nothing to apply: 125.00 outstanding
    pay(october_invoice, '200', 'p1')   # 75.00 credit
    assert credit.available('proj-a', 'SEK') == D('75.00')
    assert credit.project_credits('proj-a') == [
        credit.Credit('proj-a', 'SEK', D('75.00'))]
    assert credit.all_credits() == credit.project_credits('proj-a')


def test_all_credits_lists_every_project(db):
    pay(october('proj-a'), '200', 'p1')
    pay(october('proj-b'), '126', 'p2')
    october('proj-c')
    assert credit.all_credits() == [
        credit.Credit('proj-a', 'SEK', D('75.00')),
        credit.Credit('proj-b', 'SEK', D('1.00'))]


def test_credit_entries_are_insert_only(db):
    pay(october(), '200', 'p1')
    credit.refund('proj-a', D('5'), reference='R1', currency='SEK')
    entry = CreditEntry.objects.get()
    entry.amount = D('-1')
    with pytest.raises(ImmutableInvoiceError):
        entry.save()
    with pytest.raises(ImmutableInvoiceError):
        entry.delete()
    with pytest.raises(ImmutableInvoiceError):
        CreditEntry.objects.update(amount=0)
    with pytest.raises(ImmutableInvoiceError):
        CreditEntry.objects.all().delete()


def test_lock_needs_the_projects_row(db):
    with pytest.raises(CreditLock.DoesNotExist):
        credit.lock('proj-a')
    credit.ensure_lock('proj-a')
    credit.ensure_lock('proj-a')
    credit.lock('proj-a')
