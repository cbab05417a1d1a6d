"""The phone list of a project: numbers in E.164 form with a label.

Numbers are accepted with spaces, dashes, dots and parentheses, and with
``00`` for ``+``; full-width characters and the digits of other scripts
(``＋４６``, ``٤٦``) read as their ASCII ones. They are stored compact and
in ASCII (``+46701234567``). Every function changes ``doc`` in place or
raises ``errors.AccountError``.
"""

import re
import unicodedata

from django.utils.translation import gettext_lazy as _

from cleura_billing_dashboard.account import contacts
from cleura_billing_dashboard.account import document
from cleura_billing_dashboard.account import errors

E164 = re.compile(r'^\+[1-9][0-9]{6,14}$')
SEPARATORS = re.compile(r'[\s().-]')
MAX_LABEL_LENGTH = 64
MAX_INPUT_LENGTH = 32


def clean_number(value):
    """``value`` as a compact E.164 number, or ``AccountError``."""
    value = str(value or '').strip()
    if len(value) > MAX_INPUT_LENGTH:
        raise errors.AccountError(_('A phone number has at most 15 digits.'),
                                  'too_long', 'number')
    document.check_one_line(value, 'number')
    value = document.ascii_digits(unicodedata.normalize('NFKC', value))
    compact = SEPARATORS.sub('', value)
    if compact.startswith('00'):
        compact = '+' + compact[2:]
    if not E164.match(compact):
        raise errors.AccountError(
            _('Enter the number in international form: + and the country '
              'code, e.g. +46 70 123 45 67.'), 'invalid_number', 'number')
    return compact


def clean_label(value):
    value = unicodedata.normalize('NFC', str(value or '')).strip()
    document.check_one_line(value, 'label')
    if len(value) > MAX_LABEL_LENGTH:
        raise errors.AccountError(
            _('A label has at most %d characters.') % MAX_LABEL_LENGTH,
            'too_long', 'label')
    return value


def find(doc, phone_id):
    for phone in doc['phones']:
        if phone['id'] == phone_id:
            return phone
    raise errors.NotFound(_('This phone number is no longer in the list. '
                            'Reload the page.'), 'not_found')


def _refuse_duplicate(doc, number, except_id=None):
    for phone in doc['phones']:
        if phone['id'] != except_id and phone['number'] == number:
            raise errors.AccountError(_('%s is already in the list.')
                                      % number, 'duplicate', 'number')


def add_phone(doc, number, label=''):
    """Append a number; returns the new phone."""
    number = clean_number(number)
    label = clean_label(label)
    _refuse_duplicate(doc, number)
    if len(doc['phones']) >= document.MAX_PHONES:
        raise errors.AccountError(
            _('A project has at most %d phone numbers.')
            % document.MAX_PHONES, 'too_many', 'number')
    phone = {'id': contacts.new_id(), 'number': number, 'label': label}
    doc['phones'].append(phone)
    return phone


def update_phone(doc, phone_id, number, label=''):
    """Change a phone's number and label; returns the phone."""
    number = clean_number(number)
    label = clean_label(label)
    phone = find(doc, phone_id)
    _refuse_duplicate(doc, number, except_id=phone_id)
    phone.update(number=number, label=label)
    return phone


def delete_phones(doc, phone_ids):
    """Delete the phones with ``phone_ids``; returns them."""
    removed = [find(doc, phone_id) for phone_id in phone_ids]
    doc['phones'] = [phone for phone in doc['phones']
                     if phone['id'] not in phone_ids]
    return removed
