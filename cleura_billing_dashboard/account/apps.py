from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountConfig(AppConfig):
    """The billing account's store: the lock row its writes queue on."""

    name = 'cleura_billing_dashboard.account'
    label = 'cleura_billing_account'
    verbose_name = _('Cleura billing account')
    default_auto_field = 'django.db.models.BigAutoField'
