"""Payment providers: loaded by entry point, enabled in the config file."""

import decimal
import os
import sys
import tempfile
import textwrap

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from openstack_dashboard.test import helpers as test
from stevedore import extension

from cleura_billing_dashboard import money
from cleura_billing_dashboard.payments import bank_transfer
from cleura_billing_dashboard.payments import base
from cleura_billing_dashboard.payments import providers
from cleura_billing_dashboard.payments import stripe_checkout
from tests.unit.test_invoices_panel import issue_for
from tools.lab import stripe_standin

D = decimal.Decimal
AJAX = {'HTTP_X_REQUESTED_WITH': 'XMLHttpRequest'}


class InvoicePortal(base.PaymentProvider):
    """An operator's own provider, installed as a package of its own."""

    name = 'invoice_portal'
    verbose_name = _('Invoice portal')
    explanation = _('Pay in your company\'s invoice portal.')

    def start(self, invoice, amount, data):
        return base.ShowDetails(((_('Portal id'), 'P-' + invoice.number),))


class ProviderTests(stripe_standin.StandInMixin, test.TestCase):

    def setUp(self):
        super().setUp()
        self.invoice = issue_for(self.tenant.id, '2026-03')

    def names(self):
        return [provider.name for provider in providers.enabled_providers()]

    def test_the_shipped_providers_in_the_configured_order(self):
        self.assertEqual(['bank_transfer', 'stripe'], self.names())
        with stripe_standin.configured(self.standin,
                                       ('stripe', 'bank_transfer')):
            self.assertEqual(['stripe', 'bank_transfer'], self.names())
        self.assertIsInstance(providers.get_provider('stripe'),
                              stripe_checkout.StripeCheckout)
        with self.assertRaises(LookupError):
            providers.get_provider('invoice_portal')

    def test_stripe_needs_a_key_and_a_webhook_secret(self):
        for option in ('api_key', 'webhook_secret'):
            with stripe_standin.configured(self.standin, **{option: ''}):
                with self.assertLogs(providers.LOG, 'WARNING') as logs:
                    self.assertEqual(['bank_transfer'], self.names())
            self.assertIn('stripe is enabled but not configured',
                          logs.output[0])

    def test_an_operator_adds_a_provider_by_installing_a_package(self):
        # A distribution that declares an entry point, as `pip install`
        # of the operator's package would leave it.
        # (TestCase.enterContext is Python 3.11's; the plugin supports 3.10.)
        distribution = _TemporaryDistribution(
            'acme_invoice_portal', textwrap.dedent('''\
                [cleura_billing.payment_providers]
                invoice_portal = %s:InvoicePortal
                ''' % __name__))
        path = distribution.__enter__()
        self.addCleanup(distribution.__exit__, None, None, None)
        self.assertIn(path, sys.path)
        with stripe_standin.configured(
                self.standin, ('bank_transfer', 'invoice_portal')):
            self.assertEqual(['bank_transfer', 'invoice_portal'],
                             self.names())
            res = self.client.get(reverse('horizon:identity:invoices:pay',
                                          args=[self.invoice.number]),
                                  **AJAX)
        self.assertContains(res, 'Invoice portal')
        self.assertContains(res, 'Pay in your company&#x27;s invoice portal.')
        self.assertContains(res, '<dd>P-%s</dd>' % self.invoice.number)

    def test_bank_transfer_shows_the_bank_details_and_the_ocr(self):
        action = bank_transfer.BankTransfer().start(
            self.invoice, D('456.5'), base.StartData(locale='sv'))
        self.assertEqual([
            ('Recipient', 'Test Cloud AB'), ('Bankgiro', '5050-1055'),
            ('IBAN', 'SE4550000000058398257466'), ('BIC', 'ESSESESS'),
            ('Reference (OCR)', self.invoice.payment_reference),
            ('Amount', '456,50\xa0kr'),
        ], [(str(label), value) for label, value in action.details])


class AmountTests(test.TestCase):

    def test_minor_units_follow_the_currency(self):
        self.assertEqual(55600, money.to_minor_units(
            D('556.00'), 'SEK'))
        self.assertEqual(1235, money.to_minor_units(
            D('12.345'), 'EUR'))
        self.assertEqual(1000, money.to_minor_units(
            D('1000'), 'JPY'))
        self.assertEqual(D('556.00'), money.from_minor_units(
            55600, 'SEK'))
        self.assertEqual(D('1000'), money.from_minor_units(
            1000, 'JPY'))


class _TemporaryDistribution(object):
    """An installed distribution with ``entry_points`` on ``sys.path``."""

    def __init__(self, name, entry_points):
        self.name = name
        self.entry_points = entry_points

    def __enter__(self):
        self.dir = tempfile.TemporaryDirectory()
        info = os.path.join(self.dir.name, '%s-1.0.dist-info' % self.name)
        os.makedirs(info)
        with open(os.path.join(info, 'METADATA'), 'w') as f:
            f.write('Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n'
                    % self.name)
        with open(os.path.join(info, 'entry_points.txt'), 'w') as f:
            f.write(self.entry_points)
        sys.path.append(self.dir.name)
        self._forget()
        return self.dir.name

    def __exit__(self, *exc):
        sys.path.remove(self.dir.name)
        self._forget()
        self.dir.cleanup()

    def _forget(self):
        # Entry points are read once per process, as after a restart.
        extension.ExtensionManager.ENTRY_POINT_CACHE.pop(
            providers.NAMESPACE, None)
        providers._loaded.clear()
