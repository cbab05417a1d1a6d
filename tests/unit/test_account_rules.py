"""The contact rules, verification codes, phones and settings (pure)."""

import datetime
import json
from unittest import mock

import pytest

from cleura_billing_dashboard.account import contacts
from cleura_billing_dashboard.account import customer
from cleura_billing_dashboard.account import document
from cleura_billing_dashboard.account import errors
from cleura_billing_dashboard.account import invoicing
from cleura_billing_dashboard.account import phones
from cleura_billing_dashboard.account import preferences
from cleura_billing_dashboard.account import verification
from cleura_billing_dashboard import conf

SECRET = b'test secret'
NOW = datetime.datetime(2026, 5, 1, 12, 0, tzinfo=datetime.timezone.utc)
ALL = ['billing', 'tech', 'dpo']


def added(doc, email):
    """Add ``email`` and verify it with the code it was sent."""
    contact = contacts.add_contact(doc, email)
    code = contacts.issue_code(doc, contact['id'], SECRET, NOW)
    assert contacts.verify(doc, contact['id'], code, SECRET,
                           NOW) == verification.VERIFIED
    return contacts.find(doc, contact['id'])


def refusal(code, call, *args, **kwargs):
    with pytest.raises(errors.AccountError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value.message
    return str(caught.value.message)


@pytest.fixture
def doc():
    return document.new_document()


def test_a_new_address_is_pending_and_holds_no_role(doc):
    contact = contacts.add_contact(doc, ' Ann@Example.com ', 'Ann')
    # The local part as typed, the domain in its canonical form.
    assert contact['email'] == 'Ann@example.com'
    assert (contact['verified'], contact['roles']) == (False, [])
    message = refusal('unverified', contacts.set_role, doc, contact['id'],
                      'billing', True)
    assert 'Verify Ann@example.com' in message


def test_the_first_verified_address_holds_every_role(doc):
    assert added(doc, 'ann@example.com')['roles'] == ALL


def test_the_only_address_cannot_give_up_a_role(doc):
    ann = added(doc, 'ann@example.com')
    for role in ALL:
        refusal('only_address', contacts.set_role, doc, ann['id'], role,
                False)
    assert contacts.find(doc, ann['id'])['roles'] == ALL


def test_an_address_appears_once_whatever_its_case(doc):
    contacts.add_contact(doc, 'ann@example.com')
    message = refusal('duplicate', contacts.add_contact, doc,
                      'ANN@EXAMPLE.COM')
    assert message == 'ANN@example.com is already in the list.'
    assert len(doc['contacts']) == 1


@pytest.mark.parametrize('email', [
    'no-at-sign', 'a@b', 'two@@example.com', 'space in@example.com',
    '<script>@example.com', 'x@example.com\nBcc: y@example.com',
    ('x' * 250) + '@example.com', '',
])
def test_malformed_addresses_are_refused(doc, email):
    with pytest.raises(errors.AccountError) as caught:
        contacts.add_contact(doc, email)
    assert caught.value.field == 'email'
    assert doc['contacts'] == []


def test_seed_journey_moves_billing_to_a_new_address(doc):
    old = added(doc, 'old@example.com')
    new = added(doc, 'new@example.com')
    # The old address keeps every role; the new one starts with none.
    assert (old['roles'], new['roles']) == (ALL, [])
    contacts.set_role(doc, new['id'], 'billing', True)
    contacts.set_role(doc, old['id'], 'billing', False)
    assert contacts.find(doc, old['id'])['roles'] == ['tech', 'dpo']
    assert contacts.find(doc, new['id'])['roles'] == ['billing']
    assert invoicing.billing_recipients(doc) == ['new@example.com']


def test_the_last_verified_billing_address_cannot_lose_billing(doc):
    old = added(doc, 'old@example.com')
    pending = contacts.add_contact(doc, 'new@example.com')
    before = [dict(contact) for contact in doc['contacts']]
    message = refusal('last_billing', contacts.set_role, doc, old['id'],
                      'billing', False)
    assert 'At least one verified address must receive invoices' in message
    refusal('last_billing', contacts.delete_contacts, doc, [old['id']])
    refusal('last_billing', contacts.update_contact, doc, old['id'],
            'other@example.com')
    assert doc['contacts'] == before
    # A pending address can always go.
    contacts.delete_contacts(doc, [pending['id']])
    assert [c['email'] for c in doc['contacts']] == ['old@example.com']


def test_deleting_down_to_one_address_gives_it_every_role(doc):
    old = added(doc, 'old@example.com')
    new = added(doc, 'new@example.com')
    contacts.set_role(doc, new['id'], 'billing', True)
    contacts.delete_contacts(doc, [old['id']])
    assert contacts.find(doc, new['id'])['roles'] == ALL


def test_deleting_every_address_at_once_is_refused(doc):
    old = added(doc, 'old@example.com')
    new = added(doc, 'new@example.com')
    refusal('last_billing', contacts.delete_contacts, doc,
            [old['id'], new['id']])
    assert len(doc['contacts']) == 2


def test_changing_only_the_case_keeps_verification(doc):
    ann = added(doc, 'ann@example.com')
    contact, readdressed = contacts.update_contact(doc, ann['id'],
                                                   'Ann@Example.com', 'A')
    assert not readdressed
    assert (contact['verified'], contact['roles']) == (True, ALL)


def test_a_new_address_is_verified_again_and_loses_its_roles(doc):
    old = added(doc, 'old@example.com')
    new = added(doc, 'new@example.com')
    contacts.set_role(doc, new['id'], 'tech', True)
    contact, readdressed = contacts.update_contact(doc, new['id'],
                                                   'newer@example.com')
    assert readdressed
    assert (contact['verified'], contact['roles']) == (False, [])
    assert contacts.find(doc, old['id'])['verified']


def test_a_verified_address_takes_only_roles_nobody_holds(doc):
    old = added(doc, 'old@example.com')
    new = added(doc, 'new@example.com')
    contacts.set_role(doc, new['id'], 'dpo', True)
    contacts.set_role(doc, old['id'], 'dpo', False)
    third = contacts.add_contact(doc, 'third@example.com')
    code = contacts.issue_code(doc, third['id'], SECRET, NOW)
    contacts.verify(doc, third['id'], code, SECRET, NOW)
    assert contacts.find(doc, third['id'])['roles'] == []


def test_a_project_has_at_most_twenty_addresses(doc):
    for i in range(document.MAX_CONTACTS):
        contacts.add_contact(doc, 'user%d@example.com' % i)
    refusal('too_many', contacts.add_contact, doc, 'one@more.example')


def test_wrong_codes_use_up_the_attempts(doc):
    contact = contacts.add_contact(doc, 'ann@example.com')
    code = contacts.issue_code(doc, contact['id'], SECRET, NOW, attempts=3)
    wrong = '%06d' % ((int(code) + 1) % 10 ** 6)
    assert contacts.verify(doc, contact['id'], wrong, SECRET,
                           NOW) == verification.WRONG
    assert contact['verification']['attempts_left'] == 2
    assert contacts.verify(doc, contact['id'], 'abc', SECRET,
                           NOW) == verification.WRONG
    assert contacts.verify(doc, contact['id'], wrong, SECRET,
                           NOW) == verification.EXHAUSTED
    # Even the right code is refused now: a new one must be sent.
    assert contacts.verify(doc, contact['id'], code, SECRET,
                           NOW) == verification.EXHAUSTED
    assert not contact['verified']


def test_codes_expire(doc):
    contact = contacts.add_contact(doc, 'ann@example.com')
    code = contacts.issue_code(doc, contact['id'], SECRET, NOW,
                               lifetime_minutes=30)
    later = NOW + datetime.timedelta(minutes=30)
    assert contacts.verify(doc, contact['id'], code, SECRET,
                           later) == verification.EXPIRED
    assert not contact['verified']


def test_the_document_keeps_only_a_keyed_digest_of_the_code(doc):
    contact = contacts.add_contact(doc, 'ann@example.com')
    code = contacts.issue_code(doc, contact['id'], SECRET, NOW)
    stored = contact['verification']
    assert code not in repr(doc)
    assert len(code) == 6 and code.isdigit()
    # Another server secret cannot confirm the same code.
    assert contacts.verify(doc, contact['id'], code, b'other secret',
                           NOW) == verification.WRONG
    assert stored['digest'] == verification.digest(SECRET, stored['salt'],
                                                   code)


def test_a_new_code_replaces_the_old_one_but_not_too_soon(doc):
    contact = contacts.add_contact(doc, 'ann@example.com')
    with mock.patch.object(verification, 'new_code',
                           side_effect=['111111', '222222']):
        first = contacts.issue_code(doc, contact['id'], SECRET, NOW)
        refusal('too_soon', contacts.issue_code, doc, contact['id'],
                SECRET, NOW + datetime.timedelta(seconds=10), 30, 5, 60)
        second = contacts.issue_code(doc, contact['id'], SECRET,
                                     NOW + datetime.timedelta(seconds=61),
                                     30, 5, 60)
    assert (first, second) == ('111111', '222222')
    assert contacts.verify(doc, contact['id'], first, SECRET,
                           NOW) == verification.WRONG
    assert contacts.verify(doc, contact['id'], second, SECRET,
                           NOW) == verification.VERIFIED


def test_a_verified_address_gets_no_new_code(doc):
    ann = added(doc, 'ann@example.com')
    refusal('already_verified', contacts.issue_code, doc, ann['id'],
            SECRET, NOW)


def test_phone_numbers_are_stored_in_e164(doc):
    phone = phones.add_phone(doc, '0046 (70) 123-45.67', 'On call')
    assert phone['number'] == '+46701234567'
    updated = phones.update_phone(doc, phone['id'], '+47 22 12 34 56', '')
    assert updated == {'id': phone['id'], 'number': '+4722123456',
                       'label': ''}


@pytest.mark.parametrize('number', [
    '070-123 45 67', '+0123456789', '+12', '+1234567890123456',
    'call me', '+46 70 123 45 67 ext 2', '9' * 40,
])
def test_numbers_not_in_international_form_are_refused(doc, number):
    with pytest.raises(errors.AccountError) as caught:
        phones.add_phone(doc, number)
    assert caught.value.field == 'number'
    assert doc['phones'] == []


def test_phone_labels_and_duplicates(doc):
    phones.add_phone(doc, '+46701234567')
    refusal('duplicate', phones.add_phone, doc, '+46 70 123 45 67')
    refusal('too_long', phones.add_phone, doc, '+46701234568', 'x' * 65)
    other = phones.add_phone(doc, '+46701234569')
    phones.delete_phones(doc, [other['id']])
    assert [p['number'] for p in doc['phones']] == ['+46701234567']
    with pytest.raises(errors.NotFound):
        phones.delete_phones(doc, [other['id']])


def test_settings_accept_only_known_choices(doc):
    assert preferences.update_preferences(doc, 'link', 'sv') == {
        'delivery': 'link', 'language': 'sv', 'einvoice': False}
    with pytest.raises(errors.InvalidFields) as caught:
        preferences.update_preferences(doc, 'fax', 'de')
    assert set(caught.value.errors) == {'delivery', 'language'}
    assert doc['settings'] == {'delivery': 'link', 'language': 'sv',
                               'einvoice': False}


def test_buyer_details_use_the_billing_address_and_language(doc):
    assert invoicing.buyer_details(doc) is None
    doc['customer'].update(name='Acme AB', address='Street 1',
                           postal_code='111 57', city='Stockholm',
                           country='SE', org_number='556677-8899')
    doc['customer']['billing_address'] = {
        'address': 'Box 9', 'postal_code': '171 54', 'city': 'Solna',
        'country': 'SE'}
    preferences.update_preferences(doc, 'attachment', 'sv')
    details = invoicing.buyer_details(doc)
    assert (details['name'], details['address'], details['city'],
            details['language']) == ('Acme AB', 'Box 9', 'Solna', 'sv')


def test_only_verified_billing_addresses_receive_invoices(doc):
    old = added(doc, 'old@example.com')
    contacts.add_contact(doc, 'pending@example.com')
    new = added(doc, 'new@example.com')
    contacts.set_role(doc, new['id'], 'billing', True)
    assert invoicing.billing_recipients(doc) == ['old@example.com',
                                                 'new@example.com']
    contacts.set_role(doc, old['id'], 'billing', False)
    assert invoicing.billing_recipients(doc) == ['new@example.com']


# Text is what it looks like: invisible characters, address variants,
# digits of other scripts.

INVISIBLE = ['\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e',
             '\u200f', '\u200b', '\u200c', '\u200d', '\ufeff', '\u2060',
             '\u00ad', '\U000e0041']


@pytest.mark.parametrize('char', INVISIBLE)
def test_names_and_labels_refuse_invisible_characters(doc, char):
    message = refusal('invisible', contacts.add_contact, doc,
                      'ann@example.com', 'Ann' + char + 'moc.elpmaxe')
    assert message.startswith('Remove the invisible character U+%04X'
                              % ord(char))
    ann = contacts.add_contact(doc, 'ann@example.com', 'Ann')
    refusal('invisible', contacts.update_contact, doc, ann['id'],
            'ann@example.com', char + 'Ann')
    refusal('invisible', phones.add_phone, doc, '+46701234567',
            'Desk' + char)
    assert [c['name'] for c in doc['contacts']] == ['Ann']
    assert doc['phones'] == []


@pytest.mark.parametrize('char', INVISIBLE)
def test_addresses_and_numbers_refuse_invisible_characters(doc, char):
    with pytest.raises(errors.AccountError) as caught:
        contacts.add_contact(doc, 'ann' + char + '@example.com')
    assert (caught.value.code, caught.value.field) == ('invisible', 'email')
    with pytest.raises(errors.AccountError) as caught:
        phones.add_phone(doc, '+46 70' + char + '123 45 67')
    assert (caught.value.code, caught.value.field) == ('invisible',
                                                       'number')
    assert (doc['contacts'], doc['phones']) == ([], [])


@pytest.mark.parametrize('typed, stored', [
    ('Bob@EXAMPLE.com', 'Bob@example.com'),
    ('bob@example.com.', 'bob@example.com'),
    ('anna@Exämple.SE', 'anna@xn--exmple-cua.se'),
    ('anna@xn--exmple-cua.se', 'anna@xn--exmple-cua.se'),
    ('anna@ＥＸＡＭＰＬＥ。com', 'anna@example.com'),
])
def test_the_domain_is_stored_in_its_ascii_idna_form(doc, typed, stored):
    assert contacts.add_contact(doc, typed)['email'] == stored


@pytest.mark.parametrize('first, second', [
    ('Bob@EXAMPLE.com', 'bob@example.com'),
    ('bob@example.com', 'BOB@example.com.'),
    ('anna@exämple.se', 'anna@xn--exmple-cua.se'),
    ('anna@XN--EXMPLE-CUA.SE', 'ANNA@EXÄMPLE.SE'),
])
def test_variants_of_one_address_are_one_address(doc, first, second):
    contacts.add_contact(doc, first)
    refusal('duplicate', contacts.add_contact, doc, second)
    assert len(doc['contacts']) == 1


def test_an_address_stored_before_normalisation_is_still_a_duplicate(doc):
    doc['contacts'].append({'id': 'old', 'email': 'Anna@Exämple.se.',
                            'name': '', 'roles': [], 'verified': False,
                            'verification': None})
    refusal('duplicate', contacts.add_contact, doc, 'anna@xn--exmple-cua.se')
    # Normalising it is not a new address: no new code, roles kept.
    contact, readdressed = contacts.update_contact(
        doc, 'old', 'anna@exämple.se')
    assert not readdressed
    assert contact['email'] == 'anna@xn--exmple-cua.se'


def test_another_domain_spelling_is_not_a_new_address(doc):
    ann = added(doc, 'ann@example.com')
    contact, readdressed = contacts.update_contact(doc, ann['id'],
                                                   'ann@EXAMPLE.COM.')
    assert not readdressed
    assert (contact['email'], contact['verified']) == ('ann@example.com',
                                                       True)


@pytest.mark.parametrize('email, code', [
    ('user@localhost', 'local_domain'),
    ('user@LOCALHOST.', 'local_domain'),
    ('user@intranet', 'local_domain'),
    ('user@host.localhost', 'local_domain'),
    ('user@[127.0.0.1]', 'ip_domain'),
    ('user@[IPv6:::1]', 'ip_domain'),
    ('user@[IPv6:2001:db8::1]', 'ip_domain'),
    ('user@127.0.0.1', 'ip_domain'),
    ('user@10.0.0.1.', 'ip_domain'),
    ('user@１２７.０.０.１', 'ip_domain'),
])
def test_local_and_ip_domains_are_refused(doc, email, code):
    message = refusal(code, contacts.add_contact, doc, email)
    assert 'domain' in message
    assert doc['contacts'] == []


@pytest.mark.parametrize('email', [
    'a@exa..mple.com', 'a@-example.com', 'a@' + 'x' * 64 + '.com',
    'a@example.com..', 'a@.example.com', '@example.com', 'a@',
    'a@example.com\u3002\u3002',
])
def test_domains_idna_refuses_get_the_invalid_address_message(doc, email):
    message = refusal('invalid_email', contacts.add_contact, doc, email)
    assert message.startswith('Enter a valid email address')


def test_the_length_limit_applies_to_the_stored_form(doc):
    # 236 + 1 + 17 = 254 characters typed, but the ASCII form is longer.
    email = 'x' * 236 + '@' + 'ä' * 5 + '.example.com'
    refusal('too_long', contacts.add_contact, doc, email)


FULL_WIDTH = str.maketrans('0123456789', '０１２３４５６７８９')
ARABIC_INDIC = str.maketrans('0123456789', '٠١٢٣٤٥٦٧٨٩')


@pytest.mark.parametrize('script', [FULL_WIDTH, ARABIC_INDIC])
def test_a_code_in_other_digits_verifies_as_its_ascii_digits(doc, script):
    contact = contacts.add_contact(doc, 'ann@example.com')
    code = contacts.issue_code(doc, contact['id'], SECRET, NOW)
    wrong = '%06d' % ((int(code) + 1) % 10 ** 6)
    assert contacts.verify(doc, contact['id'], wrong.translate(script),
                           SECRET, NOW) == verification.WRONG
    assert contacts.verify(doc, contact['id'], code.translate(script),
                           SECRET, NOW) == verification.VERIFIED


@pytest.mark.parametrize('code', ['１２３４５６', '١٢٣٤٥٦', '12345\u0661',
                                  '²³⁴⁵⁶⁷', 'ｘｙｚ１２３', '\u200b123456'])
def test_no_code_crashes_the_digest(doc, code):
    contact = contacts.add_contact(doc, 'ann@example.com')
    with mock.patch.object(verification, 'new_code',
                           return_value='999999'):
        contacts.issue_code(doc, contact['id'], SECRET, NOW)
    assert contacts.verify(doc, contact['id'], code, SECRET,
                           NOW) == verification.WRONG
    # A digest of any text is an HMAC, not an exception.
    assert len(verification.digest(SECRET, 'salt', code)) == 64


@pytest.mark.parametrize('number', [
    '＋４６ ７０ １２３ ４５ ６７', '+٤٦ ٧٠ ١٢٣ ٤٥ ٦٧', '٠٠٤٦٧٠١٢٣٤٥٦٧',
    '+46\u00a070\u00a0123\u00a045\u00a067', '＋４６（７０）１２３－４５６７',
])
def test_phone_numbers_in_other_digits_are_stored_in_ascii(doc, number):
    assert phones.add_phone(doc, number)['number'] == '+46701234567'
    refusal('duplicate', phones.add_phone, doc, '+46701234567')


@pytest.mark.parametrize('number', ['+46 ๗๐ abc', '+４６ ７ⅰ', '+46 70 ½'])
def test_phone_numbers_with_other_characters_are_refused(doc, number):
    refusal('invalid_number', phones.add_phone, doc, number)


# Verification mail cannot be used to flood an address: limits per address
# (casefolded canonical form) and per project, kept in the document's
# verification_log across codes, edits and deletions.

def later(**delta):
    return NOW + datetime.timedelta(**delta)


def issue(doc, contact_id, at, **limits):
    return contacts.issue_code(doc, contact_id, SECRET, at, **limits)


def pending_code(doc, contact_id):
    return contacts.find(doc, contact_id)['verification']


def test_editing_an_address_away_and_back_does_not_mail_it_too_soon(doc):
    ann = contacts.add_contact(doc, 'ann@example.com')
    issue(doc, ann['id'], NOW, resend_interval=60)
    contacts.update_contact(doc, ann['id'], 'bob@example.com')
    # Another address: it was never mailed.
    issue(doc, ann['id'], later(seconds=5), resend_interval=60)
    contacts.update_contact(doc, ann['id'], 'ANN@Example.com.')
    message = refusal('too_soon', issue, doc, ann['id'], later(seconds=10),
                      resend_interval=60)
    assert message == ('A code was sent 10 seconds ago. Wait 50 seconds '
                       'before asking for another.')
    assert pending_code(doc, ann['id']) is None
    issue(doc, ann['id'], later(seconds=60), resend_interval=60)
    assert pending_code(doc, ann['id'])['sent_at'] == later(
        seconds=60).isoformat()


def test_deleting_and_adding_an_address_again_does_not_reset_its_wait(doc):
    ann = contacts.add_contact(doc, 'Ann@Example.com')
    issue(doc, ann['id'], NOW, resend_interval=60)
    contacts.delete_contacts(doc, [ann['id']])
    again = contacts.add_contact(doc, 'ann@EXAMPLE.com')
    refusal('too_soon', issue, doc, again['id'], later(seconds=30),
            resend_interval=60)
    assert pending_code(doc, again['id']) is None


def test_the_log_names_addresses_only_by_a_keyed_digest(doc):
    ann = contacts.add_contact(doc, 'ann@example.com')
    issue(doc, ann['id'], NOW)
    contacts.delete_contacts(doc, [ann['id']])
    stored = document.dump(doc)
    assert 'ann@' not in json.dumps(stored)
    [sent] = stored['verification_log']['sent']
    assert set(sent) == {'address', 'at'}
    assert sent['at'] == NOW.isoformat()
    # Keyed: without the server secret an address cannot be tested.
    assert sent['address'] == verification.address_digest(
        SECRET, 'ann@example.com')
    assert sent['address'] != verification.address_digest(
        b'other secret', 'ann@example.com')


def test_a_project_is_mailed_at_most_so_many_codes_an_hour(doc):
    ids = [contacts.add_contact(doc, 'user%d@example.com' % i)['id']
           for i in range(3)]
    issue(doc, ids[0], NOW, codes_per_hour=3)
    issue(doc, ids[1], later(minutes=5), codes_per_hour=3)
    # A code mailed again to the same address counts too.
    issue(doc, ids[1], later(minutes=6), codes_per_hour=3)
    message = refusal('rate_limited', issue, doc, ids[2],
                      later(minutes=10), codes_per_hour=3)
    assert message == ('Too many verification codes were mailed for this '
                       'project in the last hour. A new code can be mailed '
                       'in 50 minutes.')
    assert pending_code(doc, ids[2]) is None
    assert 'in 1 minute.' in refusal('rate_limited', issue, doc, ids[2],
                                     later(minutes=59, seconds=30),
                                     codes_per_hour=3)
    issue(doc, ids[2], later(minutes=60), codes_per_hour=3)
    assert pending_code(doc, ids[2]) is not None


def test_wrong_codes_count_per_address_across_codes(doc):
    ann = contacts.add_contact(doc, 'ann@example.com')

    def check(code, at):
        return contacts.verify(doc, ann['id'], code, SECRET, at, attempts=3)

    with mock.patch.object(verification, 'new_code',
                           side_effect=['111111', '222222']):
        issue(doc, ann['id'], NOW, attempts=3)
        assert check('000000', later(minutes=1)) == verification.WRONG
        assert check('000000', later(minutes=2)) == verification.WRONG
        # A new code does not bring the attempts back.
        issue(doc, ann['id'], later(minutes=3), attempts=3)
        assert pending_code(doc, ann['id'])['attempts_left'] == 1
        assert check('000000', later(minutes=4)) == verification.LOCKED
        # Until the first wrong code is an hour old: no check, no code.
        message = refusal('too_many_attempts', check, '222222',
                          later(minutes=5))
        assert message == ('Too many wrong codes were entered for '
                           'ann@example.com in the last hour. Try again in '
                           '56 minutes.')
        refusal('too_many_attempts', issue, doc, ann['id'],
                later(minutes=5), attempts=3)
    assert not contacts.find(doc, ann['id'])['verified']


def test_deleting_and_adding_an_address_again_keeps_its_wrong_codes(doc):
    ann = contacts.add_contact(doc, 'ann@example.com')
    with mock.patch.object(verification, 'new_code',
                           side_effect=['111111', '222222']):
        issue(doc, ann['id'], NOW, attempts=2)
        for minute in (1, 2):
            contacts.verify(doc, ann['id'], '000000', SECRET,
                            later(minutes=minute), attempts=2)
        contacts.delete_contacts(doc, [ann['id']])
        again = contacts.add_contact(doc, 'Ann@Example.COM')
        refusal('too_many_attempts', issue, doc, again['id'],
                later(minutes=3), attempts=2)
        # An hour after the first wrong code, one attempt is back.
        issue(doc, again['id'], later(minutes=61), attempts=2)
    assert pending_code(doc, again['id'])['attempts_left'] == 1
    assert contacts.verify(doc, again['id'], '222222', SECRET,
                           later(minutes=62),
                           attempts=2) == verification.VERIFIED


def test_a_project_has_a_budget_of_wrong_codes_too(doc):
    ids = [contacts.add_contact(doc, 'user%d@example.com' % i)['id']
           for i in range(3)]
    for contact_id in ids:
        issue(doc, contact_id, NOW)
    with mock.patch.object(verification, 'MAX_FAILED_PER_HOUR', 4):
        for contact_id in ids[:2]:
            for _ in range(2):
                assert contacts.verify(
                    doc, contact_id, 'abcdef', SECRET,
                    later(minutes=1)) == verification.WRONG
        message = refusal('too_many_attempts', contacts.verify, doc,
                          ids[2], 'abcdef', SECRET, later(minutes=2))
        assert message == ('Too many wrong codes were entered in this '
                           'project in the last hour. Try again in 59 '
                           'minutes.')
        refusal('too_many_attempts', issue, doc, ids[2], later(minutes=2))


def test_the_log_keeps_only_the_last_hour(doc):
    ann = contacts.add_contact(doc, 'ann@example.com')
    issue(doc, ann['id'], NOW)
    contacts.verify(doc, ann['id'], '000000', SECRET, later(minutes=1))
    doc['verification_log']['sent'].append(
        {'address': 'f' * 32, 'at': later(days=400).isoformat()})
    verification.prune_log(doc, later(minutes=59))
    assert [len(doc['verification_log'][kind])
            for kind in ('sent', 'failed')] == [1, 1]
    verification.prune_log(doc, later(minutes=61))
    assert doc['verification_log'] == {'sent': [], 'failed': []}


def test_the_fullest_document_with_the_fullest_log_can_be_stored(doc):
    # Every list at its limit, every text at its longest in 3-byte UTF-8,
    # the log at the most it can hold within its hour.
    wide = '\u4e2d'
    for field, length in customer.MAX_LENGTH.items():
        doc['customer'][field] = wide * length
    doc['customer']['billing_address'] = {
        field: wide * customer.MAX_LENGTH[field]
        for field in document.ADDRESS_FIELDS}
    for i in range(document.MAX_CONTACTS):
        email = '%02d' % i + 'x' * 60 + '@' + ('d' * 60 + '.') * 3 + 'se'
        contact = contacts.add_contact(doc, email, wide * 100)
        issue(doc, contact['id'], NOW)
    for i in range(document.MAX_PHONES):
        phones.add_phone(doc, '+4670%07d' % i, wide * 64)
    log = doc['verification_log']
    log['sent'] = [dict(log['sent'][0]) for _ in range(
        verification.MAX_CODES_PER_HOUR)]
    log['failed'] = [dict(log['sent'][0]) for _ in range(
        verification.MAX_FAILED_PER_HOUR)]
    size = len(json.dumps(document.dump(doc),
                          ensure_ascii=False).encode('utf-8'))
    assert size < document.MAX_DOCUMENT_BYTES


def test_the_log_bound_is_the_highest_codes_per_hour_allowed():
    # The size test above holds only while the option cannot go higher.
    [option] = [opt for opt in conf.mail_opts
                if opt.dest == 'verification_codes_per_hour']
    assert option.type.max == verification.MAX_CODES_PER_HOUR
    assert option.default == 10
