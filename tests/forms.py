"""What a browser would submit from one form of a page.

Tests that post over HTTP take every field, the CSRF token among them,
from the form they submit, never from another form of the page: a form
whose own token is missing must fail its test, as it fails in a browser.
"""

import html.parser


class _FormFields(html.parser.HTMLParser):

    def __init__(self, form_id):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.found = False
        self.fields = {}
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'form':
            self.inside = attrs.get('id') == self.form_id
            self.found = self.found or self.inside
            return
        if not self.inside:
            return
        name = attrs.get('name')
        if tag == 'input' and name:
            kind = attrs.get('type', 'text')
            if kind in ('radio', 'checkbox') and 'checked' not in attrs:
                return
            if kind not in ('submit', 'button', 'image', 'reset'):
                self.fields[name] = attrs.get('value') or ''
        elif tag == 'select' and name:
            self._select = name
            self.fields.setdefault(name, '')
        elif tag == 'option' and self._select and 'selected' in attrs:
            self.fields[self._select] = attrs.get('value') or ''

    def handle_endtag(self, tag):
        if tag == 'form':
            self.inside = False
        elif tag == 'select':
            self._select = None


def form_fields(page, form_id):
    """``{name: value}`` of ``<form id="form_id">`` in ``page``'s HTML."""
    parser = _FormFields(form_id)
    parser.feed(page)
    if not parser.found:
        raise AssertionError('the page has no form %r' % form_id)
    return parser.fields
