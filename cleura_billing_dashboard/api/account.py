"""The Horizon side's one door to the billing account kept in Keystone.

Views, forms, tables and tabs under ``content/`` import this module and
nothing of ``cleura_billing_dashboard.account``: the labels, lengths and
outcomes they show are here too. What callers may rely on:

* Reads use the user's own token (members and readers may read their
  project) and are made once per request.
* Every write checks the plugin's ``billing:account:update`` rule first
  (``NotAllowed``), then hands one change from ``account``'s rules to the
  store (``account.store.update``: a compare-and-set with the service
  credentials, ``Conflict`` when the page's revision is stale).
* Every refusal is an ``Error`` whose ``message`` is for the user: the
  rules' refusals are ``Refused`` (``NotFound``, ``Unreadable``), with the
  rules' ``code`` and ``field``; Keystone unreachable or refusing the
  service user is ``Unavailable`` and nothing changed. Anything else (a
  database error) is unexpected: views handle it with
  ``horizon.exceptions.handle``.
* Verification codes are mailed within the ``[mail]`` limits (see
  ``account.contacts.issue_code``); their log is part of the document, so
  the limits hold across Horizon processes and hosts, under the same lock
  and compare-and-set, and every write prunes it to its hour.

Over 300 lines for a reason: the design keeps one facade module per
backend, and the account has four kinds of things (customer info,
settings, contacts with their codes, phones) whose functions are each a
few lines, besides the labels the pages show.
"""

import contextlib
import logging

from django.utils import crypto
from django.utils import timezone
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from openstack_dashboard.api import base
from openstack_dashboard.api import keystone
from openstack_dashboard import policy

from cleura_billing_dashboard.account import contacts as contact_rules
from cleura_billing_dashboard.account import customer
from cleura_billing_dashboard.account import document
from cleura_billing_dashboard.account import errors
from cleura_billing_dashboard.account import phones as phone_rules
from cleura_billing_dashboard.account import preferences
from cleura_billing_dashboard.account import store
from cleura_billing_dashboard.account import verification
from cleura_billing_dashboard import conf
from cleura_billing_dashboard import notify
from cleura_billing_dashboard import policy as billing_policy

LOG = logging.getLogger(__name__)

RULE_GET = billing_policy.ACCOUNT_GET
RULE_UPDATE = billing_policy.ACCOUNT_UPDATE
ATTRIBUTE = document.ATTRIBUTE
_CACHE_ATTR = '_cleura_billing_account'

# What the pages show, from the account's rules.
ROLES = document.ROLES
BILLING, TECH, DPO = document.BILLING, document.TECH, document.DPO
ROLE_LABELS = contact_rules.ROLE_LABELS
CUSTOMER_FIELDS = document.CUSTOMER_FIELDS
ADDRESS_FIELDS = document.ADDRESS_FIELDS
CUSTOMER_MAX_LENGTH = customer.MAX_LENGTH
EMAIL_MAX_LENGTH = contact_rules.MAX_EMAIL_LENGTH
CONTACT_NAME_MAX_LENGTH = contact_rules.MAX_NAME_LENGTH
PHONE_MAX_LENGTH = phone_rules.MAX_INPUT_LENGTH
PHONE_LABEL_MAX_LENGTH = phone_rules.MAX_LABEL_LENGTH
DELIVERY_CHOICES = [(key, preferences.DELIVERY_LABELS[key])
                    for key in document.DELIVERIES]
LANGUAGE_CHOICES = [(key, preferences.LANGUAGE_LABELS[key])
                    for key in document.LANGUAGES]
DELIVERY_LABELS = preferences.DELIVERY_LABELS
LANGUAGE_LABELS = preferences.LANGUAGE_LABELS
country_choices = customer.country_choices
# The outcomes of ``contact_verify``.
VERIFIED = verification.VERIFIED
WRONG = verification.WRONG
EXHAUSTED = verification.EXHAUSTED
EXPIRED = verification.EXPIRED
NO_CODE = verification.NO_CODE
LOCKED = verification.LOCKED


class Error(Exception):
    """A facade refusal; ``message`` is for the user."""

    message = _('The billing account could not be changed.')

    def __init__(self, message=None):
        if message is not None:
            self.message = message
        super().__init__(self.message)

    def __str__(self):
        return str(self.message)


class NotAllowed(Error):
    message = _('You are not allowed to change the billing account. Ask a '
                'project manager.')


class Conflict(Error):
    message = _('The billing account was changed by someone else since '
                'you opened this page. Reload the page and make your change '
                'again.')


class Unavailable(Error):
    message = store.Unavailable.message


class NotConfigured(Unavailable):
    message = store.NotConfigured.message


class Refused(Error):
    """The account's rules refused the change.

    ``code`` is stable for programs, ``field`` the form field at fault (or
    None), ``errors`` maps each field to its message when several are.
    """

    def __init__(self, error):
        super().__init__(error.message)
        self.code = error.code
        self.field = error.field
        self.errors = dict(getattr(error, 'errors', None) or {})


