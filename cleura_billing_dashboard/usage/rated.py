"""Rated usage (CloudKitty's summary rows) to usage lines, via a mapping.

CloudKitty rates usage by *type* (``instance``, ``volume.size``...); an
invoice line needs a product, a description, a unit and a VAT rate. The
operator names them for each type in ``[cloudkitty] mapping``, one entry a
line::

    TYPE | PRODUCT | UNIT | VAT | DESCRIPTION

``VAT`` is a percentage (empty: ``[billing] default_vat_rate``),
``DESCRIPTION`` is optional (default: the product). Product and
description may name the groupby fields of ``[cloudkitty] groupby`` as
``{field}``, e.g. ``compute.{flavor_name}``; a field a row has no value
for is left empty.

Rounding, one summary row (project, type, groupby values) a line:

* the line's amount is CloudKitty's rated amount rounded to the cent (to
  the currency's minor unit, half away from zero): what CloudKitty rated,
  to the cent;
* its quantity is CloudKitty's quantity rounded to 6 decimal places;
* its unit price is amount / quantity rounded to 6 places, and is kept
  only if quantity x unit price rounds back to the amount exactly (true
  whenever CloudKitty priced the group at one rate of up to 6 places);
  otherwise the line is 1 ``lot`` at the amount, its description ending
  with the measured quantity and unit, so the invoice never differs from
  the rated amount;
* rows rated 0.00 after rounding make no line, and a project without
  lines gets no invoice;
* the invoice total is the sum of its rounded lines: it may differ from
  the unrounded sum CloudKitty reports by up to half a cent per line.

Everything is checked before anything is returned: an unmapped type,
a negative amount or a bad mapping entry anywhere raises ``UsageError``
listing every problem, so nothing is issued.
"""

import dataclasses
import decimal
import re
import string

from cleura_billing_dashboard import conf
from cleura_billing_dashboard.i18n import _
from cleura_billing_dashboard import money
from cleura_billing_dashboard import usage as usage_mod

D = decimal.Decimal
PLACES = D('0.000001')
FALLBACK_UNIT = 'lot'
_VAT = re.compile(r'^\d{1,3}(\.\d{1,2})?$')


@dataclasses.dataclass(frozen=True)
class Mapping:
    """What one CloudKitty type is invoiced as."""

    rating_type: str
    product: str
    unit: str
    vat_rate: decimal.Decimal
    description: str


@dataclasses.dataclass(frozen=True)
class Row:
    """One summary row: a project's rated ``type`` in a region."""

    region: str
    project_id: str
    rating_type: str
    qty: decimal.Decimal
    rate: decimal.Decimal
    groupby: dict = dataclasses.field(default_factory=dict)


def parse_mapping(entries, groupby=(), default_vat_rate=None):
    """``{type: Mapping}`` from ``[cloudkitty] mapping`` entries.

    Raises ``UsageError`` naming every bad entry (by its position, from 1).
    """
    if default_vat_rate is None:
        default_vat_rate = conf.get_conf().billing.default_vat_rate
    problems = []
    mappings = {}
    for number, entry in enumerate(entries, 1):
        where = '[cloudkitty] mapping %d' % number
        fields = [part.strip() for part in entry.split('|', 4)]
        if len(fields) < 4:
            problems.append(usage_mod.Problem(
                where, '', _('must be TYPE | PRODUCT | UNIT | VAT | '
                             'DESCRIPTION, not %r') % entry))
            continue
        rating_type, product, unit, vat_rate = fields[:4]
        description = fields[4] if len(fields) > 4 else ''
        before = len(problems)
        for name, value in (('type', rating_type), ('product', product),
                            ('unit', unit)):
            if not value:
                problems.append(usage_mod.Problem(where, name,
                                                  _('required')))
        if rating_type in mappings:
            problems.append(usage_mod.Problem(
                where, 'type', _('%s is mapped twice') % rating_type))
        vat_rate = vat_rate or str(default_vat_rate)
        if not _VAT.match(vat_rate) or D(vat_rate) > 100:
            problems.append(usage_mod.Problem(
                where, 'vat_rate', _('must be a percentage, 0 to 100')))
        for name, template in (('product', product),
                               ('description', description)):
            used = _fields(template)
            unknown = None if used is None else used - set(groupby)
            if unknown is None:
                problems.append(usage_mod.Problem(
                    where, name, _('a { or } that names no field')))
            elif unknown:
                problems.append(usage_mod.Problem(
                    where, name, _('names %s, not in [cloudkitty] groupby')
                    % ', '.join(sorted(unknown))))
        if len(problems) == before:
            mappings[rating_type] = Mapping(rating_type, product, unit,
                                            D(vat_rate), description)
    if problems:
        raise usage_mod.UsageError(problems)
    return mappings


