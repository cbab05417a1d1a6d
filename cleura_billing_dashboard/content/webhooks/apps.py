from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    """The hidden public dashboard payment providers post to."""

    name = 'cleura_billing_dashboard.content.webhooks'
    label = 'cleura_billing_webhooks'
    verbose_name = _('Cleura billing webhooks')
