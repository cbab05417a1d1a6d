"""The payment providers the operator enabled, loaded through stevedore.

A provider is an entry point in ``NAMESPACE``; ``[payments]
enabled_providers`` names the ones offered, in the order the Pay modal
shows them. An operator adds their own provider by installing a package
that declares such an entry point (see ``base.PaymentProvider``) and
naming it there; no fork needed. Entry points are read once per process:
restart Horizon after installing one.
"""

import logging
import threading

from django.utils.translation import gettext_lazy as _
from stevedore import named

from cleura_billing_dashboard import conf

LOG = logging.getLogger(__name__)
NAMESPACE = 'cleura_billing.payment_providers'

# How a page names the ways a payment was recorded, for the providers that
# ship and for an operator's hand entry (``billing_record_payment``); a
# provider of the operator's own is named by its ``verbose_name``.
SHIPPED_NAMES = {
    'stripe': _('Card'),
    'bank_transfer': _('Bank transfer'),
    'manual': _('Recorded by the operator'),
}

_lock = threading.Lock()
_loaded = {}


def _missing(names):
    LOG.error('Payment providers %s are enabled in [payments] '
              'enabled_providers but not installed (no entry point in %s)',
              ', '.join(sorted(names)), NAMESPACE)


def _failed(manager, entrypoint, exception):
    LOG.error('Payment provider %s could not be loaded: %s',
              entrypoint, exception)


def _load(names):
    with _lock:
        if names not in _loaded:
            manager = named.NamedExtensionManager(
                NAMESPACE, names=list(names), invoke_on_load=True,
                name_order=True, on_missing_entrypoints_callback=_missing,
                on_load_failure_callback=_failed)
            _loaded[names] = [ext.obj for ext in manager]
        return _loaded[names]


def enabled_providers():
    """The enabled providers that are configured, in the configured order.

    An enabled provider that is not installed, fails to load or is not
    configured (``is_available()`` false) is logged and left out.
    """
    names = tuple(conf.get_conf().payments.enabled_providers)
    providers = []
    for provider in _load(names):
        if provider.is_available():
            providers.append(provider)
        else:
            LOG.warning('Payment provider %s is enabled but not configured; '
                        'it is not offered', provider.name)
    return providers


def display_name(name):
    """What a page calls payments recorded by provider ``name``."""
    if name in SHIPPED_NAMES:
        return SHIPPED_NAMES[name]
    for provider in enabled_providers():
        if provider.name == name and provider.verbose_name:
            return provider.verbose_name
    return name


def get_provider(name):
    """The enabled, configured provider ``name``; ``LookupError`` if none."""
    for provider in enabled_providers():
        if provider.name == name:
            return provider
    raise LookupError('no enabled payment provider %r' % (name,))
