"""Load test of the billing panels: figures printed, not a timed test.

``tox -e load`` starts the lab (real Keystone; Horizon with the plugin on
gunicorn with 4 workers, its database and so the billing tables on
PostgreSQL), makes 50 projects each with a reader and a member, gives each
project a billing account in Keystone and 24 months of invoices issued
through the real issuing code (paid, outstanding, overdue, one credited),
then runs locust (tools/load_tenants.py, in a process of its own) with
one simulated tenant per project. Each logs in through Horizon's real
login form as its own user, then all browse for ``--seconds`` (default
120): the Invoices index, its status and date filters, detail pages, View
and Download PDF, the e-invoice, the CSV export, the Account settings tabs,
and Horizon's own Settings page (``/settings/``) as the reference.

Prints requests per second, p50/p95/p99 per page and the errors, and the
Invoices index's p95 against the Settings page's (target: 0 errors, at most
1.5). Exits non-zero only when the load could not run.

PostgreSQL: 127.0.0.1:5432, trust auth (``CLEURA_LOAD_DB_HOST``,
``_PORT``, ``_USER``); the database ``--database`` (default
``cleura_load``) is dropped and created on every run.
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time

from tools import lab

TARGET_RATIO = 1.5
INDEX, SETTINGS = 'Invoices index', 'Settings (Horizon)'


def pg_options(name):
    return {'NAME': name,
            'HOST': os.environ.get('CLEURA_LOAD_DB_HOST', '127.0.0.1'),
            'PORT': os.environ.get('CLEURA_LOAD_DB_PORT', '5432'),
            'USER': os.environ.get('CLEURA_LOAD_DB_USER', 'postgres')}


def recreate_database(options):
    import psycopg2
    conn = psycopg2.connect(dbname='postgres', host=options['HOST'],
                            port=options['PORT'], user=options['USER'])
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)'
                        % options['NAME'])
            cur.execute('CREATE DATABASE "%s"' % options['NAME'])
    finally:
        conn.close()


def django_setup(horizon):
    os.environ.update(horizon.env)
    import django
    django.setup()


def months_before(today, count):
    from cleura_billing_dashboard.billing import demo
    return demo.months_before(today, count)


def fill_billing(ks, projects, months):
    """Billing accounts in Keystone and ``months`` of invoices a project.

    Issued month by month for all projects at once through the issuing
    code (PDF, Factur-X, UBL), with each project's buyer details from its
    account; the mail is left out. Invoices older than three months are
    paid, the one six months back credited (when there is one). Returns
    ``{project_id: [invoice number, ...]}``.
    """
    from django.utils import timezone

    from cleura_billing_dashboard.account import store
    from cleura_billing_dashboard.billing import demo
    from cleura_billing_dashboard.billing import issue
    from cleura_billing_dashboard.billing import ledger
    from cleura_billing_dashboard.billing import models
    from cleura_billing_dashboard import usage as usage_mod
    from tools.lab import demo_data

    for project in projects:
        demo_data.ensure_billing_account(ks, project)
    reader = store.account_reader()
    today = timezone.localdate()
    ids = [project.id for project in projects]
    for index, (year, month) in enumerate(months_before(today, months)):
        from_end = months - index
        period = '%04d-%02d' % (year, month)
        issue_date = (today if from_end == 1 else
                      today - datetime.timedelta(days=20) if from_end == 2
                      else datetime.date(year + month // 12,
                                         month % 12 + 1, 1))
        usage = usage_mod.parse_usage(json.dumps({'projects': [
            {'project_id': project_id, 'lines': demo.usage_lines(index)}
            for project_id in ids]}), 'json')
        start = time.perf_counter()
        result = issue.issue_invoices_for_period(
            usage, period, today=issue_date,
            buyer_lookup=reader.buyer_details)
        if result.refused:
            raise RuntimeError('refused: %s' % result.refused)
        for invoice in result.issued:
            if from_end == 6:
                issue.issue_credit_note(
                    invoice.project_id, invoice, 'Billed twice (load test)',
                    today=issue_date + datetime.timedelta(days=3))
            elif from_end > 3:
                ledger.record_payment(invoice, invoice.total,
                                      provider='manual',
                                      reference='load-%s' % invoice.number)
        print('  %s: %d invoices issued in %.1f s'
              % (period, len(result.issued), time.perf_counter() - start),
              flush=True)
    numbers = {}
    for project_id, number in models.Invoice.objects.filter(
            project_id__in=ids).order_by('number').values_list(
                'project_id', 'number'):
        numbers.setdefault(project_id, []).append(number)
    return numbers


def percentile(sorted_values, fraction):
    """The nearest-rank percentile of ``sorted_values`` (not empty)."""
    rank = max(1, int(-(-fraction * len(sorted_values) // 1)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def print_tracebacks(log_path, limit=5):
    """The first ``limit`` tracebacks in a log file, each once."""
    with open(log_path, errors='replace') as f:
        lines = f.read().splitlines()
    shown, current = [], None
    for line in lines:
        if line.startswith('Traceback '):
            current = [line]
        elif current is not None:
            current.append(line)
            if not line.startswith((' ', '\t')):
                # The exception's line ends the traceback.
                if current not in shown:
                    shown.append(current)
                current = None
    print("Horizon's log (%s), %d different traceback(s):"
          % (log_path, len(shown)))
    for traceback in shown[:limit]:
        print('\n'.join(traceback))
        print()


def report(results, seconds):
    """Print the figures; the number of errors."""
    pages = results['pages']
    total = sum(len(p['times']) for p in pages.values())
    errors = sum(p['errors'] for p in pages.values())
    print()
    print('Browsing %.0f s with %d tenants logged in: %d requests, %.1f '
          'requests/s, %d errors'
          % (results['seconds'], results['users'], total,
             total / results['seconds'], errors))
    print()
    print('%-32s %7s %7s %8s %8s %8s %7s'
          % ('page', 'count', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms',
             'errors'))
    p95 = {}
    for name in sorted(pages):
        times = sorted(pages[name]['times'])
        if times:
            p50, p95[name], p99 = (percentile(times, f)
                                   for f in (0.5, 0.95, 0.99))
            figures = '%8.0f %8.0f %8.0f' % (p50, p95[name], p99)
        else:
            figures = '%8s %8s %8s' % ('-', '-', '-')
        print('%-32s %7d %7.2f %s %7d'
              % (name, len(times), len(times) / results['seconds'],
                 figures, pages[name]['errors']))
    logins = sorted(results['login']['times'])
    if logins:
        print('%-32s %7d %7s %8.0f %8.0f %8.0f %7d (before the %.0f s)'
              % ('(login, real form)', len(logins), '',
                 percentile(logins, 0.5), percentile(logins, 0.95),
                 percentile(logins, 0.99), results['login']['errors'],
                 results['seconds']))
    for name, messages in sorted(results['error_samples'].items()):
        for message in messages:
            print('  error, %s: %s' % (name, message))
    print()
    if INDEX in p95 and SETTINGS in p95:
        ratio = p95[INDEX] / p95[SETTINGS]
        print('Invoices index p95 / Settings p95: %.0f ms / %.0f ms = %.2f '
              '(target <= %.1f: %s); errors: %d (target 0: %s)'
              % (p95[INDEX], p95[SETTINGS], ratio, TARGET_RATIO,
                 'met' if ratio <= TARGET_RATIO else 'missed', errors,
                 'met' if errors == 0 else 'missed'))
        others = ', '.join('%s %.2f' % (name, p95[name] / p95[SETTINGS])
                           for name in sorted(p95)
                           if name not in (INDEX, SETTINGS))
        print('Other pages, p95 / Settings p95: %s' % others)
    return errors


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--seconds', type=float, default=120,
                        help='browsing time once all are logged in')
    parser.add_argument('--tenants', type=int, default=50,
                        help='projects, each one simulated tenant')
    parser.add_argument('--months', type=int, default=24,
                        help='invoices a project, one a month')
    parser.add_argument('--workers', type=int, default=4,
                        help="Horizon's gunicorn workers")
    parser.add_argument('--threads', type=int, default=1,
                        help='threads a worker (1: sync workers, as the '
                             'figures in README.rst were measured)')
    parser.add_argument('--think', default='1,5',
                        help='seconds a tenant waits between pages: MIN,MAX')
    parser.add_argument('--spawn-rate', type=float, default=5,
                        help='tenants starting (logging in) a second')
    parser.add_argument('--database', default='cleura_load',
                        help='PostgreSQL database, dropped and created')
    args = parser.parse_args()
    options = pg_options(args.database)
    recreate_database(options)
    users = lab.tenant_users(args.tenants, prefix='load')
    with tempfile.TemporaryDirectory(prefix='cleura-load-') as workdir:
        print('Starting Keystone and Horizon (%d workers of %d threads, '
              'PostgreSQL %s), %d projects, %d users...'
              % (args.workers, args.threads, args.database, args.tenants,
                 len(users)),
              flush=True)
        start = time.perf_counter()
        keystone, horizon = lab.start_lab(
            workdir, lab.free_port(), lab.free_port(), users=users,
            workers=args.workers, threads=args.threads, postgresql=options)
        try:
            print('  ready in %.0f s' % (time.perf_counter() - start))
            ks = keystone.admin_client()
            projects = [p for p in ks.projects.list()
                        if p.name.startswith('load-')]
            django_setup(horizon)
            print('Issuing %d months of invoices for %d projects...'
                  % (args.months, len(projects)), flush=True)
            numbers = fill_billing(ks, projects, args.months)
            by_name = {p.name: p.id for p in projects}
            # One tenant a project, its reader or its member in turn.
            tenants = [{'username': username, 'password': lab.DEMO_PASSWORD,
                        'role': role,
                        'invoices': numbers[by_name[project]]}
                       for n, (project, username, role) in enumerate(users)
                       if n % 2 == (n // 2) % 2]
            plan = os.path.join(workdir, 'plan.json')
            results_path = os.path.join(workdir, 'results.json')
            think = [float(x) for x in args.think.split(',')]
            with open(plan, 'w') as f:
                json.dump({'host': horizon.url, 'seconds': args.seconds,
                           'spawn_rate': args.spawn_rate, 'think': think,
                           'tenants': tenants,
                           'months': ['%04d-%02d' % ym for ym in
                                      months_before(datetime.date.today(),
                                                    args.months)]}, f)
            print('Running locust: %d tenants log in, then browse %.0f s...'
                  % (len(tenants), args.seconds), flush=True)
            run = subprocess.run(
                [sys.executable, '-m', 'tools.load_tenants', plan,
                 results_path])
            if run.returncode or not os.path.exists(results_path):
                print('The load did not run (locust exited %d); Horizon\'s '
                      'log: %s' % (run.returncode, horizon.process.log))
                return 1
            with open(results_path) as f:
                results = json.load(f)
            if report(results, args.seconds):
                # The lab goes with its directory: its errors are shown now.
                print_tracebacks(horizon.process.log)
        finally:
            horizon.stop()
            keystone.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
