"""Send the invoice mail waiting in the outbox."""

from django.core.management import base

from cleura_billing_dashboard.billing import reminders
from cleura_billing_dashboard.i18n import _
from cleura_billing_dashboard import notify


def report_mail(stdout, unmailed, sending):
    """The invoices not mailed (number, project id), then ``sending``."""
    for number, project_id in unmailed:
        stdout.write(_('Not mailed: %(number)s, project %(project)s has no '
                       'verified Billing address') % {
            'number': number, 'project': project_id})
    if sending is not None:
        report_sending(stdout, sending)


def report_sending(stdout, report):
    """Write a ``notify.sender.SendReport`` for the operator."""
    for number, address in report.sent:
        stdout.write(_('Mailed %(number)s to %(address)s') % {
            'number': number, 'address': address})
    for number, address, error in report.failed:
        stdout.write(_('Not sent, will retry: %(number)s to %(address)s: '
                       '%(error)s') % {'number': number, 'address': address,
                                       'error': error})
    for number, address in report.skipped:
        stdout.write(_('Reminder not sent, %(number)s is paid: '
                       '%(address)s') % {'number': number,
                                         'address': address})
    if report.waiting:
        stdout.write(_('%d mail(s) wait for a later attempt.')
                     % report.waiting)


class Command(base.BaseCommand):
    help = _('Send pending invoice mail and payment reminders (a reminder '
             'of an invoice paid since is not sent). A mail the SMTP '
             'server does not accept stays pending and is retried by a '
             'later run, with a growing delay; a mail is sent once per '
             'address. Safe to run from cron and from several hosts at '
             'once.')

    def add_arguments(self, parser):
        parser.add_argument('--retry-now', action='store_true',
                            help=_('Also send mail whose retry delay has '
                                   'not passed yet (after fixing the mail '
                                   'server).'))

    def handle(self, *args, **options):
        report = notify.send_pending(retry_now=options['retry_now'],
                                     still_due=reminders.still_due)
        report_sending(self.stdout, report)
        if not report.sent and not report.failed and not report.skipped:
            self.stdout.write(_('No mail to send.'))
