"""Issuing: one invoice per project and period, numbered, totalled, in PDF."""

import datetime
import decimal
import hashlib
import io

from django.db import transaction
import pypdf
import pytest

from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard.billing.models import EInvoice
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard.billing import ocr
from cleura_billing_dashboard.billing import queries
from tests import factories

D = decimal.Decimal
TODAY = datetime.date(2026, 11, 3)


USAGE = {
    'proj-a': [factories.line('compute', '744', '0.45', vat_rate='25',
                              description='compute usage'),
               factories.line('storage', '100.5', '0.033', vat_rate='12',
                              description='storage usage')],
    'proj-b': [factories.line('ip', '2', '20', vat_rate='25',
                              description='ip usage')],
}


def pdf_text(data):
    return ''.join(page.extract_text()
                   for page in pypdf.PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def issued(db):
    return issue.issue_invoices_for_period(factories.parsed_usage(USAGE),
                                           '2026-10', today=TODAY)


def test_one_invoice_per_project_with_totals(issued):
    assert issued.skipped == []
    a, b = issued.issued
    assert (a.project_id, a.number) == ('proj-a', '2026-000001')
    assert (b.project_id, b.number) == ('proj-b', '2026-000002')
    # 744 x 0.45 = 334.80 at 25 %; 100.5 x 0.033 = 3.3165 -> 3.32 at 12 %.
    stored = Invoice.objects.get(number='2026-000001')
    assert (stored.net_total, stored.vat_total, stored.total) == (
        D('338.12'), D('84.10'), D('422.22'))   # VAT 83.70 + 0.3984 -> 0.40
    assert [(line.position, line.product, line.net_amount, line.vat_rate)
            for line in stored.lines.all()] == [
        (1, 'compute', D('334.80'), D(25)), (2, 'storage', D('3.32'), D(12))]
    assert Invoice.objects.get(number='2026-000002').total == D('50.00')


def test_dates_seller_buyer_and_reference(issued):
    invoice = Invoice.objects.get(number='2026-000001')
    assert invoice.type == Invoice.INVOICE
    assert invoice.currency == 'SEK'
    assert invoice.issue_date == TODAY
    assert invoice.due_date == datetime.date(2026, 12, 3)   # 30 days
    assert (invoice.period_start, invoice.period_end) == (
        datetime.date(2026, 10, 1), datetime.date(2026, 10, 31))
    assert invoice.seller['name'] == 'Test Cloud AB'   # tests/etc
    assert invoice.seller['bankgiro'] == '5050-1055'   # the default
    assert invoice.buyer == {'name': 'proj-a', 'org_number': '',
                             'vat_number': '', 'address': '',
                             'postal_code': '', 'city': '', 'country': '',
                             'po_reference': '', 'buyer_reference': '',
                             'peppol_id': ''}
    assert invoice.payment_reference.startswith('2026000001')
    assert ocr.is_valid_ocr(invoice.payment_reference)


def test_pdf_is_stored_with_its_hash_and_shows_the_invoice(issued):
    invoice = Invoice.objects.get(number='2026-000001')
    data = bytes(invoice.pdf)
    assert data.startswith(b'%PDF')
    assert invoice.pdf_sha256 == hashlib.sha256(data).hexdigest()
    text = pdf_text(data)
    assert '2026-000001' in text
    assert invoice.payment_reference in text
    assert '422' in text


def test_document_vat_matches_the_stored_totals(issued):
    document = Invoice.objects.get(number='2026-000001').as_document()
    assert [(v['rate'], v['base'], v['amount'])
            for v in document['vat_breakdown']] == [
        (D(25), D('334.80'), D('83.70')), (D(12), D('3.32'), D('0.40'))]
    assert sum(v['amount'] for v in document['vat_breakdown']) == \
        document['vat_total']
    assert document['net_total'] + document['vat_total'] == \
        document['total'] == document['amount_due'] == D('422.22')
    assert document['lines'][1]['quantity'] == D('100.5')
    assert str(document['lines'][0]['unit_price']) == '0.45'


def test_issuing_a_period_again_issues_nothing(issued):
    again = issue.issue_invoices_for_period(factories.parsed_usage(USAGE),
                                            '2026-10', today=TODAY)
    assert again.issued == []
    assert again.skipped == ['proj-a', 'proj-b']
    assert Invoice.objects.count() == 2


def test_a_new_project_is_issued_and_the_others_skipped(issued):
    more = dict(USAGE, **{'proj-c': [factories.line(
        'ip', '1', '20', vat_rate='25', description='ip usage')]})
    again = issue.issue_invoices_for_period(factories.parsed_usage(more),
                                            '2026-10',
                                            today=TODAY)
    assert [i.number for i in again.issued] == ['2026-000003']
    assert again.skipped == ['proj-a', 'proj-b']


def test_next_period_is_issued(issued):
    later = issue.issue_invoices_for_period(
        factories.parsed_usage(USAGE), '2026-11',
        today=datetime.date(2026, 12, 1))
    assert [i.number for i in later.issued] == ['2026-000003',
                                                '2026-000004']


def test_a_new_year_starts_a_new_series(issued):
    later = issue.issue_invoices_for_period(
        factories.parsed_usage(USAGE), '2026-12',
        today=datetime.date(2027, 1, 2))
    assert [i.number for i in later.issued] == ['2027-000001',
                                                '2027-000002']


def test_usage_for_another_period_is_refused(db):
    with pytest.raises(ValueError):
        issue.issue_invoices_for_period(factories.parsed_usage(
            USAGE, period='2026-09'),
                                        '2026-10', today=TODAY)
    assert not Invoice.objects.exists()


def test_buyer_details_and_language_come_from_the_lookup(db):
    def lookup(project_id):
        if project_id == 'proj-a':
            return {'name': 'Kund AB', 'org_number': '556000-0000',
                    'city': 'Umeå', 'language': 'sv', 'unknown': 'x'}
        return None
    result = issue.issue_invoices_for_period(
        factories.parsed_usage(USAGE), '2026-10', today=TODAY,
        buyer_lookup=lookup)
    a, b = result.issued
    assert (a.buyer['name'], a.buyer['city'], a.language) == (
        'Kund AB', 'Umeå', 'sv')
    assert 'unknown' not in a.buyer and 'language' not in a.buyer
    assert (b.buyer['name'], b.language) == ('proj-b', 'en')
    assert 'Kund AB' in pdf_text(bytes(a.pdf))


def test_notify_runs_inside_the_issuing_transaction(db):
    seen = []

    def notify(invoice):
        seen.append((invoice.number, invoice.pk is not None,
                     transaction.get_connection().in_atomic_block))

    issue.issue_invoices_for_period(factories.parsed_usage(USAGE), '2026-10',
                                    today=TODAY, notify=notify)
    assert seen == [('2026-000001', True, True), ('2026-000002', True, True)]


def test_a_failure_leaves_a_number_without_documents_a_rerun_completes(db):
    def notify(invoice):
        if invoice.project_id == 'proj-b':
            raise RuntimeError('mail queue is down')

    with pytest.raises(RuntimeError):
        issue.issue_invoices_for_period(factories.parsed_usage(USAGE),
                                        '2026-10', today=TODAY,
                                        notify=notify)
    # The number was taken with its invoice; the documents and the mail
    # rolled back together, and the project does not see it half-made.
    stored = {i.number: i for i in Invoice.objects.all()}
    assert sorted(stored) == ['2026-000001', '2026-000002']
    assert stored['2026-000001'].documents_ready
    assert not stored['2026-000002'].documents_ready
    assert bytes(stored['2026-000002'].pdf) == b''
    assert not EInvoice.objects.filter(invoice=stored['2026-000002'])
    assert not Invoice.objects.for_project('proj-b').exists()
    mailed = []
    rerun = issue.issue_invoices_for_period(
        factories.parsed_usage(USAGE), '2026-10', today=TODAY,
        notify=lambda invoice: mailed.append(invoice.number))
    assert rerun.completed == ['2026-000002']
    assert mailed == ['2026-000002']
    assert (rerun.issued, rerun.skipped) == ([], ['proj-a', 'proj-b'])
    completed = Invoice.objects.for_project('proj-b').get()
    assert completed.number == '2026-000002'
    assert pdf_text(bytes(completed.pdf))
    assert EInvoice.objects.filter(invoice=completed).count() == 1
    # Completed once: a third run has nothing left to do.
    again = issue.issue_invoices_for_period(
        factories.parsed_usage(USAGE), '2026-10', today=TODAY,
        notify=lambda invoice: mailed.append(invoice.number))
    assert (again.completed, mailed) == ([], ['2026-000002'])


class TestCreditNote:

    @pytest.fixture
    def note(self, issued):
        return issue.issue_credit_note('proj-a', issued.issued[0],
                                       'Wrong price', today=TODAY)

    def test_amounts_are_the_invoice_negated(self, issued, note):
        invoice = issued.issued[0]
        assert (note.type, note.credits_id, note.number) == (
            Invoice.CREDIT_NOTE, invoice.pk, '2026-000003')
        assert (note.net_total, note.vat_total, note.total) == (
            D('-338.12'), D('-84.10'), D('-422.22'))
        assert [(line.quantity, line.net_amount)
                for line in note.lines.all()] == [
            (D('-744'), D('-334.80')), (D('-100.5'), D('-3.32'))]
        assert (note.period_start, note.buyer, note.reason) == (
            invoice.period_start, invoice.buyer, 'Wrong price')

    def test_document_and_pdf_name_the_credited_invoice(self, note):
        document = note.as_document()
        assert document['credits_number'] == '2026-000001'
        assert document['type'] == 'credit_note'
        assert [v['amount'] for v in document['vat_breakdown']] == [
            D('-83.70'), D('-0.40')]
        text = pdf_text(bytes(note.pdf))
        assert '2026-000003' in text and '2026-000001' in text

    def test_an_invoice_is_credited_once(self, issued, note):
        with pytest.raises(issue.AlreadyIssued):
            issue.issue_credit_note('proj-a', issued.issued[0], 'again',
                                    today=TODAY)
        assert Invoice.objects.filter(type=Invoice.CREDIT_NOTE).count() == 1
        # The refused note gave its number back.
        other = issue.issue_credit_note('proj-b', issued.issued[1].pk, 'x',
                                        today=TODAY)
        assert other.number == '2026-000004'

    def test_a_credit_note_is_not_credited(self, note):
        with pytest.raises(ValueError):
            issue.issue_credit_note('proj-a', note, 'again')

    def test_listing_shows_the_note_as_a_credit(self, note):
        rows = {row.number: row.status
                for row in queries.invoices_for_project('proj-a')}
        assert rows == {'2026-000003': 'credit', '2026-000001': 'credited'}


@pytest.mark.parametrize('period, bounds', [
    ('2026-02', (datetime.date(2026, 2, 1), datetime.date(2026, 2, 28))),
    ('2028-02', (datetime.date(2028, 2, 1), datetime.date(2028, 2, 29))),
    ('2026-12', (datetime.date(2026, 12, 1), datetime.date(2026, 12, 31))),
])
def test_period_bounds(period, bounds):
    assert issue.period_bounds(period) == bounds


@pytest.mark.parametrize('period', ['2026-13', '2026', 'october', '2026-1-1'])
def test_bad_period_is_refused(period):
    with pytest.raises(ValueError):
        issue.period_bounds(period)


@pytest.mark.parametrize('today, period', [
    (datetime.date(2026, 11, 3), '2026-10'),
    (datetime.date(2027, 1, 31), '2026-12'),
    (datetime.date(2026, 3, 1), '2026-02'),
])
def test_previous_period(today, period):
    assert issue.previous_period(today) == period
