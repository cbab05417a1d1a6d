"""The billing account document, as stored on the Keystone project.

One extra attribute of the project, ``cleura_billing``, holds a JSON
object::

    {
      "schema_version": 1,
      "revision": 7,                 +1 on every write; compare-and-set
      "updated_at": "2026-05-01T10:00:00+00:00",
      "updated_by": "<keystone user id>",
      "customer": {"name", "org_number", "vat_number", "address",
                   "postal_code", "city", "country", "po_reference",
                   "buyer_reference", "peppol_id",
                   "billing_address": null or {"address", "postal_code",
                                               "city", "country"}},
      "contacts": [{"id", "email", "name", "roles": ["billing", ...],
                    "verified": true,
                    "verification": null or {"salt", "digest",
                                             "expires_at", "attempts_left",
                                             "sent_at"}}],
      "phones": [{"id", "number", "label"}],
      "settings": {"delivery": "attachment" | "link",
                   "language": "en" | "sv",
                   "einvoice": false},
      "verification_log": {"sent": [{"address", "at"}],
                           "failed": [{"address", "at"}]}
    }

Contact addresses are stored with the domain in its ASCII (IDNA A-label)
form, lower case, and the local part as typed (see ``contacts``).
``verification_log`` records the codes mailed and the wrong codes entered
in the last hour, by address, so limits hold across codes, edits and
deletions (see ``verification``): ``address`` is a keyed HMAC of the
address, never the address itself, and ``at`` an ISO 8601 time. Documents
written before it existed load with an empty log.

``buyer_reference`` is the buyer's own reference (EN 16931 BT-10),
``peppol_id`` its Peppol participant id, ``scheme:identifier`` (see
``peppol``); ``settings.einvoice`` whether the invoice mail carries the
e-invoice (XML). Documents written before they existed load with '' and
false.

What a caller may rely on: ``load()`` always returns a complete document of
the current schema (missing parts filled with defaults) or raises
``CorruptDocument``; ``dump()`` returns a deep copy fit to store, or raises
``AccountError`` when it would exceed ``MAX_DOCUMENT_BYTES``.
"""

import copy
import json
import re
import unicodedata

from django.utils.translation import gettext_lazy as _

from cleura_billing_dashboard.account import errors

ATTRIBUTE = 'cleura_billing'
SCHEMA_VERSION = 1

BILLING = 'billing'
TECH = 'tech'
DPO = 'dpo'
ROLES = (BILLING, TECH, DPO)

DELIVERY_ATTACHMENT = 'attachment'
DELIVERY_LINK = 'link'
DELIVERIES = (DELIVERY_ATTACHMENT, DELIVERY_LINK)
LANGUAGES = ('en', 'sv')

CUSTOMER_FIELDS = ('name', 'org_number', 'vat_number', 'address',
                   'postal_code', 'city', 'country', 'po_reference',
                   'buyer_reference', 'peppol_id')
ADDRESS_FIELDS = ('address', 'postal_code', 'city', 'country')

# Line breaks and control characters (Unicode Cc, Zl, Zp): stored text is
# one line everywhere it ends up (tables, mail headers, the invoice PDF).
CONTROL = re.compile(r'[\x00-\x1f\x7f-\x9f\u2028\u2029]')
# Unicode format characters (category Cf) are invisible but change what
# text means or how it shows: bidi overrides and isolates (U+202E,
# U+2066..U+2069), direction marks, zero-width spaces and joiners, the
# byte order mark, the soft hyphen. Stored text refuses them too.
INVISIBLE = 'Cf'
LOG_KINDS = ('sent', 'failed')
MAX_CONTACTS = 20
MAX_PHONES = 20
# Keystone keeps a project's extras in one TEXT column (64 KiB on MySQL).
MAX_DOCUMENT_BYTES = 48 * 1024


def invisible_character(value):
    """The first Unicode format character (Cf) in ``value``, or None."""
    for char in value:
        if unicodedata.category(char) == INVISIBLE:
            return char
    return None


def check_one_line(value, field=None):
    """Refuse ``value`` unless it is one line of visible text.

    Raises ``errors.AccountError`` (code ``control`` or ``invisible``,
    for ``field``); the message names what to remove.
    """
    if CONTROL.search(value):
        raise errors.AccountError(_('Remove the line breaks and control '
                                    'characters.'), 'control', field)
    char = invisible_character(value)
    if char is not None:
        raise errors.AccountError(
            _('Remove the invisible character U+%(codepoint)04X: direction '
              'marks, zero-width characters and soft hyphens make text look '
              'other than it is.') % {'codepoint': ord(char)},
            'invisible', field)
    return value


