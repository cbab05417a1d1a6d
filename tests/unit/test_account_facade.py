"""The account facade against an in-memory Keystone, and a closed port.

``FakeKeystone`` stands in for both clients the facade makes (the user's
and the service one); the functional tests do the same against the real
Keystone. The unreachable-Keystone tests use real keystoneauth sessions
pointed at a port nobody listens on.
"""

import contextlib
import copy
import datetime
import json
import re
import socket
import types
from unittest import mock

from django.core import mail
from django.db import connection
from django.test.utils import override_settings
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session
from keystoneclient.v3 import client as ks_client
from openstack_auth import utils as auth_utils
from urllib3.connection import HTTPConnection

from openstack_dashboard.api import keystone as keystone_api
from openstack_dashboard.test import helpers as test

from cleura_billing_dashboard.account import document
from cleura_billing_dashboard.account import errors
from cleura_billing_dashboard.account import models
from cleura_billing_dashboard.account import store
from cleura_billing_dashboard.account import verification
from cleura_billing_dashboard.api import account as account_api
from cleura_billing_dashboard import conf
from tests.unit import helpers

ATTRIBUTE = document.ATTRIBUTE
POLICY_ON = override_settings(
    POLICY_CHECK_FUNCTION='openstack_auth.policy.check')


class FakeProjects(object):
    """Keystone's projects API as the facade uses it: get, list, PATCH."""

    def __init__(self):
        self.stored = {}
        self.gets = 0
        self.lists = 0
        self.updates = []
        self.fail = None
        self.before_update = None

    def _project(self, project_id):
        project = types.SimpleNamespace(id=project_id, name='acme')
        for key, value in self.stored.get(project_id, {}).items():
            setattr(project, key, json.loads(json.dumps(value)))
        return project

    def get(self, project_id):
        if self.fail:
            raise self.fail
        self.gets += 1
        return self._project(project_id)

    def list(self):
        if self.fail:
            raise self.fail
        self.lists += 1
        return [self._project(project_id) for project_id in self.stored]

    def update(self, project_id, **attributes):
        if self.before_update:
            self.before_update()
        if self.fail:
            raise self.fail
        # Keystone merges top-level keys: only what is sent changes.
        self.updates.append((project_id, copy.deepcopy(attributes)))
        self.stored.setdefault(project_id, {}).update(
            json.loads(json.dumps(attributes)))


class FakeKeystone(object):
    def __init__(self):
        self.projects = FakeProjects()

    def document(self, project_id):
        return self.projects.stored.get(project_id, {}).get(ATTRIBUTE)


class FakeKeystoneMixin(helpers.RoleMixin):
    """Both of the facade's Keystone clients answered by one FakeKeystone."""

    def setUp(self):
        super().setUp()
        self.keystone = FakeKeystone()
        for target, name in ((store, 'service_client'),
                             (keystone_api, 'keystoneclient')):
            patcher = mock.patch.object(target, name,
                                        return_value=self.keystone)
            patcher.start()
            self.addCleanup(patcher.stop)

    def stored(self):
        return self.keystone.document(self.tenant.id)

    def seed(self, doc):
        self.keystone.projects.stored.setdefault(
            self.tenant.id, {})[ATTRIBUTE] = copy.deepcopy(doc)


def user_request(test_case):
    """A request from the test's active user (see ``setActiveUser``)."""
    request = test_case.factory.get('/')
    request.session = test_case.client.session
    request.user = auth_utils.get_user(request)
    return request


def unused_port():
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def real_connections(test_case):
    """Let this block open real sockets (Horizon's helpers forbid it)."""
    HTTPConnection.connect = test_case._real_conn_request
    try:
        yield
    finally:
        HTTPConnection.connect = test_case.fake_conn_request


def unreachable_keystone_client(url):
    auth = v3.Password(auth_url=url, username='u', password='p',
                       project_name='p', user_domain_name='Default',
                       project_domain_name='Default')
    return ks_client.Client(session=ks_session.Session(auth=auth, timeout=5),
                            interface='public')