class NotFound(Refused):
    """The contact or phone is not in the account (any more)."""


class Unreadable(Refused):
    """The stored account cannot be read by this version of the plugin."""


def _refused(error):
    if isinstance(error, errors.NotFound):
        return NotFound(error)
    if isinstance(error, errors.CorruptDocument):
        return Unreadable(error)
    return Refused(error)


@contextlib.contextmanager
def _translated():
    """Raise the facade's errors for the account side's."""
    try:
        yield
    except store.NotConfigured as e:
        raise NotConfigured(e.message) from e
    except store.Unavailable as e:
        raise Unavailable(e.message) from e
    except store.Conflict as e:
        raise Conflict() from e
    except errors.AccountError as e:
        raise _refused(e) from e


class Contact(base.APIDictWrapper):
    """One email address of the account, for tables and forms."""

    _attrs = ['id', 'email', 'name', 'roles', 'verified']

    @property
    def pending(self):
        return not self._apidict['verified']

    def has_role(self, role):
        return role in self._apidict['roles']

    @property
    def attempts_left(self):
        """Wrong codes the pending code still allows (0 without a code)."""
        pending = self._apidict.get('verification') or {}
        return pending.get('attempts_left', 0)


class Phone(base.APIDictWrapper):
    _attrs = ['id', 'number', 'label']


class Account(object):
    """A read-only view of a project's billing account document."""

    def __init__(self, project_id, doc):
        self.project_id = project_id
        self.doc = doc

    @property
    def revision(self):
        return self.doc['revision']

    @property
    def customer(self):
        return self.doc['customer']

    @property
    def settings(self):
        return self.doc['settings']

    @property
    def contacts(self):
        return [Contact(contact) for contact in self.doc['contacts']]

    @property
    def phones(self):
        return [Phone(phone) for phone in self.doc['phones']]

    def contact(self, contact_id):
        """The contact; ``NotFound`` if the account has no such one."""
        with _translated():
            return Contact(contact_rules.find(self.doc, contact_id))

    def phone(self, phone_id):
        """The phone; ``NotFound`` if the account has no such one."""
        with _translated():
            return Phone(phone_rules.find(self.doc, phone_id))


def is_configured():
    """Whether writes (service credentials) are configured."""
    return store.is_configured()


def account_get(request):
    """The current project's billing account, read with the user's token.

    Raises ``NotAllowed`` without ``billing:account:get``, ``Unavailable``,
    or ``Unreadable``. Cached on the request: one Keystone call per page,
    and a write in the same request replaces the cached value.
    """
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    if not policy.check(RULE_GET, request):
        raise NotAllowed(_('You are not allowed to see the billing '
                           'account.'))
    project_id = request.user.project_id
    try:
        # admin=False: members read their own project (see the lab notes).
        project = keystone.keystoneclient(request).projects.get(project_id)
    except store.keystone_errors():
        LOG.exception('Reading the billing account of %s failed',
                      project_id)
        raise Unavailable()
    with _translated():
        account = Account(project_id, store.load(project))
    setattr(request, _CACHE_ATTR, account)
    return account


def can_update(request):
    """Whether the user's roles allow ``billing:account:update``."""
    return policy.check(RULE_UPDATE, request)


def _expected_revision(revision):
    try:
        value = int(str(revision).strip())
    except (TypeError, ValueError):
        raise Conflict()
    if value < 0:
        raise Conflict()
    return value


def account_update(request, revision, change):
    """Apply ``change(doc)`` to the account if it is still at ``revision``.

    Returns ``(whatever change returned, the new Account)``. ``change``
    works on a fresh copy read with the service credentials and may raise
    ``errors.AccountError`` (raised here as ``Refused``); then nothing is
    written. See ``account.store.update`` for the compare-and-set.
    """
    if not can_update(request):
        raise NotAllowed()
    expected = _expected_revision(revision)
    project_id = request.user.project_id
    with _translated():
        result, doc = store.update(project_id, request.user.id, expected,
                                   change)
    account = Account(project_id, doc)
    setattr(request, _CACHE_ATTR, account)
    return result, account


def customer_update(request, revision, data):
    """Save customer info (see ``account.customer.validate_customer``)."""
    return account_update(request, revision,
                          lambda doc: customer.update_customer(doc, data))


def preferences_update(request, revision, delivery, language,
                       einvoice=False):
    """Save invoice delivery, language and whether to attach the e-invoice."""
    return account_update(
        request, revision,
        lambda doc: preferences.update_preferences(doc, delivery, language,
                                                   einvoice))


def _code_secret():
    # Keyed with the SECRET_KEY every Horizon node shares: a code mailed
    # by one node verifies on another, and readers of the document cannot
    # test the million codes against the stored HMAC.
    return crypto.salted_hmac('cleura_billing.verification', 'code',
                              algorithm='sha256').digest()


