"""The Account settings pane with Horizon's test helpers.

Keystone is the in-memory ``FakeKeystone`` (see test_account_facade);
mail goes to Django's test outbox. Everything else is the real code:
views, tabs, tables, forms, facade and rules.
"""

import re
from unittest import mock

from django.core import mail
from django.urls import reverse

from openstack_dashboard.api import keystone as keystone_api
from openstack_dashboard.test import helpers as test

from cleura_billing_dashboard.notify import compose
from tests import factories
from tests.unit import test_account_facade as fakes

INDEX_URL = reverse('horizon:settings:account:index')
CUSTOMER_URL = INDEX_URL + '?tab=account__customer'
CONTACT_URL = INDEX_URL + '?tab=account__contact'
CREATE_EMAIL_URL = reverse('horizon:settings:account:create_email')
CREATE_PHONE_URL = reverse('horizon:settings:account:create_phone')
CUSTOMER = {
    'account_form': 'customer',
    'name': 'Acme AB',
    'org_number': '556677-8899',
    'vat_number': 'SE556677889901',
    'address': 'Sveavägen 1',
    'postal_code': '111 57',
    'city': 'Stockholm',
    'country': 'SE',
    'po_reference': 'PO-1',
}


def code_in(message):
    return re.search(r'^ {4}(\d{6})$', message.body, re.M).group(1)


def verify_url(contact_id):
    return reverse('horizon:settings:account:verify_email',
                   args=[contact_id])


class AccountPaneTestCase(fakes.FakeKeystoneMixin, test.TestCase):

    def revision(self):
        stored = self.stored()
        return stored['revision'] if stored else 0

    def contact(self, email):
        return next(c for c in self.stored()['contacts']
                    if c['email'] == email)

    def add_email(self, email):
        res = self.client.post(CREATE_EMAIL_URL, {
            'revision': self.revision(), 'email': email, 'name': ''})
        self.assertNoFormErrors(res)
        return self.contact(email)

    def verify(self, email):
        contact = self.contact(email)
        message = [m for m in mail.outbox if m.to == [email]][-1]
        res = self.client.post(verify_url(contact['id']), {
            'revision': self.revision(), 'contact_id': contact['id'],
            'code': code_in(message)})
        self.assertNoFormErrors(res)
        return self.contact(email)

    def role(self, email, action):
        return self.client.post(INDEX_URL, {
            'action': 'emails__%s__%s' % (action, self.contact(email)['id']),
            'revision': self.revision()})


