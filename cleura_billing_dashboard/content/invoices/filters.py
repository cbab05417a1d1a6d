"""The table's server-side filter, turned into the facade's keywords."""

import calendar
import datetime

from django.utils.translation import gettext_lazy as _

from cleura_billing_dashboard.api import billing
from cleura_billing_dashboard.content.invoices import tables as inv_tables


# Longer than any number, status or date range: Horizon keeps the filter in
# the session, and a signed-cookie session must stay small enough to send.
MAX_VALUE_LENGTH = 64


class FilterError(ValueError):
    pass


def check_length(value):
    """Refuse a filter value longer than one can usefully be."""
    if len(value or '') > MAX_VALUE_LENGTH:
        raise FilterError(_('A filter has at most %d characters.')
                          % MAX_VALUE_LENGTH)


def _month_or_day(text, last):
    text = text.strip()
    try:
        if len(text) == 7:
            first = datetime.date.fromisoformat(text + '-01')
            if last:
                days = calendar.monthrange(first.year, first.month)[1]
                return first.replace(day=days)
            return first
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise FilterError(_('"%s" is not a date: write 2026-05 or '
                            '2026-05-31.') % text)


def to_keywords(field, value):
    """``{filter keyword: value}`` for the table's filter field and text."""
    check_length(value)
    value = (value or '').strip()
    if not value:
        return {}
    if field == 'number':
        return {'number': value}
    if field == 'status':
        # The status as the table shows it, in the user's language, or its
        # English keyword.
        labels = {str(label).lower(): status for status, label
                  in inv_tables.STATUS_DISPLAY_CHOICES}
        status = labels.get(value.lower(), value.lower())
        if status not in billing.STATUSES:
            raise FilterError(_('"%s" is not a status: use paid, '
                                'outstanding, overdue, credited or '
                                'credit.') % value)
        return {'status': status}
    if field == 'issued':
        start, sep, end = value.partition('..')
        issued_from = _month_or_day(start, last=False)
        issued_to = _month_or_day(end if sep else start, last=True)
        if issued_to < issued_from:
            raise FilterError(_('The range ends before it starts.'))
        return {'issued_from': issued_from, 'issued_to': issued_to}
    return {}
