"""One issuing process of the concurrency tests; prints its result as JSON.

    python -m tests.db.worker BARRIER numbers COUNT
    python -m tests.db.worker BARRIER issue USAGE_FILE PERIOD ISSUE_DATE
    python -m tests.db.worker - old-invoice USAGE_FILE PERIOD ISSUE_DATE
    python -m tests.db.worker BARRIER ubl NUMBER
    python -m tests.db.worker - overpaid USAGE_FILE PERIOD ISSUE_DATE EXTRA
    python -m tests.db.worker BARRIER refund AMOUNT REFERENCE PROJECT...
    python -m tests.db.worker BARRIER pay AMOUNT REFERENCE NUMBER...
    python -m tests.db.worker - report
    python -m tests.db.worker BARRIER|- command USAGE PERIOD ISSUE_DATE WORKERS
    python -m tests.db.worker - issuing-report PREFIX
    python -m tests.db.worker - whole NUMBER...
    python -m tests.db.worker - checkout

A worker connects, marks itself ready in the folder BARRIER and waits for
the file ``go`` there, so that all workers start at the same moment.
"""

import datetime
import decimal
import hashlib
import json
import os
import pathlib
import sys
import time

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'tests.db.child_settings')

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db import transaction  # noqa: E402

from unittest import mock  # noqa: E402

from cleura_billing_dashboard.billing import credit  # noqa: E402
from cleura_billing_dashboard.billing import einvoices  # noqa: E402
from cleura_billing_dashboard.billing import issue  # noqa: E402
from cleura_billing_dashboard.billing import ledger  # noqa: E402
from cleura_billing_dashboard.billing import models  # noqa: E402
from cleura_billing_dashboard.billing import numbering  # noqa: E402
from cleura_billing_dashboard import usage  # noqa: E402

PREFIX = 'C-'


class Rollback(Exception):
    pass


def wait_for_go(barrier):
    connection.ensure_connection()
    barrier = pathlib.Path(barrier)
    (barrier / ('ready-%d' % os.getpid())).touch()
    deadline = time.monotonic() + 120
    while not (barrier / 'go').exists():
        if time.monotonic() > deadline:
            sys.exit('no go signal')
        time.sleep(0.005)


def take_numbers(count):
    """Take ``count`` numbers; every third transaction rolls back."""
    numbering.ensure_series(PREFIX)  # every worker races to create it
    committed = []
    for i in range(count):
        try:
            with transaction.atomic():
                number = numbering.next_number(PREFIX)
                time.sleep(0.005)  # hold the lock a moment, as issuing does
                if i % 3 == 2:
                    raise Rollback()
        except Rollback:
            continue
        committed.append(number)
    return {'committed': committed}


def issue_period(usage_file, period, issue_date):
    result = issue.issue_invoices_for_period(
        usage.load_usage(usage_file), period,
        today=datetime.date.fromisoformat(issue_date))
    return {'issued': [i.number for i in result.issued],
            'skipped': result.skipped}


def issue_old_invoices(usage_file, period, issue_date):
    """Issue as before e-invoices were stored: no UBL stored with them."""
    with mock.patch.object(einvoices, 'store_ubl'):
        return issue_period(usage_file, period, issue_date)


def first_ubl(number):
    """The stored UBL's row; ``tried``: this worker tried the insert."""
    store = einvoices.store_ubl
    tried = []

    def store_ubl(*args):
        tried.append(True)
        return store(*args)

    with mock.patch.object(einvoices, 'store_ubl', store_ubl):
        stored = einvoices.ubl_for(models.Invoice.objects.get(number=number))
    return {'pk': stored.pk, 'sha256': stored.sha256, 'tried': bool(tried)}


def issue_overpaid(usage_file, period, issue_date, extra):
    """Issue the period and pay each invoice ``extra`` beyond its total."""
    result = issue_period(usage_file, period, issue_date)
    for number in result['issued']:
        invoice = models.Invoice.objects.get(number=number)
        ledger.record_payment(invoice, invoice.total + decimal.Decimal(extra),
                              provider='manual', reference='over-' + number)
    return result


def refund(amount, reference, *projects):
    """Refund ``amount`` of each project's credit; what was refused."""
    refused = []
    for project_id in projects:
        try:
            credit.refund(project_id, decimal.Decimal(amount),
                          reference='%s-%s' % (reference, project_id),
                          currency='SEK')
        except credit.CreditError as e:
            refused.append([project_id, str(e)])
    return {'refused': refused}


def pay(amount, reference, *numbers):
    """Pay each invoice ``amount`` more, as a payment run would."""
    for number in numbers:
        ledger.record_payment(models.Invoice.objects.get(number=number),
                              decimal.Decimal(amount), provider='manual',
                              reference='%s-%s' % (reference, number))
    return {'paid': list(numbers)}


def credit_report():
    """Per project: its invoices, credit entries, credit and earnings.

    Invoices as (number, total, credit applied); ``earned`` is what its
    invoices' negative balances hold.
    """
    projects = {}
    for invoice in (models.Invoice.objects.with_balance()
                    .order_by('number')):
        project = projects.setdefault(invoice.project_id, {
            'invoices': [], 'earned': '0'})
        project['invoices'].append([invoice.number, str(invoice.total),
                                    str(invoice.credit_applied)])
        if invoice.balance < 0:
            project['earned'] = str(decimal.Decimal(project['earned']) -
                                    invoice.balance)
    for project_id, project in projects.items():
        project['entries'] = [
            [kind, str(amount)] for kind, amount in
            models.CreditEntry.objects.filter(project_id=project_id)
            .values_list('kind', 'amount')]
        project['available'] = str(credit.available(project_id, 'SEK'))
    return projects


