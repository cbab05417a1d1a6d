"""Where the billing account is kept: one attribute of the Keystone project.

Below the facade: no request and no Horizon; callers pass the project, the
user and what they have already checked (the plugin's policy). What a
caller may rely on:

* ``service_client()`` talks to Keystone with the plugin's service
  credentials (``[keystone_service]``); one session per credentials, kept
  until its token expires. ``NotConfigured`` without ``auth_url``.
* ``update()`` is a compare-and-set: under the project's ``AccountLock``
  row it re-reads the document, refuses it if its revision is not the
  expected one (``Conflict``), applies one change (``errors.AccountError``
  refuses it; nothing is written) and writes only the attribute back with
  the revision plus one.
* ``AccountReader`` reads every project's account once per run, for
  issuing.
* Keystone unreachable or refusing the service user: ``Unavailable`` and
  nothing changed. No Keystone error escapes as anything else.
"""

import contextlib
import logging
import threading

from django.db import models as db_models
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session
from keystoneclient.v3 import client as ks_client

from cleura_billing_dashboard.account import document
from cleura_billing_dashboard.account import invoicing
from cleura_billing_dashboard.account import models
from cleura_billing_dashboard.account import verification
from cleura_billing_dashboard import conf

LOG = logging.getLogger(__name__)

ATTRIBUTE = document.ATTRIBUTE


class Unavailable(Exception):
    """Keystone does not answer or refuses the service user."""

    message = _('The billing account cannot be reached right now (Keystone '
                'does not answer). Nothing was changed; try again in a '
                'moment.')

    def __init__(self, message=None):
        if message is not None:
            self.message = message
        super().__init__(self.message)

    def __str__(self):
        return str(self.message)


class NotConfigured(Unavailable):
    """No ``[keystone_service] auth_url``: the store cannot be written."""

    message = _('Changing the billing account is not set up on this '
                'dashboard (no Keystone service credentials). Ask your '
                'cloud operator.')


class Conflict(Exception):
    """The account is no longer at the revision the caller expected."""


def keystone_errors():
    """What a Keystone client call raises when Keystone fails.

    keystoneauth1's ClientException is the root of connection, discovery,
    auth and HTTP errors; anything else a client call raises (a broken
    socket, a malformed answer) is Keystone failing too.
    """
    return (ks_exceptions.ClientException, Exception)


# Service sessions keep their token until it expires: one per credentials.
_sessions = {}
_sessions_lock = threading.Lock()


def _service_session():
    opts = conf.get_conf().keystone_service
    if not opts.auth_url:
        raise NotConfigured()
    key = (opts.auth_url, opts.username, opts.password, opts.project_name,
           opts.user_domain_name, opts.project_domain_name, opts.cafile,
           opts.timeout)
    with _sessions_lock:
        session = _sessions.get(key)
        if session is None:
            auth = v3.Password(
                auth_url=opts.auth_url, username=opts.username,
                password=opts.password, project_name=opts.project_name,
                user_domain_name=opts.user_domain_name,
                project_domain_name=opts.project_domain_name)
            session = ks_session.Session(auth=auth,
                                         verify=opts.cafile or True,
                                         timeout=opts.timeout)
            _sessions[key] = session
    return session


def service_client():
    """A keystoneclient v3 client with the plugin's service credentials.

    Raises ``NotConfigured`` without ``[keystone_service] auth_url``.
    """
    return ks_client.Client(
        session=_service_session(),
        interface=conf.get_conf().keystone_service.interface)


def is_configured():
    """Whether writes (service credentials) are configured."""
    return bool(conf.get_conf().keystone_service.auth_url)


def load(project):
    """The account document of a Keystone project (defaults if none).

    Raises ``errors.CorruptDocument`` for a document this version cannot
    read.
    """
    return document.load(getattr(project, ATTRIBUTE, None))