class FacadeTests(FakeKeystoneMixin, test.TestCase):

    def setUp(self):
        super().setUp()
        self.req = user_request(self)

    def change_name(self, name):
        return lambda doc: doc['customer'].update(name=name) or name

    def test_first_write_creates_revision_1_and_touches_one_attribute(self):
        result, account = account_api.account_update(
            self.req, '0', self.change_name('Acme AB'))
        self.assertEqual('Acme AB', result)
        self.assertEqual(1, account.revision)
        [(project_id, attributes)] = self.keystone.projects.updates
        self.assertEqual(self.tenant.id, project_id)
        self.assertEqual([ATTRIBUTE], list(attributes))
        stored = self.stored()
        self.assertEqual((1, 1, 'Acme AB', self.user.id),
                         (stored['schema_version'], stored['revision'],
                          stored['customer']['name'], stored['updated_by']))

    def test_a_write_from_an_old_revision_is_refused(self):
        account_api.account_update(self.req, 0, self.change_name('First'))
        with self.assertRaises(account_api.Conflict) as caught:
            account_api.account_update(self.req, 0,
                                       self.change_name('Second'))
        self.assertIn('changed by someone else', str(caught.exception))
        self.assertEqual('First', self.stored()['customer']['name'])
        self.assertEqual(1, len(self.keystone.projects.updates))

    def test_forged_revisions_are_refused(self):
        account_api.account_update(self.req, 0, self.change_name('Kept'))
        for forged in ('2', '99', '-1', 'abc', '', None, '1; drop'):
            with self.assertRaises(account_api.Conflict):
                account_api.account_update(self.req, forged,
                                           self.change_name('Forged'))
        self.assertEqual('Kept', self.stored()['customer']['name'])

    def test_a_refused_change_writes_nothing(self):
        def change(doc):
            doc['customer']['name'] = 'half done'
            raise errors.AccountError('no', 'refused')
        with self.assertRaises(account_api.Refused):
            account_api.account_update(self.req, 0, change)
        self.assertEqual([], self.keystone.projects.updates)

    def test_keystone_is_written_under_the_projects_lock_row(self):
        # Two processes racing from one revision are the functional test's
        # (test_account_keystone): here, that the write waits on the row.
        outside = len(connection.savepoint_ids)
        inside = []
        self.keystone.projects.before_update = lambda: inside.append(
            len(connection.savepoint_ids))
        account_api.account_update(self.req, 0, self.change_name('Alpha'))
        self.assertEqual([outside + 1], inside)
        self.assertEqual(1, models.AccountLock.objects.get(
            project_id=self.tenant.id).writes)

    def test_reads_are_made_once_per_request(self):
        first = account_api.account_get(self.req)
        second = account_api.account_get(self.req)
        self.assertIs(first, second)
        self.assertEqual(1, self.keystone.projects.gets)

    def test_a_corrupt_document_is_reported_not_guessed(self):
        self.keystone.projects.stored[self.tenant.id] = {
            ATTRIBUTE: {'schema_version': 7}}
        with self.assertRaises(account_api.Unreadable):
            account_api.account_get(self.req)

    def test_keystone_errors_become_unavailable(self):
        from keystoneauth1 import exceptions as ks_exceptions
        self.keystone.projects.fail = ks_exceptions.ServiceUnavailable()
        with self.assertRaises(account_api.Unavailable):
            account_api.account_get(self.req)
        with self.assertRaises(account_api.Unavailable):
            account_api.account_update(self.req, 0, self.change_name('x'))

    def test_a_failed_write_leaves_keystone_unchanged(self):
        from keystoneauth1 import exceptions as ks_exceptions
        account_api.account_update(self.req, 0, self.change_name('Kept'))

        def fail():
            self.keystone.projects.fail = ks_exceptions.ConnectFailure()
        self.keystone.projects.before_update = fail
        with self.assertRaises(account_api.Unavailable):
            account_api.account_update(self.req, 1, self.change_name('x'))
        self.keystone.projects.fail = None
        self.assertEqual('Kept', self.stored()['customer']['name'])


