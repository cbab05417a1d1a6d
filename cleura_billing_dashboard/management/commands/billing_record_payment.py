"""Record a settled payment against an invoice (manual or demo data)."""

import uuid

from django.core.management import base

from cleura_billing_dashboard.billing import ledger
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard.i18n import _
from cleura_billing_dashboard import money


class Command(base.BaseCommand):
    help = _('Record a settled payment on an invoice. Recording the same '
             'provider reference again changes nothing.')

    def add_arguments(self, parser):
        parser.add_argument('number', metavar='INVOICE_NUMBER')
        parser.add_argument('amount', metavar='AMOUNT',
                            type=money.to_decimal)
        parser.add_argument('--reference',
                            help=_('The provider\'s reference of the '
                                   'payment; default: a new one.'))
        parser.add_argument('--provider', default='manual')

    def handle(self, *args, **options):
        reference = options['reference'] or uuid.uuid4().hex
        try:
            invoice = Invoice.objects.get(number=options['number'])
            recorded = ledger.record_payment(
                invoice, options['amount'], provider=options['provider'],
                reference=reference)
        except Invoice.DoesNotExist:
            raise base.CommandError(_('No invoice numbered %s')
                                    % options['number'])
        except ValueError as e:
            raise base.CommandError(str(e))
        payment = recorded.payment
        values = {'amount': money.format_money(payment.amount,
                                               payment.currency),
                  'number': invoice.number, 'provider': payment.provider,
                  'reference': payment.provider_reference}
        if recorded.created:
            self.stdout.write(_('Recorded %(amount)s on %(number)s '
                                '(%(provider)s %(reference)s)') % values)
        else:
            self.stdout.write(_('Already recorded: %(amount)s on %(number)s '
                                '(%(provider)s %(reference)s)') % values)
