from django.utils.translation import gettext_lazy as _

import horizon

from cleura_billing_dashboard import policy


class AccountSettings(horizon.Panel):
    name = _("Account settings")
    slug = 'account'
    policy_rules = policy.ACCOUNT_GET
