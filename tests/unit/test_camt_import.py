"""Bank transfers from ISO 20022 camt.054/053 files (tests/data/camt*.xml).

The files pay the invoices 2026-000001..3 issued here (125.00 SEK each,
OCR 202600000121, 202600000220 and 202600000329).
"""

import datetime
import decimal
import io
import os
import subprocess
import sys
from unittest import mock

from django.core import management
from django.db import OperationalError
import pytest

from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard.billing import ledger
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard.billing.models import Payment
from cleura_billing_dashboard import money
from cleura_billing_dashboard.payments import bank_import
from cleura_billing_dashboard.payments import camt
from cleura_billing_dashboard import usage

D = decimal.Decimal
DATA = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'data')
DAY1 = os.path.join(DATA, 'camt054_v02_day1.xml')
DAY2 = os.path.join(DATA, 'camt054_v08_day2.xml')
STATEMENT = os.path.join(DATA, 'camt053_day1.xml')
BAD_AMOUNTS = os.path.join(DATA, 'camt054_bad_amounts.xml')
REPO = os.path.dirname(os.path.dirname(DATA))

# Every bad transaction of BAD_AMOUNTS, named as the refusal names it; the
# first entry (a good payment of invoice 1) and entry 11's first
# transaction are fine.
BAD_ENTRIES = [
    'entry 2 (bank reference 5010000000000202): NaN is not a number',
    'entry 3 (bank reference 5010000000000203): Infinity is not a finite '
    'amount',
    'entry 4 (bank reference 5010000000000204): 1E+30 is too large for a '
    'payment',
    'entry 5 (bank reference 5010000000000205): -0 is a negative zero',
    'entry 6 (bank reference 5010000000000206): -0.00 is a negative zero',
    'entry 7 (bank reference 5010000000000207): -5.00 is negative',
    'entry 8 (bank reference 5010000000000208): 0.00 is zero',
    'entry 9 (bank reference 5010000000000209): 0.005 has more decimals '
    'than SEK allows (2)',
    'entry 10 (bank reference 5010000000000210): 12,50 is not a number',
    'entry 11, transaction 2 (bank reference 5010000000000211-2): 0.005 '
    'has more decimals than SEK allows (2)',
]


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
    real = ledger.record_payment
    calls = []

    def fail_on_third(*args, **kwargs):
        calls.append(args)
        if len(calls) == 3:
            raise OperationalError('disk full')
        return real(*args, **kwargs)

    with mock.patch.object(ledger, 'record_payment', fail_on_third):
        with pytest.raises(management.CommandError,
                           match='nothing was recorded'):
            run(DAY1)
    assert len(calls) == 3
    assert not Payment.objects.exists()
    out, _err = run(DAY1)
    assert 'camt.054: 4 recorded' in out


@pytest.mark.parametrize('amount,currency,reason', [
    ('NaN', 'SEK', 'NaN is not a number'),
    ('sNaN', 'SEK', 'sNaN is not a number'),
    ('12,50', 'SEK', '12,50 is not a number'),
    ('', 'SEK', 'no amount'),
    (None, 'SEK', 'no amount'),
    ('Infinity', 'SEK', 'Infinity is not a finite amount'),
    ('-Infinity', 'SEK', '-Infinity is not a finite amount'),
    ('1E+30', 'SEK', '1E+30 is too large for a payment'),
    ('100000000000000', 'SEK', '100000000000000 is too large for a payment'),
    ('-0', 'SEK', '-0 is a negative zero'),
    ('-0.00', 'SEK', '-0.00 is a negative zero'),
    ('0', 'SEK', '0 is zero'),
    ('0.00', 'SEK', '0.00 is zero'),
    ('-5', 'SEK', '-5 is negative'),
    ('0.005', 'SEK', '0.005 has more decimals than SEK allows (2)'),
    ('1.5', 'JPY', '1.5 has more decimals than JPY allows (0)'),
    ('1.00', '', 'no currency'),
    ('1.00', 'XYZ', 'XYZ is not a currency code'),
    ('1.00', 'sek', 'sek is not a currency code'),
])
def test_an_amount_that_is_no_payment_says_why(amount, currency, reason):
    value = amount if amount is None else D(amount) if amount not in (
        '12,50', '') else amount
    assert str(money.payment_amount_problem(value, currency)) == reason


@pytest.mark.parametrize('amount,currency', [
    ('125.00', 'SEK'), ('125', 'SEK'), ('125.000', 'SEK'), ('0.01', 'SEK'),
    ('99999999999999.99', 'SEK'), ('100', 'JPY'), ('1.005', 'BHD'),
    ('2.50', 'EUR')])
def test_a_payment_amount_passes(amount, currency):
    assert money.payment_amount_problem(D(amount), currency) is None


def test_a_float_is_no_amount():
    with pytest.raises(TypeError):
        money.payment_amount_problem(0.1, 'SEK')


def test_every_bad_amount_is_named_before_anything_is_recorded(invoices):
    with mock.patch.object(ledger, 'record_payment') as record:
        with pytest.raises(camt.InvalidEntries) as refused:
            bank_import.import_payments(read(BAD_AMOUNTS))
    record.assert_not_called()
    assert ['entry %s (bank reference %s): %s' % problem
            for problem in refused.value.problems] == BAD_ENTRIES
    assert not Payment.objects.exists()


def test_the_command_refuses_the_whole_file_naming_each_bad_entry(invoices):
    with pytest.raises(management.CommandError) as refused:
        run(BAD_AMOUNTS)
    message = str(refused.value)
    assert message.startswith(
        '%s was not imported, nothing was recorded: entries with an '
        'amount that cannot be recorded:\n  entry 2 ' % BAD_AMOUNTS)
    for line in BAD_ENTRIES:
        assert '\n  ' + line in message
    assert 'entry 1 ' not in message
    assert 'entry 11 (' not in message
    assert not Payment.objects.exists()
    assert balances()['2026-000001'] == ('outstanding', D('125.0000'),
                                         D('125.0000'))


def django_admin(*args):
    """``django-admin *args`` in a new process: ``(status, out, err)``."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE='tests.settings',
               PYTHONPATH=REPO, LANGUAGE='en', LC_ALL='C.UTF-8')
    command = os.path.join(os.path.dirname(sys.executable), 'django-admin')
    if not os.path.exists(command):
        command = None
    argv = ([command] if command else [sys.executable, '-m', 'django'])
    done = subprocess.run(argv + list(args), cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout, done.stderr


def test_a_refused_file_ends_the_process_with_the_reasons_and_no_traceback():
    # The file is refused before the database is used, so the process
    # needs no tables.
    status, out, err = django_admin('billing_import_payments', BAD_AMOUNTS)
    assert status == 1, (out, err)
    assert 'Traceback' not in out + err
    assert 'CommandError: %s was not imported, nothing was recorded' % (
        BAD_AMOUNTS) in err
    for line in BAD_ENTRIES:
        assert line in err
    assert 'recorded,' not in out
