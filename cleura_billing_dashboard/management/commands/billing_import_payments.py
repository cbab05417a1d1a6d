"""Record bank transfers from an ISO 20022 camt.054 or camt.053 file."""

from django.core.management import base
from django import db

from cleura_billing_dashboard.i18n import _
from cleura_billing_dashboard import money
from cleura_billing_dashboard.payments import bank_import
from cleura_billing_dashboard.payments import camt


class Command(base.BaseCommand):
    help = _('Record the incoming payments of a bank\'s camt.054 (or '
             'camt.053) file, matched to invoices by OCR reference. '
             'Entries matching no invoice, or several, are listed and not '
             'recorded. Importing a file again records nothing twice.')

    def add_arguments(self, parser):
        parser.add_argument('file', metavar='FILE',
                            help=_('The camt.054 or camt.053 XML file.'))

    def handle(self, *args, **options):
        try:
            with open(options['file'], 'rb') as f:
                data = f.read()
        except OSError as e:
            raise base.CommandError(str(e))
        try:
            report = bank_import.import_payments(data)
        except camt.InvalidEntries as e:
            # Each entry on its own line; refused before anything was
            # written, so the file can be fixed and imported again.
            raise base.CommandError(_('%(file)s was not imported, nothing '
                                      'was recorded: %(error)s')
                                    % {'file': options['file'], 'error': e})
        except camt.CamtError as e:
            raise base.CommandError(_('%(file)s was not imported: %(error)s')
                                    % {'file': options['file'], 'error': e})
        except db.DatabaseError as e:
            raise base.CommandError(_('%(file)s was not imported, nothing '
                                      'was recorded: %(error)s')
                                    % {'file': options['file'], 'error': e})
        for line in report.lines:
            self._report(line)
        self.stdout.write(_(
            '%(kind)s: %(recorded)d recorded, %(already)d already recorded, '
            '%(unmatched)d unmatched, %(ambiguous)d ambiguous, %(conflict)d '
            'in conflict, %(skipped)d skipped') % {
                'kind': report.kind,
                'recorded': report.count(bank_import.RECORDED),
                'already': report.count(bank_import.ALREADY_RECORDED),
                'unmatched': report.count(bank_import.UNMATCHED),
                'ambiguous': report.count(bank_import.AMBIGUOUS),
                'conflict': report.count(bank_import.CONFLICT),
                'skipped': report.count(bank_import.SKIPPED)})

    def _report(self, line):
        transfer = line.transfer
        values = {
            'amount': money.format_money(transfer.amount, transfer.currency)
            if transfer.currency else transfer.amount,
            'bank_reference': transfer.bank_reference or '-',
            'numbers': ', '.join(line.numbers),
            'reason': line.reason,
            'debtor': transfer.debtor or '-',
            'references': ', '.join(transfer.structured +
                                    transfer.unstructured) or '-',
        }
        if line.outcome == bank_import.RECORDED:
            self.stdout.write(_('Recorded %(amount)s on %(numbers)s (bank '
                                'reference %(bank_reference)s)') % values)
        elif line.outcome == bank_import.ALREADY_RECORDED:
            self.stdout.write(_('Already recorded: %(amount)s on '
                                '%(numbers)s (bank reference '
                                '%(bank_reference)s)') % values)
        elif line.outcome == bank_import.SKIPPED:
            self.stdout.write(_('Skipped %(amount)s (bank reference '
                                '%(bank_reference)s): %(reason)s') % values)
        else:
            self.stderr.write({
                bank_import.UNMATCHED: _('Unmatched'),
                bank_import.AMBIGUOUS: _('Ambiguous'),
                bank_import.CONFLICT: _('Conflict'),
            }[line.outcome] + ': ' + _(
                '%(amount)s from %(debtor)s, bank reference '
                '%(bank_reference)s, references %(references)s: '
                '%(reason)s; not recorded') % values)
        recorded = line.recorded
        if recorded and recorded.created and recorded.credit:
            self.stdout.write(_('Credit: %(number)s is overpaid by '
                                '%(credit)s; kept as the customer\'s '
                                'credit') % {
                'number': line.numbers[0],
                'credit': money.format_money(recorded.credit,
                                             transfer.currency)})
        elif recorded and recorded.created and recorded.outstanding:
            self.stdout.write(_('Part payment: %(outstanding)s of '
                                '%(number)s is still outstanding') % {
                'number': line.numbers[0],
                'outstanding': money.format_money(recorded.outstanding,
                                                  transfer.currency)})
