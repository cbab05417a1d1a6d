from django.utils.translation import gettext_lazy as _

import horizon

from cleura_billing_dashboard.content.webhooks import dashboard


class Providers(horizon.Panel):
    """One webhook URL per payment provider; no policy: no user."""

    name = _("Payment providers")
    slug = 'providers'
    nav = False


dashboard.Webhooks.register(Providers)
