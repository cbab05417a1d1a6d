"""Charge unpaid invoices to saved cards (after issuing, daily from cron)."""

from django.core.management import base
from oslo_config import cfg

from cleura_billing_dashboard.account import errors as account_errors
from cleura_billing_dashboard.account import store
from cleura_billing_dashboard.i18n import _
from cleura_billing_dashboard.management.commands import billing_send_mail
from cleura_billing_dashboard.payments import autopay


def report(stdout, result, quiet=False):
    """Write an ``autopay.AutopayResult`` for the operator.

    ``quiet``: nothing when nothing was charged.
    """
    for number, attempt, intent in result.charged:
        stdout.write(_('Charged %(number)s to the saved card (attempt '
                       '%(attempt)d, %(intent)s); paid when Stripe '
                       'confirms it') % {'number': number,
                                         'attempt': attempt,
                                         'intent': intent})
    for number, attempt, code, when in result.failed:
        if when:
            stdout.write(_('Card payment of %(number)s failed (attempt '
                           '%(attempt)d, %(code)s); next attempt after '
                           '%(when)s') % {'number': number,
                                          'attempt': attempt, 'code': code,
                                          'when': when.isoformat()})
        else:
            stdout.write(_('Card payment of %(number)s failed (attempt '
                           '%(attempt)d, %(code)s); no more attempts') % {
                'number': number, 'attempt': attempt, 'code': code})
    for number, attempt, message in result.errors:
        stdout.write(_('Card payment of %(number)s not made (attempt '
                       '%(attempt)d): %(error)s; tried again next run') % {
            'number': number, 'attempt': attempt, 'error': message})
    billing_send_mail.report_mail(stdout, result.unmailed, result.sending)
    if not (result.charged or result.failed or result.errors or quiet):
        stdout.write(_('No invoice to charge to a saved card.'))


def run(stdout, accounts, quiet=False):
    """Charge what is due and report it; for this and billing_issue."""
    report(stdout, autopay.charge_due_invoices(accounts), quiet)


class Command(base.BaseCommand):
    help = _('Charge the unpaid invoices of projects with automatic card '
             'payments to their saved card, off-session through Stripe, '
             'once per invoice and attempt; an invoice shows as paid when '
             'Stripe\'s webhook confirms the payment. A declined card is '
             'mailed to the Billing contacts with a link to pay by hand '
             'and charged again after [autopay] retry_days. Run it daily '
             'from cron (billing_issue runs it too); safe to run again and '
             'from several hosts at once.')

    def handle(self, *args, **options):
        try:
            run(self.stdout, store.account_reader())
        except (cfg.Error, ValueError, store.Unavailable,
                account_errors.AccountError) as e:
            raise base.CommandError(str(e))
