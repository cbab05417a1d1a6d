"""The mails themselves: subject, body and attachments, in a language.

Texts are Django translations rendered under ``translation.override``, so
each mail is in its recipient project's language whatever the process's.
An invoice mail with an e-invoice carries it as ``application/xml`` next
to the PDF, or as its only attachment when it is a link mail, and its body
says so.
"""

import datetime

from babel import dates as babel_dates
from django.conf import settings
from django.core import mail as django_mail
from django.utils import translation
from django.utils.translation import gettext

from cleura_billing_dashboard import conf
from cleura_billing_dashboard import money
from cleura_billing_dashboard.notify.models import InvoiceMail

# An automatic mail: auto-responders must not answer it (RFC 3834).
HEADERS = {'Auto-Submitted': 'auto-generated'}


def from_address():
    """``[mail] from_address``, else ``[seller] email``, else Django's."""
    settings_ = conf.get_conf()
    return (settings_.mail.from_address or settings_.seller.email or
            settings.DEFAULT_FROM_EMAIL)


def _date(text, language):
    try:
        day = datetime.date.fromisoformat(text)
    except (TypeError, ValueError):
        return text or ''
    return babel_dates.format_date(day, format='long', locale=language)


def _amount(summary, language):
    try:
        return money.format_money(summary['total'], summary['currency'],
                                  language)
    except (KeyError, TypeError, ValueError):
        return ''


def invoice_message(mail, address, connection=None):
    """The ``EmailMessage`` of ``mail`` (an ``InvoiceMail``) to one address."""
    if mail.kind == InvoiceMail.REMINDER:
        return reminder_message(mail, address, connection=connection)
    if mail.kind == InvoiceMail.CARD_FAILED:
        return card_failed_message(mail, address, connection=connection)
    language = mail.language or 'en'
    summary = mail.summary or {}
    facts = {
        'number': mail.number,
        'seller': summary.get('seller', ''),
        'buyer': summary.get('buyer', ''),
        'total': _amount(summary, language),
        'issue_date': _date(summary.get('issue_date'), language),
        'credit': '', 'amount_due': '',
        'due_date': _date(summary.get('due_date'), language),
        'link': mail.link,
    }
    credit_note = summary.get('type') == 'credit_note'
    try:
        credit = money.to_decimal(summary.get('credit_applied') or 0)
        if credit > 0:
            facts['credit'] = _amount({'total': credit, 'currency': summary[
                'currency']}, language)
            facts['amount_due'] = _amount({
                'total': money.to_decimal(summary['total']) - credit,
                'currency': summary['currency']}, language)
    except (KeyError, TypeError, ValueError, ArithmeticError):
        pass
    with translation.override(language):
        if credit_note:
            subject = gettext('Credit note %(number)s from %(seller)s')
        else:
            subject = gettext('Invoice %(number)s from %(seller)s')
        lines = [gettext('Hello,'), '']
        if credit_note:
            lines.append(gettext('%(seller)s has issued credit note '
                                 '%(number)s to %(buyer)s.'))
        else:
            lines.append(gettext('%(seller)s has issued invoice %(number)s '
                                 'to %(buyer)s.'))
        if mail.delivery == InvoiceMail.LINK:
            lines += ['', gettext('View and download it here (log in to '
                                  'the dashboard first):'), '%(link)s']
        else:
            lines += ['', gettext('The invoice is attached as a PDF.')]
        if mail.einvoice:
            lines += ['', gettext('The e-invoice (EN 16931, Peppol BIS '
                                  'Billing 3.0) is attached as XML, for '
                                  'your accounting system.')]
        lines += ['', gettext('Total: %(total)s')]
        if facts['credit']:
            lines += [gettext('Credit applied: %(credit)s'),
                      gettext('Amount due: %(amount_due)s')]
        lines.append(gettext('Invoice date: %(issue_date)s'))
        if not credit_note:
            lines.append(gettext('Due date: %(due_date)s'))
        lines += ['', gettext('You receive this mail because this address '
                              'is a Billing contact of the project. Choose '
                              'who receives invoices under Account '
                              'settings.')]
    message = _message(mail, address, connection, language, subject, lines,
                       facts, attach=mail.delivery == InvoiceMail.ATTACHMENT)
    if mail.einvoice:
        message.attach(mail.einvoice_filename or '%s.xml' % mail.number,
                       bytes(mail.einvoice), 'application/xml')
    return message


def _outstanding_facts(mail, summary, language):
    """What a mail about an unpaid invoice states first, for its text."""
    return {
        'number': mail.number,
        'seller': summary.get('seller', ''),
        'buyer': summary.get('buyer', ''),
        'outstanding': _amount({'total': summary.get('outstanding'),
                                'currency': summary.get('currency')},
                               language),
    }


