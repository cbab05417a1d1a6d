import os

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from cleura_billing_dashboard import i18n
from cleura_billing_dashboard import policy

_POLICY_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           'policy_files')

ACCOUNT_SETTINGS_URL = 'horizon:settings:account:index'


class CleuraBillingConfig(AppConfig):
    """The plugin's Django app: templates, catalogs and Horizon settings.

    Enabled files can only add panels and apps, so the settings a plugin
    needs beyond that (its policy files, its user-menu link, its catalogs)
    are added here, each only where the operator has not set it already.
    """

    name = 'cleura_billing_dashboard'
    label = 'cleura_billing_dashboard'
    verbose_name = _('Cleura billing')

    def ready(self):
        register_policy_files(settings)
        register_user_menu_link(settings)
        register_locale_path(settings)


def register_policy_files(conf):
    # An absolute path survives Horizon's join with POLICY_FILES_PATH.
    conf.POLICY_FILES.setdefault(
        policy.SERVICE, os.path.join(_POLICY_DIR, 'billing_policy.yaml'))
    conf.DEFAULT_POLICY_FILES.setdefault(
        policy.SERVICE,
        os.path.join(_POLICY_DIR, 'default_policies', 'billing.yaml'))


def register_user_menu_link(conf):
    if not getattr(conf, 'CLEURA_BILLING_USER_MENU_LINK', True):
        return
    links = conf.USER_MENU_LINKS
    if links is None:
        links = conf.USER_MENU_LINKS = []
    if any(link.get('url') == ACCOUNT_SETTINGS_URL for link in links):
        return
    links.append({
        'name': _('Account settings'),
        'icon_classes': ['fa-credit-card'],
        'url': ACCOUNT_SETTINGS_URL,
    })


def register_locale_path(conf):
    path = i18n.locale_dir()
    if path not in conf.LOCALE_PATHS:
        conf.LOCALE_PATHS = list(conf.LOCALE_PATHS) + [path]
