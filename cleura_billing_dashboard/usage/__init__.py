"""Usage to invoice: read per-project usage lines from JSON or CSV.

A file is accepted whole or rejected whole: ``parse_usage`` raises
``UsageError`` listing every problem (where, field, message) and returns
nothing, so nothing is issued from a malformed file. Numbers are read as
``Decimal``, never as float.

JSON::

    {
      "period": "2026-10",                 optional, YYYY-MM
      "currency": "SEK",                   optional, must be the configured one
      "projects": [
        {
          "project_id": "8a3f...",         Keystone project id
          "lines": [
            {
              "product": "compute.m1.small",        required, <= 100 chars
              "description": "m1.small instance",   optional, <= 255 chars
              "region": "Sto2",                     required, <= 64 chars
              "quantity": 744,                      decimal >= 0, <= 6 places
              "unit": "h",                          required, <= 16 chars
              "unit_price": "0.45",                 decimal >= 0, <= 6 places
              "vat_rate": 25,                       optional, 0..100 percent,
                                                    <= 2 places; default from
                                                    [billing] default_vat_rate
              "currency": "SEK"                     optional, as above
            }
          ]
        }
      ]
    }

Numbers may be JSON numbers or strings. A problem is located by its JSON
path, e.g. ``projects[0].lines[2]`` and field ``unit_price``.

CSV (UTF-8, comma separated, first row a header naming these columns in any
order; ``description``, ``vat_rate`` and ``currency`` may be left out or
empty)::

    project_id,product,description,region,quantity,unit,unit_price,vat_rate
    8a3f...,compute.m1.small,m1.small instance,Sto2,744,h,0.45,25

A CSV has no period: it comes from the caller. A problem is located by its
line number in the file (the header is line 1).

Lines of a project listed twice (or on rows apart) are merged in file order.
Every project has at least one line; a file has at least one project.

Just over 300 lines: a sixth of it is this description of the two formats,
which operators read here.
"""

import csv
import dataclasses
import decimal
import io
import json
import os
import re

from cleura_billing_dashboard import conf
from cleura_billing_dashboard.i18n import _

TEXT_FIELDS = {  # field: (max length, required)
    'project_id': (64, True),
    'product': (100, True),
    'description': (255, False),
    'region': (64, True),
    'unit': (16, True),
}
NUMBER_FIELDS = {  # field: (digits before the point, after it)
    'quantity': (12, 6),
    'unit_price': (12, 6),
    'vat_rate': (3, 2),
}
CSV_COLUMNS = ('project_id', 'product', 'description', 'region', 'quantity',
               'unit', 'unit_price', 'vat_rate', 'currency')
CSV_REQUIRED = ('project_id', 'product', 'region', 'quantity', 'unit',
                'unit_price')
PERIOD_RE = re.compile(r'^\d{4}-(0[1-9]|1[0-2])$')


@dataclasses.dataclass(frozen=True)
class Line:
    """One usage line, valid and ready to invoice."""

    product: str
    description: str
    region: str
    quantity: decimal.Decimal
    unit: str
    unit_price: decimal.Decimal
    vat_rate: decimal.Decimal


@dataclasses.dataclass
class Usage:
    """Usage lines by project id (in file order), and the file's period."""

    projects: dict
    period: str = None


@dataclasses.dataclass(frozen=True)
class Problem:
    """What is wrong (``message``) with ``field`` at ``where`` in the file."""

    where: str
    field: str
    message: str

    def __str__(self):
        if self.field:
            return '%s: %s: %s' % (self.where, self.field, self.message)
        return '%s: %s' % (self.where, self.message)


