import ast
import importlib.util
import logging
import os

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from cleura_billing_dashboard import i18n
from cleura_billing_dashboard import policy

_POLICY_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           'policy_files')

ACCOUNT_SETTINGS_URL = 'horizon:settings:account:index'
# The languages the plugin ships catalogs for, besides English.
PLUGIN_LANGUAGES = (('sv', 'Swedish'),)
LOG = logging.getLogger(__name__)


class CleuraBillingConfig(AppConfig):
    """The plugin's Django app: templates, catalogs and Horizon settings.

    Enabled files can only add panels and apps, so the settings a plugin
    needs beyond that (its policy files, its user-menu link, its catalogs
    and their languages) are added here, each only where the operator has
    not set it already.
    """

    name = 'cleura_billing_dashboard'
    label = 'cleura_billing_dashboard'
    verbose_name = _('Cleura billing')

    def ready(self):
        register_policy_files(settings)
        register_user_menu_link(settings)
        register_locale_path(settings)
        register_languages(settings)


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


def horizon_default_languages():
    """``LANGUAGES`` as Horizon's own settings module sets it.

    Read from its source: by the time the plugin runs, the module's value
    is whatever ``local_settings`` made of it.
    """
    # Found, not imported: importing it would run the local settings again.
    path = importlib.util.find_spec('openstack_dashboard.settings').origin
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                getattr(target, 'id', None) == 'LANGUAGES'
                for target in node.targets):
            return tuple(tuple(pair) for pair in ast.literal_eval(node.value))
    return ()


def register_languages(conf):
    """Offer the plugin's languages where Horizon's own list is in force.

    Horizon lists only the languages Horizon is translated to, so without
    this no user can pick Svenska in User Settings nor get it from the
    browser. A list the operator set is theirs: it is left as it is.
    """
    current = tuple(tuple(pair) for pair in conf.LANGUAGES)
    codes = {code for code, _name in current}
    missing = [pair for pair in PLUGIN_LANGUAGES if pair[0] not in codes]
    if not missing:
        return
    if current != horizon_default_languages():
        LOG.info('LANGUAGES is set in the local settings: add %s to offer '
                 'the billing pages in those languages',
                 ', '.join(repr(pair) for pair in missing))
        return
    conf.LANGUAGES = tuple(sorted(current + tuple(missing)))
    # Django caches what it looked up in LANGUAGES (which functions varies
    # by release); nothing should be cached this early, but be sure.
    from django.utils.translation import trans_real
    for name in dir(trans_real):
        cached = getattr(trans_real, name)
        if callable(getattr(cached, 'cache_clear', None)):
            cached.cache_clear()
