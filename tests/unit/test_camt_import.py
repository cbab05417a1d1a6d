"""Bank transfers from ISO 20022 camt.054/053 files (tests/data/camt*.xml).

The files pay the invoices 2026-000001..3 issued here (125.00 SEK each,
OCR 202600000121, 202600000220 and 202600000329).
"""

import datetime
import decimal
import io
import os
from unittest import mock

from django.core import management
from django.db import OperationalError
import pytest

from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard.billing.models import Payment
from cleura_billing_dashboard.payments import bank_import
from cleura_billing_dashboard.payments import camt
from cleura_billing_dashboard.payments import settle
from cleura_billing_dashboard import usage

D = decimal.Decimal
DATA = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'data')
DAY1 = os.path.join(DATA, 'camt054_v02_day1.xml')
DAY2 = os.path.join(DATA, 'camt054_v08_day2.xml')
STATEMENT = os.path.join(DATA, 'camt053_day1.xml')


def read(path):
    with open(path, 'rb') as f:
        return f.read()


@pytest.fixture
def invoices(db):
    data = ('project_id,product,region,quantity,unit,unit_price\n'
            'acme,compute,Sto2,10,h,10\n')
    issued = [issue.issue_invoices_for_period(
        usage.parse_usage(data, 'csv'), period,
        today=datetime.date(2026, 4, 1)).issued[0]
        for period in ('2026-01', '2026-02', '2026-03')]
    assert [(i.number, i.payment_reference, i.total) for i in issued] == [
        ('2026-000001', '202600000121', D('125.0000')),
        ('2026-000002', '202600000220', D('125.0000')),
        ('2026-000003', '202600000329', D('125.0000'))]
    return issued


def balances():
    return {i.number: (i.status, i.outstanding, i.balance)
            for i in Invoice.objects.with_balance(
                today=datetime.date(2026, 4, 15))}


def run(path):
    out, err = io.StringIO(), io.StringIO()
    management.call_command('billing_import_payments', path, stdout=out,
                            stderr=err)
    return out.getvalue(), err.getvalue()


def test_every_version_reads_the_same():
    day1 = camt.parse(read(DAY1))
    day2 = camt.parse(read(DAY2))
    statement = camt.parse(read(STATEMENT))
    assert (day1.kind, day2.kind, statement.kind) == (
        'camt.054', 'camt.054', 'camt.053')
    first = day1.transfers[0]
    assert (first.bank_reference, first.amount, first.currency,
            first.structured, first.debtor, first.booking_date,
            first.is_incoming_payment) == (
        '5010000000000001', D('125.00'), 'SEK', ('202600000121',),
        'Acme AB', '2026-04-10', True)
    # 001.08: <Sts><Cd>, <TxDtls><Amt>, <Dbtr><Pty><Nm>.
    later = day2.transfers[0]
    assert (later.amount, later.debtor, later.booked) == (
        D('125.00'), 'Acme AB', True)
    # The statement repeats the notification's transaction exactly.
    assert statement.transfers[0].reference == first.reference
    # A batch entry: one transfer per transaction, each its own reference.
    batch = [t for t in day1.transfers
             if t.bank_reference.startswith('5010000000000005')]
    assert [(t.amount, t.structured) for t in batch] == [
        (D('100.00'), ('202600000329',)), (D('75.00'), ('202600000220',))]
    assert len({t.reference for t in day1.transfers}) == 8


def test_ocr_is_found_in_free_text_with_spaces():
    transfer = camt.parse(read(DAY1)).transfers[1]
    assert transfer.unstructured == (
        'Faktura 2026-000002 OCR 2026 0000 0220',)
    assert bank_import.ocr_candidates(transfer) == ('202600000220',)


def test_not_camt_is_refused():
    with pytest.raises(camt.CamtError, match='not XML'):
        camt.parse(b'Bankgirot,2026-04-10,125.00')
    with pytest.raises(camt.CamtError, match='not a camt'):
        camt.parse(b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:'
                   b'pain.001.001.03"><CstmrCdtTrfInitn/></Document>')


