"""Payment reminders: the unpaid invoices a schedule step is due for.

``send_reminders(accounts, today=...)`` is the daily run
(``billing_send_reminders``). ``[reminders] schedule`` lists days relative
to the due date (``-3,7,21``: three days before it, 7 and 21 after). For
each invoice that is unpaid on ``today`` the latest step whose day has
come is queued in the outbox, to the project's verified Billing addresses
(asked of ``accounts``, as issuing does), in the account's language, with
the outstanding amount, the seller's bank details, the OCR reference, a
link to the invoice (``[mail] invoice_link_base_url``) and the PDF unless
the account takes a link. A run that finds several steps due (cron did
not run for a while) mails only the latest: the customer gets one mail.

Once: the outbox's unique constraints make each ``(invoice, step,
address)`` queued at most once, by reruns and by overlapping runs alike,
and its sender sends each queued row once.

Paid in between: a step is queued only for an unpaid invoice, and the
sender asks ``still_due`` again just before it sends each reminder (also
on later retries): a reminder of an invoice paid or credited since it was
queued is marked skipped and not sent. The check is made in the sender,
not under the invoice's row lock at queue time, because mail can wait in
the outbox (an SMTP server down) for hours after it was queued.
"""

import dataclasses
import datetime
import logging

from django.utils import timezone

from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard.billing import models as billing_models
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard import conf
from cleura_billing_dashboard import notify

LOG = logging.getLogger(__name__)

UNPAID = (billing_models.OUTSTANDING, billing_models.OVERDUE)


@dataclasses.dataclass
class ReminderResult:
    """What one run queued and sent.

    ``queued``: ``(number, step, address)`` newly queued; ``unmailed``:
    ``(number, project_id)`` of due reminders whose project has no
    verified Billing address; ``sending``: notify's ``SendReport``.
    """

    today: datetime.date
    queued: list = dataclasses.field(default_factory=list)
    unmailed: list = dataclasses.field(default_factory=list)
    sending: object = None


def due_step(due_date, schedule, today):
    """The latest step of ``schedule`` whose day has come, else None."""
    steps = [days for days in schedule
             if due_date + datetime.timedelta(days=days) <= today]
    return max(steps) if steps else None


def unpaid_invoices(today, schedule):
    """Invoices unpaid on ``today`` with a step due, oldest due first."""
    if not schedule:
        return Invoice.objects.none()
    latest_due = today - datetime.timedelta(days=min(schedule))
    # Without documents yet (being issued): nothing to remind of.
    return (Invoice.objects.ready().filter(type=Invoice.INVOICE,
                                           due_date__lte=latest_due)
            .defer('pdf')
            .with_balance(today)
            .filter(status__in=UNPAID)
            .order_by('due_date', 'number'))


def still_due(number, project_id):
    """Whether invoice ``number`` of ``project_id`` is still unpaid."""
    return (Invoice.objects.filter(number=number, project_id=project_id)
            .with_balance().filter(status__in=UNPAID).exists())


def queue_reminders(accounts, *, today=None, schedule=None):
    """Queue the reminders due on ``today``; a ``ReminderResult``.

    ``schedule`` defaults to ``[reminders] schedule``. Call it outside a
    transaction (see below).
    """
    today = today or timezone.localdate()
    if schedule is None:
        schedule = conf.get_conf().reminders.schedule
    result = ReminderResult(today)
    for invoice in unpaid_invoices(today, schedule):
        step = due_step(invoice.due_date, schedule, today)
        recipients = accounts.billing_recipients(invoice.project_id)
        if not recipients:
            LOG.warning('Project %s has no verified Billing address: no '
                        'reminder of invoice %s', invoice.project_id,
                        invoice.number)
            result.unmailed.append((invoice.number, invoice.project_id))
            continue
        details = accounts.buyer_details(invoice.project_id) or {}
        link = accounts.wants_link(invoice.project_id)
        seller = invoice.seller or {}
        # No transaction around it: each insert commits on its own, as
        # its transaction's first statement, so SQLite takes its write
        # lock at once instead of failing to upgrade a read lock while an
        # overlapping run writes. A crash in between leaves a step with
        # fewer addresses, which the next run completes.
        queued = notify.queue_reminder(
            number=invoice.number,
            project_id=invoice.project_id,
            step=step,
            recipients=recipients,
            language=details.get('language') or invoice.language,
            delivery='link' if link else 'attachment',
            pdf=bytes(Invoice.objects.only('pdf')
                      .get(pk=invoice.pk).pdf),
            filename=invoice.filename,
            link=issue.invoice_link(invoice.number),
            summary={
                'outstanding': str(invoice.outstanding),
                'currency': invoice.currency,
                'due_date': invoice.due_date.isoformat(),
                'seller': seller.get('name', ''),
                'buyer': (invoice.buyer or {}).get('name', ''),
                'payment_reference': invoice.payment_reference,
                'bankgiro': seller.get('bankgiro', ''),
                'iban': seller.get('iban', ''),
                'bic': seller.get('bic', ''),
            })
        result.queued += [(invoice.number, step, address)
                          for address in queued]
    return result


def send_reminders(accounts, *, today=None, schedule=None):
    """Queue the reminders due on ``today``, then send the outbox.

    The sending also retries reminders and invoice mail queued before.
    """
    result = queue_reminders(accounts, today=today, schedule=schedule)
    result.sending = notify.send_pending(still_due=still_due)
    return result


def reminders_sent(number):
    """``(step, address, sent_at)`` of invoice ``number``'s reminders."""
    return notify.reminders_sent(number)
