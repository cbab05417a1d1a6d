"""The plugin's own policy rules (oslo.policy), checked through Horizon.

Horizon checks ``("billing", rule)`` pairs against the files named in its
``POLICY_FILES`` / ``DEFAULT_POLICY_FILES`` settings; the plugin ships both
files (``policy_files/billing_policy.yaml`` for operator overrides, empty
by default, and ``policy_files/default_policies/billing.yaml``, generated
from ``list_rules()``) and registers them when the operator has not (see
``apps.py``).
Defaults follow Keystone's default roles: reader < member < manager < admin.
"""

from oslo_policy import policy

SERVICE = 'billing'

READER = 'role:reader or role:member or role:manager or role:admin'
MEMBER = 'role:member or role:manager or role:admin'
MANAGER = 'role:manager or role:admin'

rules = [
    policy.RuleDefault('billing:reader', READER,
                       description='Any role that may read billing data.'),
    policy.RuleDefault('billing:member', MEMBER,
                       description='Any role that may pay.'),
    policy.RuleDefault('billing:manager', MANAGER,
                       description='Any role that may change the billing '
                                   'account.'),
    policy.DocumentedRuleDefault(
        'billing:invoice:list', 'rule:billing:reader',
        'List the invoices of the current project.',
        [{'method': 'GET', 'path': '/identity/invoices/'}]),
    policy.DocumentedRuleDefault(
        'billing:invoice:get', 'rule:billing:reader',
        'View an invoice, its PDF and its e-invoice.',
        [{'method': 'GET', 'path': '/identity/invoices/{invoice_id}/'}]),
    policy.DocumentedRuleDefault(
        'billing:invoice:pay', 'rule:billing:member',
        'Pay an outstanding invoice.',
        [{'method': 'POST', 'path': '/identity/invoices/{invoice_id}/pay/'}]),
    policy.DocumentedRuleDefault(
        'billing:account:get', 'rule:billing:reader',
        'View the billing account (customer info, contacts, settings).',
        [{'method': 'GET', 'path': '/settings/account/'}]),
    policy.DocumentedRuleDefault(
        'billing:account:update', 'rule:billing:manager',
        'Change the billing account.',
        [{'method': 'POST', 'path': '/settings/account/'}]),
    policy.DocumentedRuleDefault(
        'billing:payment_method:get', 'rule:billing:reader',
        'See the saved card (brand, last four digits, expiry) and whether '
        'new invoices are paid with it automatically.',
        [{'method': 'GET', 'path': '/settings/account/'}]),
    policy.DocumentedRuleDefault(
        'billing:payment_method:create', 'rule:billing:manager',
        'Save a card, or replace the saved one, through Stripe.',
        [{'method': 'POST', 'path': '/settings/account/card/save/'}]),
    policy.DocumentedRuleDefault(
        'billing:payment_method:delete', 'rule:billing:manager',
        'Remove the saved card.',
        [{'method': 'POST', 'path': '/settings/account/card/remove/'}]),
    policy.DocumentedRuleDefault(
        'billing:payment_method:update', 'rule:billing:manager',
        'Turn paying new invoices automatically with the saved card on or '
        'off.',
        [{'method': 'POST', 'path': '/settings/account/card/autopay/'}]),
]

# The rules as Horizon's ``policy_rules`` take them: ``((service, rule),)``.
INVOICE_LIST = ((SERVICE, 'billing:invoice:list'),)
INVOICE_GET = ((SERVICE, 'billing:invoice:get'),)
INVOICE_PAY = ((SERVICE, 'billing:invoice:pay'),)
ACCOUNT_GET = ((SERVICE, 'billing:account:get'),)
ACCOUNT_UPDATE = ((SERVICE, 'billing:account:update'),)
PAYMENT_METHOD_GET = ((SERVICE, 'billing:payment_method:get'),)
PAYMENT_METHOD_CREATE = ((SERVICE, 'billing:payment_method:create'),)
PAYMENT_METHOD_DELETE = ((SERVICE, 'billing:payment_method:delete'),)
PAYMENT_METHOD_UPDATE = ((SERVICE, 'billing:payment_method:update'),)


def list_rules():
    """Every rule default, for oslopolicy-sample-generator and Horizon."""
    return rules