class PaneTests(AccountPaneTestCase):

    def test_the_pane_has_three_tabs_and_reads_keystone_once(self):
        res = self.client.get(INDEX_URL)
        self.assertTemplateUsed(res, 'settings/account/index.html')
        self.assertContains(res, '<title>Account settings')
        for tab in ('Customer Info', 'Contact', 'Settings',
                    'Create new Email', 'Phone List'):
            self.assertContains(res, tab)
        self.assertEqual(1, self.keystone.projects.gets)

    def test_customer_info_is_saved_to_the_project_attribute(self):
        res = self.client.post(CUSTOMER_URL, dict(CUSTOMER, revision=0))
        self.assertRedirectsNoFollow(res, CUSTOMER_URL)
        stored = self.stored()
        self.assertEqual((1, 'Acme AB', '556677-8899', None),
                         (stored['revision'], stored['customer']['name'],
                          stored['customer']['org_number'],
                          stored['customer']['billing_address']))
        page = self.client.get(CUSTOMER_URL)
        self.assertContains(page, 'value="Acme AB"')
        self.assertContains(page, 'name="revision" value="1"')

    def test_a_bad_organisation_number_shows_on_its_field(self):
        res = self.client.post(CUSTOMER_URL, dict(
            CUSTOMER, revision=0, org_number='556677-8898'))
        self.assertEqual(200, res.status_code)
        form = res.context['tab_group'].bound_forms['customer']
        self.assertEqual(['This is not a valid organisation or personal '
                          'number of the chosen country: check the digits.'],
                         form.errors['org_number'])
        self.assertContains(res, 'check the digits')
        self.assertIsNone(self.stored())

    def test_a_separate_billing_address_is_stored(self):
        self.client.post(CUSTOMER_URL, dict(
            CUSTOMER, revision=0, billing_address='Box 9',
            billing_postal_code='17154', billing_city='Solna',
            billing_country='SE'))
        self.assertEqual({'address': 'Box 9', 'postal_code': '171 54',
                          'city': 'Solna', 'country': 'SE'},
                         self.stored()['customer']['billing_address'])

    def test_html_in_a_name_is_shown_as_text(self):
        name = '<script>alert("x")</script> AB'
        self.client.post(CUSTOMER_URL, dict(CUSTOMER, revision=0,
                                            name=name))
        self.assertEqual(name, self.stored()['customer']['name'])
        res = self.client.get(CUSTOMER_URL)
        self.assertNotContains(res, '<script>alert')
        self.assertContains(res, '&lt;script&gt;alert(&quot;x&quot;)')

    def test_oversized_fields_are_refused(self):
        res = self.client.post(CUSTOMER_URL, dict(
            CUSTOMER, revision=0, name='n' * 201, city='c' * 5000))
        form = res.context['tab_group'].bound_forms['customer']
        self.assertEqual({'name', 'city'}, set(form.errors))
        self.assertIsNone(self.stored())

    def test_a_forged_or_stale_revision_is_refused(self):
        self.client.post(CUSTOMER_URL, dict(CUSTOMER, revision=0))
        for forged in ('0', '5', 'x'):
            res = self.client.post(CUSTOMER_URL, dict(
                CUSTOMER, revision=forged, name='Forged AB'))
            self.assertContains(res, 'changed by someone else')
        self.assertEqual(('Acme AB', 1),
                         (self.stored()['customer']['name'],
                          self.stored()['revision']))

    def test_settings_are_saved(self):
        res = self.client.post(INDEX_URL + '?tab=account__settings', {
            'account_form': 'settings', 'revision': 0, 'delivery': 'link',
            'language': 'sv'})
        self.assertEqual(302, res.status_code)
        self.assertEqual({'delivery': 'link', 'language': 'sv',
                          'einvoice': False},
                         self.stored()['settings'])

    def test_a_corrupt_document_shows_a_message_not_a_500(self):
        self.seed({'schema_version': 9})
        res = self.client.get(INDEX_URL)
        self.assertEqual(200, res.status_code)
        self.assertContains(res, 'cannot be read')


class EinvoiceFieldTests(AccountPaneTestCase):
    """Peppol ID, Your reference and the e-invoice setting (issue 10)."""

    def test_peppol_id_and_reference_round_trip(self):
        res = self.client.post(CUSTOMER_URL, dict(
            CUSTOMER, revision=0, peppol_id=' 0007:556677-8899',
            buyer_reference='Cost centre 17'))
        self.assertRedirectsNoFollow(res, CUSTOMER_URL)
        saved = self.stored()['customer']
        self.assertEqual(('0007:5566778899', 'Cost centre 17', 'PO-1'),
                         (saved['peppol_id'], saved['buyer_reference'],
                          saved['po_reference']))
        page = self.client.get(CUSTOMER_URL)
        self.assertContains(page, 'value="0007:5566778899"')
        self.assertContains(page, 'value="Cost centre 17"')
        self.assertContains(page, 'Peppol ID')
        self.assertContains(page, 'Your reference')

    def test_a_bad_peppol_id_shows_on_its_field_and_nothing_is_saved(self):
        for bad, says in (('0007:5566778898', 'Swedish organisation number'),
                          ('1234:5566778899', 'Peppol EAS code list'),
                          ('5566778899', 'scheme:identifier')):
            res = self.client.post(CUSTOMER_URL, dict(
                CUSTOMER, revision=0, peppol_id=bad, buyer_reference='R'))
            self.assertEqual(200, res.status_code)
            form = res.context['tab_group'].bound_forms['customer']
            self.assertEqual({'peppol_id'}, set(form.errors))
            self.assertIn(says, form.errors['peppol_id'][0])
            self.assertIsNone(self.stored())

    def test_the_einvoice_setting_is_saved_and_shown(self):
        settings_url = INDEX_URL + '?tab=account__settings'
        res = self.client.post(settings_url, {
            'account_form': 'settings', 'revision': 0,
            'delivery': 'attachment', 'language': 'en', 'einvoice': 'on'})
        self.assertEqual(302, res.status_code)
        self.assertIs(True, self.stored()['settings']['einvoice'])
        page = self.client.get(settings_url)
        self.assertContains(page, 'Attach the e-invoice (XML) to the '
                                  'invoice mail')
        self.assertRegex(page.content.decode(),
                         r'<input[^>]*name="einvoice"[^>]*checked')
        # Unticked: a browser sends no field at all.
        self.client.post(settings_url, {
            'account_form': 'settings', 'revision': 1,
            'delivery': 'attachment', 'language': 'en'})
        self.assertIs(False, self.stored()['settings']['einvoice'])


