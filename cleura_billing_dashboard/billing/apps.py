from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    """The invoice store: its models and migrations."""

    name = 'cleura_billing_dashboard.billing'
    label = 'cleura_billing'
    verbose_name = _('Cleura billing store')
    default_auto_field = 'django.db.models.BigAutoField'