@POLICY_ON
class FacadePolicyTests(FakeKeystoneMixin, test.TestCase):

    def test_readers_and_members_read_but_cannot_write(self):
        for role in ('reader', 'member'):
            self.as_role(role)
            request = user_request(self)
            self.assertEqual(0, account_api.account_get(request).revision)
            with self.assertRaises(account_api.NotAllowed):
                account_api.account_update(request, 0,
                                           lambda doc: doc.clear())
        self.assertEqual([], self.keystone.projects.updates)

    def test_managers_write(self):
        self.as_role('manager')
        _result, account = account_api.account_update(
            user_request(self), 0, lambda doc: None)
        self.assertEqual(1, account.revision)

    def test_no_role_cannot_even_read(self):
        self.as_role('some-other-role')
        with self.assertRaises(account_api.NotAllowed):
            account_api.account_get(user_request(self))


class UnreachableKeystoneTests(test.TestCase):
    """Real keystoneauth sessions against a port nobody listens on."""

    def setUp(self):
        super().setUp()
        url = 'http://127.0.0.1:%d/v3' % unused_port()
        conf.get_conf().set_override('auth_url', url, 'keystone_service')
        self.addCleanup(conf.get_conf().clear_override, 'auth_url',
                        'keystone_service')
        patcher = mock.patch.object(
            keystone_api, 'keystoneclient',
            return_value=unreachable_keystone_client(url))
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_reading_and_writing_say_keystone_is_unreachable(self):
        with real_connections(self):
            with self.assertRaises(account_api.Unavailable) as read:
                account_api.account_get(user_request(self))
            with self.assertRaises(account_api.Unavailable):
                account_api.account_update(user_request(self), 0,
                                           lambda doc: None)
        self.assertIn('Nothing was changed', str(read.exception))

    def test_without_service_credentials_writes_are_not_configured(self):
        conf.get_conf().set_override('auth_url', None, 'keystone_service')
        with self.assertRaises(account_api.NotConfigured) as caught:
            account_api.account_update(user_request(self), 0, lambda doc: None)
        self.assertIn('cloud operator', str(caught.exception))
        self.assertFalse(account_api.is_configured())


