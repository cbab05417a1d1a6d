"""Card payments through Stripe Checkout, settled only by Stripe's webhook.

``start()`` opens, or reuses, one Checkout Session per invoice and amount:
the create request's idempotency key is derived from the invoice number,
amount, currency and how many sessions for them ended before, and the
session is stored (``models.CheckoutSession``), so concurrent or repeated
Pay clicks, on any Horizon node, end on the same Stripe page. Coming back
from Stripe marks nothing paid.

Stripe's webhook records the payment (``stripe_webhook``);
``handle_notification()`` hands the request to it.
"""

import logging
from urllib import parse

from django.utils import translation
from django.utils.translation import gettext_lazy as _
import stripe

from cleura_billing_dashboard.billing.models import Payment
from cleura_billing_dashboard import conf
from cleura_billing_dashboard import money
from cleura_billing_dashboard.payments import base
from cleura_billing_dashboard.payments.models import CheckoutSession
from cleura_billing_dashboard.payments import stripe_webhook

LOG = logging.getLogger(__name__)
NAME = stripe_webhook.NAME
UNAVAILABLE = _('The card payment service cannot be reached right now; '
                'nothing was charged. Please try again later, or pay by '
                'bank transfer.')
IN_PROGRESS = _('A card payment of this invoice is being processed; it '
                'shows here once the card issuer confirms it.')


def client():
    """A ``stripe.StripeClient`` for the configured key and API base."""
    options = conf.get_conf().stripe
    return stripe.StripeClient(
        options.api_key,
        base_addresses={'api': options.api_base},
        max_network_retries=options.max_network_retries,
        http_client=stripe.new_default_http_client(timeout=options.timeout))


def idempotency_key(invoice, amount, generation):
    """The create key of the ``generation``-th session for ``amount``."""
    return 'cleura-billing-checkout-%s-%s-%s-%d' % (
        invoice.number, money.quantize(amount, invoice.currency),
        invoice.currency, generation)


def rebase(url, base_url):
    """``url`` with its scheme and host replaced by ``base_url``'s."""
    if not base_url:
        return url
    parts = parse.urlsplit(url)
    return base_url.rstrip('/') + parse.urlunsplit(
        ('', '', parts.path, parts.query, parts.fragment))


class StripeCheckout(base.PaymentProvider):
    name = NAME
    verbose_name = _('Card')
    explanation = _('Pay by card on Stripe\'s secure payment page. The '
                    'invoice shows as paid as soon as Stripe confirms the '
                    'payment, usually within a minute.')
    icon = 'credit-card'
    redirects = True
    submit_label = _('Pay by card')

    def is_available(self):
        """Offered only with an API key and a webhook secret."""
        options = conf.get_conf().stripe
        return bool(options.api_key and options.webhook_secret)

    def start(self, invoice, amount, data):
        """``Redirect`` to the invoice's open Checkout Session for ``amount``.

        Raises ``PaymentInProgress`` while a card payment of the invoice
        awaits Stripe's confirmation, ``ProviderError`` when Stripe fails
        (logged; the session, if Stripe made one, is reused next time).
        """
        amount = money.quantize(amount, invoice.currency)
        if Payment.objects.filter(invoice=invoice, provider=NAME,
                                  state=Payment.PENDING).exists():
            raise base.PaymentInProgress(IN_PROGRESS)
        try:
            session = self._session_for(client(), invoice, amount, data)
        except stripe.StripeError as e:
            LOG.error('Stripe did not open a Checkout Session for invoice '
                      '%s: %s', invoice.number, e)
            raise base.ProviderError(UNAVAILABLE)
        return base.Redirect(session.url)

    def _session_for(self, api, invoice, amount, data):
        sessions = CheckoutSession.objects.filter(provider=NAME,
                                                  invoice=invoice)
        for stored in sessions.filter(status=CheckoutSession.OPEN):
            remote = api.v1.checkout.sessions.retrieve(
                stored.session_id).to_dict()
            if remote['status'] == 'open':
                if (stored.amount, stored.currency) == (amount,
                                                        invoice.currency):
                    return stored
                # The outstanding amount changed: this page must not be
                # paid any more.
                self._expire(api, stored)
            else:
                stripe_webhook.set_status(stored, remote['status'])
                # Paid (or paying by a delayed method), but Stripe's event
                # has not arrived yet: a new page could take the money twice.
                paid_by = stripe_webhook.payment_reference(remote)
                if (remote['status'] == 'complete' and
                        not Payment.objects.filter(
                            provider=NAME,
                            provider_reference=paid_by).exists()):
                    raise base.PaymentInProgress(IN_PROGRESS)
        generation = sessions.filter(amount=amount,
                                     currency=invoice.currency).exclude(
            status=CheckoutSession.OPEN).count()
        key = idempotency_key(invoice, amount, generation)
        remote = api.v1.checkout.sessions.create(
            self._params(invoice, amount, data),
            {'idempotency_key': key}).to_dict()
        stored, _created = CheckoutSession.objects.get_or_create(
            provider=NAME, session_id=remote['id'], defaults={
                'invoice': invoice, 'amount': amount,
                'currency': invoice.currency, 'url': remote['url'],
                'status': CheckoutSession.OPEN, 'idempotency_key': key,
                'expires_at': stripe_webhook.timestamp(
                    remote.get('expires_at'))})
        return stored

    def _params(self, invoice, amount, data):
        # Nothing here may depend on the time or the customer's language:
        # the same idempotency key must come with the same parameters.
        options = conf.get_conf().stripe
        with translation.override(invoice.language):
            description = str(_('Invoice %s') % invoice.number)
        metadata = {'invoice_number': invoice.number,
                    'project_id': invoice.project_id}
        return {
            'mode': 'payment',
            'payment_method_types': list(options.payment_method_types),
            'line_items': [{
                'quantity': 1,
                'price_data': {
                    'currency': invoice.currency.lower(),
                    'unit_amount': money.to_minor_units(amount,
                                                        invoice.currency),
                    'product_data': {'name': description},
                },
            }],
            'client_reference_id': invoice.number,
            'metadata': metadata,
            'payment_intent_data': {'description': description,
                                    'metadata': metadata},
            'success_url': rebase(data.return_url, options.return_url_base),
            'cancel_url': rebase(data.cancel_url, options.return_url_base),
            'locale': 'auto',
        }

    def _expire(self, api, stored):
        try:
            api.v1.checkout.sessions.expire(stored.session_id)
        except stripe.StripeError as e:
            # Paying it anyway leaves a credit, which is reported.
            LOG.warning('Stripe did not expire Checkout Session %s of '
                        'invoice %s: %s', stored.session_id,
                        stored.invoice_id, e)
        stripe_webhook.set_status(stored, CheckoutSession.EXPIRED)

    def handle_notification(self, body, headers):
        """Verify and handle one webhook event: see ``stripe_webhook``."""
        return stripe_webhook.handle_notification(body, headers)
