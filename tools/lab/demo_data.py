"""Sample billing data for the demo, through the operator commands.

``account_document`` builds a billing account the way the demo stores
one; the tests build theirs with it too (tests/factories.py). The plugin's
modules are imported when called: the demo's own process has no Django.
"""


def account_document(customer=(), contacts=(), revision=None):
    """A new billing account with ``customer`` fields and ``contacts``."""
    from cleura_billing_dashboard.account import document
    doc = document.new_document()
    if revision is not None:
        doc['revision'] = revision
    doc['customer'].update(customer)
    doc['contacts'] = list(contacts)
    return doc


def verified_contact(contact_id, email, roles=('billing', 'tech', 'dpo')):
    """A contact with a verified address and ``roles``."""
    return {'id': contact_id, 'email': email, 'name': '',
            'roles': list(roles), 'verified': True, 'verification': None}


def load_demo_data(keystone, horizon, credit=False):
    """Sample billing data for the demo; returns what it did, line by line.

    Runs the operator commands (billing_issue among them), so a second run
    finds everything issued and issues nothing twice. ``credit``: acme's
    last paid invoice is overpaid, leaving it a credit (the demo's; the
    tests issue acme invoices whose amounts due they check).
    """
    ks = keystone.admin_client()
    projects = [ks.projects.list(name=name, domain='default')[0]
                for name in ('acme', 'globex')]
    for project in projects:
        ensure_billing_account(ks, project)
    result = horizon.manage('billing_demo_data',
                            *[project.id for project in projects],
                            *(['--with-credit'] if credit else []))
    return result.stdout.splitlines()


SAMPLE_USAGE_LINES = [
    {'product': 'compute.b.2c4gb', 'description': 'Instance b.2c4gb',
     'region': 'Sto2', 'quantity': '744', 'unit': 'h',
     'unit_price': '0.3120', 'vat_rate': '25'},
    {'product': 'volume.ssd', 'description': 'Block storage, SSD',
     'region': 'Sto2', 'quantity': '250', 'unit': 'GB-month',
     'unit_price': '1.20', 'vat_rate': '25'},
]


def write_sample_usage(keystone, path):
    """A usage file for acme and globex, without a period, at ``path``.

    For trying ``billing_issue`` on the demo with ``--period``.
    """
    import json
    ks = keystone.admin_client()
    usage = {'projects': [
        {'project_id': ks.projects.list(name=name, domain='default')[0].id,
         'lines': SAMPLE_USAGE_LINES} for name in ('acme', 'globex')]}
    with open(path, 'w') as f:
        json.dump(usage, f, indent=2)
        f.write('\n')


def ensure_billing_account(ks, project):
    """A billing account with one verified Billing address, unless set."""
    from cleura_billing_dashboard.account import document
    if getattr(project, document.ATTRIBUTE, None):
        return
    doc = account_document(
        customer=dict(name='%s AB' % project.name.capitalize(),
                      address='Kungsgatan 1', postal_code='111 43',
                      city='Stockholm', country='SE'),
        contacts=[verified_contact('demo-billing',
                                   'billing@%s.example' % project.name)],
        revision=1)
    ks.projects.update(project.id, **{document.ATTRIBUTE:
                                      document.dump(doc)})


SETTINGS_TAB = '/settings/account/?tab=account__settings'
DEMO_CARD = '4242424242424242'


def save_demo_card(keystone, horizon, standin, username='alice',
                   number=DEMO_CARD):
    """Save a card for ``username``'s project, as the person would.

    Through the Settings tab's Save button, the stand-in's setup page and
    Stripe's signed webhook (``standin.webhook_url`` must point at
    ``horizon``). Autopay stays off. Returns a line for the demo's output.
    """
    import re

    import requests

    from tools.lab.login import hidden_inputs
    from tools.lab.login import Lab

    session = Lab(keystone, horizon).login(username)
    page = session.get(horizon.url + SETTINGS_TAB, timeout=60).text
    if 'class="saved-card-number"' in page:
        return 'The demo card of %s is saved already' % username
    form = re.search(r'<form id="card_save_form"[^>]*action="([^"]+)"'
                     r'(.*?)</form>', page, re.S)
    if form is None:
        return 'No demo card: saving cards is not available'
    res = session.post(horizon.url + form.group(1),
                       data=dict(hidden_inputs(form.group(2))),
                       headers={'Referer': horizon.url + SETTINGS_TAB},
                       allow_redirects=False, timeout=60)
    res.raise_for_status()
    checkout = res.headers['Location']
    saved = requests.post(checkout, data={'card': number, 'exp_month': '12',
                                          'exp_year': '2034'},
                          allow_redirects=False, timeout=60)
    saved.raise_for_status()
    return 'Saved the demo card %s of %s (autopay off)' % (number[-4:],
                                                           username)
