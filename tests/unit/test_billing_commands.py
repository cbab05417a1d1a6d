"""Operator commands: billing_issue and billing_record_payment."""

import datetime
import io

from django.core.management import call_command
from django.core.management import CommandError
import pytest

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