class ContactTests(AccountPaneTestCase):

    def test_a_new_address_gets_a_code_and_is_pending(self):
        res = self.client.post(CREATE_EMAIL_URL, {
            'revision': 0, 'email': 'ann@example.com', 'name': 'Ann'})
        self.assertRedirectsNoFollow(res, CONTACT_URL)
        [message] = mail.outbox
        self.assertEqual(['ann@example.com'], message.to)
        self.assertIn('Your verification code', message.subject)
        code = code_in(message)
        contact = self.contact('ann@example.com')
        self.assertEqual((False, []), (contact['verified'],
                                       contact['roles']))
        self.assertNotIn(code, repr(self.stored()))
        page = self.client.get(CONTACT_URL)
        self.assertContains(page, 'Pending verification')
        self.assertContains(page, verify_url(contact['id']))

    def test_verifying_the_first_address_gives_it_every_role(self):
        self.add_email('ann@example.com')
        contact = self.verify('ann@example.com')
        self.assertEqual((True, ['billing', 'tech', 'dpo']),
                         (contact['verified'], contact['roles']))
        self.assertIsNone(contact['verification'])

    def test_a_wrong_code_is_counted_and_the_form_keeps_up(self):
        contact = self.add_email('ann@example.com')
        code = code_in(mail.outbox[0])
        wrong = '%06d' % ((int(code) + 1) % 10 ** 6)
        res = self.client.post(verify_url(contact['id']), {
            'revision': 1, 'contact_id': contact['id'], 'code': wrong})
        self.assertContains(res, 'This is not the code we mailed')
        self.assertContains(res, '4 attempts left')
        # The attempt was stored: the form shows the new revision.
        self.assertEqual(2, self.revision())
        self.assertContains(res, 'name="revision" value="2"')
        res = self.client.post(verify_url(contact['id']), {
            'revision': 2, 'contact_id': contact['id'], 'code': code})
        self.assertNoFormErrors(res)
        self.assertTrue(self.contact('ann@example.com')['verified'])

    def test_malformed_codes_are_refused_by_the_form(self):
        contact = self.add_email('ann@example.com')
        res = self.client.post(verify_url(contact['id']), {
            'revision': 1, 'contact_id': contact['id'], 'code': '12ab56'})
        self.assertFormErrors(res, 1, 'The code is the six digits in the '
                                      'mail.')
        self.assertEqual(1, self.revision())

    def test_seed_journey_billing_moves_to_the_new_address(self):
        self.add_email('old@example.com')
        self.verify('old@example.com')
        self.add_email('new@example.com')
        self.verify('new@example.com')
        self.role('new@example.com', 'grant_billing')
        res = self.role('old@example.com', 'revoke_billing')
        self.assertRedirectsNoFollow(res, CONTACT_URL)
        self.assertEqual(['tech', 'dpo'],
                         self.contact('old@example.com')['roles'])
        self.assertEqual(['billing'],
                         self.contact('new@example.com')['roles'])

    def test_the_last_billing_address_keeps_billing(self):
        self.add_email('ann@example.com')
        self.verify('ann@example.com')
        self.add_email('bob@example.com')
        revision = self.revision()
        res = self.role('ann@example.com', 'revoke_billing')
        self.assertEqual(302, res.status_code)
        page = self.client.get(res['Location'])
        self.assertContains(page, 'At least one verified address must '
                                  'receive invoices')
        res = self.client.post(INDEX_URL, {
            'action': 'emails__delete__%s'
                      % self.contact('ann@example.com')['id'],
            'revision': revision})
        self.assertEqual(revision, self.revision())
        self.assertEqual(['billing', 'tech', 'dpo'],
                         self.contact('ann@example.com')['roles'])

    def test_a_pending_address_cannot_get_a_role(self):
        self.add_email('ann@example.com')
        self.role('ann@example.com', 'grant_billing')
        self.assertEqual([], self.contact('ann@example.com')['roles'])
        page = self.client.get(CONTACT_URL)
        self.assertNotContains(page, 'value="emails__grant_billing__')

    def test_an_address_appears_once_and_must_be_valid(self):
        self.add_email('ann@example.com')
        res = self.client.post(CREATE_EMAIL_URL, {
            'revision': 1, 'email': 'ANN@example.com'})
        self.assertFormErrors(res, 1, 'ANN@example.com is already in the '
                                      'list.')
        res = self.client.post(CREATE_EMAIL_URL, {
            'revision': 1, 'email': 'not an address'})
        self.assertFormErrors(res, 1)
        res = self.client.post(CREATE_EMAIL_URL, {
            'revision': 1, 'email': 'a' * 250 + '@example.com'})
        self.assertFormErrors(res, 1)
        self.assertEqual(1, len(self.stored()['contacts']))

    def test_deleting_a_pending_address(self):
        self.add_email('ann@example.com')
        self.verify('ann@example.com')
        self.add_email('bob@example.com')
        res = self.client.post(INDEX_URL, {
            'action': 'emails__delete__%s'
                      % self.contact('bob@example.com')['id'],
            'revision': self.revision()})
        self.assertEqual(302, res.status_code)
        self.assertEqual(['ann@example.com'],
                         [c['email'] for c in self.stored()['contacts']])

    def test_editing_an_address_sends_a_new_code(self):
        self.add_email('ann@example.com')
        self.verify('ann@example.com')
        bob = self.add_email('bob@example.com')
        url = reverse('horizon:settings:account:update_email',
                      args=[bob['id']])
        self.assertContains(self.client.get(url), 'value="bob@example.com"')
        res = self.client.post(url, {
            'revision': self.revision(), 'contact_id': bob['id'],
            'email': 'robert@example.com', 'name': 'Robert'})
        self.assertNoFormErrors(res)
        self.assertEqual(['robert@example.com'], mail.outbox[-1].to)
        self.assertEqual('Robert', self.contact('robert@example.com')['name'])

    def test_a_refused_verification_mail_leaves_the_address_pending(self):
        with mock.patch.object(compose.django_mail.EmailMessage, 'send',
                               side_effect=OSError('connection refused')):
            res = self.client.post(CREATE_EMAIL_URL, {
                'revision': 0, 'email': 'ann@example.com'})
        self.assertEqual(302, res.status_code)
        page = self.client.get(CONTACT_URL)
        self.assertContains(page, 'could not be')
        self.assertFalse(self.contact('ann@example.com')['verified'])
        resend = {'action': 'emails__resend__%s'
                            % self.contact('ann@example.com')['id']}
        # A code cannot be mailed again at once (mailbox flooding)...
        res = self.client.post(INDEX_URL, dict(resend,
                                               revision=self.revision()))
        self.assertContains(self.client.get(res['Location']),
                            'seconds before asking for another')
        self.assertEqual([], mail.outbox)
        # ...but once the interval has passed it can.
        fakes.conf.get_conf().set_override('verification_resend_interval',
                                           0, 'mail')
        self.addCleanup(fakes.conf.get_conf().clear_override,
                        'verification_resend_interval', 'mail')
        self.client.post(INDEX_URL, dict(resend, revision=self.revision()))
        [message] = mail.outbox
        self.assertEqual(['ann@example.com'], message.to)

    def test_phone_list_add_edit_delete(self):
        res = self.client.post(CREATE_PHONE_URL, {
            'revision': 0, 'number': '070-123 45 67', 'label': ''})
        self.assertFormErrors(res, 1)
        res = self.client.post(CREATE_PHONE_URL, {
            'revision': 0, 'number': '+46 70 123 45 67', 'label': 'Desk'})
        self.assertNoFormErrors(res)
        [phone] = self.stored()['phones']
        self.assertEqual(('+46701234567', 'Desk'),
                         (phone['number'], phone['label']))
        url = reverse('horizon:settings:account:update_phone',
                      args=[phone['id']])
        self.client.post(url, {'revision': 1, 'phone_id': phone['id'],
                               'number': '+4722123456', 'label': 'Oslo'})
        self.assertEqual('+4722123456', self.stored()['phones'][0]['number'])
        self.client.post(INDEX_URL, {
            'action': 'phones__delete__%s' % phone['id'], 'revision': 2})
        self.assertEqual([], self.stored()['phones'])

    def test_a_stale_table_action_is_refused(self):
        self.add_email('ann@example.com')
        self.verify('ann@example.com')
        bob = self.add_email('bob@example.com')
        res = self.client.post(INDEX_URL, {
            'action': 'emails__delete__%s' % bob['id'], 'revision': 1})
        page = self.client.get(res['Location'])
        self.assertContains(page, 'changed by someone else')
        self.assertEqual(2, len(self.stored()['contacts']))