def payments_report():
    """Payments and checkout sessions, oldest first, as plain lists."""
    from cleura_billing_dashboard.payments import models as pay_models
    return {
        'payments': [
            [number, provider, reference, str(amount), state]
            for number, provider, reference, amount, state in
            models.Payment.objects.order_by('pk').values_list(
                'invoice__number', 'provider', 'provider_reference',
                'amount', 'state')],
        'sessions': [
            list(row) for row in
            pay_models.CheckoutSession.objects.order_by('pk').values_list(
                'invoice__number', 'session_id', 'status')],
    }


def whole(*numbers):
    """Per invoice: stored whole (lines, its PDF as hashed, its UBL)."""
    import hashlib
    found = {}
    for number in numbers:
        invoice = models.Invoice.objects.get(number=number)
        pdf = bytes(invoice.pdf or b'')
        found[number] = bool(
            invoice.lines.exists() and pdf.startswith(b'%PDF') and
            hashlib.sha256(pdf).hexdigest() == invoice.pdf_sha256 and
            models.EInvoice.objects.filter(invoice=invoice).exists())
    return found


def report():
    return {
        'credit': credit_report(),
        'einvoices': sorted(models.EInvoice.objects.values_list(
            'invoice__number', 'sha256')),
        'invoices': sorted(models.Invoice.objects.values_list(
            'number', 'project_id')),
        'series': dict(models.NumberSeries.objects.values_list(
            'prefix', 'last_value')),
    }


class Accounts(object):
    """The Keystone account reader's answers, for issuing with mail.

    Each project has one verified Billing address and wants the PDF
    attached and the e-invoice too.
    """

    def buyer_details(self, project_id):
        return {'name': 'Buyer of %s' % project_id, 'language': 'sv'}

    def billing_recipients(self, project_id):
        return ['billing@%s.example' % project_id]

    def wants_link(self, project_id):
        return False

    def wants_einvoice(self, project_id):
        return True


def run_issue_command(usage_file, period, issue_date, workers):
    """``manage.py billing_issue`` as an operator runs it, with mail."""
    from django.core import management
    from django.test import override_settings

    from cleura_billing_dashboard.account import store

    out = []
    with mock.patch.object(store, 'account_reader', Accounts), \
            override_settings(EMAIL_BACKEND='django.core.mail.backends.'
                                            'locmem.EmailBackend'):
        management.call_command(
            'billing_issue', '--usage', usage_file, '--period', period,
            '--issue-date', issue_date, '--workers', workers,
            stdout=_Lines(out))
    return {'issued': sum(line.startswith('Issued ') for line in out)}


def issuing_report(prefix):
    """What issuing left: invoices, their documents and their mail."""
    from cleura_billing_dashboard.notify import models as mail_models

    invoices = []
    for invoice in models.Invoice.objects.order_by('number'):
        content = bytes(invoice.pdf)
        invoices.append({
            'number': invoice.number,
            'project_id': invoice.project_id,
            'pdf': (content.startswith(b'%PDF') and invoice.pdf_sha256 ==
                    hashlib.sha256(content).hexdigest()),
            'shown': models.Invoice.objects.for_project(
                invoice.project_id).filter(pk=invoice.pk).exists(),
            'ubl': models.EInvoice.objects.filter(invoice=invoice).count(),
        })
    mails = {}
    for mail in mail_models.InvoiceMail.objects.all():
        invoice = models.Invoice.objects.get(number=mail.number)
        mails.setdefault(mail.number, []).append({
            'pdf': bytes(mail.pdf) == bytes(invoice.pdf),
            'einvoice': b'<Invoice' in bytes(mail.einvoice or b''),
            'addresses': list(mail.recipients.values_list('address',
                                                          flat=True)),
        })
    series = models.NumberSeries.objects.filter(prefix=prefix).first()
    return {'invoices': invoices, 'mails': mails,
            'last_value': series.last_value if series else 0}


class _Lines(object):
    def __init__(self, lines):
        self.lines = lines

    def write(self, text):
        self.lines.append(text)

    def flush(self):
        pass


def main(barrier, command, *args):
    if command == 'report':
        result = report()
    elif command == 'checkout':
        result = payments_report()
    elif command == 'whole':
        result = whole(*args)
    elif command == 'old-invoice':
        result = issue_old_invoices(*args)
    elif command == 'overpaid':
        result = issue_overpaid(*args)
    elif command == 'issuing-report':
        result = issuing_report(*args)
    elif command == 'command' and barrier == '-':
        result = run_issue_command(*args)
    else:
        wait_for_go(barrier)
        if command == 'numbers':
            result = take_numbers(int(args[0]))
        elif command == 'ubl':
            result = first_ubl(*args)
        elif command == 'refund':
            result = refund(*args)
        elif command == 'pay':
            result = pay(*args)
        elif command == 'command':
            result = run_issue_command(*args)
        else:
            result = issue_period(*args)
    print(json.dumps(result))


if __name__ == '__main__':
    main(*sys.argv[1:])
