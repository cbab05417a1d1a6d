"""The invoices both e-invoice syntaxes are tested with, and their check.

Invoices are issued the way ``billing_issue`` issues them, so the
document dicts are the real ``Invoice.as_document()``. The session's
validator is the ``validator`` fixture (``tests/unit/conftest.py``).
"""

import datetime

from lxml import etree

from cleura_billing_dashboard.billing import ledger
from tests import factories

TODAY = datetime.date(2026, 11, 3)

# Customer info as the account's validate_customer stores it.
SWEDISH_BUYER = dict(factories.ACME, org_number='556036-0793',
                     vat_number='SE556036079301', po_reference='PO-4711')
MINIMAL_BUYER = dict(factories.ACME)   # required fields only
# Issued through issue.py: the VAT treatment of billing/vat.py.
DE_BUSINESS = dict(factories.ACME, name='Beispiel GmbH', city='Berlin',
                   postal_code='10115', country='DE',
                   vat_number='DE 136 695 976')
FR_CONSUMER = dict(factories.ACME, name='Jeanne Martin', city='Paris',
                   postal_code='75001', country='FR')
US_BUSINESS = dict(factories.ACME, name='Example Inc', city='New York',
                   postal_code='10001', country='US')
SWEDISH_UNICODE = dict(SWEDISH_BUYER, name='Åkeriet Östersjö & Väst AB',
                       address='Ängsvägen 7', city='Skövde',
                       postal_code='541 30')
GREEK = {'name': 'Ελληνική Υπολογιστική Α.Ε.', 'address': 'Οδός Αθηνάς 5',
         'postal_code': '105 51', 'city': 'Αθήνα', 'country': 'GR',
         'vat_number': 'EL094259216', 'org_number': '',
         'po_reference': 'Παραγγελία 12'}
HTML_LIKE = dict(SWEDISH_BUYER, name='<b>Bold & "Quoted" \'AB\'</b>',
                 address='<script>alert(1)</script>',
                 po_reference='<PO & "1">')


def issue_for(buyer, lines=None, project_id='proj-a'):
    """``project_id``'s invoice for October 2026 to ``buyer``."""
    return factories.issue_invoice(
        project_id, lines=lines, today=TODAY,
        buyer_lookup=lambda project: buyer)


def with_credit(paid, project_id='proj-a'):
    """November's invoice of a project that paid ``paid`` for October's.

    Both are 10 x 10 + 25 % VAT (125.00 SEK); what October was overpaid
    by is taken off November's at issue (BT-113).
    """
    october = issue_for(SWEDISH_BUYER, project_id=project_id)
    ledger.record_payment(october, paid, provider='manual',
                          reference='overpaid-%s' % project_id)
    return factories.issue_invoice(
        project_id, '2026-11', today=datetime.date(2026, 12, 2),
        buyer_lookup=lambda project: SWEDISH_BUYER)


def document_of(invoice, **extra):
    """The dict the e-invoice writers take, as issuing will pass it."""
    return dict(invoice.as_document(), project_id=invoice.project_id,
                **extra)


def several_rates():
    return [
        factories.line('compute', '744', '0.45', vat_rate='25'),
        factories.line('storage', '100.5', '0.033', vat_rate='12'),
        factories.line('books', '3', '99.90', unit='pcs', vat_rate='6'),
        factories.line('export', '2', '50', vat_rate='0'),
    ]


def hundred_lines():
    return [factories.line('product-%03d' % n, str(n), '0.123457',
                           unit=('h', 'GB', 'pcs', 'GB-month')[n % 4],
                           vat_rate=('25', '12', '6')[n % 3])
            for n in range(1, 101)]


def long_lines():
    return [factories.line('p' * 100, description='Lång beskrivning ' * 15,
                           region='r' * 64)]


def problems(res):
    """Every XSD error and fatal assert of a validator result, as text."""
    return list(res['xsd_errors']) + [
        '%s [%s] %s: %s' % (rule['name'], item['id'], item['location'],
                            item['text'])
        for rule in res['rules'] for item in rule['fatal']]


def parse(data):
    return etree.fromstring(data)