def test_a_day_is_matched_by_ocr_and_the_rest_reported(invoices):
    report = bank_import.import_payments(read(DAY1))
    outcomes = [(line.transfer.bank_reference, line.outcome, line.numbers)
                for line in report.lines]
    assert outcomes == [
        ('5010000000000001', 'recorded', ('2026-000001',)),
        ('5010000000000002', 'recorded', ('2026-000002',)),
        ('5010000000000003', 'unmatched', ()),
        ('5010000000000004', 'ambiguous', ('2026-000001', '2026-000002')),
        ('5010000000000005-1', 'recorded', ('2026-000003',)),
        ('5010000000000005-2', 'recorded', ('2026-000002',)),
        ('5010000000000006', 'skipped', ()),
        ('5010000000000007', 'skipped', ()),
    ]
    assert [line.reason for line in report.lines if line.reason] == [
        'no invoice has OCR 9999000000137',
        'OCR references of several invoices',
        'not a credit to the account',
        'not booked yet',
    ]
    # Invoice 2 was paid in two parts (50 + 75), invoice 3 in part.
    assert balances() == {
        '2026-000001': ('paid', D('0.0000'), D('0.0000')),
        '2026-000002': ('paid', D('0.0000'), D('0.0000')),
        '2026-000003': ('outstanding', D('25.0000'), D('25.0000')),
    }
    assert sorted(Payment.objects.values_list('amount', flat=True)) == [
        D('50.0000'), D('75.0000'), D('100.0000'), D('125.0000')]
    assert set(Payment.objects.values_list('provider', flat=True)) == {
        'bank_transfer'}


def test_the_same_file_twice_and_its_statement_record_nothing_twice(
        invoices):
    bank_import.import_payments(read(DAY1))
    recorded = set(Payment.objects.values_list('provider_reference',
                                               flat=True))
    again = bank_import.import_payments(read(DAY1))
    statement = bank_import.import_payments(read(STATEMENT))
    assert again.count('recorded') == 0
    assert again.count('already_recorded') == 4
    assert [line.outcome for line in statement.lines] == ['already_recorded']
    assert set(Payment.objects.values_list('provider_reference',
                                           flat=True)) == recorded
    assert Payment.objects.count() == 4


def test_a_second_payment_is_a_credit_and_a_wrong_currency_unmatched(
        invoices):
    bank_import.import_payments(read(DAY1))
    report = bank_import.import_payments(read(DAY2))
    credit, euros = report.lines
    assert (credit.outcome, credit.recorded.credit) == (
        'recorded', D('125.0000'))
    assert (euros.outcome, euros.reason) == (
        'unmatched', 'paid in EUR, invoice 2026-000003 is in SEK')
    assert balances()['2026-000001'] == ('paid', D('0.0000'),
                                         D('-125.0000'))
    assert balances()['2026-000003'] == ('outstanding', D('25.0000'),
                                         D('25.0000'))


def test_the_command_reports_every_entry(invoices):
    out, err = run(DAY1)
    assert 'Recorded SEK125.00 on 2026-000001 (bank reference ' \
           '5010000000000001)' in out
    assert 'Part payment: SEK75.00 of 2026-000002 is still outstanding' \
        in out
    assert 'Part payment: SEK25.00 of 2026-000003 is still outstanding' \
        in out
    assert 'Skipped SEK30.00 (bank reference 5010000000000006): not a ' \
           'credit to the account' in out
    assert ('camt.054: 4 recorded, 0 already recorded, 1 unmatched, '
            '1 ambiguous, 0 in conflict, 2 skipped') in out
    assert ('Unmatched: SEK99.00 from Initech AB, bank reference '
            '5010000000000003, references 9999000000137: no invoice has '
            'OCR 9999000000137; not recorded') in err
    assert ('Ambiguous: SEK10.00 from -, bank reference 5010000000000004, '
            'references 202600000121 202600000220: OCR references of '
            'several invoices; not recorded') in err
    out, err = run(DAY1)
    assert ('camt.054: 0 recorded, 4 already recorded, 1 unmatched, '
            '1 ambiguous, 0 in conflict, 2 skipped') in out
    out, err = run(DAY2)
    assert ('Credit: 2026-000001 is overpaid by SEK125.00; kept as the '
            'customer\'s credit') in out
    assert 'Unmatched: €2.50 from Acme GmbH' in err


def test_a_broken_file_records_nothing(invoices, tmp_path):
    broken = tmp_path / 'broken.xml'
    broken.write_bytes(read(DAY1)[:2000])
    with pytest.raises(management.CommandError, match='not XML'):
        run(str(broken))
    assert not Payment.objects.exists()


def test_a_database_failure_midway_records_nothing(invoices):
    real = settle.record_payment
    calls = []

    def fail_on_third(*args, **kwargs):
        calls.append(args)
        if len(calls) == 3:
            raise OperationalError('disk full')
        return real(*args, **kwargs)

    with mock.patch.object(settle, 'record_payment', fail_on_third):
        with pytest.raises(management.CommandError,
                           match='nothing was recorded'):
            run(DAY1)
    assert len(calls) == 3
    assert not Payment.objects.exists()
    out, _err = run(DAY1)
    assert 'camt.054: 4 recorded' in out
