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
  address to be verified takes every role nobody verified holds.

Every function changes the document in place and returns what it changed;
on refusal it raises ``errors.AccountError`` and leaves ``doc`` as it was.
"""

import copy
import ipaddress
import secrets
import unicodedata

from django.core.exceptions import ValidationError
from django.core import validators
from django.utils.translation import gettext_lazy as _
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


def issue_code(doc, contact_id, secret, now, lifetime_minutes=30,
               attempts=5, resend_interval=0):
    """A new verification code for a pending contact; returns it.

    Refused for a verified address, and within ``resend_interval`` seconds
    of the previous code (so the form cannot be used to flood a mailbox).
    """
    contact = find(doc, contact_id)
    if contact['verified']:
        raise errors.AccountError(_('%s is already verified.')
                                  % contact['email'], 'already_verified')
    elapsed = verification.seconds_since_sent(contact, now)
    if elapsed is not None and 0 <= elapsed < resend_interval:
        raise errors.AccountError(
            _('A code was sent %(elapsed)d seconds ago. Wait %(wait)d '
              'seconds before asking for another.') % {
                'elapsed': elapsed, 'wait': resend_interval - elapsed},
            'too_soon')
    return verification.issue(contact, secret, now, lifetime_minutes,
                              attempts)


def verify(doc, contact_id, code, secret, now):
    """Check ``code`` for the contact; returns a ``verification`` outcome.

    Store ``doc`` whatever the outcome: a wrong code uses up an attempt.
    A verified contact takes the roles nobody verified holds.
    """
    contact = find(doc, contact_id)
    if contact['verified']:
        return verification.VERIFIED
    outcome = verification.check(contact, code, secret, now)
    if outcome == verification.VERIFIED:
        grant_unheld_roles(doc, contact_id)
    return outcome