class UsageError(ValueError):
    """A usage file was rejected; ``problems`` lists every reason."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__('\n'.join(str(p) for p in self.problems))


def load_usage(path, **kwargs):
    """``parse_usage`` of the file at ``path``; JSON if it ends in .json."""
    fmt = 'json' if path.lower().endswith('.json') else 'csv'
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        raise UsageError([Problem(os.path.basename(path), '', str(e))])
    return parse_usage(data, fmt, **kwargs)


def parse_usage(data, fmt, *, currency=None, default_vat_rate=None):
    """The ``Usage`` in ``data`` (bytes or str) of format 'json' or 'csv'.

    ``currency`` and ``default_vat_rate`` default to the configuration.
    Raises ``UsageError`` with every problem found.
    """
    options = conf.get_conf().billing
    reader = _Reader(currency or options.currency,
                     decimal.Decimal(default_vat_rate or
                                     options.default_vat_rate))
    if isinstance(data, bytes):
        try:
            data = data.decode('utf-8-sig')
        except UnicodeDecodeError as e:
            raise UsageError([Problem(_('file'), '',
                                      _('not UTF-8 text: %s') % e)])
    if fmt == 'json':
        usage = reader.read_json(data)
    elif fmt == 'csv':
        usage = reader.read_csv(data)
    else:
        raise ValueError('usage format must be json or csv, not %r' % fmt)
    if not usage.projects and not reader.problems:
        reader.problem(_('file'), '', _('no usage lines'))
    if reader.problems:
        raise UsageError(reader.problems)
    return usage


class _Reader:
    """Collects every problem while reading; the caller raises at the end."""

    def __init__(self, currency, default_vat_rate):
        self.currency = currency
        self.default_vat_rate = default_vat_rate
        self.problems = []

    def problem(self, where, field, message):
        self.problems.append(Problem(where, field, message))

    def read_json(self, text):
        try:
            doc = json.loads(text, parse_float=decimal.Decimal,
                             parse_constant=self._no_constant)
        except ValueError as e:
            self.problem(_('line %d') % getattr(e, 'lineno', 0), '',
                         _('not valid JSON: %s') % e)
            return Usage({})
        if not isinstance(doc, dict):
            self.problem('$', '', _('must be an object'))
            return Usage({})
        period = doc.get('period')
        if period is not None and not (isinstance(period, str) and
                                       PERIOD_RE.match(period)):
            self.problem('$', 'period', _('must be YYYY-MM'))
            period = None
        self.check_currency('$', doc.get('currency'))
        projects = {}
        entries = doc.get('projects')
        if not isinstance(entries, list):
            self.problem('$', 'projects', _('must be a list'))
            entries = []
        for i, entry in enumerate(entries):
            where = 'projects[%d]' % i
            if not isinstance(entry, dict):
                self.problem(where, '', _('must be an object'))
                continue
            project_id = self.text(where, 'project_id', entry)
            lines = entry.get('lines')
            if not isinstance(lines, list) or not lines:
                self.problem(where, 'lines', _('must be a non-empty list'))
                continue
            for j, row in enumerate(lines):
                line_where = '%s.lines[%d]' % (where, j)
                if not isinstance(row, dict):
                    self.problem(line_where, '', _('must be an object'))
                    continue
                line = self.line(line_where, row)
                if project_id and line:
                    projects.setdefault(project_id, []).append(line)
        return Usage(projects, period)

    def read_csv(self, text):
        reader = csv.DictReader(io.StringIO(text, newline=''))
        header = reader.fieldnames or []
        for column in CSV_REQUIRED:
            if column not in header:
                self.problem(_('line 1'), column, _('column missing'))
        for column in header:
            if column not in CSV_COLUMNS:
                self.problem(_('line 1'), column, _('unknown column'))
        if self.problems:
            return Usage({})
        projects = {}
        for row in reader:
            where = _('line %d') % reader.line_num
            if None in row:
                self.problem(where, '', _('more values than columns'))
                continue
            project_id = self.text(where, 'project_id', row)
            line = self.line(where, row)
            if project_id and line:
                projects.setdefault(project_id, []).append(line)
        return Usage(projects)

    def line(self, where, row):
        """A ``Line`` from ``row``, or None after recording its problems."""
        before = len(self.problems)
        texts = {name: self.text(where, name, row)
                 for name in ('product', 'description', 'region', 'unit')}
        numbers = {name: self.number(where, name, row)
                   for name in ('quantity', 'unit_price', 'vat_rate')}
        self.check_currency(where, row.get('currency'))
        if numbers['vat_rate'] is None and _blank(row.get('vat_rate')):
            numbers['vat_rate'] = self.default_vat_rate
        if len(self.problems) > before:
            return None
        return Line(**texts, **numbers)

    def text(self, where, field, row):
        value = row.get(field)
        max_length, required = TEXT_FIELDS[field]
        if value is None:
            value = ''
        if not isinstance(value, str):
            self.problem(where, field, _('must be text'))
            return None
        value = value.strip()
        if required and not value:
            self.problem(where, field, _('required'))
            return None
        if len(value) > max_length:
            self.problem(where, field, _('longer than %d characters')
                         % max_length)
            return None
        return value

    def number(self, where, field, row):
        value = row.get(field)
        if _blank(value):
            if field != 'vat_rate':
                self.problem(where, field, _('required'))
            return None
        if isinstance(value, bool) or not isinstance(
                value, (str, int, decimal.Decimal)):
            self.problem(where, field, _('must be a number'))
            return None
        try:
            number = decimal.Decimal(value.strip() if isinstance(value, str)
                                     else value)
        except decimal.InvalidOperation:
            self.problem(where, field, _('not a number: %r') % (value,))
            return None
        whole, places = NUMBER_FIELDS[field]
        if not number.is_finite() or number < 0:
            self.problem(where, field, _('must be a number of 0 or more'))
            return None
        if field == 'vat_rate' and number > 100:
            self.problem(where, field, _('must be a percentage, 0 to 100'))
            return None
        if number.as_tuple().exponent < -places:
            self.problem(where, field, _('more than %d decimal places')
                         % places)
            return None
        if number.adjusted() >= whole:
            self.problem(where, field, _('more than %d digits before the '
                                         'decimal point') % whole)
            return None
        return number

    def check_currency(self, where, value):
        if not _blank(value) and value != self.currency:
            self.problem(where, 'currency',
                         _('must be %(expected)s, not %(given)s') %
                         {'expected': self.currency, 'given': value})

    @staticmethod
    def _no_constant(name):
        raise ValueError('%s is not a number' % name)


def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())
