"""Issue the invoices of a billing period from a usage file or another
usage source (``--source``, see ``cleura_billing_dashboard.usage.sources``).
"""

import datetime
import os

from django.core.management import base
from django import db
from django.utils import timezone

from cleura_billing_dashboard.account import errors as account_errors
from cleura_billing_dashboard.account import store
from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard.i18n import _
from cleura_billing_dashboard.management.commands import billing_autopay
from cleura_billing_dashboard.management.commands import billing_send_mail
from cleura_billing_dashboard import money
from cleura_billing_dashboard import pdf
from cleura_billing_dashboard import usage as usage_mod
from cleura_billing_dashboard.usage import sources


def report(stdout, result):
    """Write an ``issue.IssueResult`` for the operator."""
    for invoice in result.issued:
        stdout.write(_('Issued %(number)s to %(project)s: %(total)s') % {
            'number': invoice.number, 'project': invoice.project_id,
            'total': money.format_money(invoice.total, invoice.currency)})
    for project_id in result.skipped:
        stdout.write(_('Skipped %(project)s: already invoiced for '
                       '%(period)s') % {'project': project_id,
                                        'period': result.period})
    for project_id, reason in result.refused:
        stdout.write(_('Not issued: %(project)s, its VAT treatment cannot '
                       'be decided: %(reason)s') % {
            'project': project_id, 'reason': reason})
    if result.completed:
        stdout.write(_('Completed %d invoice(s) an earlier run left without '
                       'their documents') % len(result.completed))
    if not result.issued and not result.refused:
        stdout.write(_('Nothing to issue: every project already has an '
                       'invoice for %s') % result.period)
    billing_send_mail.report_mail(stdout, result.unmailed, result.sending)


def _workers(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise base.CommandError(_('--workers takes a whole number of at '
                                  'least 1, not %r') % text)
    return value


class Command(base.BaseCommand):
    help = _('Issue one invoice per project for a period from a usage file '
             '(JSON or CSV, see cleura_billing_dashboard.usage) or from '
             'CloudKitty (--source cloudkitty). Projects already invoiced '
             'for the period are skipped.')

    def add_arguments(self, parser):
        parser.add_argument('--source', default='file', metavar='NAME',
                            help=_('Where the usage is read from: file '
                                   '(--usage) or cloudkitty (the rated '
                                   'usage of CloudKitty, see [cloudkitty] '
                                   'in the config file). Default: file.'))
        parser.add_argument('--usage', metavar='FILE',
                            help=_('Usage file; .json is read as JSON, '
                                   'anything else as CSV.'))
        parser.add_argument('--period', metavar='YYYY-MM',
                            help=_('Billing period; default: the file\'s, '
                                   'else the month before the issue date.'))
        parser.add_argument('--issue-date', metavar='YYYY-MM-DD',
                            type=datetime.date.fromisoformat,
                            help=_('Issue date; default: today.'))
        parser.add_argument('--workers', type=_workers, metavar='N',
                            default=os.cpu_count() or 1,
                            help=_('Processes making the invoices\' PDFs '
                                   'and e-invoices; default: the number of '
                                   'cores.'))

    def handle(self, *args, **options):
        name = options['source']
        if name == 'file' and not options['usage']:
            raise base.CommandError(_('--usage FILE is required with the '
                                      'file source.'))
        try:
            source = sources.load(name, usage=options['usage'])
        except LookupError as e:
            raise base.CommandError(str(e))
        period = options['period']
        try:
            if period:
                issue.period_bounds(period)   # a bad --period before a read
            elif source.needs_period:
                period = issue.previous_period(options['issue_date'] or
                                               timezone.localdate())
            usage = source.read(period)
            result = issue.issue_usage(
                usage, period=period, today=options['issue_date'],
                # Buyer details and Billing recipients from Keystone (None
                # when the service credentials are not configured).
                accounts=store.account_reader(),
                workers=options['workers'])
        except usage_mod.UsageError as e:
            for problem in e.problems:
                self.stderr.write(str(problem))
            if name == 'file':
                raise base.CommandError(
                    _('%d problem(s) in the usage file; nothing was '
                      'issued.') % len(e.problems))
            raise base.CommandError(
                _('%(count)d problem(s) in the usage from %(source)s; '
                  'nothing was issued.') % {'count': len(e.problems),
                                            'source': name})
        except (ValueError, store.Unavailable, pdf.FontsMissing,
                account_errors.AccountError) as e:
            raise base.CommandError(str(e))
        except db.DatabaseError as e:
            # Each invoice commits on its own: the ones before the failure
            # are whole, the one it hit was rolled back with its number.
            raise base.CommandError(
                _('The billing database cannot be reached (%s). The '
                  'invoices issued before this are kept; run the command '
                  'again to issue the rest.') % str(e).strip())
        report(self.stdout, result)
        if result.issued:
            # Projects paying automatically: charged now, not at next cron.
            billing_autopay.run(self.stdout, store.account_reader(),
                                quiet=True)
