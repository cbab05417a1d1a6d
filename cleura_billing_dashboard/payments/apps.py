from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    """Payment providers: checkout sessions and provider notifications."""

    name = 'cleura_billing_dashboard.payments'
    label = 'cleura_billing_payments'
    verbose_name = _('Cleura billing payments')
    default_auto_field = 'django.db.models.BigAutoField'
