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
    try:
        return datetime.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None


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
