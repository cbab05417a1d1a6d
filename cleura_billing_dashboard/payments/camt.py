"""Reading ISO 20022 bank-to-customer messages: camt.054 and camt.053.

``parse(data)`` returns every transaction of a debit/credit notification
(camt.054) or an account statement (camt.053) as a ``Transfer``. Elements
are matched on local names, so every version of the schemas (001.02 to
001.13 and the banks' variants) reads the same. defusedxml is used when it
is installed; the stdlib parser does not fetch external entities either.

Every amount is checked while the message is read, before anyone records
anything (``money.payment_amount_problem``: a finite amount above zero, in
the currency's minor units); a message with any amount that is not is
refused whole with ``InvalidEntries``, which names each such transaction.
"""

import dataclasses
import decimal
import hashlib

from cleura_billing_dashboard.i18n import _
from cleura_billing_dashboard import money

try:
    from defusedxml import ElementTree
except ImportError:  # the stdlib parser does not resolve external entities
    from xml.etree import ElementTree

CREDIT = 'CRDT'
BOOKED = 'BOOK'
NOT_PROVIDED = 'NOTPROVIDED'
_MESSAGES = {'BkToCstmrDbtCdtNtfctn': ('camt.054', 'Ntfctn'),
             'BkToCstmrStmt': ('camt.053', 'Stmt'),
             'BkToCstmrAcctRpt': ('camt.052', 'Rpt')}


class CamtError(ValueError):
    """The data is not a camt.052/053/054 message this module can read."""


class InvalidEntries(CamtError):
    """Transactions whose amount cannot be recorded; the message is refused.

    ``problems`` holds one ``(position, bank reference, reason)`` per such
    transaction, in the file's order: the position is the entry's number
    (from 1, across the message), with the transaction's number when the
    entry holds several (``11, transaction 2``).
    """

    def __init__(self, problems):
        self.problems = tuple(problems)
        super().__init__(self.problems)

    def __str__(self):
        return '\n  '.join(
            [_('entries with an amount that cannot be recorded:')] +
            [_('entry %(position)s (bank reference %(reference)s): '
               '%(reason)s') % {'position': position,
                                'reference': reference, 'reason': reason}
             for position, reference, reason in self.problems])


class _BadAmount(Exception):
    def __init__(self, bank_reference, reason):
        super().__init__(reason)
        self.bank_reference = bank_reference
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class Transfer:
    """One transaction of an entry, as the bank reported it.

    ``reference`` is stable across imports of the same transaction, also
    from a camt.054 and the camt.053 that repeats it: the bank's reference
    (``bank_reference``, the first of the transaction's and the entry's
    ``AcctSvcrRef``, the entry's ``NtryRef``, the transaction's
    ``EndToEndId`` and ``TxId``) and a digest of the transaction's amount,
    currency, booking date and remittance references. ``structured``
    holds the creditor references (``RmtInf/Strd/CdtrRefInf/Ref``),
    ``unstructured`` the free-text remittance lines (``Ustrd``).
    """

    bank_reference: str
    reference: str
    amount: decimal.Decimal
    currency: str
    credit: bool
    booked: bool
    reversal: bool
    booking_date: str
    structured: tuple
    unstructured: tuple
    debtor: str

    @property
    def is_incoming_payment(self):
        """A booked credit that is not a reversal."""
        return self.credit and self.booked and not self.reversal


@dataclasses.dataclass(frozen=True)
class Message:
    """A parsed message: its kind (``camt.054``...), id and transfers."""

    kind: str
    message_id: str
    transfers: tuple


def _local(tag):
    return tag.rsplit('}', 1)[-1]


def _children(element, name):
    return [child for child in element if _local(child.tag) == name]


def _find(element, *path):
    """The first element at ``path`` (local names) below ``element``."""
    for name in path:
        if element is None:
            return None
        found = _children(element, name)
        element = found[0] if found else None
    return element


def _findall(element, *path):
    """Every element at ``path`` (local names) below ``element``."""
    elements = [element]
    for name in path:
        elements = [child for parent in elements
                    for child in _children(parent, name)]
    return elements


def _text(element, *path):
    found = _find(element, *path)
    return (found.text or '').strip() if found is not None else ''


def _amount(element):
    """``(text, currency)`` of an ``Amt`` element, or ``(None, '')``."""
    if element is None or not (element.text or '').strip():
        return None, ''
    return element.text.strip(), (element.get('Ccy') or '').strip().upper()


