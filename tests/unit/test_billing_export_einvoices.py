"""billing_export_einvoices: a period's UBL files in a folder, once each."""

import datetime
import hashlib
import io

from django.core.management import call_command
from django.core.management import CommandError
import pytest

from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard.billing.models import EInvoice
from tests import factories
from tests.unit import test_billing_einvoices as stored_tests

TODAY = datetime.date(2026, 11, 3)


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command('billing_export_einvoices', *args, stdout=out, stderr=err)
    return out.getvalue().splitlines(), err.getvalue().splitlines()


@pytest.fixture
def period(db):
    """The numbers of 2026-10's documents, in order.

    proj-a's invoice and its credit note and proj-b's invoice; proj-a's
    invoice of 2026-09 is not exported.
    """
    invoice = factories.issue_invoice('proj-a', today=TODAY)
    factories.issue_invoice('proj-b', today=TODAY)
    factories.issue_invoice('proj-a', '2026-09', today=TODAY)
    issue.issue_credit_note('proj-a', invoice, 'Wrong price', today=TODAY)
    return ['2026-000001', '2026-000002', '2026-000004']


def stored(number):
    return bytes(EInvoice.objects.get(invoice__number=number).content)


def test_writes_each_invoice_and_credit_note_of_the_period(period, tmp_path):
    folder = tmp_path / 'out' / '2026-10'   # created, parents too
    out, err = run('--period', '2026-10', '--to', str(folder))
    assert out == ['Wrote %s' % (folder / (number + '.xml'))
                   for number in period]
    assert err == []
    assert sorted(path.name for path in folder.iterdir()) == [
        number + '.xml' for number in period]
    for number in period:
        assert (folder / (number + '.xml')).read_bytes() == stored(number)


def test_nothing_is_written_twice(period, tmp_path):
    run('--period', '2026-10', '--to', str(tmp_path))
    before = {path.name: path.stat().st_mtime_ns
              for path in tmp_path.iterdir()}
    out, err = run('--period', '2026-10', '--to', str(tmp_path))
    assert out == ['Already exported: %s' % (tmp_path / (number + '.xml'))
                   for number in period]
    assert {path.name: path.stat().st_mtime_ns
            for path in tmp_path.iterdir()} == before   # no temporary left


def test_a_different_file_is_an_error_and_left_alone(period, tmp_path):
    other = tmp_path / '2026-000002.xml'
    other.write_bytes(b'<Invoice>edited by hand</Invoice>')
    with pytest.raises(CommandError, match='1 file.s. in the folder differ'):
        run('--period', '2026-10', '--to', str(tmp_path))
    assert other.read_bytes() == b'<Invoice>edited by hand</Invoice>'
    # The others were written.
    for number in ('2026-000001', '2026-000004'):
        assert (tmp_path / (number + '.xml')).read_bytes() == stored(number)


def test_a_different_file_is_named(period, tmp_path):
    (tmp_path / '2026-000002.xml').write_bytes(b'other')
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command('billing_export_einvoices', '--period', '2026-10',
                     '--to', str(tmp_path), stdout=io.StringIO(), stderr=err)
    assert err.getvalue().splitlines() == [
        'Not written: %s exists with other content than the stored '
        'e-invoice of 2026-000002' % (tmp_path / '2026-000002.xml')]


def test_older_invoices_get_their_ubl_made_and_stored(db, tmp_path):
    old = stored_tests.issue_as_before_einvoices()
    out, err = run('--period', '2026-10', '--to', str(tmp_path))
    content = (tmp_path / (old.number + '.xml')).read_bytes()
    row = EInvoice.objects.get(invoice=old)
    assert bytes(row.content) == content
    assert row.sha256 == hashlib.sha256(content).hexdigest()


def test_an_empty_period(db, tmp_path):
    out, err = run('--period', '2020-01', '--to', str(tmp_path))
    assert out == ['No invoices for 2020-01: nothing written.']


@pytest.mark.parametrize('period', ['2026-13', '2026', 'October', '26-10'])
def test_a_bad_period_says_what_a_period_is(db, tmp_path, period):
    with pytest.raises(CommandError, match='A period is a month as YYYY-MM'):
        run('--period', period, '--to', str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_folder_is_an_error(period, tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('not a folder')
    with pytest.raises(CommandError):
        run('--period', '2026-10', '--to', str(blocker / 'out'))
