"""The demo's sample data: statuses as the demo promises, issued once."""

import collections
import decimal
import io

from django.core import management
import pytest

from cleura_billing_dashboard.billing import credit
from cleura_billing_dashboard.billing import queries


def statuses(project_id):
    return collections.Counter(
        row.status for row in queries.invoices_for_project(project_id))


@pytest.mark.django_db
def test_acme_gets_14_months_globex_three():
    out = io.StringIO()
    management.call_command('billing_demo_data', 'acme-id', 'globex-id',
                            '--with-credit', stdout=out)
    # 14 invoices and the credit note of one of them.
    assert statuses('acme-id') == {'paid': 10, 'outstanding': 2,
                                   'overdue': 1, 'credited': 1, 'credit': 1}
    assert statuses('globex-id') == {'paid': 1, 'outstanding': 2}
    numbers = [row.number for row in
               queries.invoices_for_project('acme-id')]
    assert len(set(numbers)) == 15
    # Its last paid invoice was paid SEK 250.00 too much: acme's credit.
    assert 'Recorded an overpayment of 250.00' in out.getvalue()
    assert credit.available('acme-id', 'SEK') == decimal.Decimal('250.00')
    assert credit.available('globex-id', 'SEK') == 0

    again = io.StringIO()
    management.call_command('billing_demo_data', 'acme-id', 'globex-id',
                            '--with-credit', stdout=again)
    assert 'Issued' not in again.getvalue()
    assert 'Recorded' not in again.getvalue()
    assert statuses('acme-id')['paid'] == 10
    assert credit.available('acme-id', 'SEK') == decimal.Decimal('250.00')


@pytest.mark.django_db
def test_no_credit_unless_asked():
    out = io.StringIO()
    management.call_command('billing_demo_data', 'acme-id', 'globex-id',
                            stdout=out)
    assert 'overpayment' not in out.getvalue()
    assert credit.available('acme-id', 'SEK') == 0
    assert statuses('acme-id')['paid'] == 10
