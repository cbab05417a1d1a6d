from django.utils.translation import gettext_lazy as _

import horizon


class Webhooks(horizon.Dashboard):
    """Public (no login) and never in the navigation: machines post here."""

    name = _("Billing notifications")
    slug = 'cleura-billing'
    panels = ('providers',)
    default_panel = 'providers'
    public = True
    nav = False


horizon.register(Webhooks)
