"""Invoice mail to a project's Billing contacts, through Django's email.

A Django app (``cleura_billing_dashboard.notify``) with its own outbox
table. It takes plain data and imports nothing from ``billing/``:

* ``queue_invoice_mail(number=..., project_id=..., recipients=[...], ...)``
  records one outbox row per address in the caller's transaction (pass it
  as the issuer's ``notify`` hook through a small adapter), so the mail
  exists exactly when the invoice does.
* ``queue_reminder(number=..., step=..., recipients=[...], ...)`` queues
  a payment reminder step once per address, whatever runs at once.
* ``queue_card_failed(number=..., attempt=..., recipients=[...], ...)``
  queues the mail that an automatic card payment failed, with a link to
  pay by hand, once per attempt and address.
* ``send_pending()`` sends what is due (``manage.py billing_send_mail``).
  Reminders are sent only by a caller that passes ``still_due``, which
  says whether the invoice is still unpaid: a paid one's are skipped.
  A row is marked sent only after the SMTP server accepted it; a refused
  or unreachable server leaves it pending for a later run, with a growing
  delay. An address gets one invoice's mail once.
* ``send_verification_code(address, code, ...)`` mails a one-time code at
  once (it is not queued: the code must not be stored in clear).

The functions are imported on first call: this package is also the app's
module, loaded before Django's models are ready.
"""


def queue_invoice_mail(**kwargs):
    """See ``outbox.queue_invoice_mail``."""
    from cleura_billing_dashboard.notify import outbox
    return outbox.queue_invoice_mail(**kwargs)


def queue_reminder(**kwargs):
    """See ``outbox.queue_reminder``."""
    from cleura_billing_dashboard.notify import outbox
    return outbox.queue_reminder(**kwargs)


def queue_card_failed(**kwargs):
    """See ``outbox.queue_card_failed``."""
    from cleura_billing_dashboard.notify import outbox
    return outbox.queue_card_failed(**kwargs)


def reminders_sent(number):
    """See ``outbox.reminders_sent``."""
    from cleura_billing_dashboard.notify import outbox
    return outbox.reminders_sent(number)


def send_pending(**kwargs):
    """See ``sender.send_pending``."""
    from cleura_billing_dashboard.notify import sender
    return sender.send_pending(**kwargs)


def send_verification_code(address, code, **kwargs):
    """See ``compose.send_verification_code``."""
    from cleura_billing_dashboard.notify import compose
    return compose.send_verification_code(address, code, **kwargs)
