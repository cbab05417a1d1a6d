"""Customer info validation per country, and the stored document's shape."""

import json

import pytest

from cleura_billing_dashboard.account import customer
from cleura_billing_dashboard.account import document
from cleura_billing_dashboard.account import errors

VALID = {
    'name': 'Acme AB',
    'org_number': '5566778899',
    'vat_number': 'SE 5566 7788 9901',
    'address': 'Sveavägen 1',
    'postal_code': '11157',
    'city': 'Stockholm',
    'country': 'se',
    'po_reference': 'PO-42',
    'billing_address': None,
}


def refused(data):
    with pytest.raises(errors.InvalidFields) as caught:
        customer.validate_customer(data)
    return {field: str(message)
            for field, message in caught.value.errors.items()}


def test_swedish_company_is_stored_in_its_printed_form():
    clean = customer.validate_customer(VALID)
    assert clean['org_number'] == '556677-8899'
    assert clean['vat_number'] == 'SE556677889901'
    assert clean['postal_code'] == '111 57'
    assert clean['country'] == 'SE'
    assert clean['billing_address'] is None


def test_swedish_personal_number_is_accepted_for_a_person():
    clean = customer.validate_customer(dict(
        VALID, name='Anna Andersson', org_number='811228-9874',
        vat_number=''))
    assert clean['org_number'] == '811228-9874'


def test_wrong_check_digit_is_refused_on_the_number_field():
    problems = refused(dict(VALID, org_number='556677-8898'))
    assert set(problems) == {'org_number'}
    assert 'check the digits' in problems['org_number']


def test_vat_number_of_another_country_is_refused():
    problems = refused(dict(VALID, vat_number='DE136695976'))
    assert set(problems) == {'vat_number'}
    assert 'SE' in problems['vat_number']


def test_vat_number_with_a_bad_check_digit_is_refused():
    problems = refused(dict(VALID, vat_number='SE556677889801'))
    assert problems == {'vat_number': 'This is not a valid VAT number: '
                                      'check the digits.'}


def test_greek_vat_numbers_start_with_el():
    clean = customer.validate_customer(dict(
        VALID, country='GR', org_number='', postal_code='105 57',
        vat_number='EL094259216'))
    assert clean['vat_number'] == 'EL094259216'


def test_norwegian_numbers_use_norways_registers():
    clean = customer.validate_customer(dict(
        VALID, country='NO', org_number='988 077 917',
        vat_number='NO 988 077 917 MVA', postal_code='0150'))
    assert clean['org_number'] == '988 077 917'
    assert clean['vat_number'] == '988077917MVA'
    assert refused(dict(VALID, country='NO', org_number='988077918',
                        vat_number='', postal_code='0150')).keys() == {
        'org_number'}


def test_country_without_a_known_register_accepts_plain_numbers():
    clean = customer.validate_customer(dict(
        VALID, country='US', org_number='12-3456789', vat_number='',
        postal_code='94105'))
    assert clean['org_number'] == '12-3456789'
    assert refused(dict(VALID, country='US', org_number='<b>1</b>',
                        vat_number='', postal_code='94105')).keys() == {
        'org_number'}


def test_required_fields_and_unknown_country_each_get_a_message():
    problems = refused({'name': ' ', 'country': 'XX'})
    assert set(problems) == {'name', 'address', 'postal_code', 'city',
                             'country'}
    assert problems['country'] == 'Choose a country from the list.'


def test_postal_code_must_fit_the_country():
    assert refused(dict(VALID, postal_code='1234')) == {
        'postal_code': 'This is not a postal code of the chosen country.'}


def test_oversized_and_multi_line_values_are_refused():
    problems = refused(dict(VALID, name='x' * 201,
                            address='Line 1\nLine 2',
                            po_reference='p' * 65))
    assert problems['name'] == 'Use at most 200 characters (it has 201).'
    assert 'line breaks' in problems['address']
    assert set(problems) == {'name', 'address', 'po_reference'}


def test_html_in_the_name_is_kept_as_text_for_escaping_on_output():
    clean = customer.validate_customer(dict(
        VALID, name='<script>alert(1)</script> AB'))
    assert clean['name'] == '<script>alert(1)</script> AB'


def test_separate_billing_address_needs_all_its_fields():
    problems = refused(dict(VALID, billing_address={
        'address': 'Box 123', 'postal_code': '', 'city': 'Solna',
        'country': 'SE'}))
    assert set(problems) == {'billing_postal_code'}
    clean = customer.validate_customer(dict(VALID, billing_address={
        'address': 'Box 123', 'postal_code': '17154', 'city': 'Solna',
        'country': 'se'}))
    assert clean['billing_address'] == {
        'address': 'Box 123', 'postal_code': '171 54', 'city': 'Solna',
        'country': 'SE'}


