"""Sample invoices, payments and a credit note for the demo projects."""

from django.core.management import base
from django.utils import timezone

from cleura_billing_dashboard.account import store
from cleura_billing_dashboard.billing import demo
from cleura_billing_dashboard.i18n import _
from cleura_billing_dashboard.management.commands import billing_issue


class Command(base.BaseCommand):
    help = _('Issue sample invoices, payments and a credit note for the '
             'demo projects (PROJECT_ID ...; the first gets 14 months).')

    def add_arguments(self, parser):
        parser.add_argument('project_ids', nargs='+', metavar='PROJECT_ID')
        parser.add_argument(
            '--with-credit', action='store_true',
            help=_('Overpay the first project\'s last paid invoice by %s, '
                   'leaving it that credit.') % demo.OVERPAYMENT)

    def handle(self, *args, **options):
        for step in demo.issue_demo_history(
                options['project_ids'], today=timezone.localdate(),
                accounts=store.account_reader(),
                credit=options['with_credit']):
            if step.kind == demo.ISSUED:
                billing_issue.report(self.stdout, step.result)
            elif step.kind == demo.PAID:
                self.stdout.write(_('Recorded payment of %s')
                                  % step.invoice.number)
            elif step.kind == demo.OVERPAID:
                self.stdout.write(
                    _('Recorded an overpayment of %(amount)s on %(number)s')
                    % {'amount': demo.OVERPAYMENT,
                       'number': step.invoice.number})
            else:
                self.stdout.write(
                    _('Issued credit note %(note)s for %(number)s')
                    % {'note': step.note.number,
                       'number': step.invoice.number})
