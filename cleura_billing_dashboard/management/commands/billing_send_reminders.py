"""Mail the payment reminders due today (run daily from cron)."""

import datetime

from django.core.management import base
from oslo_config import cfg

from cleura_billing_dashboard.account import errors as account_errors
from cleura_billing_dashboard.account import store
from cleura_billing_dashboard.billing import reminders
from cleura_billing_dashboard.i18n import _
from cleura_billing_dashboard.management.commands import billing_send_mail


def report(stdout, result):
    """Write a ``reminders.ReminderResult`` for the operator."""
    for number, step, address in result.queued:
        stdout.write(_('Queued reminder %(step)+d days of %(number)s to '
                       '%(address)s') % {'step': step, 'number': number,
                                         'address': address})
    for number, project_id in result.unmailed:
        stdout.write(_('No reminder: %(number)s, project %(project)s has '
                       'no verified Billing address') % {
            'number': number, 'project': project_id})
    if result.sending is not None:
        billing_send_mail.report_sending(stdout, result.sending)
        sending = result.sending
        if not (result.queued or sending.sent or sending.failed or
                sending.skipped):
            stdout.write(_('No reminder due on %s.')
                         % result.today.isoformat())


class Command(base.BaseCommand):
    help = _('Mail the payment reminders due on a date: for each unpaid '
             'invoice, the latest step of [reminders] schedule whose day '
             'has come, once per invoice, step and verified Billing '
             'address; then send the outbox. Run it daily from cron; safe '
             'to run again and from several hosts at once.')

    def add_arguments(self, parser):
        parser.add_argument('--date', metavar='YYYY-MM-DD',
                            type=datetime.date.fromisoformat,
                            help=_('The day to remind for; default: '
                                   'today.'))

    def handle(self, *args, **options):
        accounts = store.account_reader()
        if accounts is None:
            raise base.CommandError(_('[keystone_service] is not '
                                      'configured: the Billing addresses '
                                      'cannot be read, no reminder is '
                                      'sent.'))
        try:
            result = reminders.send_reminders(accounts,
                                              today=options['date'])
        except (cfg.Error, ValueError, store.Unavailable,
                account_errors.AccountError) as e:
            raise base.CommandError(str(e))
        report(self.stdout, result)
