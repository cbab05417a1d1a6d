"""Write the e-invoices of a billing period into a folder, once each."""

import re

from django.core.management import base

from cleura_billing_dashboard.billing import einvoices
from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard.i18n import _


class Command(base.BaseCommand):
    help = _('Write the Peppol BIS 3.0 UBL e-invoice of every invoice and '
             'credit note of a billing period into a folder as '
             '<number>.xml, for an access point to send. A file already '
             'there is never overwritten.')

    def add_arguments(self, parser):
        parser.add_argument('--period', required=True, metavar='YYYY-MM',
                            help=_('Billing period of the invoices.'))
        parser.add_argument('--to', required=True, metavar='DIR',
                            dest='directory',
                            help=_('Folder to write to; created if '
                                   'missing.'))

    def handle(self, *args, **options):
        period = options['period']
        try:
            if not re.fullmatch(r'[0-9]{4}-[0-9]{2}', period):
                raise ValueError(period)
            period_start, _end = issue.period_bounds(period)
        except ValueError:
            raise base.CommandError(
                _('A period is a month as YYYY-MM (2026-10), not %r.')
                % period)
        try:
            done = einvoices.export_period_ubl(period_start,
                                               options['directory'])
        except (einvoices.EInvoiceError, OSError) as e:
            raise base.CommandError(str(e))
        if not done:
            self.stdout.write(_('No invoices for %s: nothing written.')
                              % period)
        different = []
        for number, path, outcome in done:
            values = {'number': number, 'path': path}
            if outcome == einvoices.WRITTEN:
                self.stdout.write(_('Wrote %(path)s') % values)
            elif outcome == einvoices.ALREADY_EXPORTED:
                self.stdout.write(_('Already exported: %(path)s') % values)
            else:
                different.append(path)
                self.stderr.write(_('Not written: %(path)s exists with '
                                    'other content than the stored '
                                    'e-invoice of %(number)s') % values)
        if different:
            raise base.CommandError(
                _('%d file(s) in the folder differ from the stored '
                  'e-invoices and were left as they are.') % len(different))
