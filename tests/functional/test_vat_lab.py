"""The VAT treatment at issue, from a billing account kept in Keystone.

``billing_issue`` runs as the operator runs it, reading the buyer's
country and VAT number from the project's account in the lab's Keystone;
the project's manager then sees the invoice in the real Horizon.
"""

import json
import re

import pytest

from cleura_billing_dashboard.account import document
from tests.functional.test_account_keystone import project_id
from tests.functional.test_account_keystone import reset
from tests.functional.test_account_keystone import stored

pytestmark = pytest.mark.functional


def globex_account(vat_number):
    return {
        'schema_version': 1,
        'customer': {'name': 'Globex GmbH', 'address': 'Hauptstr. 1',
                     'postal_code': '10115', 'city': 'Berlin',
                     'country': 'DE', 'vat_number': vat_number},
        'contacts': [],
        'settings': {'delivery': 'attachment', 'language': 'en'},
    }


def test_an_invalid_number_is_refused_then_the_fixed_one_reverse_charged(
        real_lab, tmp_path):
    before = stored(real_lab, 'globex')
    usage = tmp_path / 'usage.json'
    usage.write_text(json.dumps({'projects': [{
        'project_id': project_id(real_lab, 'globex'),
        'lines': [{'product': 'compute', 'region': 'Sto2', 'quantity': 10,
                   'unit': 'h', 'unit_price': '10', 'vat_rate': '25'}]}]}))
    try:
        reset(real_lab, 'globex', globex_account('DE136695977'))
        refused = real_lab.horizon.manage('billing_issue', '--usage',
                                          str(usage), '--period', '2032-05')
        assert refused.returncode == 0, refused.stderr
        assert 'Traceback' not in refused.stderr
        assert re.search(r'^Not issued: \S+, its VAT treatment cannot be '
                         r'decided: The VAT number DE136695977 is not a '
                         r'valid VAT number', refused.stdout, re.M)
        assert 'Issued' not in refused.stdout

        reset(real_lab, 'globex', globex_account('DE136695976'))
        issued = real_lab.horizon.manage('billing_issue', '--usage',
                                         str(usage), '--period', '2032-05')
        number = re.search(r'^Issued (\S+) to \S+: SEK100.00$',
                           issued.stdout, re.M).group(1)
    finally:
        reset(real_lab, 'globex', before or document.new_document())

    dave = real_lab.login('dave')
    page = dave.get('%s/identity/invoices/%s/' % (real_lab.url, number),
                    timeout=60)
    assert page.status_code == 200
    note = page.text.split('invoice-vat-note')[1]
    assert 'Reverse charge (Article 196 of Directive 2006/112/EC)' in note
    assert 'DE136695976' in note
