"""A project's credit: what it paid beyond what was due, and how it is spent.

Where credit comes from. Nothing is written when credit is earned: it is
read from the invoices themselves. An invoice whose balance
(``InvoiceQuerySet.with_balance``) is negative holds that much credit:
paid beyond its total (an overpayment, a payment made twice), or credited
by a credit note after it was (partly) paid -- credited beyond what
remained outstanding. The payments and credit notes that make it are
already the ledger (``billing.ledger``, ``billing.issue``), so earned
credit cannot drift from them, needs no hook in each payment path, and
covers invoices paid before this module existed.

Where it goes. Every use is a ``CreditEntry``, a negative amount, insert
only: ``applied`` to a new invoice at issue (the invoice's number is the
reference, so an invoice gets credit once) or ``refunded`` by an operator
(``billing_refund_credit``, idempotent per reference). So, per project and
currency::

    available = sum of -balance over its invoices with a negative balance
                + sum of its credit entries (all negative)

Credit applied to an invoice counts as paid on it (``credit_applied`` in
``with_balance``), so its outstanding amount, status, reminders and card
payments are right without a pseudo payment; its documents show it as
prepaid (BT-113). If that invoice is later credited, its balance goes
negative by what was applied and the credit comes back.

Spending is serialized per project: ``lock`` updates the project's
``CreditLock`` row as the first statement of the spending transaction
(issuing takes it before the number series lock; a refund takes only
this one), so two issuers, or an issuer and a refund, never spend the
same credit. Being first also means MySQL's snapshot and SQLite's write
lock are taken after the wait, so the sums read are the committed ones.
Payments need no part in it: a payment or a credit note committed
meanwhile can only add credit, which the next issue picks up. Only credit
in the invoice's currency is applied.
"""

import dataclasses
import decimal

from django.db import models
from django.db import router
from django.db import transaction

from cleura_billing_dashboard.billing.models import CreditEntry
from cleura_billing_dashboard.billing.models import CreditLock
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard import money

ZERO = decimal.Decimal(0)


class CreditError(ValueError):
    """A refund cannot be recorded (see the message)."""


@dataclasses.dataclass(frozen=True)
class Credit:
    """A project's available credit in one currency."""

    project_id: str
    currency: str
    amount: decimal.Decimal


def _earned(invoices, few=False):
    """``{(project_id, currency): credit}`` held by ``invoices``.

    ``few``: one project's invoices, whose balances are read and the
    negative ones picked here, a simpler query than picking them in SQL
    (where the balance is written out twice), read once per invoice
    issued.
    """
    balances = (invoices.filter(type=Invoice.INVOICE)
                .defer('pdf', 'seller', 'buyer').with_balance_only()
                .order_by())
    if not few:
        balances = balances.filter(balance__lt=0)
    earned = {}
    for project_id, currency, balance in balances.values_list(
            'project_id', 'currency', 'balance'):
        if balance < 0:
            key = (project_id, currency)
            earned[key] = earned.get(key, ZERO) - balance
    return earned


def _spent(entries):
    """``{(project_id, currency): sum}`` of ``entries`` (<= 0)."""
    return {(project_id, currency): amount for project_id, currency, amount in
            entries.order_by().values('project_id', 'currency')
            .annotate(amount=models.Sum('amount'))
            .values_list('project_id', 'currency', 'amount')}


def _credits(invoices, entries, few=False):
    earned, spent = _earned(invoices, few), _spent(entries)
    found = []
    for key in sorted(set(earned) | set(spent)):
        amount = money.quantize(earned.get(key, ZERO) + spent.get(key, ZERO),
                                key[1])
        if amount:
            found.append(Credit(key[0], key[1], amount))
    return found


def available(project_id, currency):
    """The project's available credit in ``currency`` (a Decimal, >= 0).

    Read it under ``lock`` to spend it.
    """
    if not project_id:
        raise ValueError('a project id is required')
    credits = _credits(
        Invoice.objects.for_project(project_id).filter(currency=currency),
        CreditEntry.objects.filter(project_id=project_id, currency=currency),
        few=True)
    return max(sum((credit.amount for credit in credits), ZERO), ZERO)


def project_credits(project_id):
    """The project's ``Credit`` per currency, for the Invoices panel."""
    if not project_id:
        raise ValueError('a project id is required')
    return [credit for credit in _credits(
        Invoice.objects.for_project(project_id),
        CreditEntry.objects.filter(project_id=project_id), few=True)
        if credit.amount > 0]


