"""Putting invoice mail in the outbox."""

from cleura_billing_dashboard.notify.models import InvoiceMail
from cleura_billing_dashboard.notify.models import Recipient


def queue_invoice_mail(*, number, project_id, recipients, language='en',
                       delivery=InvoiceMail.ATTACHMENT, pdf=None,
                       filename='', link='', summary=None):
    """Queue invoice ``number``'s mail to each address in ``recipients``.

    Call it inside the transaction that stores the invoice: the rows are
    committed, or rolled back, with it. ``summary`` holds the facts the
    mail states (``type``, ``total``, ``currency``, ``issue_date``,
    ``due_date``, ``seller``, ``buyer``; strings). ``delivery='link'``
    mails ``link``; without a link the PDF is attached instead.

    Queuing again is harmless: an address already queued for ``number``
    (compared without regard to case) is not queued twice. Returns the
    number of addresses newly queued. Raises ``ValueError`` when the PDF
    is to be attached but none is given.
    """
    unique = {}
    for address in recipients:
        address = address.strip()
        if address:
            unique.setdefault(address.casefold(), address)
    if not unique:
        return 0
    if delivery != InvoiceMail.LINK or not link:
        delivery = InvoiceMail.ATTACHMENT
    if delivery == InvoiceMail.ATTACHMENT and not pdf:
        raise ValueError('invoice %s: no PDF to attach' % number)
    mail, _created = InvoiceMail.objects.get_or_create(
        number=number,
        defaults={
            'project_id': project_id,
            'language': language or 'en',
            'delivery': delivery,
            'summary': dict(summary or {}),
            'pdf': pdf if delivery == InvoiceMail.ATTACHMENT else None,
            'filename': filename or '%s.pdf' % number,
            'link': link if delivery == InvoiceMail.LINK else '',
        })
    queued = {address.casefold()
              for address in mail.recipients.values_list('address',
                                                         flat=True)}
    new = [Recipient(mail=mail, address=address)
           for key, address in unique.items() if key not in queued]
    Recipient.objects.bulk_create(new)
    return len(new)
