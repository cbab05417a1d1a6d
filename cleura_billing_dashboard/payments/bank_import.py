"""Recording bank transfers from a camt.054 or camt.053 file.

Each incoming payment is matched to an invoice by its OCR reference: the
structured creditor references if the payer gave any, else the OCR numbers
written in the free-text lines. The currency must be the invoice's. An
entry matching no invoice, or more than one, is reported and not recorded:
nothing is guessed. Amounts are recorded as paid: a part leaves the rest
outstanding, more than is due is the customer's credit (reported).

The whole file is one transaction: it is recorded entirely or not at all,
and importing it again records nothing twice (``camt.Transfer.reference``
is the payment's provider reference). Every entry is checked before
anything is written: one amount that cannot be recorded (not a number,
not above zero, finer than the currency's minor unit...) refuses the whole
file, each such entry named (``camt.InvalidEntries``).
"""

import dataclasses
import re

from django.db import transaction

from cleura_billing_dashboard.billing import ledger
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard.billing import ocr
from cleura_billing_dashboard.i18n import _
from cleura_billing_dashboard.payments import bank_transfer
from cleura_billing_dashboard.payments import camt

PROVIDER = bank_transfer.NAME
_DIGITS = re.compile(r'\d(?:[\d ]*\d)?')

RECORDED = 'recorded'
ALREADY_RECORDED = 'already_recorded'
UNMATCHED = 'unmatched'
AMBIGUOUS = 'ambiguous'
SKIPPED = 'skipped'
CONFLICT = 'conflict'


@dataclasses.dataclass(frozen=True)
class Line:
    """What became of one transfer.

    ``outcome`` is one of the module's constants; ``numbers`` the invoice
    numbers it matched; ``recorded`` a ``ledger.Recorded`` when it was
    recorded now or before; ``reason`` says why it was not recorded.
    """

    transfer: camt.Transfer
    outcome: str
    numbers: tuple = ()
    recorded: ledger.Recorded = None
    reason: str = ''


@dataclasses.dataclass(frozen=True)
class Report:
    """Every transfer of the file in order, and the message kind."""

    kind: str
    lines: tuple

    def count(self, outcome):
        return sum(1 for line in self.lines if line.outcome == outcome)


def ocr_candidates(transfer):
    """The valid OCR references a transfer names, most reliable first.

    The structured creditor references when any is a valid OCR, else the
    digit groups of the free-text lines (spaces inside a group ignored).
    """
    structured = [ref.replace(' ', '') for ref in transfer.structured]
    found = [ref for ref in structured if ocr.is_valid_ocr(ref)]
    if found:
        return tuple(dict.fromkeys(found))
    for line in transfer.unstructured:
        for group in _DIGITS.findall(line):
            for digits in [group.replace(' ', '')] + group.split():
                if ocr.is_valid_ocr(digits):
                    found.append(digits)
    return tuple(dict.fromkeys(found))


def _match(transfer):
    candidates = ocr_candidates(transfer)
    if not candidates:
        return Line(transfer, UNMATCHED, reason=_('no OCR reference'))
    invoices = list(Invoice.objects.filter(
        type=Invoice.INVOICE, payment_reference__in=candidates)
        .only('pk', 'number', 'currency').order_by('number'))
    numbers = tuple(invoice.number for invoice in invoices)
    if not invoices:
        return Line(transfer, UNMATCHED,
                    reason=_('no invoice has OCR %s')
                    % ', '.join(candidates))
    if len(invoices) > 1:
        return Line(transfer, AMBIGUOUS, numbers,
                    reason=_('OCR references of several invoices'))
    invoice = invoices[0]
    if transfer.currency != invoice.currency:
        return Line(transfer, UNMATCHED, numbers,
                    reason=_('paid in %(paid)s, invoice %(number)s is in '
                             '%(currency)s') % {
                        'paid': transfer.currency, 'number': invoice.number,
                        'currency': invoice.currency})
    try:
        recorded = ledger.record_payment(
            invoice.pk, transfer.amount, provider=PROVIDER,
            reference=transfer.reference, currency=transfer.currency)
    except ledger.PaymentConflict as e:
        return Line(transfer, CONFLICT, numbers, reason=str(e))
    except ValueError as e:
        return Line(transfer, SKIPPED, numbers, reason=str(e))
    return Line(transfer, RECORDED if recorded.created else ALREADY_RECORDED,
                numbers, recorded)


def _skip_reason(transfer):
    if not transfer.credit:
        return _('not a credit to the account')
    if transfer.reversal:
        return _('a reversal')
    if not transfer.booked:
        return _('not booked yet')
    if not transfer.bank_reference:
        return _('no bank reference to record it by')
    return None


def import_payments(data):
    """Record the incoming payments of a camt.054/053 file: a ``Report``.

    Raises ``camt.CamtError`` for a file that cannot be read, and its
    ``camt.InvalidEntries`` for one with amounts that cannot be recorded
    (both before anything is written), and lets database errors through
    (nothing is recorded).
    """
    message = camt.parse(data)
    lines = []
    with transaction.atomic():
        for transfer in message.transfers:
            reason = _skip_reason(transfer)
            if reason:
                lines.append(Line(transfer, SKIPPED, reason=reason))
            else:
                lines.append(_match(transfer))
    return Report(kind=message.kind, lines=tuple(lines))
