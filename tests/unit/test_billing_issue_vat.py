"""Issuing applies each buyer's VAT treatment (billing/vat.py)."""

import datetime
import decimal
import io
import types

from django.core.management import base
from django.utils import translation
import pypdf
import pytest

from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard.billing.models import CreditLock
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard.billing.models import InvoiceLine
from cleura_billing_dashboard.billing import vat
from cleura_billing_dashboard import conf
from cleura_billing_dashboard.management.commands import billing_issue
from tests import factories

D = decimal.Decimal
TODAY = datetime.date(2026, 11, 3)

# Two lines at the usage's own rates: 100 at 25 %, 10 at 12 %.
LINES = [factories.line('compute', 10, '10', vat_rate='25'),
         factories.line('storage', 10, '1', vat_rate='12', unit='GB')]

SE_BUSINESS = dict(factories.ACME, vat_number='SE556036079301')
DE_BUSINESS = dict(factories.ACME, name='Beispiel GmbH', city='Berlin',
                   postal_code='10115', country='DE',
                   vat_number='de 136 695 976')
FR_CONSUMER = dict(factories.ACME, name='Jeanne Martin', city='Paris',
                   postal_code='75001', country='FR')
US_BUSINESS = dict(factories.ACME, name='Example Inc', city='New York',
                   postal_code='10001', country='US',
                   vat_number='12-3456789')