def _issue(doc, contact_id):
    opts = conf.get_conf().mail
    return contact_rules.issue_code(
        doc, contact_id, _code_secret(), timezone.now(),
        lifetime_minutes=opts.verification_code_lifetime,
        attempts=opts.verification_code_attempts,
        resend_interval=opts.verification_resend_interval,
        codes_per_hour=opts.verification_codes_per_hour)


def _issue_unless_limited(doc, contact_id):
    """``(code, None)``, or ``(None, refusal)`` when a limit says not now.

    The refusal (``Refused``) says when a code can be sent; the address
    stays pending and ``contact_resend_code`` sends it then.
    """
    try:
        return _issue(doc, contact_id), None
    except errors.AccountError as e:
        if e.code not in contact_rules.RATE_LIMITED:
            raise
        return None, _refused(e)


def _mail_code(request, email, code):
    """Mail a code now; False (logged) when the server refused it."""
    language = translation.get_language() or 'en'
    language = language.split('-')[0] if language.split('-')[0] in (
        document.LANGUAGES) else 'en'
    try:
        notify.send_verification_code(
            email, code, project_name=request.user.project_name or '',
            minutes=conf.get_conf().mail.verification_code_lifetime,
            language=language)
    except Exception:
        LOG.exception('Mailing a verification code to %s failed', email)
        return False
    return True


def contact_create(request, revision, email, name=''):
    """Add a pending address and mail it a code.

    Returns ``(contact, code_mailed, held, account)``. ``held`` is None, or
    the ``Refused`` of a mail limit (``[mail]
    verification_*``): the address is saved, pending, and no code was
    mailed; its message says when ``contact_resend_code`` can send one. A
    refused mail also leaves the address pending.
    """
    def change(doc):
        contact = contact_rules.add_contact(doc, email, name)
        return (contact,) + _issue_unless_limited(doc, contact['id'])

    (contact, code, held), account = account_update(request, revision,
                                                    change)
    mailed = _mail_code(request, contact['email'], code) if code else False
    return Contact(contact), mailed, held, account


def contact_update(request, revision, contact_id, email, name=''):
    """Change an address or its name; a new address gets a new code.

    Returns ``(contact, readdressed, code_mailed, held, account)``, with
    ``held`` as for ``contact_create``: an address changed back to one
    mailed a moment ago is saved but not mailed again.
    """
    def change(doc):
        contact, readdressed = contact_rules.update_contact(
            doc, contact_id, email, name)
        code, held = _issue_unless_limited(doc, contact_id) if (
            readdressed) else (None, None)
        return contact, readdressed, code, held

    (contact, readdressed, code, held), account = account_update(
        request, revision, change)
    mailed = _mail_code(request, contact['email'], code) if code else False
    return Contact(contact), readdressed, mailed, held, account


def contact_delete(request, revision, contact_ids):
    """Delete addresses; returns ``(removed contacts, account)``."""
    removed, account = account_update(
        request, revision,
        lambda doc: contact_rules.delete_contacts(doc, list(contact_ids)))
    return [Contact(contact) for contact in removed], account


def contact_set_role(request, revision, contact_id, role, enabled):
    """Give or take a role; returns ``(contact, account)``."""
    contact, account = account_update(
        request, revision,
        lambda doc: contact_rules.set_role(doc, contact_id, role, enabled))
    return Contact(contact), account


def contact_verify(request, revision, contact_id, code):
    """Check a code; returns ``(outcome, account)``.

    The outcome is one of ``account.verification``'s; the attempt is
    stored whatever it is, so the returned account has a new revision.
    While the address (or the project) has used up its wrong codes of the
    hour, the check is refused (``Refused``) and nothing is
    stored.
    """
    attempts = conf.get_conf().mail.verification_code_attempts
    return account_update(
        request, revision,
        lambda doc: contact_rules.verify(doc, contact_id, code,
                                         _code_secret(), timezone.now(),
                                         attempts=attempts))


def contact_resend_code(request, revision, contact_id):
    """Mail a new code to a pending address: ``(mailed, account)``.

    Within a mail limit, ``Refused`` says when it can.
    """
    def change(doc):
        return contact_rules.find(doc, contact_id)['email'], _issue(
            doc, contact_id)

    (email, code), account = account_update(request, revision, change)
    return _mail_code(request, email, code), account


def phone_create(request, revision, number, label=''):
    phone, account = account_update(
        request, revision,
        lambda doc: phone_rules.add_phone(doc, number, label))
    return Phone(phone), account


def phone_update(request, revision, phone_id, number, label=''):
    phone, account = account_update(
        request, revision,
        lambda doc: phone_rules.update_phone(doc, phone_id, number, label))
    return Phone(phone), account


def phone_delete(request, revision, phone_ids):
    removed, account = account_update(
        request, revision,
        lambda doc: phone_rules.delete_phones(doc, list(phone_ids)))
    return [Phone(phone) for phone in removed], account
