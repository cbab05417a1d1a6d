"""Sample invoices for the demo, issued the way ``billing_issue`` issues.

For the first project: 14 months of invoices, most paid, the last two
outstanding, the one before them overdue and one credited by a credit note;
with ``credit``, its last paid invoice was paid SEK 250.00 too much, a
credit the panel shows and the next invoice issued takes off its amount
due. For the others: the
last three months, the oldest paid. Dates are relative to today, so the
statuses hold whenever the demo runs. Running it again
issues and records nothing twice. Payments go through the ledger like any
other (provider ``manual``, reference ``demo-<number>``).
"""

import dataclasses
import datetime
import decimal
import json
import os
import tempfile

from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard.billing import ledger
from cleura_billing_dashboard.billing import models
from cleura_billing_dashboard.i18n import _

PRODUCTS = [
    # product, description, region, unit, unit price, base quantity
    ('compute.b.2c4gb', 'Instance b.2c4gb', 'Sto2', 'h', '0.3120', 744),
    ('compute.b.4c8gb', 'Instance b.4c8gb', 'Kna1', 'h', '0.6240', 372),
    ('volume.ssd', 'Block storage, SSD', 'Sto2', 'GB-month', '1.20', 250),
    ('objects', 'Object storage (Swift)', 'Kna1', 'GB-month', '0.25', 900),
    ('network.fip', 'Floating IP', 'Sto2', 'h', '0.0070', 1488),
]
FIRST_PROJECT_MONTHS = 14
OTHER_PROJECT_MONTHS = 3

ISSUED = 'issued'
PAID = 'paid'
CREDITED = 'credited'
OVERPAID = 'overpaid'
#: Paid beyond the first project's last paid invoice: its credit.
OVERPAYMENT = '250.00'


@dataclasses.dataclass(frozen=True)
class Step:
    """One thing the demo data did: ``kind`` and what it made.

    ``result`` is the ``issue.IssueResult`` of an issuing run; ``invoice``
    the invoice paid, overpaid or credited; ``note`` the credit note.
    """

    kind: str
    result: issue.IssueResult = None
    invoice: models.Invoice = None
    note: models.Invoice = None


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


def issue_demo_history(project_ids, *, today, accounts=None, credit=False):
    """Issue, pay and credit the sample invoices: yields each ``Step``.

    ``accounts`` is the account reader ``issue.issue_usage_file`` takes;
    ``credit`` overpays the first project's last paid invoice (module doc).
    """
    first, *others = project_ids
    with tempfile.TemporaryDirectory() as workdir:
        yield from _history(first, FIRST_PROJECT_MONTHS, today, workdir,
                            accounts)
        # After all of the first project's invoices are issued, so the
        # credit is still there to be seen (and used by the next one).
        step = _overpay(first) if credit else None
        if step:
            yield step
        for project_id in others:
            yield from _history(project_id, OTHER_PROJECT_MONTHS, today,
                                workdir, accounts)


def _issue_date(today, year, month, from_end):
    if from_end == 1:  # last month
        return today
    if from_end == 2:
        return today - datetime.timedelta(days=20)
    if month == 12:
        return datetime.date(year + 1, 1, 1)
    return datetime.date(year, month + 1, 1)


def _history(project_id, count, today, workdir, accounts):
    for index, (year, month) in enumerate(months_before(today, count)):
        from_end = count - index  # 1 is last month
        period = '%04d-%02d' % (year, month)
        path = os.path.join(workdir, '%s-%s.json' % (project_id, period))
        with open(path, 'w') as f:
            json.dump({'projects': [{'project_id': project_id,
                                     'lines': usage_lines(index)}]}, f)
        yield Step(ISSUED, result=issue.issue_usage_file(
            path, period=period,
            today=_issue_date(today, year, month, from_end),
            accounts=accounts))
        invoice = models.Invoice.objects.get(
            project_id=project_id, type=models.Invoice.INVOICE,
            period_start=issue.period_bounds(period)[0])
        if count >= 6 and from_end == 6:
            step = _credit(project_id, invoice)
        elif from_end > 3 or (count < 6 and from_end == count):
            step = _pay(invoice)
        else:
            step = None
        if step:
            yield step


def _pay(invoice):
    recorded = ledger.record_payment(
        invoice, invoice.total, provider='manual',
        reference='demo-%s' % invoice.number)
    return Step(PAID, invoice=invoice) if recorded.created else None


def _overpay(project_id):
    last_paid = models.Invoice.objects.filter(
        project_id=project_id, type=models.Invoice.INVOICE,
        payments__provider_reference__startswith='demo-',
    ).order_by('-number').first()
    if last_paid is None:
        return None
    recorded = ledger.record_payment(
        last_paid, decimal.Decimal(OVERPAYMENT), provider='manual',
        reference='demo-extra-%s' % last_paid.number)
    return Step(OVERPAID, invoice=last_paid) if recorded.created else None


def _credit(project_id, invoice):
    try:
        note = issue.issue_credit_note(
            project_id, invoice, _('Usage billed twice (demo data)'),
            today=invoice.issue_date + datetime.timedelta(days=3))
    except issue.AlreadyIssued:
        return None
    return Step(CREDITED, invoice=invoice, note=note)
