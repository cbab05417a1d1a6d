"""Django settings for the unit tests: Horizon's test settings + this plugin.

Horizon's test settings load only Horizon's own enabled files; the plugin's
are loaded beside them, as an operator's ``local/enabled`` would be.
"""

import os
import sys
import types

from openstack_dashboard.test.settings import *  # noqa: F401,F403
from openstack_dashboard.test import settings as _horizon_test_settings
from openstack_dashboard.utils import settings as settings_utils

import openstack_dashboard.enabled

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENABLED_DIR = os.path.join(REPO_ROOT, 'enabled')

# The plugin's enabled/ folder is not a package: give it a module to stand in.
plugin_enabled = types.ModuleType('cleura_billing_enabled')
plugin_enabled.__path__ = [ENABLED_DIR]
sys.modules[plugin_enabled.__name__] = plugin_enabled

# Rebuild from Horizon's base app list so no app is listed twice.
INSTALLED_APPS = [app for app in _horizon_test_settings.INSTALLED_APPS
                  if app not in HORIZON_CONFIG['plugins']]  # noqa: F405
_GENERATED = ('plugins', 'angular_modules', 'js_files', 'js_spec_files',
              'scss_files', 'xstatic_modules', 'dashboards',
              'default_dashboard', 'panel_customization')
HORIZON_CONFIG = {key: value  # noqa: F405
                  for key, value in HORIZON_CONFIG.items()  # noqa: F405
                  if key not in _GENERATED}
settings_utils.update_dashboards(
    [openstack_dashboard.enabled, plugin_enabled],
    HORIZON_CONFIG,
    INSTALLED_APPS,
)
settings_utils.find_static_files(HORIZON_CONFIG, AVAILABLE_THEMES,  # noqa
                                 THEME_COLLECTION_DIR, ROOT_PATH)  # noqa

DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.sqlite3',
        'NAME': os.path.join(REPO_ROOT, '.tox', 'unit-tests.sqlite3'),
        'TEST': {'NAME': ':memory:'},
        # Issuers queue for the write lock while one renders its PDF.
        'OPTIONS': {'timeout': 30},
    },
}

CLEURA_BILLING_CONFIG_FILE = os.path.join(REPO_ROOT, 'tests', 'etc',
                                          'cleura-billing.conf')

# Horizon's test settings keep policy checks off (POLICY_CHECK_FUNCTION is
# None) so Horizon's own tests run unchanged beside the plugin; the plugin's
# policy tests switch them on with override_settings.

# The billing tests run on SQLite by default; tox's pg and mysql envs set
# CLEURA_TEST_DB to run them on the servers this machine kind provides. A
# missing server fails the run (Django cannot connect), it is never skipped.
_TEST_DB = os.environ.get('CLEURA_TEST_DB', 'sqlite')
if _TEST_DB == 'postgresql':
    DATABASES['default'] = {
        'ENGINE': 'django.db.backends.postgresql',
        'NAME': os.environ.get('CLEURA_TEST_DB_NAME', 'test'),
        'USER': os.environ.get('CLEURA_TEST_DB_USER', 'postgres'),
        'HOST': os.environ.get('CLEURA_TEST_DB_HOST', '127.0.0.1'),
        'PORT': os.environ.get('CLEURA_TEST_DB_PORT', '5432'),
        'TEST': {'NAME': os.environ.get('CLEURA_TEST_DB_TEST_NAME',
                                        'test_cleura_billing')},
    }
elif _TEST_DB == 'mysql':
    import pymysql  # the driver installed here; Django asks for MySQLdb
    pymysql.install_as_MySQLdb()
    DATABASES['default'] = {
        'ENGINE': 'django.db.backends.mysql',
        'NAME': os.environ.get('CLEURA_TEST_DB_NAME', 'test'),
        'USER': os.environ.get('CLEURA_TEST_DB_USER', 'root'),
        'HOST': os.environ.get('CLEURA_TEST_DB_HOST', '127.0.0.1'),
        'PORT': os.environ.get('CLEURA_TEST_DB_PORT', '3306'),
        'OPTIONS': {'charset': 'utf8mb4'},
        'TEST': {'NAME': os.environ.get('CLEURA_TEST_DB_TEST_NAME',
                                        'test_cleura_billing'),
                 'CHARSET': 'utf8mb4'},
    }
elif _TEST_DB != 'sqlite':
    raise RuntimeError('CLEURA_TEST_DB must be sqlite, postgresql or mysql, '
                       'not %r' % _TEST_DB)
