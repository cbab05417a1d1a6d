from django.utils.translation import gettext_lazy as _

import horizon


class AccountSettings(horizon.Panel):
    name = _("Account settings")
    slug = 'account'
    policy_rules = (("billing", "billing:account:get"),)
