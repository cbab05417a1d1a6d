"""The buyer's Peppol ID and own reference in the customer info."""

import json
import pathlib
import re

import pytest

from cleura_billing_dashboard.account import customer
from cleura_billing_dashboard.account import document
from cleura_billing_dashboard.account import errors
from cleura_billing_dashboard.account import invoicing
from cleura_billing_dashboard.account import peppol
from cleura_billing_dashboard.account import preferences
from tests.unit.test_account_customer import VALID

XSLT = (pathlib.Path(__file__).parents[1] / 'einvoice' / 'artefacts' /
        'peppol' / 'PEPPOL-EN16931-UBL.xslt')


@pytest.mark.parametrize('typed, stored', [
    ('0007:5566778899', '0007:5566778899'),
    ('0007:556677-8899', '0007:5566778899'),
    (' 0007 : 556677-8899 ', '0007:5566778899'),
    ('０００７:５５６６７７８８９９', '0007:5566778899'),
    ('iso6523-actorid-upis::0007:5566778899', '0007:5566778899'),
    ('0192:988 077 917', '0192:988077917'),
    ('0184:DK 13585628', '0184:13585628'),
    ('0088:7300010000001', '0088:7300010000001'),
    ('9930:DE136695976', '9930:DE136695976'),
    ('9930:de 136 695 976', '9930:DE136695976'),
    ('9930:136695976', '9930:DE136695976'),
    ('9933:EL094259216', '9933:094259216'),      # GR-R-010: without EL
    ('9932:GB980780684', '9932:GB980780684'),
    ('9927:CHE-107.787.577 IVA', '9927:CHE107787577IVA'),
    ('0208:0123456749', '0208:0123456749'),      # a scheme stdnum skips
])
def test_good_ids_are_stored_compact(typed, stored):
    assert peppol.clean_peppol_id(typed) == stored


@pytest.mark.parametrize('typed, says', [
    ('5566778899', 'Write the Peppol ID as scheme:identifier'),
    ('0007:', 'Write the Peppol ID as scheme:identifier'),
    (':5566778899', 'Write the Peppol ID as scheme:identifier'),
    ('1234:5566778899', '1234 is not a scheme of the Peppol EAS code list'),
    ('SE:5566778899', 'SE is not a scheme of the Peppol EAS code list'),
    ('0007:5566778898', 'not a valid Swedish organisation number'),
    ('0192:988077918', 'not a valid Norwegian organisation number'),
    ('0184:13585627', 'not a valid Danish CVR number'),
    ('0088:7300010000002', 'not a valid GLN'),
    ('0088:73000101', 'not a valid GLN'),        # an EAN-8 is no GLN
    ('9930:DE136695977', 'not a valid VAT number'),
    ('9930:SE556677889901', 'not a valid VAT number'),
    ('0208:0123 456 749', 'without spaces'),
    ('0208:' + '1' * 51, 'at most 50'),
])
def test_bad_ids_are_refused_with_what_is_wrong(typed, says):
    with pytest.raises(peppol.PeppolIdError) as caught:
        peppol.clean_peppol_id(typed)
    assert says in str(caught.value.message)


def test_the_scheme_list_is_the_peppol_rules_one():
    with open(XSLT, encoding='utf-8') as rules:
        found = re.search(r'name="eaid" select="tokenize\(\'([0-9 ]+)\'',
                          rules.read())
    assert frozenset(found.group(1).split()) == peppol.EAS_CODES
    assert set(peppol.VAT_SCHEMES) <= peppol.EAS_CODES


def test_customer_info_keeps_a_good_id_and_the_reference():
    clean = customer.validate_customer(dict(
        VALID, peppol_id='0007: 556677-8899', buyer_reference=' Ref 17 '))
    assert (clean['peppol_id'], clean['buyer_reference']) == (
        '0007:5566778899', 'Ref 17')
    assert clean['po_reference'] == 'PO-42'


def test_both_are_optional():
    clean = customer.validate_customer(VALID)
    assert (clean['peppol_id'], clean['buyer_reference']) == ('', '')


def test_a_bad_id_is_refused_on_its_field_and_nothing_changes():
    doc = document.new_document()
    with pytest.raises(errors.InvalidFields) as caught:
        customer.update_customer(doc, dict(VALID, peppol_id='0007:123'))
    assert set(caught.value.errors) == {'peppol_id'}
    assert 'Swedish organisation number' in str(
        caught.value.errors['peppol_id'])
    assert doc['customer']['name'] == ''


def test_the_reference_is_one_line_of_at_most_64_characters():
    with pytest.raises(errors.InvalidFields) as caught:
        customer.validate_customer(dict(VALID, buyer_reference='r' * 65,
                                        peppol_id='0007:55\n66778899'))
    assert set(caught.value.errors) == {'buyer_reference', 'peppol_id'}


def test_buyer_details_carry_both_to_issuing():
    doc = document.new_document()
    customer.update_customer(doc, dict(VALID, peppol_id='0007:5566778899',
                                       buyer_reference='Ref 17'))
    details = invoicing.buyer_details(doc)
    assert (details['peppol_id'], details['buyer_reference']) == (
        '0007:5566778899', 'Ref 17')


def test_a_document_from_before_reads_with_no_id_and_no_einvoice():
    old = {'schema_version': 1, 'revision': 4,
           'customer': {'name': 'Acme AB', 'po_reference': 'PO-1'},
           'settings': {'delivery': 'link', 'language': 'sv'}}
    doc = document.load(json.dumps(old))
    assert (doc['customer']['peppol_id'],
            doc['customer']['buyer_reference']) == ('', '')
    assert doc['settings'] == {'delivery': 'link', 'language': 'sv',
                               'einvoice': False}


@pytest.mark.parametrize('stored, read', [
    (True, True), (False, False), ('yes', False), (1, False), (None, False),
])
def test_only_a_stored_true_attaches_the_einvoice(stored, read):
    doc = document.load({'settings': {'delivery': 'attachment',
                                      'language': 'en',
                                      'einvoice': stored}})
    assert doc['settings']['einvoice'] is read


def test_the_einvoice_setting_is_saved_with_the_others():
    doc = document.new_document()
    assert preferences.update_preferences(doc, 'attachment', 'en',
                                          True) == {
        'delivery': 'attachment', 'language': 'en', 'einvoice': True}
    assert document.load(document.dump(doc))['settings']['einvoice'] is True
