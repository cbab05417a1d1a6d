"""The month so far: what CloudKitty rated, a forecast, the top services.

Plain arithmetic on Decimals and dates, nothing read here: the Horizon
side (``api.rating``) reads CloudKitty and hands the numbers in.

The forecast is a straight line: the cost so far divided by the part of
the calendar month (UTC) that has passed. It assumes the rest of the
month costs what the part behind it did, and knows nothing of resources
started or stopped since; it is an estimate, excluding VAT, never an
invoice.
"""

import dataclasses
import datetime
import decimal
import string

D = decimal.Decimal
UTC = datetime.timezone.utc
#: Types shown as the month's top services.
TOP = 5


def month_range(now):
    """[begin, end) of the UTC calendar month holding ``now`` (aware)."""
    now = now.astimezone(UTC)
    begin = datetime.datetime(now.year, now.month, 1, tzinfo=UTC)
    end = datetime.datetime(now.year + now.month // 12, now.month % 12 + 1,
                            1, tzinfo=UTC)
    return begin, end


def elapsed_fraction(now):
    """The part of ``now``'s month that has passed, a Decimal in (0, 1]."""
    begin, end = month_range(now)
    # Whole seconds: exact as Decimals, and a second is precision enough.
    passed = int((now - begin).total_seconds())
    return max(D(passed), D(1)) / D(int((end - begin).total_seconds()))


def forecast(so_far, now):
    """The month's cost at the rate so far: ``so_far`` / elapsed fraction.

    Unrounded; the caller rounds it as it shows it.
    """
    return D(so_far) / elapsed_fraction(now)


@dataclasses.dataclass(frozen=True)
class Service:
    """One rating type's cost this month, named for the customer."""

    rating_type: str
    name: str
    amount: decimal.Decimal


def service_name(rating_type, mapping):
    """What a type is called on invoices, without groupby values.

    The mapping's description, else its product, with ``{field}``
    placeholders left out (a whole month spans many flavors); the type
    itself when unmapped or when nothing is left.
    """
    if mapping is not None:
        for template in (mapping.description, mapping.product):
            text = ''.join(literal for literal, *_rest
                           in string.Formatter().parse(template))
            text = ' '.join(text.split()).strip(' .-_:/')
            if text:
                return text
    return rating_type


def top_services(amounts, mappings, count=TOP):
    """The ``count`` costliest types of ``{type: amount}``, as Services.

    Costliest first, ties by type; types that cost nothing are left out.
    ``mappings`` is ``{type: rated.Mapping}`` (may be empty).
    """
    ranked = sorted(((amount, rating_type) for rating_type, amount
                     in amounts.items() if amount > 0),
                    key=lambda pair: (-pair[0], pair[1]))
    return [Service(rating_type, service_name(rating_type,
                                              mappings.get(rating_type)),
                    amount)
            for amount, rating_type in ranked[:count]]


def daily_costs(hourly, now):
    """``[(date, amount)]`` for each UTC day of ``now``'s month up to today.

    ``hourly`` is ``[(begin, amount)]``: CloudKitty's rated periods (the
    summary grouped by ``time``), each counted on the UTC day it begins;
    a day without any is 0.
    """
    begin, _end = month_range(now)
    today = now.astimezone(UTC).date()
    days = {}
    for start, amount in hourly:
        day = start.astimezone(UTC).date()
        days[day] = days.get(day, D(0)) + D(amount)
    result = []
    day = begin.date()
    while day <= today:
        result.append((day, days.get(day, D(0))))
        day += datetime.timedelta(days=1)
    return result