@fakes.POLICY_ON
class ReadOnlyTests(AccountPaneTestCase):

    def setUp(self):
        super().setUp()
        doc = factories.account_document(
            customer={'name': 'Acme <b>AB</b>'},
            contacts=[factories.verified_contact('c1', 'ann@example.com')],
            revision=4)
        self.seed(doc)

    def test_readers_and_members_see_the_pane_without_write_actions(self):
        for role in ('reader', 'member'):
            self.as_role(role)
            res = self.client.get(INDEX_URL)
            self.assertEqual(200, res.status_code)
            self.assertContains(res, 'Acme &lt;b&gt;AB&lt;/b&gt;')
            self.assertContains(res, 'ann@example.com')
            for write in ('Create new Email', 'customer_form',
                          'emails__revoke_billing__', 'Add Phone'):
                self.assertNotContains(res, write)

    def test_readers_see_peppol_id_and_reference(self):
        self.seed(factories.account_document(customer=dict(
            factories.ACME, peppol_id='0007:5566778899',
            buyer_reference='<Ref & 17>')))
        self.as_role('reader')
        res = self.client.get(CUSTOMER_URL)
        self.assertNotContains(res, 'customer_form')
        self.assertContains(res, '0007:5566778899')
        self.assertContains(res, '&lt;Ref &amp; 17&gt;')

    def test_a_member_is_refused_every_write(self):
        self.as_role('member')
        posts = [
            (CUSTOMER_URL, dict(CUSTOMER, revision=4)),
            (INDEX_URL, {'action': 'emails__delete__c1', 'revision': 4}),
            (CREATE_EMAIL_URL, {'revision': 4, 'email': 'x@example.com'}),
            (CREATE_PHONE_URL, {'revision': 4, 'number': '+46701234567'}),
        ]
        for url, data in posts:
            self.assertEqual(403, self.client.post(url, data).status_code,
                             url)
        self.assertEqual(403, self.client.get(CREATE_EMAIL_URL).status_code)
        self.assertEqual([], self.keystone.projects.updates)

    def test_a_manager_gets_the_forms(self):
        self.as_role('manager')
        res = self.client.get(INDEX_URL)
        self.assertContains(res, 'id="customer_form"')
        self.assertContains(res, 'Create new Email')
        self.assertContains(res, 'value="emails__revoke_billing__c1"')
        self.assertContains(res, 'name="revision" value="4"')


