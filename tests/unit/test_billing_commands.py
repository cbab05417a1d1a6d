"""Operator commands: billing_issue, billing_record_payment and
billing_refund_credit."""

import datetime
import decimal
import io

from django.core.management import call_command
from django.core.management import CommandError
import pytest

from cleura_billing_dashboard.billing import ledger
from cleura_billing_dashboard.billing import models
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard.billing.models import Payment
from cleura_billing_dashboard.billing import queries
from tests import factories


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def usage_file(tmp_path):
    return factories.usage_file(tmp_path, factories.usage(
        {'proj-a': [factories.line()], 'proj-b': [factories.ip_line(
            vat_rate=0)]}, period='2026-10'))


@pytest.mark.django_db
def test_issue_prints_each_invoice_then_nothing_on_a_rerun(usage_file):
    out, err = run('billing_issue', '--usage', usage_file,
                   '--issue-date', '2026-11-02')
    assert out.splitlines() == [
        'Issued 2026-000001 to proj-a: SEK125.00',
        'Issued 2026-000002 to proj-b: SEK20.00',
    ]
    assert err == ''
    invoice = Invoice.objects.get(number='2026-000001')
    assert (invoice.issue_date, invoice.period_start) == (
        datetime.date(2026, 11, 2), datetime.date(2026, 10, 1))

    out, err = run('billing_issue', '--usage', usage_file)
    assert out.splitlines()[-1] == ('Nothing to issue: every project '
                                    'already has an invoice for 2026-10')
    assert Invoice.objects.count() == 2


@pytest.mark.django_db
def test_csv_period_defaults_to_the_month_before_the_issue_date(tmp_path):
    path = tmp_path / 'usage.csv'
    path.write_text('project_id,product,region,quantity,unit,unit_price\n'
                    'proj-a,compute,Sto2,1,h,1\n')
    run('billing_issue', '--usage', str(path), '--issue-date', '2027-01-05')
    invoice = Invoice.objects.get()
    assert (invoice.number, invoice.period_start, invoice.period_end) == (
        '2027-000001', datetime.date(2026, 12, 1),
        datetime.date(2026, 12, 31))


@pytest.mark.django_db
def test_a_malformed_file_lists_every_problem_and_issues_nothing(tmp_path):
    path = tmp_path / 'usage.csv'
    path.write_text('project_id,product,region,quantity,unit,unit_price\n'
                    'proj-a,compute,Sto2,1,h,1\n'
                    'proj-b,,Sto2,x,h,1\n'
                    'proj-c,ip,Sto2,1,h,1,2\n')
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command('billing_issue', '--usage', str(path),
                     stdout=io.StringIO(), stderr=err)
    assert err.getvalue().splitlines() == [
        'line 3: product: required',
        "line 3: quantity: not a number: 'x'",
        'line 4: more values than columns',
    ]
    assert '3 problem(s)' in str(raised.value)
    assert not Invoice.objects.exists()


@pytest.mark.django_db
def test_a_period_other_than_the_files_is_refused(usage_file):
    with pytest.raises(CommandError):
        run('billing_issue', '--usage', usage_file, '--period', '2026-09')
    assert not Invoice.objects.exists()


@pytest.mark.django_db
def test_record_payment_is_idempotent_by_reference(usage_file):
    run('billing_issue', '--usage', usage_file, '--issue-date', '2026-11-02')
    out, _ = run('billing_record_payment', '2026-000001', '100.50',
                 '--reference', 'demo-1')
    assert out.strip() == 'Recorded SEK100.50 on 2026-000001 (manual demo-1)'
    out, _ = run('billing_record_payment', '2026-000001', '100.50',
                 '--reference', 'demo-1')
    assert out.startswith('Already recorded')
    run('billing_record_payment', '2026-000001', '24.50',
        '--provider', 'bank')
    invoice = queries.get_invoice_by_number('proj-a', '2026-000001')
    assert (invoice.status, Payment.objects.count()) == ('paid', 2)


@pytest.mark.django_db
@pytest.mark.parametrize('args', [
    ('2026-999999', '1'), ('2026-000001', '-1'), ('2026-000001', '1.0.0')])
def test_record_payment_refuses_bad_input(usage_file, args):
    run('billing_issue', '--usage', usage_file)
    with pytest.raises(CommandError):
        run('billing_record_payment', *args)
    assert not Payment.objects.exists()


def overpaid(project_id, extra):
    """``project_id``'s October invoice paid ``extra`` beyond its total."""
    invoice = factories.issue_invoice(project_id, '2026-10',
                                      today=datetime.date(2026, 11, 3))
    ledger.record_payment(invoice, invoice.total + decimal.Decimal(extra),
                          provider='manual', reference='over-' + project_id)
    return invoice


def test_refund_credit_lists_every_projects_credit(db):
    assert run('billing_refund_credit')[0] == 'No project has credit.\n'
    overpaid('proj-b', '12.5')
    overpaid('proj-a', '100')
    out, _ = run('billing_refund_credit')
    assert out == 'proj-a\tSEK\t100.00\nproj-b\tSEK\t12.50\n'
    assert run('billing_refund_credit', '--list')[0] == out


def test_refund_credit_records_a_refund_once_per_reference(db):
    overpaid('proj-a', '100')
    out, _ = run('billing_refund_credit', 'proj-a', '40',
                 '--reference', 'BANK-1', '--reason', 'asked by mail')
    assert out == ('Refunded SEK40.00 of the credit of proj-a (BANK-1); '
                   'SEK60.00 left\n')
    out, _ = run('billing_refund_credit', 'proj-a', '40.00',
                 '--reference', 'BANK-1')
    assert out == ('Already recorded: refund of SEK40.00 to proj-a '
                   '(BANK-1); SEK60.00 left\n')
    entry, = models.CreditEntry.objects.all()
    assert (entry.kind, entry.amount, entry.reason) == (
        'refunded', decimal.Decimal('-40'), 'asked by mail')
    assert run('billing_refund_credit')[0] == 'proj-a\tSEK\t60.00\n'


@pytest.mark.parametrize('args, message', [
    (['proj-a', '100.01', '--reference', 'R2'],
     'project proj-a has 100.00 SEK of credit, less than 100.01'),
    (['proj-b', '1', '--reference', 'R2'],
     'project proj-b has 0.00 SEK of credit, less than 1.00'),
    (['proj-a', '1', '--reference', 'R2', '--currency', 'EUR'],
     'project proj-a has 0.00 EUR of credit'),
    (['proj-a', '0', '--reference', 'R2'], 'a positive amount'),
    (['proj-a', '5'], "Give the refund's --reference"),
    (['proj-a'], 'Give the AMOUNT to refund'),
    (['proj-a', '--list'], '--list takes no project'),
])
def test_refund_credit_refuses(db, args, message):
    overpaid('proj-a', '100')
    with pytest.raises(CommandError, match=message):
        run('billing_refund_credit', *args)
    assert not models.CreditEntry.objects.exists()
