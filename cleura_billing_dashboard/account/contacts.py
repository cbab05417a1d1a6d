"""Email addresses of a project and the roles they hold.

Roles: ``billing`` (receives invoices), ``tech`` (technical notices) and
``dpo`` (data protection officer). The rules every change keeps, each
refused with its own message:

* an address appears once, compared without regard to case and in its
  canonical form: the local part as typed, the domain lower case in its
  ASCII IDNA form without a final dot (``Bob@EXAMPLE.com.`` is
  ``Bob@example.com``, ``anna@exämple.se`` is stored as
  ``anna@xn--exmple-cua.se``, so look-alike letters show as what they
  are);
* the domain is a public name: ``localhost``, single-label names and IP
  addresses (``user@[127.0.0.1]``, ``user@10.0.0.1``) are refused;
* only a verified address holds roles (see ``verification``);
* once the project has a verified Billing address, it always keeps at
  least one: deleting it, switching its Billing off, or changing it to an
  unverified address is refused until another verified address has
  Billing;
* when a project has a single address, it holds every role; the first
  address to be verified takes every role nobody verified holds;
* codes are mailed and checked within limits per address and per project
  that edits and deletions do not reset (``issue_code``, ``verify``).

Every function changes the document in place and returns what it changed;
on refusal it raises ``errors.AccountError`` and leaves ``doc`` as it was.

Over 300 lines for a reason: the rules above hold together (roles depend
on verification, verification on the limits, deletion on the roles), and
split across modules each would have to know the others' internals.
"""

import copy
import ipaddress
import math
import secrets
import unicodedata

from django.core.exceptions import ValidationError
from django.core import validators
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
import idna

from cleura_billing_dashboard.account import document
from cleura_billing_dashboard.account import errors
from cleura_billing_dashboard.account import verification

MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 100
ROLE_LABELS = {
    document.BILLING: _('Billing'),
    document.TECH: _('Tech'),
    document.DPO: _('DPO'),
}
_email_validator = validators.EmailValidator()
# Refusals of ``issue_code`` that mean "not now": the address can still be
# saved, pending, and sent a code later.
RATE_LIMITED = ('too_soon', 'rate_limited', 'too_many_attempts')


def new_id():
    """A short random id for a new contact or phone."""
    return secrets.token_hex(6)


def _invalid_email():
    return errors.AccountError(_('Enter a valid email address, like '
                                 'name@example.com.'), 'invalid_email',
                               'email')


def _too_long():
    return errors.AccountError(
        _('An email address has at most %d characters.')
        % MAX_EMAIL_LENGTH, 'too_long', 'email')


def _is_ip_address(domain):
    """An address literal (``[...]``) or what resolvers read as an IP."""
    if domain.startswith('['):
        return True
    try:
        ipaddress.ip_address(domain)
    except ValueError:
        # Top-level domains are never all digits: 127.1 is an IP too.
        return domain.rpartition('.')[2].isdigit()
    return True


def _ascii_domain(domain):
    """``domain`` lower case, ASCII (IDNA A-labels), no final dot.

    IDNA 2008 with the UTS 46 mapping browsers use: full-width letters,
    digits and dots read as their ASCII ones. Raises ``AccountError``.
    """
    if not domain.startswith('['):
        try:
            domain = idna.encode(domain, uts46=True).decode('ascii')
        except (idna.IDNAError, UnicodeError, ValueError):
            raise _invalid_email()
        domain = domain[:-1] if domain.endswith('.') else domain
        if not domain or domain.endswith('.'):
            raise _invalid_email()
    if _is_ip_address(domain):
        raise errors.AccountError(
            _('Enter an address with a domain name, not an IP address.'),
            'ip_domain', 'email')
    if '.' not in domain or domain == 'localhost' or domain.endswith(
            '.localhost'):
        raise errors.AccountError(
            _('Enter an address with a public domain name, like '
              'name@example.com: localhost and names without a dot do not '
              'reach anyone outside this server.'), 'local_domain', 'email')
    return domain


def canonical_email(value):
    """``value`` in the stored form: local part as typed, domain ASCII.

    Raises ``AccountError`` when there is no such form.
    """
    local, at, domain = value.rpartition('@')
    if not (local and at and domain):
        raise _invalid_email()
    return local + '@' + _ascii_domain(domain)


