"""One-time codes that prove someone reads mail at an address.

A code is six random digits. The document keeps only an HMAC of it (keyed
with a server secret the caller passes, so a project reader who can see
the document cannot try all million codes offline), its expiry and the
attempts left. What a caller may rely on:

* ``issue(contact, secret, now, ...)`` returns the plain code, to be mailed
  and forgotten, and stores what is needed to check it.
* ``check(contact, code, secret, now)`` returns one of ``VERIFIED``,
  ``WRONG``, ``EXPIRED``, ``EXHAUSTED`` or ``NO_CODE``, and updates the
  contact (attempts left, or verified); the caller must store the contact
  whatever the outcome, so wrong guesses are counted. Digits of any script
  (full-width ``１２３４５６``, Arabic-Indic ``١٢٣٤٥٦``) are read as
  their ASCII digits; anything else is a wrong code, never an error.

The document's ``verification_log`` remembers, for ``LOG_WINDOW`` (one
hour), every code mailed (``sent``) and every wrong code entered
(``failed``), each as ``{"address": address_digest(...), "at": iso}``: the
address is a keyed HMAC of its compared form, so the limits
``contacts.issue_code`` and ``contacts.verify`` put on an address hold
across its codes, edits and deletion without the document keeping
deleted addresses in clear. ``record`` prunes the log to the window;
``logged`` reads it. The log is bounded: at most ``MAX_CODES_PER_HOUR``
sent and ``MAX_FAILED_PER_HOUR`` failed entries fit in an hour.
"""

import datetime
import hashlib
import hmac
import re
import secrets

from cleura_billing_dashboard.account import document

VERIFIED = 'verified'
WRONG = 'wrong'
EXPIRED = 'expired'
EXHAUSTED = 'exhausted'
NO_CODE = 'no_code'
# The wrong code just entered used up the address's wrong codes for the
# hour (see ``contacts.verify``).
LOCKED = 'locked'

SENT = 'sent'
FAILED = 'failed'
LOG_WINDOW = datetime.timedelta(hours=1)
# The highest [mail] verification_codes_per_hour allows.
MAX_CODES_PER_HOUR = 100
# Wrong codes a project may enter in an hour, all addresses together.
MAX_FAILED_PER_HOUR = 50
DIGEST_CHARS = 32

CODE_DIGITS = 6
CODE_FORMAT = re.compile(r'^[0-9]{%d}$' % CODE_DIGITS)


def new_code():
    """Six random digits from the system's secure source."""
    return '%0*d' % (CODE_DIGITS, secrets.randbelow(10 ** CODE_DIGITS))


def digest(secret, salt, code):
    """HMAC-SHA256 of ``code`` with ``salt``, keyed with ``secret``."""
    if isinstance(secret, str):
        secret = secret.encode('utf-8')
    # UTF-8 is ASCII for the codes issued: any other text only mismatches.
    return hmac.new(secret, (salt + ':' + code).encode('utf-8',
                                                       'surrogatepass'),
                    hashlib.sha256).hexdigest()


def _iso(moment):
    return moment.astimezone(datetime.timezone.utc).isoformat()


def _parse(text):
    """An aware datetime from ISO ``text``, or None."""
    try:
        moment = datetime.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None


def issue(contact, secret, now, lifetime_minutes=30, attempts=5):
    """A new code for ``contact``; any earlier code stops working."""
    code = new_code()
    salt = secrets.token_hex(8)
    contact['verification'] = {
        'salt': salt,
        'digest': digest(secret, salt, code),
        'expires_at': _iso(now + datetime.timedelta(
            minutes=lifetime_minutes)),
        'attempts_left': attempts,
        'sent_at': _iso(now),
    }
    return code


def seconds_since_sent(contact, now):
    """Seconds since the last code was issued, or None if none was."""
    sent = _parse((contact.get('verification') or {}).get('sent_at'))
    return None if sent is None else (now - sent).total_seconds()


def check(contact, code, secret, now):
    """Check ``code`` against the contact's pending code (see module doc)."""
    pending = contact.get('verification')
    if not pending or not pending.get('digest'):
        return NO_CODE
    expires = _parse(pending.get('expires_at'))
    if expires is None or now >= expires:
        return EXPIRED
    if pending.get('attempts_left', 0) <= 0:
        return EXHAUSTED
    code = document.ascii_digits(re.sub(r'\s', '', str(code or '')))
    expected = pending['digest']
    actual = digest(secret, pending.get('salt', ''), code) if (
        CODE_FORMAT.match(code)) else ''
    if hmac.compare_digest(expected, actual):
        contact['verified'] = True
        contact['verification'] = None
        return VERIFIED
    pending['attempts_left'] = pending.get('attempts_left', 0) - 1
    return WRONG if pending['attempts_left'] > 0 else EXHAUSTED


def address_digest(secret, address):
    """A keyed HMAC of ``address``, as the log names it.

    ``address`` is in the form addresses are compared in (see
    ``contacts.address_key``): variants of one address have one digest.
    """
    if isinstance(secret, str):
        secret = secret.encode('utf-8')
    return hmac.new(secret, ('address:' + address).encode(
        'utf-8', 'surrogatepass'), hashlib.sha256).hexdigest()[:DIGEST_CHARS]


def _log(doc):
    log = doc.setdefault('verification_log', {})
    for kind in document.LOG_KINDS:
        log.setdefault(kind, [])
    return log


def _within(moment, now):
    # A time ahead of ours (another host's clock) counts, within reason.
    return moment is not None and abs(now - moment) < LOG_WINDOW


def prune_log(doc, now):
    """Drop log entries older (or further ahead) than ``LOG_WINDOW``."""
    log = _log(doc)
    for kind in document.LOG_KINDS:
        log[kind] = [entry for entry in log[kind]
                     if _within(_parse(entry.get('at')), now)]


def logged(doc, kind, now, address=None):
    """Times of the ``kind`` entries of the last hour, oldest first.

    Only those of ``address`` (a digest) when given; a time ahead of
    ``now`` counts as ``now``.
    """
    times = []
    for entry in (doc.get('verification_log') or {}).get(kind) or []:
        moment = _parse(entry.get('at'))
        if _within(moment, now) and address in (None, entry.get('address')):
            times.append(min(moment, now))
    return sorted(times)


def record(doc, kind, address, now):
    """Log a ``kind`` event for ``address`` (a digest); prunes the log."""
    prune_log(doc, now)
    _log(doc)[kind].append({'address': address, 'at': _iso(now)})