def all_credits():
    """Every project's ``Credit`` per currency (the operator's list)."""
    return [credit for credit in _credits(Invoice.objects.all(),
                                          CreditEntry.objects.all())
            if credit.amount > 0]


def ensure_lock(project_id):
    """Create the project's lock row unless it exists; outside a transaction.

    As ``numbering.ensure_series``: a row inserted in the spending
    transaction would stay locked to its end, and on MySQL concurrent
    first inserts deadlock.
    """
    CreditLock.objects.get_or_create(project_id=project_id)


def projects_with_lock():
    """The ids of the projects whose lock row exists (a set)."""
    return set(CreditLock.objects.values_list('project_id', flat=True))


def lock(project_id):
    """Lock the project's credit until the current transaction ends.

    Must be the transaction's first statement (see the module doc); the
    row must exist (``ensure_lock``), else ``CreditLock.DoesNotExist``.
    """
    using = router.db_for_write(CreditLock)
    if not transaction.get_connection(using).in_atomic_block:
        raise RuntimeError('lock() must run inside the transaction that '
                           'spends the credit')
    if not CreditLock.objects.using(using).filter(
            project_id=project_id).update(uses=models.F('uses') + 1):
        raise CreditLock.DoesNotExist('no credit lock row for project %r: '
                                      'create it with ensure_lock()'
                                      % project_id)


def to_apply(project_id, currency, total):
    """How much credit to take off a new invoice of ``total``: >= 0.

    Call under ``lock``. At most the total; nothing for a total <= 0.
    """
    if total <= 0:
        return ZERO
    return money.quantize(min(available(project_id, currency), total),
                          currency)


def record_applied(invoice, amount):
    """Write ``amount`` of credit as applied to the stored ``invoice``.

    Call in the transaction that stored it, under ``lock``, with what
    ``to_apply`` returned. Nothing is written for 0.
    """
    if amount <= 0:
        return None
    return CreditEntry.objects.create(
        project_id=invoice.project_id, currency=invoice.currency,
        kind=CreditEntry.APPLIED, amount=-amount, invoice=invoice,
        reference=invoice.number,
        reason='applied to invoice %s' % invoice.number)


def applied_to(invoice):
    """The credit applied to ``invoice`` at issue (a Decimal, >= 0)."""
    return -(CreditEntry.objects.filter(
        invoice=invoice, kind=CreditEntry.APPLIED).aggregate(
            amount=models.Sum('amount'))['amount'] or ZERO)


@dataclasses.dataclass(frozen=True)
class Refunded:
    """A refund as recorded; ``created`` is false for a repeated reference."""

    entry: CreditEntry
    created: bool
    available: decimal.Decimal  # what is left after it


def refund(project_id, amount, *, reference, currency, reason=''):
    """Record that ``amount`` of the project's credit was paid back.

    Idempotent by ``reference``: the same project, amount and currency
    again returns the recorded refund; other details raise
    ``CreditError``, as does an amount above the available credit or not
    above zero. The money itself is paid back by hand (a bank transfer);
    this records it so the credit is not applied as well.
    """
    if not project_id:
        raise ValueError('a project id is required')
    if not reference:
        raise CreditError('a refund needs a reference')
    amount = money.quantize(amount, currency)
    if amount <= 0:
        raise CreditError('a refund is a positive amount, not %s' % amount)
    ensure_lock(project_id)
    with transaction.atomic():
        lock(project_id)
        found = CreditEntry.objects.filter(kind=CreditEntry.REFUNDED,
                                           reference=reference).first()
        if found is not None:
            recorded = money.quantize(-found.amount, found.currency)
            if (found.project_id, found.currency, recorded) != (
                    project_id, currency, amount):
                raise CreditError(
                    'reference %s was recorded as a refund of %s %s to '
                    'project %s' % (reference, recorded, found.currency,
                                    found.project_id))
            return Refunded(found, False, available(project_id, currency))
        credit = money.quantize(available(project_id, currency), currency)
        if amount > credit:
            raise CreditError('project %s has %s %s of credit, less than %s'
                              % (project_id, credit, currency, amount))
        entry = CreditEntry.objects.create(
            project_id=project_id, currency=currency,
            kind=CreditEntry.REFUNDED, amount=-amount, reference=reference,
            reason=reason[:255])
        return Refunded(entry, True, credit - amount)