def _fields(template):
    """Names a template uses; None if it is not a valid template."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return None
    names = set()
    for _text, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            return None
        names.add(name)
    return names


def line_amounts(qty, rate, currency):
    """(quantity, unit_price, amount) for a rated row; see the module doc.

    ``unit_price`` is None when no unit price of 6 places gives the amount
    at that quantity (the caller then invoices 1 lot).
    """
    amount = money.quantize(rate, currency)
    quantity = D(qty).quantize(PLACES, rounding=money.ROUNDING)
    if quantity > 0:
        unit_price = (amount / quantity).quantize(
            PLACES, rounding=money.ROUNDING)
        if money.quantize(quantity * unit_price, currency) == amount:
            return quantity, unit_price, amount
    return quantity, None, amount


def usage_from_rows(rows, mappings, period, currency=None):
    """The ``Usage`` of ``period`` from summary ``rows``.

    Lines keep the rows' order within a project. Raises ``UsageError``
    naming every row whose type is unmapped or whose amount is negative.
    """
    currency = currency or conf.get_conf().billing.currency
    problems = []
    unmapped = {}
    projects = {}
    for row in rows:
        where = _('project %(project)s in %(region)s') % {
            'project': row.project_id, 'region': row.region}
        if not row.project_id:
            # Rated data CloudKitty collected without the scope key:
            # nobody to invoice, and not to be dropped silently.
            problems.append(usage_mod.Problem(
                _('a row in %s') % row.region, 'project_id',
                _('CloudKitty rated %(type)s without a project') % {
                    'type': row.rating_type}))
            continue
        mapping = mappings.get(row.rating_type)
        if mapping is None:
            unmapped.setdefault(row.rating_type, []).append(where)
            continue
        quantity, unit_price, amount = line_amounts(row.qty, row.rate,
                                                    currency)
        if amount < 0:
            problems.append(usage_mod.Problem(
                where, row.rating_type,
                _('CloudKitty rated %s: a negative amount is not '
                  'invoiced from usage') % amount))
            continue
        if amount == 0:
            continue
        values = _Values((name, '' if value is None else str(value))
                         for name, value in row.groupby.items())
        product = _fill(mapping.product, values)
        description = _fill(mapping.description, values) or product
        unit = mapping.unit
        if unit_price is None:
            description = '%s (%s %s)' % (description,
                                          _trim(quantity), mapping.unit)
            quantity, unit_price, unit = D(1), amount, FALLBACK_UNIT
        projects.setdefault(row.project_id, []).append(usage_mod.Line(
            product=product[:100], description=description[:255],
            region=row.region, quantity=quantity, unit=unit,
            unit_price=unit_price, vat_rate=mapping.vat_rate))
    for rating_type, places in sorted(unmapped.items()):
        problems.append(usage_mod.Problem(
            'CloudKitty', 'type',
            _('%(type)s is not in [cloudkitty] mapping (rated for '
              '%(where)s)') % {'type': rating_type,
                               'where': '; '.join(places)}))
    if problems:
        raise usage_mod.UsageError(problems)
    return usage_mod.Usage(projects, period)


class _Values(dict):
    def __missing__(self, key):
        return ''


def _fill(template, values):
    return ' '.join(template.format_map(values).split())


def _trim(number):
    """``number`` without trailing zeros after the point."""
    text = format(number, 'f')
    return text.rstrip('0').rstrip('.') if '.' in text else text