def address_key(email):
    """What tells two addresses apart: canonical form, casefolded.

    Lenient for addresses stored before they were normalised: one that
    has no canonical form is compared as it is.
    """
    try:
        email = canonical_email(email)
    except errors.AccountError:
        pass
    return email.casefold()


def clean_email(value):
    """``value`` in its canonical form, or ``AccountError`` (``email``)."""
    value = unicodedata.normalize('NFC', str(value or '')).strip()
    if not value:
        raise errors.AccountError(_('Enter an email address.'), 'required',
                                  'email')
    if len(value) > MAX_EMAIL_LENGTH:
        raise _too_long()
    document.check_one_line(value, 'email')
    value = canonical_email(value)
    if len(value) > MAX_EMAIL_LENGTH:
        raise _too_long()
    try:
        _email_validator(value)
    except ValidationError:
        raise _invalid_email()
    return value


def clean_name(value):
    """An optional display name: trimmed, one line, at most 100 chars."""
    value = unicodedata.normalize('NFC', str(value or '')).strip()
    document.check_one_line(value, 'name')
    if len(value) > MAX_NAME_LENGTH:
        raise errors.AccountError(
            _('A name has at most %d characters.') % MAX_NAME_LENGTH,
            'too_long', 'name')
    return value


def find(doc, contact_id):
    """The contact with ``contact_id``, or ``errors.NotFound``."""
    for contact in doc['contacts']:
        if contact['id'] == contact_id:
            return contact
    raise errors.NotFound(_('This address is no longer in the list. Reload '
                            'the page.'), 'not_found')


def billing_holders(doc):
    """Verified contacts that hold the Billing role."""
    return [contact for contact in doc['contacts']
            if contact['verified'] and document.BILLING in contact['roles']]


def _same(email, other):
    return address_key(email) == address_key(other)


def _refuse_duplicate(doc, email, except_id=None):
    for contact in doc['contacts']:
        if contact['id'] != except_id and _same(contact['email'], email):
            raise errors.AccountError(
                _('%s is already in the list.') % email, 'duplicate',
                'email')


def _settle(doc):
    """A lone verified address holds every role."""
    if len(doc['contacts']) == 1 and doc['contacts'][0]['verified']:
        doc['contacts'][0]['roles'] = list(document.ROLES)


def _keep_billing(before, doc, message, code='last_billing'):
    if billing_holders(before) and not billing_holders(doc):
        raise errors.AccountError(message, code)


def _changed(doc, change):
    """Run ``change`` on a copy; copy back only if every rule held."""
    work = copy.deepcopy(doc)
    result = change(work)
    doc.clear()
    doc.update(work)
    return result


def add_contact(doc, email, name=''):
    """Add ``email`` as a pending address without roles; returns it."""
    email = clean_email(email)
    name = clean_name(name)
    _refuse_duplicate(doc, email)
    if len(doc['contacts']) >= document.MAX_CONTACTS:
        raise errors.AccountError(
            _('A project has at most %d addresses.') % document.MAX_CONTACTS,
            'too_many', 'email')
    contact = {'id': new_id(), 'email': email, 'name': name, 'roles': [],
               'verified': False, 'verification': None}
    doc['contacts'].append(contact)
    return contact


def update_contact(doc, contact_id, email, name=''):
    """Change an address or its name; returns ``(contact, readdressed)``.

    A new address (not just other letter case) must be verified again and
    loses its roles, which is refused for the last verified Billing
    address.
    """
    email = clean_email(email)
    name = clean_name(name)
    find(doc, contact_id)
    _refuse_duplicate(doc, email, except_id=contact_id)

    def change(work):
        contact = find(work, contact_id)
        readdressed = not _same(contact['email'], email)
        contact['email'] = email
        contact['name'] = name
        if readdressed:
            contact.update(verified=False, roles=[], verification=None)
            _keep_billing(doc, work, _(
                'This is the last verified address with Billing. Add the '
                'new address, verify it and give it Billing first; then '
                'change or delete this one.'))
        return contact, readdressed

    return _changed(doc, change)


