"""The Customer Info and Settings forms carry their own CSRF token.

The tabs are rendered by Horizon without the request, so ``{% csrf_token
%}`` in their templates printed nothing and a browser's Save ended on the
login page. Here the client enforces CSRF as Django does for a browser, and
submits each form with the token found in that form and nowhere else.
"""

from django import test as django_test

from openstack_dashboard.test import helpers as test

from tests.forms import form_fields
from tests.unit import test_account_facade as fakes
from tests.unit import test_account_panel as pane


class CsrfTests(fakes.FakeKeystoneMixin, test.TestCase):

    def setUp(self):
        super().setUp()
        # Horizon's test client does not check CSRF; a browser's is checked.
        self.browser = django_test.Client(enforce_csrf_checks=True)
        self.browser.cookies = self.client.cookies

    def test_customer_info_saves_with_its_own_token(self):
        page = self.browser.get(pane.CUSTOMER_URL)
        fields = form_fields(page.content.decode(), 'customer_form')
        self.assertTrue(fields.get('csrfmiddlewaretoken'))
        data = dict(fields, **{key: value for key, value
                               in pane.CUSTOMER.items()})
        res = self.browser.post(pane.CUSTOMER_URL, data)
        self.assertEqual(302, res.status_code)
        self.assertEqual('Acme AB', self.stored()['customer']['name'])

    def test_settings_save_with_their_own_token(self):
        url = pane.INDEX_URL + '?tab=account__settings'
        page = self.browser.get(url)
        fields = form_fields(page.content.decode(), 'settings_form')
        self.assertTrue(fields.get('csrfmiddlewaretoken'))
        res = self.browser.post(url, dict(fields, delivery='link',
                                          language='sv'))
        self.assertEqual(302, res.status_code)
        self.assertEqual({'delivery': 'link', 'language': 'sv',
                          'einvoice': False},
                         self.stored()['settings'])
