"""Putting invoice mail and payment reminders in the outbox."""

from cleura_billing_dashboard.notify.models import InvoiceMail
from cleura_billing_dashboard.notify.models import Recipient


def queue_invoice_mail(*, number, project_id, recipients, language='en',
                       delivery=InvoiceMail.ATTACHMENT, pdf=None,
                       filename='', link='', summary=None, einvoice=None,
                       einvoice_filename=''):
    """Queue invoice ``number``'s mail to each address in ``recipients``.

    Call it inside the transaction that stores the invoice: the rows are
    committed, or rolled back, with it. ``summary`` holds the facts the
    mail states (``type``, ``total``, ``currency``, ``issue_date``,
    ``due_date``, ``seller``, ``buyer``; strings). ``delivery='link'``
    mails ``link``; without a link the PDF is attached instead.
    ``einvoice`` (bytes, the UBL XML) is attached too when given, named
    ``einvoice_filename`` (default ``<number>.xml``), whatever the
    delivery: a link mail then carries the XML as its only attachment, as
    the accounting system that reads it cannot follow a link behind a
    login.

    Queuing again is harmless: an address already queued for ``number``
    (compared without regard to case) is not queued twice. Returns the
    number of addresses newly queued. Raises ``ValueError`` when the PDF
    is to be attached but none is given.
    """
    unique = _unique_addresses(recipients)
    if not unique:
        return 0
    delivery = _delivery(number, delivery, pdf, link)
    mail, _created = InvoiceMail.objects.get_or_create(
        number=number, kind=InvoiceMail.INVOICE, step=0,
        defaults={
            'project_id': project_id,
            'language': language or 'en',
            'delivery': delivery,
            'summary': dict(summary or {}),
            'pdf': pdf if delivery == InvoiceMail.ATTACHMENT else None,
            'filename': filename or '%s.pdf' % number,
            'link': link if delivery == InvoiceMail.LINK else '',
            'einvoice': einvoice or None,
            'einvoice_filename': (einvoice_filename or '%s.xml' % number
                                  if einvoice else ''),
        })
    queued = {address.casefold()
              for address in mail.recipients.values_list('address',
                                                         flat=True)}
    new = [Recipient(mail=mail, address=address)
           for key, address in unique.items() if key not in queued]
    Recipient.objects.bulk_create(new)
    return len(new)


def _unique_addresses(recipients):
    """``{casefolded: address}`` of the non-blank ``recipients``, in order."""
    unique = {}
    for address in recipients:
        address = address.strip()
        if address:
            unique.setdefault(address.casefold(), address)
    return unique


def _delivery(number, delivery, pdf, link):
    """``delivery``, or attachment when there is no link to deliver.

    Raises ``ValueError`` when the PDF is to be attached but none is given.
    """
    if delivery != InvoiceMail.LINK or not link:
        delivery = InvoiceMail.ATTACHMENT
    if delivery == InvoiceMail.ATTACHMENT and not pdf:
        raise ValueError('invoice %s: no PDF to attach' % number)
    return delivery


def queue_reminder(*, number, project_id, step, recipients, language='en',
                   delivery=InvoiceMail.ATTACHMENT, pdf=None, filename='',
                   link='', summary=None):
    """Queue reminder ``step`` of invoice ``number`` to ``recipients``.

    ``step`` is the schedule's days relative to the due date. ``summary``
    holds what the reminder states: ``outstanding``, ``currency``,
    ``due_date``, ``seller``, ``buyer``, ``payment_reference``,
    ``bankgiro``, ``iban``, ``bic`` (strings). The reminder carries
    ``link`` when given, and the PDF too unless ``delivery='link'`` and a
    link is given.

    Each ``(number, step, address)`` is queued once, ever: the unique
    constraints on ``(number, kind, step)`` and ``(mail, address)`` decide,
    not a check before the insert, so two runs at once queue a reminder
    once. Returns the addresses newly queued, in order.
    """
    unique = _unique_addresses(recipients)
    if not unique:
        return []
    delivery = _delivery(number, delivery, pdf, link)
    # get_or_create inserts in a savepoint and reads the row a concurrent
    # run committed when the unique constraint refuses the insert.
    mail, _created = InvoiceMail.objects.get_or_create(
        number=number, kind=InvoiceMail.REMINDER, step=step,
        defaults={
            'project_id': project_id,
            'language': language or 'en',
            'delivery': delivery,
            'summary': dict(summary or {}),
            'pdf': pdf if delivery == InvoiceMail.ATTACHMENT else None,
            'filename': filename or '%s.pdf' % number,
            'link': link or '',
        })
    return _add_recipients(mail, unique)


def queue_card_failed(*, number, project_id, attempt, recipients,
                      language='en', link='', summary=None):
    """Queue the mail that attempt ``attempt`` to charge ``number`` failed.

    ``summary`` holds what it states: ``outstanding``, ``currency``,
    ``seller``, ``buyer``, ``reason`` (``card_declined`` or
    ``authentication_required``), ``brand``, ``last4``, ``next_attempt``
    (an ISO date, or '' when no attempt follows). ``link`` is where the
    invoice is paid by hand. Each ``(number, attempt, address)`` is queued
    once, whatever runs at once (as ``queue_reminder``). Returns the
    addresses newly queued.
    """
    unique = _unique_addresses(recipients)
    if not unique:
        return []
    mail, _created = InvoiceMail.objects.get_or_create(
        number=number, kind=InvoiceMail.CARD_FAILED, step=attempt,
        defaults={
            'project_id': project_id,
            'language': language or 'en',
            'delivery': InvoiceMail.LINK,
            'summary': dict(summary or {}),
            'filename': '%s.pdf' % number,
            'link': link or '',
        })
    return _add_recipients(mail, unique)


def _add_recipients(mail, unique):
    """Add ``unique``'s addresses ``mail`` lacks; returns those added."""
    queued = {address.casefold()
              for address in mail.recipients.values_list('address',
                                                         flat=True)}
    new = []
    for key, address in unique.items():
        if key in queued:
            continue
        _row, created = Recipient.objects.get_or_create(mail=mail,
                                                        address=address)
        if created:
            new.append(address)
    return new


def reminders_sent(number):
    """``(step, address, sent_at)`` of invoice ``number``'s sent reminders.

    Oldest first.
    """
    return list(Recipient.objects
                .filter(mail__number=number,
                        mail__kind=InvoiceMail.REMINDER,
                        state=Recipient.SENT)
                .order_by('sent_at', 'pk')
                .values_list('mail__step', 'address', 'sent_at'))