def _status(entry):
    # <Sts>BOOK</Sts> before version 08, <Sts><Cd>BOOK</Cd></Sts> after.
    return _text(entry, 'Sts', 'Cd') or _text(entry, 'Sts')


def _transfer(entry, details, index, shared):
    refs = _find(details, 'Refs')
    candidates = [_text(refs, 'AcctSvcrRef'), _text(entry, 'AcctSvcrRef'),
                  _text(entry, 'NtryRef'), _text(refs, 'EndToEndId'),
                  _text(refs, 'TxId')]
    bank_reference = next((ref for ref in candidates
                           if ref and ref.upper() != NOT_PROVIDED), '')
    amount, currency = (None, '')
    if details is not None:
        amount, currency = _amount(_find(details, 'AmtDtls', 'TxAmt', 'Amt'))
        if amount is None:
            amount, currency = _amount(_find(details, 'Amt'))
    if amount is None and not shared:
        amount, currency = _amount(_find(entry, 'Amt'))
    problem = money.payment_amount_problem(amount, currency)
    if problem:
        raise _BadAmount(bank_reference, problem)
    amount = decimal.Decimal(amount)
    remittance = _findall(details, 'RmtInf') if details is not None else []
    structured = tuple(
        ref.text.strip() for info in remittance
        for ref in _findall(info, 'Strd', 'CdtrRefInf', 'Ref')
        if (ref.text or '').strip())
    unstructured = tuple(
        line.text.strip() for info in remittance
        for line in _findall(info, 'Ustrd') if (line.text or '').strip())
    booking_date = (_text(entry, 'BookgDt', 'Dt') or
                    _text(entry, 'BookgDt', 'DtTm')[:10])
    debtor = (_text(details, 'RltdPties', 'Dbtr', 'Nm') or
              _text(details, 'RltdPties', 'Dbtr', 'Pty', 'Nm'))
    indicator = (_text(details, 'CdtDbtInd') or
                 _text(entry, 'CdtDbtInd')).upper()
    # A reference the entry shares with its other transactions needs the
    # transaction's place in the entry to tell them apart.
    own_reference = bool(_text(refs, 'AcctSvcrRef'))
    composite = '|'.join([bank_reference, str(amount), currency,
                          booking_date, ','.join(structured),
                          ','.join(unstructured),
                          '' if own_reference or not shared else str(index)])
    digest = hashlib.sha256(composite.encode('utf-8')).hexdigest()[:16]
    return Transfer(
        bank_reference=bank_reference,
        reference='%s:%s' % (bank_reference[:80], digest),
        amount=amount, currency=currency,
        credit=indicator == CREDIT,
        booked=_status(entry).upper() == BOOKED,
        reversal=_text(entry, 'RvslInd').lower() == 'true',
        booking_date=booking_date, structured=structured,
        unstructured=unstructured, debtor=debtor)


def parse(data):
    """The ``Message`` in ``data`` (bytes or str of XML).

    Raises ``CamtError`` when it is not XML or not a camt.052/053/054
    bank-to-customer message, and its ``InvalidEntries`` when any
    transaction has no amount or one that cannot be recorded (see the
    module doc): after reading them all, naming each.
    """
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as e:
        raise CamtError('not XML: %s' % e)
    except Exception as e:  # defusedxml refuses entities and DTDs
        raise CamtError('refused XML: %s' % e)
    if _local(root.tag) == 'Document' and len(root):
        root = root[0]
    if _local(root.tag) not in _MESSAGES:
        raise CamtError('not a camt.052/053/054 message: <%s>'
                        % _local(root.tag))
    kind, report_name = _MESSAGES[_local(root.tag)]
    transfers = []
    problems = []
    entries = [entry for report in _children(root, report_name)
               for entry in _children(report, 'Ntry')]
    for number, entry in enumerate(entries, 1):
        details = _findall(entry, 'NtryDtls', 'TxDtls') or [None]
        for index, item in enumerate(details):
            try:
                transfers.append(_transfer(entry, item, index,
                                           len(details) > 1))
            except _BadAmount as e:
                position = str(number) if len(details) == 1 else (
                    _('%(entry)d, transaction %(transaction)d')
                    % {'entry': number, 'transaction': index + 1})
                problems.append((position, e.bank_reference or '-',
                                 e.reason))
    if problems:
        raise InvalidEntries(problems)
    return Message(kind=kind, message_id=_text(root, 'GrpHdr', 'MsgId'),
                   transfers=tuple(transfers))
