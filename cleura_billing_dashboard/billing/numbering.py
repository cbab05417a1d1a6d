"""Gap-free invoice numbers, one sequence per prefix (``2026-000123``).

A number is taken inside the transaction that stores the invoice: if that
transaction rolls back, so does the number, and the next invoice gets it.
Issuers in several processes or hosts are serialized by a row lock on the
series, taken with an ``UPDATE`` before anything else in the transaction:

* PostgreSQL and MySQL lock the row until commit; a waiting ``UPDATE``
  then increments the committed value.
* SQLite takes its database write lock at that first write, so no reader
  has to upgrade to a writer later (which fails at once with "database is
  locked"). Waiting writers queue for the busy timeout, 5 s by default
  (``DATABASES[...]['OPTIONS']['timeout']``); issuing renders PDFs
  outside the numbering transaction (``billing.issue``).

Everything else in that transaction waits for its commit, so keep it short.
A series row is created beforehand, in a commit of its own
(``ensure_series``), so that taking a number only ever locks an existing
row.
"""

from django.db import models
from django.db import router
from django.db import transaction

from cleura_billing_dashboard.billing.models import NumberSeries
from cleura_billing_dashboard import conf


def series_prefix(issue_date):
    """The configured prefix for invoices issued on ``issue_date``."""
    return conf.get_conf().billing.number_series.format(year=issue_date.year)


def format_number(prefix, value):
    """``prefix`` and ``value`` zero-padded to the configured digits."""
    return '%s%0*d' % (prefix, conf.get_conf().billing.number_digits, value)


def ensure_series(prefix):
    """Create the series ``prefix`` (starting at 0) unless it exists.

    Call it before the transaction that takes numbers, not inside: a row
    created there stays locked until that transaction ends, and on MySQL
    concurrent first issuers of a series then deadlock.
    """
    # get_or_create() itself survives another process creating it meanwhile.
    NumberSeries.objects.get_or_create(prefix=prefix)


def next_number(prefix):
    """The next number of the series ``prefix``, e.g. ``'2026-000123'``.

    Must be called inside ``transaction.atomic()``, as its first write: the
    number is reserved until that transaction ends and is given back if it
    rolls back. Numbers of a series are 1, 2, 3, ... with no gap and no
    duplicate, whatever runs at the same time. The series must exist (see
    ``ensure_series``), else ``NumberSeries.DoesNotExist`` is raised.
    """
    using = router.db_for_write(NumberSeries)
    if not transaction.get_connection(using).in_atomic_block:
        raise RuntimeError('next_number() must run inside the transaction '
                           'that stores the invoice')
    series = NumberSeries.objects.using(using).filter(prefix=prefix)
    if not series.update(last_value=models.F('last_value') + 1):
        raise NumberSeries.DoesNotExist('no number series %r: create it '
                                        'with ensure_series()' % prefix)
    return format_number(prefix, series.values_list('last_value',
                                                    flat=True).get())
