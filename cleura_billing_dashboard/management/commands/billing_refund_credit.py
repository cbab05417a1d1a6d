"""List the projects' credit, or record that some was paid back by hand."""

from django.core.management import base

from cleura_billing_dashboard.billing import credit
from cleura_billing_dashboard import conf
from cleura_billing_dashboard.i18n import _
from cleura_billing_dashboard import money


class Command(base.BaseCommand):
    help = _('Without arguments (or with --list), list every project\'s '
             'credit. With a project and an amount, record that this much '
             'of its credit was paid back to the customer (the transfer is '
             'made by hand), so it is not also taken off its next invoice. '
             'Recording the same reference again changes nothing.')

    def add_arguments(self, parser):
        parser.add_argument('project_id', metavar='PROJECT_ID', nargs='?')
        parser.add_argument('amount', metavar='AMOUNT', nargs='?',
                            type=money.to_decimal)
        parser.add_argument('--list', action='store_true',
                            help=_('List the credit of every project.'))
        parser.add_argument('--reference',
                            help=_('Your reference of the refund (e.g. the '
                                   'bank transfer\'s); required to refund.'))
        parser.add_argument('--currency',
                            help=_('Currency of the credit to refund; '
                                   'default: [billing] currency.'))
        parser.add_argument('--reason', default='',
                            help=_('Why it is refunded, for the ledger.'))

    def handle(self, *args, **options):
        if options['list'] or options['project_id'] is None:
            if options['project_id'] is not None:
                raise base.CommandError(_('--list takes no project'))
            return self.list_credits()
        if options['amount'] is None:
            raise base.CommandError(_('Give the AMOUNT to refund'))
        if not options['reference']:
            raise base.CommandError(_('Give the refund\'s --reference'))
        currency = (options['currency'] or
                    conf.get_conf().billing.currency).upper()
        try:
            refunded = credit.refund(
                options['project_id'], options['amount'],
                reference=options['reference'], currency=currency,
                reason=options['reason'])
        except ValueError as e:
            raise base.CommandError(str(e))
        values = {
            'amount': money.format_money(-refunded.entry.amount, currency),
            'project': options['project_id'],
            'reference': options['reference'],
            'left': money.format_money(refunded.available, currency)}
        if refunded.created:
            self.stdout.write(_('Refunded %(amount)s of the credit of '
                                '%(project)s (%(reference)s); %(left)s '
                                'left') % values)
        else:
            self.stdout.write(_('Already recorded: refund of %(amount)s to '
                                '%(project)s (%(reference)s); %(left)s '
                                'left') % values)

    def list_credits(self):
        credits = credit.all_credits()
        if not credits:
            self.stdout.write(_('No project has credit.'))
            return
        for found in credits:
            self.stdout.write('%s\t%s\t%s' % (
                found.project_id, found.currency,
                money.quantize(found.amount, found.currency)))
