from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    """Invoice mail: the outbox table and its migrations."""

    name = 'cleura_billing_dashboard.notify'
    label = 'cleura_billing_notify'
    verbose_name = _('Cleura billing mail')
    default_auto_field = 'django.db.models.BigAutoField'
