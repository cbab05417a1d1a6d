"""``billing_issue`` in real processes: killed and rerun, and two at once.

Each run is ``manage.py billing_issue --workers 2`` in a process of its own
(its documents made by a pool of two more), with mail to one Billing
address per project, on the database CLEURA_TEST_DB names. What a run
leaves is read back here: numbers, invoices, documents, e-invoices, mail.
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

from django.db import connection
import pytest

from cleura_billing_dashboard.billing import models
from tests.db.test_numbering_concurrency import child_env  # noqa: F401
from tests.db.test_numbering_concurrency import REPO_ROOT
from tests.db.test_numbering_concurrency import run_workers

pytestmark = [pytest.mark.database, pytest.mark.django_db(transaction=True)]

PERIOD, ISSUE_DATE, PREFIX = '2041-10', '2041-11-01', '2041-'


@pytest.fixture
def issuing_env(child_env):  # noqa: F811
    """``child_env``: every table of the plugin, on SQLite too."""
    return child_env


def usage_file(tmp_path, count):
    path = tmp_path / 'usage.json'
    path.write_text(json.dumps({'period': PERIOD, 'projects': [
        {'project_id': 'crash-%03d' % i, 'lines': [
            {'product': 'compute', 'description': 'm1.small',
             'region': 'Sto2', 'quantity': str(10 + i), 'unit': 'h',
             'unit_price': '0.25', 'vat_rate': '25'}]}
        for i in range(count)]}))
    return str(path)


def command(usage, workers=2):
    return ['command', usage, PERIOD, ISSUE_DATE, str(workers)]


def start(env, usage):
    # A session of its own: SIGKILL reaches the run and its pool at once,
    # as when its host dies.
    return subprocess.Popen(
        [sys.executable, '-m', 'tests.db.worker', '-'] + command(usage),
        env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True)


def kill_when(proc, condition, timeout=240):
    """SIGKILL ``proc``'s session once ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    try:
        while not condition():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, 'the run made no progress'
            time.sleep(0.02)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # it ended by itself: the assertion above says why
        proc.wait()


def progress(env):
    """``(invoice rows, rows with their documents)`` committed so far."""
    if connection.vendor == 'sqlite':
        # The workers' database is a file; this test's is in memory.
        with sqlite3.connect(env['CLEURA_CHILD_DB_NAME'], timeout=30) as db:
            rows, ready = db.execute(
                "SELECT count(*), sum(pdf_sha256 != '') FROM %s"
                % models.Invoice._meta.db_table).fetchone()
        return rows, ready or 0
    return (models.Invoice.objects.count(),
            models.Invoice.objects.ready().count())


def issuing_report(env):
    out = subprocess.run([sys.executable, '-m', 'tests.db.worker', '-',
                          'issuing-report', PREFIX], env=env, cwd=REPO_ROOT,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[-1])


def assert_issued_once_with_documents_and_mail(env, count):
    report = issuing_report(env)
    invoices = report['invoices']
    numbers = ['%s%06d' % (PREFIX, n) for n in range(1, count + 1)]
    assert [i['number'] for i in invoices] == numbers
    assert report['last_value'] == count
    assert sorted(i['project_id'] for i in invoices) == [
        'crash-%03d' % i for i in range(count)]
    assert all(i['pdf'] and i['shown'] and i['ubl'] == 1 for i in invoices)
    assert sorted(report['mails']) == numbers
    for invoice in invoices:
        assert report['mails'][invoice['number']] == [{
            'pdf': True, 'einvoice': True,
            'addresses': ['billing@%s.example' % invoice['project_id']]}]


def test_sigkill_at_any_moment_then_a_rerun_completes_the_run(
        issuing_env, tmp_path):
    count = 40
    usage = usage_file(tmp_path, count)
    # While numbers are being taken and the first documents made.
    kill_when(start(issuing_env, usage),
              lambda: progress(issuing_env)[0] >= 8)
    first = progress(issuing_env)[0]
    # Further on, while documents are made.
    kill_when(start(issuing_env, usage),
              lambda: progress(issuing_env)[1] >= first + 8)
    assert progress(issuing_env)[1] < count  # killed mid-way, not at the end
    # What the kills left without documents is never shown.
    report = issuing_report(issuing_env)
    assert [i['shown'] for i in report['invoices']] == [
        i['pdf'] for i in report['invoices']]
    result = subprocess.run(
        [sys.executable, '-m', 'tests.db.worker', '-'] + command(usage),
        env=issuing_env, cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=300)
    assert result.returncode == 0, result.stderr
    assert_issued_once_with_documents_and_mail(issuing_env, count)


def test_two_issuers_at_once_issue_each_project_once(
        issuing_env, tmp_path):
    count = 30
    usage = usage_file(tmp_path, count)
    results = run_workers(issuing_env, tmp_path / 'barrier',
                          [command(usage), command(usage)])
    assert sum(result['issued'] for result in results) == count
    assert_issued_once_with_documents_and_mail(issuing_env, count)