def ascii_digits(value):
    """``value`` with every decimal digit (Unicode Nd) as its ASCII digit.

    Full-width ``１２３`` and Arabic-Indic ``١٢٣`` read as ``123``; other
    characters are kept.
    """
    return ''.join(str(unicodedata.decimal(char)) if unicodedata.decimal(
        char, None) is not None else char for char in value)


def new_document():
    """The document of a project that has never saved its account."""
    return {
        'schema_version': SCHEMA_VERSION,
        'revision': 0,
        'updated_at': None,
        'updated_by': None,
        'customer': dict({field: '' for field in CUSTOMER_FIELDS},
                         billing_address=None),
        'contacts': [],
        'phones': [],
        'settings': {'delivery': DELIVERY_ATTACHMENT, 'language': 'en',
                     'einvoice': False},
        'verification_log': {'sent': [], 'failed': []},
    }


def _corrupt(why):
    return errors.CorruptDocument(
        _('The billing account stored in Keystone cannot be read '
          '(%(why)s). Ask your cloud operator to check the project\'s '
          '"cleura_billing" attribute.') % {'why': why}, 'corrupt')


def _text(value):
    return value if isinstance(value, str) else ''


def load(value):
    """The stored ``value`` (dict, JSON text or None) as a full document."""
    if value is None:
        return new_document()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _corrupt('not JSON')
    if not isinstance(value, dict):
        raise _corrupt('not an object')
    version = value.get('schema_version', SCHEMA_VERSION)
    if not isinstance(version, int) or isinstance(version, bool):
        raise _corrupt('schema_version is not a number')
    if version > SCHEMA_VERSION:
        raise _corrupt('written by a newer version, schema %d' % version)
    revision = value.get('revision', 0)
    if (not isinstance(revision, int) or isinstance(revision, bool) or
            revision < 0):
        raise _corrupt('revision is not a number')
    doc = new_document()
    doc['revision'] = revision
    doc['updated_at'] = value.get('updated_at')
    doc['updated_by'] = value.get('updated_by')
    customer = value.get('customer')
    if isinstance(customer, dict):
        for field in CUSTOMER_FIELDS:
            doc['customer'][field] = _text(customer.get(field))
        billing_address = customer.get('billing_address')
        if isinstance(billing_address, dict):
            doc['customer']['billing_address'] = {
                field: _text(billing_address.get(field))
                for field in ADDRESS_FIELDS}
    for contact in value.get('contacts') or []:
        if not isinstance(contact, dict) or not contact.get('email'):
            raise _corrupt('a contact has no address')
        verification = contact.get('verification')
        doc['contacts'].append({
            'id': _text(contact.get('id')) or _text(contact.get('email')),
            'email': _text(contact.get('email')),
            'name': _text(contact.get('name')),
            'roles': [role for role in ROLES
                      if role in (contact.get('roles') or [])],
            'verified': contact.get('verified') is True,
            'verification': (dict(verification)
                             if isinstance(verification, dict) else None),
        })
    for phone in value.get('phones') or []:
        if not isinstance(phone, dict) or not phone.get('number'):
            raise _corrupt('a phone has no number')
        doc['phones'].append({
            'id': _text(phone.get('id')) or _text(phone.get('number')),
            'number': _text(phone.get('number')),
            'label': _text(phone.get('label')),
        })
    settings = value.get('settings')
    if isinstance(settings, dict):
        if settings.get('delivery') in DELIVERIES:
            doc['settings']['delivery'] = settings['delivery']
        if settings.get('language') in LANGUAGES:
            doc['settings']['language'] = settings['language']
        doc['settings']['einvoice'] = settings.get('einvoice') is True
    log = value.get('verification_log')
    if isinstance(log, dict):
        for kind in LOG_KINDS:
            # A malformed entry is dropped, not fatal: the log only limits.
            doc['verification_log'][kind] = [
                {'address': entry['address'], 'at': entry['at']}
                for entry in (log[kind] if isinstance(log.get(kind), list)
                              else [])
                if isinstance(entry, dict) and
                isinstance(entry.get('address'), str) and
                isinstance(entry.get('at'), str)]
    return doc


def dump(doc):
    """A deep copy of ``doc`` to store; refuses one that is too large."""
    stored = copy.deepcopy(doc)
    stored['schema_version'] = SCHEMA_VERSION
    size = len(json.dumps(stored, ensure_ascii=False).encode('utf-8'))
    if size > MAX_DOCUMENT_BYTES:
        raise errors.AccountError(
            _('The billing account would be too large to store. Remove '
              'some addresses or phone numbers first.'), 'too_large')
    return stored


def is_saved(doc):
    """Whether the document was ever written (revision 0 never was)."""
    return doc['revision'] > 0