def test_country_choices_are_named_in_the_users_language():
    swedish = dict(customer.country_choices('sv'))
    english = dict(customer.country_choices('en'))
    assert swedish['SE'] == 'Sverige'
    assert english['SE'] == 'Sweden'
    assert 'EU' not in english and 'ZZ' not in english


def test_a_project_without_the_attribute_gets_the_default_document():
    doc = document.load(None)
    assert doc['schema_version'] == document.SCHEMA_VERSION
    assert doc['revision'] == 0
    assert doc['contacts'] == [] and doc['phones'] == []
    assert doc['settings'] == {'delivery': 'attachment', 'language': 'en',
                               'einvoice': False}
    assert not document.is_saved(doc)


def test_loading_fills_gaps_and_drops_unknown_roles():
    doc = document.load(json.dumps({
        'revision': 3,
        'contacts': [{'id': 'a', 'email': 'a@example.com',
                      'roles': ['billing', 'owner'], 'verified': True}],
        'settings': {'language': 'de'},
    }))
    assert doc['revision'] == 3
    assert doc['contacts'][0]['roles'] == ['billing']
    assert doc['settings']['language'] == 'en'
    assert doc['customer']['name'] == ''


@pytest.mark.parametrize('stored', [
    '[1, 2]', '{not json', {'schema_version': 99},
    {'revision': 'seven'}, {'revision': -1},
    {'contacts': [{'roles': ['billing']}]},
])
def test_unreadable_documents_are_refused_not_guessed(stored):
    with pytest.raises(errors.CorruptDocument):
        document.load(stored)


def test_a_document_too_large_for_keystone_is_refused():
    doc = document.new_document()
    doc['customer']['name'] = 'x' * document.MAX_DOCUMENT_BYTES
    with pytest.raises(errors.AccountError) as caught:
        document.dump(doc)
    assert caught.value.code == 'too_large'


@pytest.mark.parametrize('char', ['\u202e', '\u2066', '\u2069', '\u200f',
                                  '\u200b', '\u200d', '\ufeff', '\u2060',
                                  '\u00ad'])
def test_invisible_characters_are_refused_in_every_text_field(char):
    problems = refused(dict(VALID, name='Acme' + char + ' AB',
                            city=char + 'Stockholm',
                            po_reference='PO' + char + '42',
                            billing_address={
                                'address': 'Box' + char + ' 9',
                                'postal_code': '17154', 'city': 'Solna',
                                'country': 'SE'}))
    assert set(problems) == {'name', 'city', 'po_reference',
                             'billing_address'}
    assert problems['name'] == (
        'Remove the invisible character U+%04X: direction marks, '
        'zero-width characters and soft hyphens make text look other than '
        'it is.' % ord(char))


@pytest.mark.parametrize('typed, country, stored', [
    ('１１１５７', 'SE', '111 57'),
    ('١١١ ٥٧', 'SE', '111 57'),
    ('０１５０', 'NO', '0150'),
    ('۹۴۱۰۵', 'US', '94105'),
    ('ＳＷ１Ａ １ＡＡ', 'GB', 'SW1A 1AA'),
])
def test_postal_codes_in_other_digits_are_stored_in_ascii(typed, country,
                                                          stored):
    clean = customer.validate_customer(dict(
        VALID, country=country, org_number='', vat_number='',
        postal_code=typed, billing_address={
            'address': 'Box 9', 'postal_code': typed, 'city': 'Solna',
            'country': country}))
    assert clean['postal_code'] == stored
    assert clean['billing_address']['postal_code'] == stored


@pytest.mark.parametrize('typed', ['١١١ ٥', '１１１５７８', '½11 57', '111\u200b57'])
def test_postal_codes_that_are_no_number_are_refused_not_crashed(typed):
    assert set(refused(dict(VALID, postal_code=typed))) == {'postal_code'}


def test_full_width_organisation_numbers_are_stored_in_ascii():
    clean = customer.validate_customer(dict(
        VALID, org_number='５５６６７７－８８９９', vat_number=''))
    assert clean['org_number'] == '556677-8899'


def test_a_document_from_before_the_verification_log_loads_with_none():
    doc = document.load({'revision': 2, 'contacts': []})
    assert doc['verification_log'] == {'sent': [], 'failed': []}
    assert document.new_document()['verification_log'] == {
        'sent': [], 'failed': []}


def test_the_verification_log_is_loaded_and_malformed_entries_dropped():
    entry = {'address': 'ab' * 16, 'at': '2026-05-01T12:00:00+00:00'}
    doc = document.load({'verification_log': {
        'sent': [entry, dict(entry, extra='dropped'), 'junk',
                 {'address': 1, 'at': 'x'}, {'at': entry['at']}],
        'failed': 7, 'other': [entry]}})
    assert doc['verification_log'] == {'sent': [entry, entry],
                                       'failed': []}
    assert document.load({'verification_log': 'junk'})[
        'verification_log'] == {'sent': [], 'failed': []}