class UnreachableTests(test.TestCase):
    """A real keystoneclient against a closed port: a message, no 500."""

    def setUp(self):
        super().setUp()
        url = 'http://127.0.0.1:%d/v3' % fakes.unused_port()
        fakes.conf.get_conf().set_override('auth_url', url,
                                           'keystone_service')
        self.addCleanup(fakes.conf.get_conf().clear_override, 'auth_url',
                        'keystone_service')
        patcher = mock.patch.object(
            keystone_api, 'keystoneclient',
            return_value=fakes.unreachable_keystone_client(url))
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_the_page_says_keystone_does_not_answer(self):
        with fakes.real_connections(self):
            res = self.client.get(INDEX_URL)
            post = self.client.post(CUSTOMER_URL, dict(CUSTOMER, revision=0))
            modal = self.client.get(CREATE_EMAIL_URL)
        self.assertEqual(200, res.status_code)
        self.assertContains(res, 'Keystone does not answer')
        self.assertContains(post, 'Nothing was changed')
        self.assertEqual(302, modal.status_code)


class TextTests(AccountPaneTestCase):
    """Text is what it looks like, through the forms."""

    def test_invisible_characters_in_customer_info_show_on_the_field(self):
        res = self.client.post(CUSTOMER_URL, dict(
            CUSTOMER, revision=0, name='Acme\u202e BA',
            city='Sto\u200bckholm'))
        self.assertEqual(200, res.status_code)
        form = res.context['tab_group'].bound_forms['customer']
        self.assertEqual({'name', 'city'}, set(form.errors))
        self.assertIn('Remove the invisible character U+202E',
                      form.errors['name'][0])
        self.assertIsNone(self.stored())

    def test_an_address_is_stored_and_mailed_in_its_canonical_form(self):
        res = self.client.post(CREATE_EMAIL_URL, {
            'revision': 0, 'email': 'Bob@EXAMPLE.com.', 'name': ''})
        self.assertNoFormErrors(res)
        self.assertEqual(['Bob@example.com'],
                         [c['email'] for c in self.stored()['contacts']])
        self.assertEqual(['Bob@example.com'], mail.outbox[-1].to)
        res = self.client.post(CREATE_EMAIL_URL, {
            'revision': 1, 'email': 'bob@example.com'})
        self.assertFormErrors(res, 1, 'bob@example.com is already in the '
                                      'list.')

    def test_local_and_ip_domains_are_refused_on_the_field(self):
        for email, message in (
                ('root@localhost', 'public domain name'),
                ('user@[127.0.0.1]', 'not an IP address'),
                ('user@[IPv6:::1]', 'not an IP address'),
                ('user@127.0.0.1', 'not an IP address'),
                ('user\u2067@example.com', 'invisible character U+2067')):
            res = self.client.post(CREATE_EMAIL_URL, {
                'revision': 0, 'email': email})
            self.assertEqual(200, res.status_code, email)
            self.assertIn(message, res.context['form'].errors['email'][0])
        self.assertIsNone(self.stored())
        self.assertEqual([], mail.outbox)

    def test_a_code_typed_in_full_width_digits_verifies(self):
        contact = self.add_email('ann@example.com')
        code = code_in(mail.outbox[0])
        full_width = code.translate(str.maketrans('0123456789',
                                                  '０１２３４５６７８９'))
        res = self.client.post(verify_url(contact['id']), {
            'revision': 1, 'contact_id': contact['id'], 'code': full_width})
        self.assertNoFormErrors(res)
        self.assertTrue(self.contact('ann@example.com')['verified'])

    def test_a_wrong_code_in_arabic_indic_digits_is_just_wrong(self):
        contact = self.add_email('ann@example.com')
        code = code_in(mail.outbox[0])
        wrong = '%06d' % ((int(code) + 1) % 10 ** 6)
        res = self.client.post(verify_url(contact['id']), {
            'revision': 1, 'contact_id': contact['id'],
            'code': wrong.translate(str.maketrans('0123456789',
                                                  '٠١٢٣٤٥٦٧٨٩'))})
        self.assertContains(res, 'This is not the code we mailed')
        self.assertFalse(self.contact('ann@example.com')['verified'])

    def test_phone_numbers_and_postal_codes_are_stored_in_ascii(self):
        res = self.client.post(CREATE_PHONE_URL, {
            'revision': 0, 'number': '＋４６ ７０ １２３ ４５ ６７',
            'label': 'Desk'})
        self.assertNoFormErrors(res)
        self.assertEqual('+46701234567', self.stored()['phones'][0]['number'])
        self.client.post(CUSTOMER_URL, dict(CUSTOMER, revision=1,
                                            postal_code='١١١٥٧'))
        self.assertEqual('111 57', self.stored()['customer']['postal_code'])