def reminder_message(mail, address, connection=None):
    """The ``EmailMessage`` of a payment reminder (``kind`` reminder)."""
    language = mail.language or 'en'
    summary = mail.summary or {}
    facts = _outstanding_facts(mail, summary, language)
    facts.update({
        'due_date': _date(summary.get('due_date'), language),
        'ocr': summary.get('payment_reference', ''),
        'bankgiro': summary.get('bankgiro', ''),
        'iban': summary.get('iban', ''),
        'bic': summary.get('bic', ''),
        'link': mail.link,
    })
    overdue = mail.step > 0
    with translation.override(language):
        if overdue:
            subject = gettext('Reminder: invoice %(number)s from %(seller)s '
                              'is overdue')
        else:
            subject = gettext('Reminder: invoice %(number)s from %(seller)s '
                              'is due on %(due_date)s')
        lines = [gettext('Hello,'), '']
        if overdue:
            lines.append(gettext('Invoice %(number)s from %(seller)s to '
                                 '%(buyer)s was due on %(due_date)s and is '
                                 'not paid yet.'))
        else:
            lines.append(gettext('Invoice %(number)s from %(seller)s to '
                                 '%(buyer)s is due on %(due_date)s.'))
        lines += ['', gettext('Outstanding: %(outstanding)s')]
        if facts['bankgiro'] or facts['iban']:
            lines += ['', gettext('How to pay: transfer the amount, '
                                  'stating the payment reference (OCR) '
                                  '%(ocr)s, to')]
        if facts['bankgiro']:
            lines.append('    ' + gettext('Bankgiro: %(bankgiro)s'))
        if facts['iban']:
            lines.append('    ' + gettext('IBAN: %(iban)s'))
        if facts['iban'] and facts['bic']:
            lines.append('    ' + gettext('BIC: %(bic)s'))
        if mail.link:
            lines += ['', gettext('The invoice, to view and pay (log in to '
                                  'the dashboard first):'), '%(link)s']
        if mail.delivery == InvoiceMail.ATTACHMENT and mail.pdf:
            lines += ['', gettext('The invoice is attached as a PDF.')]
        lines += ['', gettext('If you have paid in the last few days, '
                              'thank you, and please disregard this '
                              'reminder.'),
                  '', gettext('You receive this mail because this address '
                              'is a Billing contact of the project. Choose '
                              'who receives invoices under Account '
                              'settings.')]
    return _message(mail, address, connection, language, subject, lines,
                    facts, attach=(mail.delivery == InvoiceMail.ATTACHMENT
                                   and mail.pdf))


def card_failed_message(mail, address, connection=None):
    """The ``EmailMessage`` saying an automatic card payment failed."""
    language = mail.language or 'en'
    summary = mail.summary or {}
    facts = _outstanding_facts(mail, summary, language)
    facts.update({
        'card': '%s \u2022\u2022\u2022\u2022 %s' % (
            summary.get('brand', '').capitalize(), summary.get('last4', '')),
        'next_attempt': _date(summary.get('next_attempt'), language),
        'link': mail.link,
    })
    with translation.override(language):
        subject = gettext('Payment of invoice %(number)s from %(seller)s '
                          'failed')
        lines = [gettext('Hello,'), '']
        if summary.get('reason') == 'authentication_required':
            lines.append(gettext('Invoice %(number)s (%(outstanding)s) could '
                                 'not be charged automatically to the card '
                                 '%(card)s: the card issuer asks you to '
                                 'confirm the payment yourself.'))
        else:
            lines.append(gettext('Invoice %(number)s (%(outstanding)s) could '
                                 'not be charged automatically to the card '
                                 '%(card)s: the card was declined.'))
        lines += ['', gettext('The invoice is still unpaid.')]
        if mail.link:
            lines += ['', gettext('Pay it by hand here (log in to the '
                                  'dashboard first):'), '%(link)s']
        if summary.get('next_attempt'):
            lines += ['', gettext('Unless it is paid before, the card is '
                                  'charged again on %(next_attempt)s.')]
        else:
            lines += ['', gettext('The card will not be charged again for '
                                  'this invoice.')]
        lines += ['', gettext('You receive this mail because this address '
                              'is a Billing contact of the project. Choose '
                              'who receives invoices under Account '
                              'settings.')]
    return _message(mail, address, connection, language, subject, lines,
                    facts, attach=False)


def _message(mail, address, connection, language, subject, lines, facts, *,
             attach):
    """An outbox mail's ``EmailMessage``, its PDF attached when ``attach``.

    ``subject`` and each line holding a ``%(name)s`` are filled from
    ``facts``.
    """
    body = '\n'.join(line % facts if '%(' in line else line
                     for line in lines) + '\n'
    message = django_mail.EmailMessage(
        subject=(subject % facts).replace('\n', ' '), body=body,
        from_email=from_address(), to=[address], connection=connection,
        headers=dict(HEADERS, **{'Content-Language': language}))
    if attach:
        message.attach(mail.filename or '%s.pdf' % mail.number,
                       bytes(mail.pdf), 'application/pdf')
    return message


def verification_message(address, code, *, project_name='', minutes=30,
                         language='en'):
    """The ``EmailMessage`` that carries a verification ``code``."""
    facts = {'code': code, 'project': project_name, 'minutes': minutes,
             'address': address}
    with translation.override(language):
        subject = gettext('Your verification code: %(code)s') % facts
        lines = [
            gettext('Hello,'), '',
            gettext('%(address)s was added as a contact of the project '
                    '"%(project)s". To confirm that this address receives '
                    'mail, enter this code under Account settings, '
                    'Contact, Verify:') % facts,
            '', '    %s' % code, '',
            gettext('The code is valid for %(minutes)d minutes.') % facts,
            gettext('If you did not expect this mail, ignore it: nothing '
                    'will be sent to this address until the code is '
                    'entered.'),
        ]
    return django_mail.EmailMessage(
        subject=subject, body='\n'.join(lines) + '\n',
        from_email=from_address(), to=[address],
        headers=dict(HEADERS, **{'Content-Language': language}))


def send_verification_code(address, code, *, project_name='', minutes=30,
                           language='en'):
    """Mail ``code`` to ``address`` now; raises if the server refused it."""
    message = verification_message(address, code, project_name=project_name,
                                   minutes=minutes, language=language)
    if message.send(fail_silently=False) != 1:
        raise OSError('the mail server did not accept the message')
