"""Translation for code below the Horizon views (oslo.i18n).

Views and forms use Django's ``gettext_lazy``; the domain, the operator
commands and the config help use ``_`` from here. Both read the same
``django`` catalog, so translators keep one file per language.
"""

import os
import sys

import oslo_i18n

DOMAIN = 'django'


def locale_dir():
    """The folder holding ``<lang>/LC_MESSAGES/django.mo``.

    A source checkout keeps the catalogs in ``locale/`` beside the package;
    ``pip install`` puts them under ``share/cleura-billing-dashboard/locale``.
    ``CLEURA_BILLING_DASHBOARD_LOCALEDIR`` overrides both.
    """
    override = os.environ.get('CLEURA_BILLING_DASHBOARD_LOCALEDIR')
    if override:
        return override
    here = os.path.dirname(os.path.abspath(__file__))
    checkout = os.path.join(os.path.dirname(here), 'locale')
    if os.path.isdir(checkout):
        return checkout
    return os.path.join(sys.prefix, 'share', 'cleura-billing-dashboard',
                        'locale')


_translators = oslo_i18n.TranslatorFactory(domain=DOMAIN,
                                           localedir=locale_dir())

# The primary translation function using the well-known name "_"
_ = _translators.primary
