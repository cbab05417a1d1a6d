"""Sample invoices for the demo, issued the way ``billing_issue`` issues.

For the first project: 14 months of invoices, most paid, the last two
outstanding, the one before them overdue and one credited by a credit note.
For the others: the last three months, the oldest paid. Dates are relative
to today, so the statuses hold whenever the demo runs. Running it again
issues and records nothing twice.
"""

import datetime
import json
import os
import tempfile

from django.core.management import base
from django.utils import timezone

from cleura_billing_dashboard.account import store
from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard.billing import ledger
from cleura_billing_dashboard.billing import models
from cleura_billing_dashboard.i18n import _
from cleura_billing_dashboard.management.commands import billing_issue

PRODUCTS = [
    # product, description, region, unit, unit price, base quantity
    ('compute.b.2c4gb', 'Instance b.2c4gb', 'Sto2', 'h', '0.3120', 744),
    ('compute.b.4c8gb', 'Instance b.4c8gb', 'Kna1', 'h', '0.6240', 372),
    ('volume.ssd', 'Block storage, SSD', 'Sto2', 'GB-month', '1.20', 250),
    ('objects', 'Object storage (Swift)', 'Kna1', 'GB-month', '0.25', 900),
    ('network.fip', 'Floating IP', 'Sto2', 'h', '0.0070', 1488),
]


def usage_lines(month_index):
    """Usage that grows a little month by month, so totals differ."""
    return [{'product': product, 'description': description,
             'region': region, 'unit': unit, 'unit_price': price,
             'quantity': str(base + 10 * month_index), 'vat_rate': '25'}
            for product, description, region, unit, price, base in PRODUCTS]


def months_before(today, count):
    """The ``count`` months before today's, oldest first, as (y, m)."""
    year, month = today.year, today.month
    result = []
    for _month in range(count):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        result.append((year, month))
    return result[::-1]


class Command(base.BaseCommand):
    help = _('Issue sample invoices, payments and a credit note for the '
             'demo projects (PROJECT_ID ...; the first gets 14 months).')

    def add_arguments(self, parser):
        parser.add_argument('project_ids', nargs='+', metavar='PROJECT_ID')

    def handle(self, *args, **options):
        today = timezone.localdate()
        first, *others = options['project_ids']
        self.accounts = store.account_reader()
        with tempfile.TemporaryDirectory() as workdir:
            self.issue_history(first, 14, today, workdir)
            for project_id in others:
                self.issue_history(project_id, 3, today, workdir)

    def issue_history(self, project_id, count, today, workdir):
        months = months_before(today, count)
        for index, (year, month) in enumerate(months):
            from_end = count - index  # 1 is last month
            if from_end == 1:
                issue_date = today
            elif from_end == 2:
                issue_date = today - datetime.timedelta(days=20)
            elif month == 12:
                issue_date = datetime.date(year + 1, 1, 1)
            else:
                issue_date = datetime.date(year, month + 1, 1)
            period = '%04d-%02d' % (year, month)
            path = os.path.join(workdir, '%s-%s.json' % (project_id, period))
            with open(path, 'w') as f:
                json.dump({'projects': [{'project_id': project_id,
                                         'lines': usage_lines(index)}]}, f)
            billing_issue.report(self.stdout, issue.issue_usage_file(
                path, period=period, today=issue_date,
                accounts=self.accounts))
            invoice = models.Invoice.objects.get(
                project_id=project_id, type=models.Invoice.INVOICE,
                period_start=issue.period_bounds(period)[0])
            if count >= 6 and from_end == 6:
                self.credit(project_id, invoice, today)
            elif from_end > 3 or (count < 6 and from_end == count):
                self.pay(invoice)

    def pay(self, invoice):
        recorded = ledger.record_payment(
            invoice, invoice.total, provider='manual',
            reference='demo-%s' % invoice.number)
        if recorded.created:
            self.stdout.write(_('Recorded payment of %s') % invoice.number)

    def credit(self, project_id, invoice, today):
        try:
            note = issue.issue_credit_note(
                project_id, invoice, _('Usage billed twice (demo data)'),
                today=invoice.issue_date + datetime.timedelta(days=3))
        except issue.AlreadyIssued:
            return
        self.stdout.write(_('Issued credit note %(note)s for %(number)s')
                          % {'note': note.number, 'number': invoice.number})