class VerificationLimitTests(AccountPaneTestCase):
    """The mail limits, as the forms and the resend button tell them."""

    def override(self, **options):
        for name, value in options.items():
            fakes.conf.get_conf().set_override(name, value, 'mail')
            self.addCleanup(fakes.conf.get_conf().clear_override, name,
                            'mail')

    def test_an_address_added_again_is_saved_but_not_mailed_too_soon(self):
        ann = self.add_email('ann@example.com')
        self.client.post(INDEX_URL, {
            'action': 'emails__delete__%s' % ann['id'],
            'revision': self.revision()})
        res = self.client.post(CREATE_EMAIL_URL, {
            'revision': self.revision(), 'email': 'ANN@example.com'})
        self.assertNoFormErrors(res)
        page = self.client.get(CONTACT_URL)
        self.assertContains(page, 'ANN@example.com is saved, pending '
                                  'verification, but no code was mailed')
        self.assertContains(page, 'seconds before asking for another')
        self.assertContains(page, 'Then use &quot;Resend code&quot;')
        self.assertEqual(1, len(mail.outbox))
        self.assertIsNone(self.contact('ANN@example.com')['verification'])

    def test_the_codes_per_hour_cap_shows_on_resend(self):
        self.override(verification_codes_per_hour=1,
                      verification_resend_interval=0)
        ann = self.add_email('ann@example.com')
        res = self.client.post(INDEX_URL, {
            'action': 'emails__resend__%s' % ann['id'],
            'revision': self.revision()})
        page = self.client.get(res['Location'])
        self.assertContains(page, 'Too many verification codes were mailed '
                                  'for this project in the last hour.')
        self.assertEqual(1, len(mail.outbox))

    def test_used_up_wrong_codes_lock_the_form_for_the_hour(self):
        self.override(verification_code_attempts=2)
        ann = self.add_email('ann@example.com')
        code = code_in(mail.outbox[0])
        wrong = '%06d' % ((int(code) + 1) % 10 ** 6)
        for revision in (1, 2):
            res = self.client.post(verify_url(ann['id']), {
                'revision': revision, 'contact_id': ann['id'],
                'code': wrong})
        self.assertContains(res, 'Too many wrong codes were entered for '
                                 'this address. Wait up to an hour')
        res = self.client.post(verify_url(ann['id']), {
            'revision': 3, 'contact_id': ann['id'], 'code': code})
        self.assertEqual(['Too many wrong codes were entered for '
                          'ann@example.com in the last hour. Try again in '
                          '60 minutes.'], res.context['form'].errors['code'])
        self.assertEqual(3, self.revision())
        self.assertFalse(self.contact('ann@example.com')['verified'])