class VerificationLimitTests(FakeKeystoneMixin, test.TestCase):
    """Codes are mailed and checked within the [mail] limits.

    Per address across edits and deletions, per project across Horizon
    processes: the log is in the document in Keystone.
    """

    def setUp(self):
        super().setUp()
        self.req = user_request(self)

    def override(self, **options):
        for name, value in options.items():
            conf.get_conf().set_override(name, value, 'mail')
            self.addCleanup(conf.get_conf().clear_override, name, 'mail')

    def revision(self):
        return self.stored()['revision']

    def mailed_to(self, email):
        return [m for m in mail.outbox if m.to == [email]]

    def code(self, email):
        return re.search(r'^ {4}(\d{6})$', self.mailed_to(email)[-1].body,
                         re.M).group(1)

    def test_adding_an_address_again_does_not_mail_it_too_soon(self):
        contact, mailed, held, _account = account_api.contact_create(
            self.req, 0, 'ann@example.com')
        self.assertEqual((True, None), (mailed, held))
        account_api.contact_delete(self.req, 1, [contact.id])
        contact, mailed, held, account = account_api.contact_create(
            self.req, 2, 'Ann@EXAMPLE.com.')
        # Saved, pending, without a code; the refusal says when.
        self.assertFalse(mailed)
        self.assertEqual('too_soon', held.code)
        self.assertIn('seconds before asking for another', str(held))
        self.assertEqual((3, 'Ann@example.com', None),
                         (account.revision, contact.email,
                          self.stored()['contacts'][0]['verification']))
        self.assertEqual(1, len(mail.outbox))

    def test_editing_an_address_away_and_back_does_not_mail_it(self):
        ann, _mailed, _held, _account = account_api.contact_create(
            self.req, 0, 'ann@example.com')
        _contact, readdressed, mailed, held, _account = (
            account_api.contact_update(self.req, 1, ann.id, 'bob@example.com'))
        self.assertEqual((True, True, None), (readdressed, mailed, held))
        _contact, readdressed, mailed, held, _account = (
            account_api.contact_update(self.req, 2, ann.id, 'ann@example.com'))
        self.assertEqual((True, False, 'too_soon'),
                         (readdressed, mailed, held.code))
        self.assertEqual([1, 1], [len(self.mailed_to(email)) for email in (
            'ann@example.com', 'bob@example.com')])
        # The resend button says the same.
        with self.assertRaises(account_api.Refused) as caught:
            account_api.contact_resend_code(self.req, 3, ann.id)
        self.assertEqual('too_soon', caught.exception.code)
        self.assertEqual(2, len(mail.outbox))

    def test_a_project_gets_so_many_codes_an_hour(self):
        self.override(verification_codes_per_hour=2,
                      verification_resend_interval=0)
        first, _mailed, _held, _account = account_api.contact_create(
            self.req, 0, 'a@example.com')
        account_api.contact_resend_code(self.req, 1, first.id)
        third, mailed, held, _account = account_api.contact_create(
            self.req, 2, 'c@example.com')
        self.assertEqual((False, 'rate_limited'), (mailed, held.code))
        self.assertIn('in 60 minutes', str(held))
        with self.assertRaises(account_api.Refused) as caught:
            account_api.contact_resend_code(self.req, 3, third.id)
        self.assertEqual('rate_limited', caught.exception.code)
        self.assertEqual(3, self.revision())
        self.assertEqual(2, len(mail.outbox))
        # An hour later the project may be mailed again.
        an_hour_later = account_api.timezone.now() + datetime.timedelta(
            hours=1, seconds=1)
        with mock.patch.object(account_api.timezone, 'now',
                               return_value=an_hour_later):
            mailed, _account = account_api.contact_resend_code(self.req, 3,
                                                               third.id)
        self.assertTrue(mailed)
        self.assertEqual(['c@example.com'], mail.outbox[-1].to)

    def test_wrong_codes_are_counted_per_address_across_codes(self):
        self.override(verification_code_attempts=2,
                      verification_resend_interval=0)
        ann, _mailed, _held, _account = account_api.contact_create(
            self.req, 0, 'ann@example.com')
        wrong = '%06d' % ((int(self.code('ann@example.com')) + 1) % 10 ** 6)
        outcome, account = account_api.contact_verify(self.req, 1, ann.id,
                                                      wrong)
        self.assertEqual((verification.WRONG, 1),
                         (outcome, account.contact(ann.id).attempts_left))
        _mailed, account = account_api.contact_resend_code(self.req, 2, ann.id)
        # The new code has the attempts the address has left, not new ones.
        self.assertEqual(1, account.contact(ann.id).attempts_left)
        code = self.code('ann@example.com')
        wrong = '%06d' % ((int(code) + 1) % 10 ** 6)
        outcome, _account = account_api.contact_verify(self.req, 3, ann.id,
                                                       wrong)
        self.assertEqual(verification.LOCKED, outcome)
        # Even the right code is refused now, and nothing is stored.
        with self.assertRaises(account_api.Refused) as caught:
            account_api.contact_verify(self.req, 4, ann.id, code)
        self.assertEqual(('too_many_attempts', 'code'),
                         (caught.exception.code, caught.exception.field))
        self.assertIn('Try again in 60 minutes', str(caught.exception))
        with self.assertRaises(account_api.Refused):
            account_api.contact_resend_code(self.req, 4, ann.id)
        self.assertEqual(4, self.revision())
        self.assertFalse(self.stored()['contacts'][0]['verified'])

    def test_keystone_keeps_only_digests_of_the_last_hour(self):
        ann, _mailed, _held, _account = account_api.contact_create(
            self.req, 0, 'ann@example.com')
        account_api.contact_delete(self.req, 1, [ann.id])
        stored = self.stored()
        self.assertNotIn('ann@', json.dumps(stored))
        self.assertEqual(1, len(stored['verification_log']['sent']))
        # Any write drops what is older than an hour.
        an_hour_later = account_api.timezone.now() + datetime.timedelta(
            hours=1, seconds=1)
        with mock.patch.object(account_api.timezone, 'now',
                               return_value=an_hour_later):
            account_api.account_update(self.req, 2, lambda doc: None)
        self.assertEqual({'sent': [], 'failed': []},
                         self.stored()['verification_log'])