def delete_contacts(doc, contact_ids):
    """Delete the contacts with ``contact_ids``; returns them."""
    removed = [find(doc, contact_id) for contact_id in contact_ids]

    def change(work):
        work['contacts'] = [contact for contact in work['contacts']
                            if contact['id'] not in contact_ids]
        _keep_billing(doc, work, _(
            'At least one verified address must receive invoices '
            '(Billing). Give Billing to another verified address before '
            'deleting this one.'))
        _settle(work)
        return removed

    return _changed(doc, change)


def set_role(doc, contact_id, role, enabled):
    """Give (``enabled``) or take away ``role``; returns the contact."""
    if role not in document.ROLES:
        raise errors.AccountError(_('There is no such role.'), 'no_role')
    contact = find(doc, contact_id)
    label = ROLE_LABELS[role]
    if enabled and not contact['verified']:
        raise errors.AccountError(
            _('Verify %(email)s before it can have %(role)s: enter the code '
              'mailed to it.') % {'email': contact['email'], 'role': label},
            'unverified')
    if not enabled and len(doc['contacts']) == 1:
        raise errors.AccountError(
            _('The only address holds every role. Add and verify another '
              'address to share them.'), 'only_address')

    def change(work):
        target = find(work, contact_id)
        roles = set(target['roles'])
        if enabled:
            roles.add(role)
        else:
            roles.discard(role)
        target['roles'] = [r for r in document.ROLES if r in roles]
        _keep_billing(doc, work, _(
            'At least one verified address must receive invoices '
            '(Billing). Give Billing to another verified address first.'))
        return target

    return _changed(doc, change)


def grant_unheld_roles(doc, contact_id):
    """Give the contact every role no other verified address holds.

    Called after verification: a project's first verified address gets
    them all.
    """
    contact = find(doc, contact_id)
    held = {role for other in doc['contacts'] if other['verified']
            and other['id'] != contact_id for role in other['roles']}
    contact['roles'] = [role for role in document.ROLES
                        if role in contact['roles'] or role not in held]
    return contact


def _address_digest(secret, email):
    return verification.address_digest(secret, address_key(email))


def _minutes_until(moment, now):
    seconds = (moment + verification.LOG_WINDOW - now).total_seconds()
    return max(1, int(math.ceil(seconds / 60.0)))


def _refuse_too_soon(doc, contact, address, now, resend_interval):
    """Refuse a code within ``resend_interval`` of the address's last."""
    # The log knows every code of the address; the contact's own code
    # covers documents written before the log.
    elapsed = [(now - sent).total_seconds() for sent in verification.logged(
        doc, verification.SENT, now, address)]
    own = verification.seconds_since_sent(contact, now)
    if own is not None and own >= 0:
        elapsed.append(own)
    if elapsed and min(elapsed) < resend_interval:
        since = min(elapsed)
        raise errors.AccountError(
            _('A code was sent %(elapsed)d seconds ago. Wait %(wait)d '
              'seconds before asking for another.') % {
                'elapsed': int(since),
                'wait': int(math.ceil(resend_interval - since))},
            'too_soon')


def _refuse_wrong_codes(doc, contact, address, now, attempts):
    """Refuse once the address or the project used up its wrong codes.

    Returns how many wrong codes the address entered in the last hour.
    """
    failed = verification.logged(doc, verification.FAILED, now)
    over = len(failed) - verification.MAX_FAILED_PER_HOUR
    if over >= 0:
        minutes = _minutes_until(failed[over], now)
        raise errors.AccountError(ngettext_lazy(
            'Too many wrong codes were entered in this project in the last '
            'hour. Try again in %(minutes)d minute.',
            'Too many wrong codes were entered in this project in the last '
            'hour. Try again in %(minutes)d minutes.', 'minutes') % {
                'minutes': minutes}, 'too_many_attempts', 'code')
    failed = verification.logged(doc, verification.FAILED, now, address)
    over = len(failed) - attempts
    if over >= 0:
        minutes = _minutes_until(failed[over], now)
        raise errors.AccountError(ngettext_lazy(
            'Too many wrong codes were entered for %(email)s in the last '
            'hour. Try again in %(minutes)d minute.',
            'Too many wrong codes were entered for %(email)s in the last '
            'hour. Try again in %(minutes)d minutes.', 'minutes') % {
                'email': contact['email'], 'minutes': minutes},
            'too_many_attempts', 'code')
    return len(failed)


