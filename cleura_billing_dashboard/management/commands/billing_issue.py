"""Issue the invoices of a billing period from a usage file."""

import datetime

from django.core.management import base
from django.utils import timezone

from cleura_billing_dashboard.account import errors as account_errors
from cleura_billing_dashboard.api import account as account_api
from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard.i18n import _
from cleura_billing_dashboard.management.commands import billing_send_mail
from cleura_billing_dashboard import money
from cleura_billing_dashboard import notify
from cleura_billing_dashboard import usage as usage_mod


class Command(base.BaseCommand):
    help = _('Issue one invoice per project for a period from a usage file '
             '(JSON or CSV, see cleura_billing_dashboard.usage). Projects '
             'already invoiced for the period are skipped.')

    def add_arguments(self, parser):
        parser.add_argument('--usage', required=True, metavar='FILE',
                            help=_('Usage file; .json is read as JSON, '
                                   'anything else as CSV.'))
        parser.add_argument('--period', metavar='YYYY-MM',
                            help=_('Billing period; default: the file\'s, '
                                   'else the month before the issue date.'))
        parser.add_argument('--issue-date', metavar='YYYY-MM-DD',
                            type=datetime.date.fromisoformat,
                            help=_('Issue date; default: today.'))

    def handle(self, *args, **options):
        try:
            usage = usage_mod.load_usage(options['usage'])
        except usage_mod.UsageError as e:
            for problem in e.problems:
                self.stderr.write(str(problem))
            raise base.CommandError(
                _('%d problem(s) in the usage file; nothing was issued.')
                % len(e.problems))
        today = options['issue_date'] or timezone.localdate()
        period = (options['period'] or usage.period or
                  issue.previous_period(today))
        # Buyer details and Billing recipients from Keystone (None when the
        # service credentials are not configured).
        hooks = account_api.invoice_mail_hooks()
        try:
            result = issue.issue_invoices_for_period(
                usage, period, today=today,
                buyer_lookup=hooks.buyer_lookup if hooks else None,
                notify=hooks.notify if hooks else None)
        except (ValueError, account_api.Error,
                account_errors.AccountError) as e:
            raise base.CommandError(str(e))
        for invoice in result.issued:
            self.stdout.write(_('Issued %(number)s to %(project)s: '
                                '%(total)s') % {
                'number': invoice.number, 'project': invoice.project_id,
                'total': money.format_money(invoice.total, invoice.currency)})
        for project_id in result.skipped:
            self.stdout.write(_('Skipped %(project)s: already invoiced for '
                                '%(period)s') % {'project': project_id,
                                                 'period': period})
        if not result.issued:
            self.stdout.write(_('Nothing to issue: every project already '
                                'has an invoice for %s') % period)
        for number, project_id in (hooks.unmailed if hooks else []):
            self.stdout.write(_('Not mailed: %(number)s, project %(project)s '
                                'has no verified Billing address') % {
                'number': number, 'project': project_id})
        if hooks and hooks.queued:
            billing_send_mail.report_sending(self.stdout,
                                             notify.send_pending())
