"""Credit an issued invoice in full with a credit note, and mail it."""

from django.core.management import base

from cleura_billing_dashboard.account import store
from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard.i18n import _
from cleura_billing_dashboard import money
from cleura_billing_dashboard import notify as notify_mail


class Command(base.BaseCommand):
    help = _('Credit an issued invoice in full: a credit note with its '
             'lines negated, its PDF and e-invoice, mailed like an invoice. '
             'An invoice is credited once.')

    def add_arguments(self, parser):
        parser.add_argument('number', metavar='INVOICE_NUMBER')
        parser.add_argument('--reason', required=True,
                            help=_('Why the invoice is credited; printed on '
                                   'the credit note.'))

    def handle(self, *args, **options):
        number = options['number']
        reason = options['reason'].strip()
        if not reason or len(reason) > 255:
            raise base.CommandError(_('Give a reason of 1 to 255 '
                                      'characters.'))
        try:
            invoice = Invoice.objects.defer('pdf').get(number=number)
        except Invoice.DoesNotExist:
            raise base.CommandError(_('No invoice numbered %s') % number)
        accounts = store.account_reader()
        mail = issue.InvoiceMail(accounts) if accounts is not None else None
        try:
            note = issue.issue_credit_note(
                invoice.project_id, invoice, reason,
                notify=mail.notify if mail else None)
        except issue.AlreadyIssued:
            raise base.CommandError(_('%s is already credited.') % number)
        except ValueError as e:   # a credit note, or no e-invoice possible
            raise base.CommandError(str(e))
        self.stdout.write(_('Issued credit note %(note)s for %(number)s: '
                            '%(total)s') % {
            'note': note.number, 'number': number,
            'total': money.format_money(note.total, note.currency)})
        if mail is not None and mail.queued:
            notify_mail.send_pending()
        for unmailed, project_id in (mail.unmailed if mail else []):
            self.stdout.write(_('Not mailed: %(number)s, project %(project)s '
                                'has no verified Billing address') % {
                'number': unmailed, 'project': project_id})