def _refuse_codes_per_hour(doc, now, codes_per_hour):
    if codes_per_hour is None:
        return
    sent = verification.logged(doc, verification.SENT, now)
    over = len(sent) - codes_per_hour
    if over >= 0:
        raise errors.AccountError(ngettext_lazy(
            'Too many verification codes were mailed for this project in '
            'the last hour. A new code can be mailed in %(minutes)d minute.',
            'Too many verification codes were mailed for this project in '
            'the last hour. A new code can be mailed in %(minutes)d '
            'minutes.', 'minutes') % {
                'minutes': _minutes_until(sent[over], now)},
            'rate_limited')


def issue_code(doc, contact_id, secret, now, lifetime_minutes=30,
               attempts=5, resend_interval=0, codes_per_hour=None):
    """A new verification code for a pending contact; returns it.

    So the form cannot be used to flood a mailbox or to guess codes, it is
    refused (``errors.AccountError`` with a code in ``RATE_LIMITED``):

    * ``too_soon``: within ``resend_interval`` seconds of the last code
      mailed to the same address (compared as ``address_key``) in this
      project, whichever contact it was mailed for: editing an address
      away and back, or deleting and adding it again, does not reset it;
    * ``too_many_attempts``: while the address has used up its
      ``attempts`` wrong codes of the last hour (see ``verify``), or the
      project its ``verification.MAX_FAILED_PER_HOUR``: a code that could
      not be checked is not mailed;
    * ``rate_limited``: when ``codes_per_hour`` codes (None: no limit)
      were mailed for the project in the last hour.

    The message says when a code can be sent. The code allows the wrong
    entries the address has left of ``attempts``, so a new code does not
    bring back spent attempts. The sending is logged (see
    ``verification``).
    """
    contact = find(doc, contact_id)
    if contact['verified']:
        raise errors.AccountError(_('%s is already verified.')
                                  % contact['email'], 'already_verified')
    address = _address_digest(secret, contact['email'])
    _refuse_too_soon(doc, contact, address, now, resend_interval)
    failed = _refuse_wrong_codes(doc, contact, address, now, attempts)
    _refuse_codes_per_hour(doc, now, codes_per_hour)
    code = verification.issue(contact, secret, now, lifetime_minutes,
                              attempts - failed)
    verification.record(doc, verification.SENT, address, now)
    return code


def verify(doc, contact_id, code, secret, now, attempts=5):
    """Check ``code`` for the contact; returns a ``verification`` outcome.

    Store ``doc`` whatever the outcome: a wrong code uses up an attempt
    of the code and one of the ``attempts`` wrong codes the address has
    per hour, across all its codes (and its deletions). The wrong code
    that uses up the latter returns ``verification.LOCKED``; after it,
    checks are refused (``errors.AccountError``, ``too_many_attempts``,
    nothing to store) until the oldest of them is an hour old, and so
    when the project entered ``verification.MAX_FAILED_PER_HOUR`` wrong
    codes in the last hour. A verified contact takes the roles nobody
    verified holds.
    """
    contact = find(doc, contact_id)
    if contact['verified']:
        return verification.VERIFIED
    address = _address_digest(secret, contact['email'])
    failed = _refuse_wrong_codes(doc, contact, address, now, attempts)
    pending = contact.get('verification') or {}
    before = pending.get('attempts_left')
    outcome = verification.check(contact, code, secret, now)
    if outcome == verification.VERIFIED:
        grant_unheld_roles(doc, contact_id)
    elif pending.get('attempts_left') != before:
        # This code was wrong (check counted it).
        verification.record(doc, verification.FAILED, address, now)
        left = attempts - failed - 1
        pending['attempts_left'] = max(0, min(pending['attempts_left'],
                                              left))
        if left <= 0:
            return verification.LOCKED
        if pending['attempts_left'] <= 0:
            return verification.EXHAUSTED
        return verification.WRONG
    return outcome
