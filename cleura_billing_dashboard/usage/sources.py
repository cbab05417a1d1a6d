"""Usage sources: where ``billing_issue`` reads a period's usage from.

A source is a class registered as a stevedore entry point in the
namespace ``cleura_billing.usage_sources`` (``billing_issue --source
NAME``). Shipped: ``file`` (a JSON or CSV usage file, this package's
formats) and ``cloudkitty`` (the rated usage of CloudKitty's v2 summary,
``cleura_billing_dashboard.api.cloudkitty``). An operator adds a source by
installing a package that declares such an entry point.

A source reads everything before it returns: it gives the whole period's
``Usage`` or raises ``usage.UsageError`` naming every problem, so a
failing source issues nothing.
"""

import abc

from stevedore import driver
from stevedore import extension

from cleura_billing_dashboard import usage as usage_mod

NAMESPACE = 'cleura_billing.usage_sources'


class UsageSource(abc.ABC):
    """One source of usage; made with the command's options as keywords."""

    # Whether ``read`` needs the period from its caller; a file may carry
    # its own.
    needs_period = True

    def __init__(self, **options):
        self.options = options

    @abc.abstractmethod
    def read(self, period):
        """The ``usage.Usage`` of ``period``.

        ``period`` is 'YYYY-MM', or None when ``needs_period`` is false
        and the source has its own. Raises ``usage.UsageError`` with
        every problem, and nothing else.
        """


class FileSource(UsageSource):
    """A JSON or CSV usage file (option ``usage``: its path)."""

    needs_period = False

    def read(self, period):
        path = self.options.get('usage')
        if not path:
            raise usage_mod.UsageError([usage_mod.Problem(
                '--usage', '', 'the file source needs a usage file')])
        return usage_mod.load_usage(path)


def names():
    """Names of the installed sources, sorted."""
    return sorted(extension.ExtensionManager(NAMESPACE).names())


def load(name, **options):
    """The source ``name`` made with ``options``; else ``LookupError``."""
    try:
        manager = driver.DriverManager(NAMESPACE, name, invoke_on_load=True,
                                       invoke_kwds=options)
    except Exception as e:  # stevedore: NoMatches, or the import failed
        raise LookupError('usage source %r cannot be loaded (%s: %s); '
                          'installed: %s' % (name, type(e).__name__, e,
                                             ', '.join(names()) or 'none'))
    return manager.driver