def pdf_text(data):
    return ''.join(page.extract_text()
                   for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def issue_all(buyers, lines=LINES):
    """Issue one invoice per project of ``buyers`` (project id -> buyer)."""
    return issue.issue_invoices_for_period(
        factories.parsed_usage({project: list(lines) for project in buyers}),
        '2026-10', today=TODAY, buyer_lookup=buyers.get)


def rates(invoice):
    return [line.vat_rate for line in
            Invoice.objects.get(pk=invoice.pk).lines.all()]


def treatment(invoice):
    stored = Invoice.objects.get(pk=invoice.pk)
    return (stored.vat_treatment, stored.vat_category,
            stored.vat_exemption_code, stored.vat_exemption_text)


def totals(invoice):
    stored = Invoice.objects.get(pk=invoice.pk)
    return stored.net_total, stored.vat_total, stored.total


@pytest.mark.parametrize('buyer', [
    SE_BUSINESS, factories.ACME, dict(factories.ACME, country=''),
    dict(factories.ACME, country=None), {}, None])
def test_a_domestic_buyer_or_one_without_a_country_keeps_the_line_rates(
        db, buyer):
    # A missing country, or no buyer details at all, is domestic.
    invoice, = issue_all({'proj-a': buyer}).issued

    assert rates(invoice) == [D(25), D(12)]
    assert totals(invoice) == (D('110.00'), D('26.20'), D('136.20'))
    assert treatment(invoice) == ('domestic', 'S', '', '')
    document = invoice.as_document()
    assert [line['vat_category'] for line in document['lines']] == [
        'S', 'S']
    assert [(v['rate'], v['category'], v['exemption_reason_code'])
            for v in document['vat_breakdown']] == [
        (D(25), 'S', None), (D(12), 'S', None)]


def test_a_domestic_line_at_0_percent_is_zero_rated(db):
    invoice = factories.issue_invoice(
        lines=[factories.ip_line(vat_rate=0)], today=TODAY,
        buyer_lookup=lambda project: factories.ACME)

    document = invoice.as_document()
    assert document['lines'][0]['vat_category'] == 'Z'
    assert document['vat_breakdown'][0]['category'] == 'Z'


def test_an_eu_business_is_reverse_charged(db):
    invoice, = issue_all({'proj-a': DE_BUSINESS}).issued

    assert rates(invoice) == [D(0), D(0)]
    assert totals(invoice) == (D('110.00'), D('0.00'), D('110.00'))
    assert treatment(invoice) == (
        'reverse_charge', 'AE', 'VATEX-EU-AE',
        'Reverse charge (Article 196 of Directive 2006/112/EC)')
    stored = Invoice.objects.get(pk=invoice.pk)
    assert stored.buyer['vat_number'] == 'DE136695976'   # compacted
    document = stored.as_document()
    assert [line['vat_category'] for line in document['lines']] == [
        'AE', 'AE']
    assert document['vat_breakdown'] == [{
        'rate': D(0), 'base': D('110.00'), 'amount': D('0.00'),
        'category': 'AE', 'exemption_reason_code': 'VATEX-EU-AE',
        'exemption_reason': 'Reverse charge (Article 196 of Directive '
                            '2006/112/EC)'}]
    text = pdf_text(bytes(stored.pdf))
    assert 'Reverse charge (Article 196 of Directive' in text
    assert "Buyer's VAT no. DE136695976" in text


def test_the_exemption_text_is_stored_in_the_invoice_s_language(db):
    buyer = dict(DE_BUSINESS, language='sv')
    invoice, = issue_all({'proj-a': buyer}).issued

    assert treatment(invoice)[3] == ('Omvänd betalningsskyldighet '
                                     '(artikel 196 i direktiv 2006/112/EG)')
    assert 'Omvänd betalningsskyldighet' in pdf_text(bytes(invoice.pdf))


def test_an_eu_consumer_pays_the_oss_rate_of_their_country(db):
    invoice, = issue_all({'proj-a': FR_CONSUMER}).issued

    assert rates(invoice) == [D(20), D(20)]
    # 110 at 20 %, rounded once.
    assert totals(invoice) == (D('110.00'), D('22.00'), D('132.00'))
    assert treatment(invoice) == ('oss', 'S', '', '')
    document = invoice.as_document()
    assert [line['vat_category'] for line in document['lines']] == [
        'S', 'S']
    assert [(v['rate'], v['category']) for v in
            document['vat_breakdown']] == [(D(20), 'S')]


def test_a_buyer_outside_the_eu_is_not_charged_eu_vat(db):
    invoice, = issue_all({'proj-a': US_BUSINESS}).issued

    assert rates(invoice) == [D(0), D(0)]
    assert totals(invoice) == (D('110.00'), D('0.00'), D('110.00'))
    kind, category, code, text = treatment(invoice)
    assert (kind, category, code) == ('outside_eu', 'G', 'VATEX-EU-G')
    assert text.startswith('Export outside the EU')
    # The number of a buyer outside the EU is kept as the account has it.
    assert invoice.buyer['vat_number'] == '12-3456789'
    assert 'Export outside the EU' in pdf_text(bytes(invoice.pdf))


def test_an_invalid_vat_number_refuses_that_project_only(db):
    result = issue_all({
        'proj-a': factories.ACME,
        'proj-b': dict(DE_BUSINESS, vat_number='DE136695977'),
        'proj-c': FR_CONSUMER})

    assert [i.project_id for i in result.issued] == ['proj-a', 'proj-c']
    # No number taken for the refused project: the series has no gap.
    assert [i.number for i in result.issued] == ['2026-000001',
                                                 '2026-000002']
    (project, reason), = result.refused
    assert project == 'proj-b'
    assert 'DE136695977' in str(reason)
    assert not Invoice.objects.filter(project_id='proj-b').exists()
    assert InvoiceLine.objects.count() == 4


def test_the_refusal_is_translated_when_it_is_shown(db):
    buyer = dict(DE_BUSINESS, vat_number='FR40303265045', language='en')
    (project, reason), = issue_all({'proj-a': buyer}).refused

    with translation.override('sv'):
        assert (project, str(reason)) == ('proj-a', (
            'Momsregistreringsnumret FR40303265045 hör inte till köparens '
            'land: det ska börja med DE.'))


def test_a_missing_oss_rate_refuses_that_project_only(db, monkeypatch):
    # The configuration refuses a table without every member state; a
    # rates table of another origin may still lack one.
    settings = conf.get_conf()
    without_fr = types.SimpleNamespace(
        seller=settings.seller, vat=types.SimpleNamespace(oss_rates={
            code: rate for code, rate in settings.vat.oss_rates.items()
            if code != 'FR'}))
    decide = vat.decide_from_config
    monkeypatch.setattr(vat, 'decide_from_config',
                        lambda country, number: decide(country, number,
                                                       without_fr))

    result = issue_all({'proj-a': FR_CONSUMER, 'proj-b': DE_BUSINESS})

    assert [i.project_id for i in result.issued] == ['proj-b']
    (project, reason), = result.refused
    assert project == 'proj-a'
    assert 'FR' in str(reason) and 'oss_rates' in str(reason)
    assert not Invoice.objects.filter(project_id='proj-a').exists()


def test_a_refused_project_is_issued_once_its_account_is_fixed(db):
    buyers = {'proj-a': dict(DE_BUSINESS, vat_number='DE1')}
    assert issue_all(buyers).refused

    buyers['proj-a'] = DE_BUSINESS
    result = issue_all(buyers)

    assert (result.refused, [i.project_id for i in result.issued]) == (
        [], ['proj-a'])


@pytest.mark.parametrize('buyer', [DE_BUSINESS, FR_CONSUMER, US_BUSINESS,
                                   factories.ACME])
def test_a_credit_note_takes_the_treatment_of_its_invoice(db, buyer):
    invoice, = issue_all({'proj-a': buyer}).issued

    note = issue.issue_credit_note('proj-a', invoice, 'Wrong buyer',
                                   today=TODAY)

    assert treatment(note) == treatment(invoice)
    assert rates(note) == rates(invoice)
    assert totals(note) == tuple(-amount for amount in totals(invoice))
    document = note.as_document()
    assert document['vat_breakdown'][0]['category'] == (
        invoice.as_document()['vat_breakdown'][0]['category'])


def test_the_run_reports_the_refused_projects(db, tmp_path, monkeypatch):
    class Accounts(object):
        buyers = {'proj-a': factories.ACME,
                  'proj-b': dict(DE_BUSINESS, vat_number='DE136695977')}

        def buyer_details(self, project_id):
            return self.buyers[project_id]

        def billing_recipients(self, project_id):
            return ['billing@example.com']

        def wants_link(self, project_id):
            return False

        def wants_einvoice(self, project_id):
            return False

    path = factories.usage_file(tmp_path, factories.usage(
        {'proj-a': [factories.line()], 'proj-b': [factories.line()]},
        period='2026-10'))
    result = issue.issue_usage_file(path, today=TODAY, accounts=Accounts())
    out = io.StringIO()
    billing_issue.report(base.OutputWrapper(out), result)

    lines = out.getvalue().splitlines()
    assert lines[0] == 'Issued 2026-000001 to proj-a: SEK125.00'
    assert lines[1] == (
        'Not issued: proj-b, its VAT treatment cannot be decided: The VAT '
        'number DE136695977 is not a valid VAT number: check the digits.')
    assert not any(line.startswith('Nothing to issue') for line in lines)


def test_nothing_to_issue_is_not_said_when_a_project_was_refused():
    result = issue.IssueResult('2026-10', refused=[('proj-b', 'bad')])
    out = io.StringIO()

    billing_issue.report(base.OutputWrapper(out), result)

    assert out.getvalue().splitlines() == [
        'Not issued: proj-b, its VAT treatment cannot be decided: bad']


@pytest.fixture
def migrator(transactional_db):
    """Migrate the billing app; every app back to its latest afterwards."""
    from django.db import connection
    from django.db.migrations import executor as executor_mod

    def migrate(name):
        executor = executor_mod.MigrationExecutor(connection)
        executor.loader.build_graph()
        target = [('cleura_billing', name)]
        executor.migrate(target)
        return executor.loader.project_state(target).apps

    yield migrate
    # Every app back to its latest: going back in the billing app also
    # unapplied the apps that depend on it (the payments app's saved
    # cards), and the database tests' workers share this database.
    executor = executor_mod.MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_an_invoice_issued_before_keeps_its_pdf_and_is_domestic(migrator):
    old_apps = migrator('0001_initial')
    OldInvoice = old_apps.get_model('cleura_billing', 'Invoice')
    OldLine = old_apps.get_model('cleura_billing', 'InvoiceLine')
    pdf = b'%PDF-1.4 as issued before the VAT treatment'
    old = OldInvoice.objects.create(
        project_id='proj-a', number='2025-000001', type='invoice',
        currency='SEK', language='en', issue_date=datetime.date(2025, 11, 3),
        due_date=datetime.date(2025, 12, 3),
        period_start=datetime.date(2025, 10, 1),
        period_end=datetime.date(2025, 10, 31),
        seller={'name': 'Test Cloud AB'}, buyer=DE_BUSINESS,
        net_total=D('120'), vat_total=D('25'), total=D('145'), pdf=pdf,
        pdf_sha256='sha')
    for position, rate in ((1, '25'), (2, '0')):
        OldLine.objects.create(
            invoice=old, position=position, product='p', region='Sto2',
            quantity=D(1), unit='h', unit_price=D(100 if rate else 20),
            vat_rate=D(rate), net_amount=D(100 if rate else 20))

    migrator('0002_vat_treatment')

    invoice = Invoice.objects.get(number='2025-000001')
    assert bytes(invoice.pdf) == pdf
    assert treatment(invoice) == ('domestic', 'S', '', '')
    # The schema as_document reads now (the credit applied at issue); the
    # credit migration gives the invoiced project its credit lock row.
    migrator('0004_credit')
    assert CreditLock.objects.filter(project_id='proj-a').exists()
    # Its e-invoice document follows each line's rate, as before.
    document = invoice.as_document()
    assert [(line['vat_rate'], line['vat_category'])
            for line in document['lines']] == [(D(25), 'S'), (D(0), 'Z')]
    assert [(v['category'], v['exemption_reason_code'])
            for v in document['vat_breakdown']] == [('S', None), ('Z', None)]
