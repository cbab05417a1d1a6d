"""Sending the outbox.

``send_pending()`` claims the rows that are due, sends each as its own
message through Django's email backend and records the outcome:

* accepted by the SMTP server: ``sent``, never sent again;
* refused, or the server unreachable: back to ``pending`` with the error
  and a delay that doubles per attempt up to ``[mail] retry_max_delay``.
  Nothing is dropped: an operator sees the row in the command's output
  until it is sent.

Claiming makes concurrent senders (cron overlapping a manual run, several
hosts) send a row once: PostgreSQL and MySQL lock the claimed rows with
``SELECT ... FOR UPDATE SKIP LOCKED``; SQLite claims them with a single
``UPDATE``, which its database lock makes atomic. A claim is a lease: if a
sender dies between the server's acceptance and the ``sent`` mark, the row
is sent again after ``LEASE`` (at least once is the best SMTP allows; this
window is the only way to a duplicate).

Reminders (and the mail of a failed automatic card payment) are claimed
only when the caller passes ``still_due(number, project_id)``, and each
is checked with it just before it is sent: the reminder of an invoice
paid or credited since it was queued is marked ``skipped``, never sent.
(A payment recorded in the moment between that check and the SMTP
server's acceptance is not seen.)
"""

import dataclasses
import datetime
import logging
import secrets

from django.conf import settings
from django.core import mail as django_mail
from django.db import connections
from django.db import models
from django.db import router
from django.db import transaction
from django.utils import timezone

from cleura_billing_dashboard import conf
from cleura_billing_dashboard.notify import compose
from cleura_billing_dashboard.notify.models import InvoiceMail
from cleura_billing_dashboard.notify.models import Recipient

LOG = logging.getLogger(__name__)
LEASE = datetime.timedelta(minutes=10)
# Well below the lease, so a hung server cannot outlive the claim.
SMTP_TIMEOUT = 60
FIRST_RETRY = 60


@dataclasses.dataclass
class SendReport:
    """What one run did.

    ``sent``: ``(number, address)`` pairs; ``failed``: ``(number, address,
    error)``; ``skipped``: ``(number, address)`` of reminders not sent as
    the invoice is paid; ``waiting``: rows left pending for a later run.
    """

    sent: list = dataclasses.field(default_factory=list)
    failed: list = dataclasses.field(default_factory=list)
    skipped: list = dataclasses.field(default_factory=list)
    waiting: int = 0


def retry_delay(attempts):
    """Seconds to wait after the ``attempts``-th failure (1, 2, ...)."""
    ceiling = conf.get_conf().mail.retry_max_delay
    return min(FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 20), ceiling)


def _due(now, retry_now, reminders):
    pending = models.Q(state=Recipient.PENDING)
    if not retry_now:
        pending &= models.Q(next_attempt_at__lte=now)
    abandoned = models.Q(state=Recipient.SENDING, claimed_until__lt=now)
    if reminders:
        return pending | abandoned
    return (pending | abandoned) & models.Q(mail__kind=InvoiceMail.INVOICE)


def _claim(now, retry_now, limit, reminders=False):
    token = secrets.token_hex(16)
    claimed = {'state': Recipient.SENDING, 'claim': token,
               'claimed_until': now + LEASE}
    due = _due(now, retry_now, reminders)
    using = router.db_for_write(Recipient)
    features = connections[using].features
    if features.has_select_for_update_skip_locked:
        # Lock the outbox rows only, not the mails the filter joins.
        of = ('self',) if features.has_select_for_update_of else ()
        with transaction.atomic(using=using):
            ids = list(Recipient.objects.using(using)
                       .select_for_update(skip_locked=True, of=of)
                       .filter(due).order_by('pk')
                       .values_list('pk', flat=True)[:limit])
            Recipient.objects.using(using).filter(pk__in=ids).update(
                **claimed)
    else:
        # One statement, atomic under SQLite's database lock; no limit, as
        # SQLite runs one sender at a time anyway.
        Recipient.objects.using(using).filter(due).update(**claimed)
    return token, list(Recipient.objects.using(using)
                       .filter(claim=token, state=Recipient.SENDING)
                       .select_related('mail').order_by('pk'))


def _connection():
    if getattr(settings, 'EMAIL_TIMEOUT', None) is None:
        return django_mail.get_connection(timeout=SMTP_TIMEOUT)
    return django_mail.get_connection()


def send_pending(*, now=None, retry_now=False, limit=500, still_due=None):
    """Send the due outbox rows (all pending ones with ``retry_now``).

    Reminders only with ``still_due(number, project_id)``, see above.
    Returns a ``SendReport``. Safe to run from several processes at once.
    """
    now = now or timezone.now()
    token, rows = _claim(now, retry_now, limit, still_due is not None)
    report = SendReport()
    connection = _connection()
    for row in rows:
        mine = Recipient.objects.filter(pk=row.pk, claim=token)
        if (row.mail.kind != InvoiceMail.INVOICE and
                not still_due(row.mail.number, row.mail.project_id)):
            mine.update(state=Recipient.SKIPPED, claim='',
                        claimed_until=None)
            report.skipped.append((row.mail.number, row.address))
            continue
        try:
            message = compose.invoice_message(row.mail, row.address,
                                              connection=connection)
            accepted = connection.send_messages([message]) == 1
            error = '' if accepted else 'not accepted by the mail server'
        except Exception as e:  # any refusal: retried, never lost
            accepted = False
            error = '%s: %s' % (type(e).__name__, e)
            connection.close()
        attempts = row.attempts + 1
        if accepted:
            mine.update(state=Recipient.SENT, sent_at=timezone.now(),
                        attempts=attempts, last_error='', claim='',
                        claimed_until=None)
            report.sent.append((row.mail.number, row.address))
        else:
            LOG.warning('Invoice %s to %s not sent (attempt %d): %s',
                        row.mail.number, row.address, attempts, error)
            mine.update(state=Recipient.PENDING, attempts=attempts,
                        last_error=error[:2000], claim='',
                        claimed_until=None,
                        next_attempt_at=timezone.now() + datetime.timedelta(
                            seconds=retry_delay(attempts)))
            report.failed.append((row.mail.number, row.address, error))
    report.waiting = Recipient.objects.filter(
        state=Recipient.PENDING, next_attempt_at__gt=now).count()
    return report
