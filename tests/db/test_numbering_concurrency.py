"""Issuers (and first e-invoice downloads) in separate OS processes, on the
database CLEURA_TEST_DB names.

SQLite runs on a temporary database file; PostgreSQL and MySQL on the test
database pytest-django created (hence ``transaction=True``: the workers must
see committed rows, and the test's rows are flushed after it).
"""

import decimal
import json
import os
import subprocess
import sys
import time

from django.db import connection
import pytest

from tests.db import worker

pytestmark = [pytest.mark.database, pytest.mark.django_db(transaction=True)]

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
WORKERS = 4


MIGRATE_PLUGIN = (
    'import django; django.setup(); '
    'from django.core import management; '
    '[management.call_command("migrate", app, verbosity=0) for app in '
    '("cleura_billing", "cleura_billing_payments", "cleura_billing_notify")]')


@pytest.fixture
def child_env(tmp_path):
    """Environment of worker processes sharing this test's database."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE='tests.db.child_settings',
               PYTHONPATH=REPO_ROOT)
    if connection.vendor == 'sqlite':
        # The test database is in memory; the workers share a file instead.
        env['CLEURA_CHILD_DB_NAME'] = str(tmp_path / 'billing.sqlite3')
        # The plugin's tables (billing_issue reaches all three), in one
        # process: not Horizon's.
        subprocess.run([sys.executable, '-c', MIGRATE_PLUGIN],
                       env=env, cwd=REPO_ROOT, check=True,
                       capture_output=True)
    else:
        env['CLEURA_CHILD_DB_NAME'] = connection.settings_dict['NAME']
    return env


def run_workers(env, barrier, commands, timeout=300,
                module='tests.db.worker'):
    """Start one worker (``module``) per command together; their results.

    Each worker prints its result as JSON on its last line.
    """
    barrier.mkdir()
    procs = [subprocess.Popen(
        [sys.executable, '-m', module, str(barrier)] + command,
        env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True) for command in commands]
    try:
        while len(list(barrier.glob('ready-*'))) < len(procs):
            if any(proc.poll() is not None for proc in procs):
                break  # a worker died before it was ready: report below
            time.sleep(0.01)
        (barrier / 'go').touch()
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=timeout)
            assert proc.returncode == 0, err
            results.append(json.loads(out.splitlines()[-1]))
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def report(env):
    out = subprocess.run([sys.executable, '-m', 'tests.db.worker', '-',
                          'report'], env=env, cwd=REPO_ROOT, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[-1])


def test_concurrent_numbers_have_no_gap_and_no_duplicate(
        child_env, tmp_path):
    # 15 transactions per worker; every third rolls back its number.
    results = run_workers(child_env, tmp_path / 'barrier',
                          [['numbers', '15']] * WORKERS)
    taken = [number for result in results for number in result['committed']]
    assert all(len(result['committed']) == 10 for result in results)
    total = WORKERS * 10
    assert sorted(taken) == ['%s%06d' % (worker.PREFIX, n)
                             for n in range(1, total + 1)]
    assert report(child_env)['series'] == {worker.PREFIX: total}


def test_concurrent_runs_of_a_period_invoice_each_project_once(
        child_env, tmp_path):
    projects = ['proj-%d' % i for i in range(8)]
    commands = []
    for w in range(WORKERS):
        # Each worker starts at another project, so they collide midway.
        order = projects[2 * w:] + projects[:2 * w]
        usage_file = tmp_path / ('usage-%d.csv' % w)
        usage_file.write_text(
            'project_id,product,region,quantity,unit,unit_price\n' +
            ''.join('%s,compute,Sto2,1,h,0.45\n' % p for p in order))
        commands.append(['issue', str(usage_file), '2026-10', '2026-11-02'])
    results = run_workers(child_env, tmp_path / 'barrier', commands)

    issued = [number for result in results for number in result['issued']]
    numbers = ['2026-%06d' % n for n in range(1, len(projects) + 1)]
    assert sorted(issued) == numbers
    assert sum(len(result['skipped']) for result in results) == \
        (WORKERS - 1) * len(projects)
    stored = report(child_env)
    assert [number for number, _ in stored['invoices']] == numbers
    assert sorted(project for _, project in stored['invoices']) == projects
    assert stored['series'] == {'2026-': len(projects)}


def test_concurrent_first_downloads_store_one_einvoice(child_env, tmp_path):
    usage_file = tmp_path / 'usage.csv'
    usage_file.write_text('project_id,product,region,quantity,unit,'
                          'unit_price\nproj-old,compute,Sto2,1,h,0.45\n')
    out = subprocess.run(
        [sys.executable, '-m', 'tests.db.worker', '-', 'old-invoice',
         str(usage_file), '2026-10', '2026-11-02'], env=child_env,
        cwd=REPO_ROOT, check=True, capture_output=True, text=True).stdout
    number, = json.loads(out.splitlines()[-1])['issued']
    assert report(child_env)['einvoices'] == []

    results = run_workers(child_env, tmp_path / 'barrier',
                          [['ubl', number]] * WORKERS)
    print('workers that tried to store it:',
          sum(result['tried'] for result in results))
    # Every worker got the one stored row, whoever stored it.
    assert len({(result['pk'], result['sha256'])
                for result in results}) == 1
    assert report(child_env)['einvoices'] == [[number, results[0]['sha256']]]


def test_concurrent_issuers_refunds_and_payments_spend_credit_once(
        child_env, tmp_path):
    """No credit is spent twice by concurrent issuers, refunds, payments.

    Four issuers (two number series) of the same projects, a refund run
    and a payment run start at once.
    """
    D = decimal.Decimal
    projects = ['proj-%d' % i for i in range(3)]
    header = 'project_id,product,region,quantity,unit,unit_price,vat_rate\n'

    def usage(price, name):
        path = tmp_path / name
        path.write_text(header + ''.join('%s,compute,Sto2,1,h,%s,25\n'
                                         % (p, price) for p in projects))
        return str(path)

    # September: 100.00 each, paid 100.00 beyond it: 100.00 of credit.
    out = subprocess.run(
        [sys.executable, '-m', 'tests.db.worker', '-', 'overpaid',
         usage('80', 'september.csv'), '2026-09', '2026-10-01', '100'],
        env=child_env, cwd=REPO_ROOT, check=True, capture_output=True,
        text=True).stdout
    september = json.loads(out.splitlines()[-1])['issued']
    assert len(september) == len(projects)

    # Each issuer wants 30.00 of each project's credit, the refund run
    # 30.00: 150.00 asked of 100.00 (+ 10.00 the payment run adds).
    month = usage('24', 'month.csv')
    commands = [['issue', month, period, date] for period, date in (
        ('2026-10', '2026-11-02'), ('2026-11', '2026-12-02'),
        ('2026-12', '2027-01-04'), ('2027-01', '2027-02-02'))]
    commands.append(['refund', '30', 'R'] + projects)
    commands.append(['pay', '10', 'extra'] + september)
    results = run_workers(child_env, tmp_path / 'barrier', commands)
    assert all(len(result['issued']) == len(projects)
               for result in results[:4])
    refused = {project for project, _ in results[4]['refused']}

    stored = report(child_env)['credit']
    for project_id in projects:
        project = stored[project_id]
        issued = project['invoices'][1:]
        assert len(issued) == 4
        applied = sum(D(applied) for _, _, applied in issued)
        refunded = sum(-D(amount) for kind, amount in project['entries']
                       if kind == 'refunded')
        assert refunded == (0 if project_id in refused else 30)
        # Every entry spent is one applied credit or the refund.
        assert sum(-D(amount) for _, amount in project['entries']) == (
            applied + refunded)
        assert all(D(applied) <= D(total) for _, total, applied in issued)
        # Never more spent than earned: 100.00, or 110.00 with the extra
        # payment; the rest is available.
        assert D(project['earned']) == D('110.00')
        assert applied + refunded <= D('110.00')
        assert D(project['available']) == (
            D(project['earned']) - applied - refunded)
        # Credit ran out: the asks exceed it whatever the order.
        assert applied + refunded >= D('100.00')
        print(project_id, 'applied', [a for _, _, a in issued],
              'refunded', refunded)
