from django.utils.translation import gettext_lazy as _

import horizon

from cleura_billing_dashboard import policy


class Invoices(horizon.Panel):
    name = _("Invoices")
    slug = 'invoices'
    policy_rules = policy.INVOICE_LIST