@contextlib.contextmanager
def _project_lock(project_id):
    """Hold the project's ``AccountLock`` row until the block ends.

    The UPDATE is the transaction's first write: PostgreSQL and MySQL lock
    the row, SQLite takes its write lock, so a second writer of the project
    (any process, any host on the same database) waits here until the first
    has written to Keystone, then sees its revision.
    """
    models.AccountLock.objects.get_or_create(project_id=project_id)
    with transaction.atomic():
        models.AccountLock.objects.filter(project_id=project_id).update(
            writes=db_models.F('writes') + 1)
        yield


def update(project_id, user_id, revision, change):
    """Apply ``change(doc)`` to the account if it is still at ``revision``.

    Returns ``(whatever change returned, the new document)``. ``change``
    works on a fresh copy read with the service credentials and may raise
    ``errors.AccountError``; then nothing is written. The caller has
    checked that ``user_id`` may change the account.

    Compare-and-set: Keystone has no conditional update (no ETag or
    If-Match on projects), so the revision is compared on a fresh read
    just before the write, both under the project's lock row in the
    plugin's database (``_project_lock``): two writes from one revision
    never both succeed, whichever Horizon process or host serves them.
    """
    with _project_lock(project_id):
        ks = service_client()
        try:
            project = ks.projects.get(project_id)
        except keystone_errors():
            LOG.exception('Reading the billing account of %s failed',
                          project_id)
            raise Unavailable()
        doc = load(project)
        if doc['revision'] != revision:
            raise Conflict()
        result = change(doc)
        now = timezone.now()
        verification.prune_log(doc, now)
        doc['revision'] = revision + 1
        doc['updated_at'] = now.isoformat()
        doc['updated_by'] = user_id
        stored = document.dump(doc)
        try:
            ks.projects.update(project_id, **{ATTRIBUTE: stored})
        except keystone_errors():
            LOG.exception('Writing the billing account of %s failed',
                          project_id)
            raise Unavailable()
    return result, doc


def all_projects(client=None):
    """Every project Keystone has, by id, read with the service credentials.

    Raises ``NotConfigured`` or ``Unavailable``.
    """
    try:
        return {project.id: project
                for project in (client or service_client()).projects.list()}
    except NotConfigured:
        raise
    except keystone_errors():
        LOG.exception('Listing the projects failed')
        raise Unavailable()


class AccountReader(object):
    """What issuing asks of the billing accounts, read once per run.

    The first question lists every project (one Keystone call for the run,
    not one per project: a project read costs a token validation, and
    1,000 of them took longer than rendering the invoices). A project
    Keystone no longer has reads as an empty account: usage can outlive
    its project, and is then invoiced unaddressed. Raises ``Unavailable``
    or ``errors.CorruptDocument``.
    """

    def __init__(self, client=None):
        self._client = client
        self._projects = None
        self._accounts = {}

    def account(self, project_id):
        """The project's account document; the same object every time."""
        if project_id not in self._accounts:
            if self._projects is None:
                self._projects = all_projects(self._client)
            project = self._projects.get(project_id)
            if project is None:
                LOG.warning('Project %s is not in Keystone: invoicing it '
                            'without buyer details or mail', project_id)
                self._accounts[project_id] = document.new_document()
            else:
                self._accounts[project_id] = load(project)
        return self._accounts[project_id]

    def buyer_details(self, project_id):
        """See ``invoicing.buyer_details``."""
        return invoicing.buyer_details(self.account(project_id))

    def billing_recipients(self, project_id):
        """The verified Billing addresses, each once."""
        return invoicing.billing_recipients(self.account(project_id))

    def wants_link(self, project_id):
        """Whether the project takes a link to its invoice, not the PDF."""
        return (self.account(project_id)['settings']['delivery'] ==
                document.DELIVERY_LINK)

    def wants_einvoice(self, project_id):
        """Whether the project's invoice mail carries the e-invoice (XML)."""
        return self.account(project_id)['settings']['einvoice']


def account_reader():
    """An ``AccountReader``, or None without service credentials."""
    if not is_configured():
        LOG.warning('[keystone_service] is not configured: invoices are '
                    'issued without buyer details and are not mailed')
        return None
    return AccountReader()
