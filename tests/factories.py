"""Test data: usage, issued invoices and billing accounts.

Usage is built as a usage file holds it (``usage``), then parsed or written
(``parsed_usage``, ``usage_file``); ``issue_invoice`` issues one project's
invoice from it the way ``billing_issue`` does. Billing accounts are built
with the lab's builder, the one the demo stores its accounts with.
"""

import json

from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard import usage as usage_module
from tools.lab.demo_data import account_document  # noqa: F401
from tools.lab.demo_data import verified_contact  # noqa: F401

# Acme AB's customer info, as most tests store it.
ACME = {'name': 'Acme AB', 'address': 'Sveavägen 1',
        'postal_code': '111 57', 'city': 'Stockholm', 'country': 'SE'}
ACME_ORG_NUMBER = '556677-8899'


def line(product='compute', quantity=10, unit_price='10', region='Sto2',
         unit='h', **fields):
    """A usage line; by default 10 h of compute at 10 in Sto2."""
    return dict(product=product, region=region, quantity=quantity,
                unit=unit, unit_price=unit_price, **fields)


def ip_line(**fields):
    """One IP address at 20 in Kna1."""
    return line('ip', 1, '20', region='Kna1', unit='pcs', **fields)


def instance_and_volume():
    """A month of an m1.small and 100 GB of block storage, 25 % VAT."""
    return [
        {'product': 'compute.m1.small', 'region': 'Sto2',
         'description': 'm1.small', 'quantity': '744', 'unit': 'h',
         'unit_price': '0.45', 'vat_rate': '25'},
        {'product': 'storage.volume', 'region': 'Kna1',
         'description': 'Block storage', 'quantity': '100', 'unit': 'GB',
         'unit_price': '1.10', 'vat_rate': '25'},
    ]


def usage(projects=None, period=None):
    """Usage as a JSON usage file holds it.

    ``projects`` maps project ids to their lines; by default proj-a has
    the compute line and proj-b the IP line.
    """
    if projects is None:
        projects = {'proj-a': [line()], 'proj-b': [ip_line()]}
    doc = {'projects': [{'project_id': project_id, 'lines': lines}
                        for project_id, lines in projects.items()]}
    if period:
        doc['period'] = period
    return doc


def parsed_usage(projects=None, period=None):
    """``usage(projects, period)`` read as the usage file reader reads it."""
    return usage_module.parse_usage(json.dumps(usage(projects, period)),
                                    'json')


def usage_file(directory, doc, name='usage.json'):
    """``doc`` written as a usage file in ``directory``; its path."""
    path = directory / name
    path.write_text(json.dumps(doc))
    return str(path)


def issue_invoice(project_id='proj-a', period='2026-10', lines=None,
                  **issue_args):
    """Issue ``project_id``'s invoice for ``period``; the issued invoice.

    By default the compute line: 10 x 10 + 25 % VAT. ``issue_args`` go to
    ``issue_invoices_for_period`` (``today=...``).
    """
    result = issue.issue_invoices_for_period(
        parsed_usage({project_id: lines or [line()]}), period, **issue_args)
    return result.issued[0]
