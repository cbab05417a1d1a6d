from django.utils.translation import gettext_lazy as _

import horizon


class Invoices(horizon.Panel):
    name = _("Invoices")
    slug = 'invoices'
    policy_rules = (("billing", "billing:invoice:list"),)
