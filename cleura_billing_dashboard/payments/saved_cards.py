"""A project's saved card at Stripe, for automatic payments.

Saving goes through Stripe Checkout in setup mode: ``start_setup()``
makes the project's Stripe Customer once (metadata ``project_id``; the
create request's idempotency key is the project's, so two managers at
once make one customer) and opens a setup session for it; the card is
entered on Stripe's page, never in Horizon. Stripe's signed webhook
``checkout.session.completed`` (mode setup) brings the session back:
``record_setup()`` reads the SetupIntent's PaymentMethod and stores only
what may be shown (brand, last four digits, expiry), replacing the card
saved before, which is then detached at Stripe.

``remove()`` detaches the card and forgets it (the customer is kept);
``set_autopay()`` turns automatic payment of new invoices on or off.
Every function takes the caller's project id: one project never sees or
changes another's card.
"""

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
import stripe

from cleura_billing_dashboard import conf
from cleura_billing_dashboard.payments import base
from cleura_billing_dashboard.payments.models import AutopayAttempt
from cleura_billing_dashboard.payments.models import SavedCard
from cleura_billing_dashboard.payments import stripe_checkout
from cleura_billing_dashboard.payments import stripe_webhook

LOG = logging.getLogger(__name__)
NAME = stripe_webhook.NAME
UNAVAILABLE = _('The card service cannot be reached right now; nothing '
                'was changed. Please try again later.')
NOT_CONFIGURED = _('Saving a card is not available: card payments are not '
                   'configured.')
NO_CARD = _('There is no saved card: save a card first.')


def is_available():
    """Whether cards can be saved (Stripe is configured)."""
    options = conf.get_conf().stripe
    return bool(options.api_key and options.webhook_secret)


def card_for(project_id):
    """The project's ``SavedCard`` (with or without a card), or None."""
    if not project_id:
        raise ValueError('a project id is required')
    return SavedCard.objects.filter(project_id=project_id).first()


def _customer_for(api, project_id):
    """The project's ``SavedCard`` row, with a Stripe Customer id."""
    stored = card_for(project_id)
    if stored is not None:
        return stored
    customer = api.v1.customers.create(
        {'metadata': {'project_id': project_id},
         'description': 'OpenStack project %s' % project_id},
        {'idempotency_key': 'cleura-billing-customer-%s' % project_id})
    stored, _created = SavedCard.objects.get_or_create(
        project_id=project_id,
        defaults={'provider': NAME, 'customer_id': customer.id})
    return stored


def start_setup(project_id, return_url, cancel_url):
    """The URL of Stripe's page where the project's card is saved.

    ``return_url`` and ``cancel_url`` are absolute (rebased on ``[stripe]
    return_url_base`` when it is set). Raises ``ProviderError`` when
    Stripe is not configured or fails (logged); nothing is saved until
    Stripe's webhook says so.
    """
    if not is_available():
        raise base.ProviderError(NOT_CONFIGURED)
    try:
        api = stripe_checkout.client()
        stored = _customer_for(api, project_id)
        try:
            session = _setup_session(api, stored, return_url, cancel_url)
        except stripe.InvalidRequestError as e:
            if e.code != 'resource_missing' or (
                    getattr(e.error, 'param', None) != 'customer'):
                raise
            stored = _replace_customer(api, stored)
            session = _setup_session(api, stored, return_url, cancel_url)
    except stripe.StripeError as e:
        LOG.error('Stripe did not open a card setup session for project '
                  '%s: %s', project_id, e)
        raise base.ProviderError(UNAVAILABLE)
    return session.url


def _setup_session(api, stored, return_url, cancel_url):
    options = conf.get_conf().stripe
    project_id = stored.project_id
    return api.v1.checkout.sessions.create({
        'mode': 'setup',
        'customer': stored.customer_id,
        'payment_method_types': ['card'],
        'client_reference_id': project_id,
        'metadata': {'project_id': project_id, 'purpose': 'saved_card'},
        'setup_intent_data': {'metadata': {'project_id': project_id}},
        'success_url': stripe_checkout.rebase(return_url,
                                              options.return_url_base),
        'cancel_url': stripe_checkout.rebase(cancel_url,
                                             options.return_url_base),
    })


def _replace_customer(api, stored):
    """A new Stripe customer for a project whose customer Stripe lost.

    (Deleted in Stripe's dashboard, or another Stripe account.) Its card
    went with it: the stored card is forgotten and autopay turned off.
    """
    customer = api.v1.customers.create(
        {'metadata': {'project_id': stored.project_id},
         'description': 'OpenStack project %s' % stored.project_id},
        {'idempotency_key': 'cleura-billing-customer-%s-after-%s' % (
            stored.project_id, stored.customer_id)})
    LOG.warning('Stripe has no customer %s of project %s any more; it is '
                'replaced by %s and its saved card is forgotten',
                stored.customer_id, stored.project_id, customer.id)
    SavedCard.objects.filter(pk=stored.pk,
                             customer_id=stored.customer_id).update(
        customer_id=customer.id, payment_method_id='', brand='', last4='',
        exp_month=None, exp_year=None, autopay=False)
    stored.refresh_from_db()
    return stored


def record_setup(session):
    """Store the card of a completed setup session (a webhook's dict).

    Returns ``(outcome, detail, '')`` for ``stripe_webhook``. Runs in the
    webhook's transaction; the replaced card is detached at Stripe after
    it commits. Raises ``stripe.StripeError`` when the SetupIntent cannot
    be read (the webhook then answers an error and Stripe delivers again).
    """
    from cleura_billing_dashboard.payments.models import Notification
    project_id = (session.get('metadata') or {}).get('project_id')
    stored = (SavedCard.objects.select_for_update()
              .filter(project_id=project_id or '').first())
    if stored is None:
        return (Notification.IGNORED,
                'setup session %s: no customer of project %s here'
                % (session['id'], project_id), '')
    if session.get('customer') != stored.customer_id:
        return (Notification.REJECTED,
                'setup session %s is for customer %s, project %s has %s'
                % (session['id'], session.get('customer'), project_id,
                   stored.customer_id), '')
    if session.get('status') != 'complete' or not session.get(
            'setup_intent'):
        return (Notification.REJECTED, 'setup session %s is %s'
                % (session['id'], session.get('status')), '')
    intent = stripe_checkout.client().v1.setup_intents.retrieve(
        session['setup_intent'], {'expand': ['payment_method']}).to_dict()
    method = intent.get('payment_method') or {}
    card = method.get('card') or {}
    if intent.get('status') != 'succeeded' or not card:
        return (Notification.REJECTED, 'setup intent %s is %s'
                % (intent.get('id'), intent.get('status')), '')
    old = stored.payment_method_id
    if old == method['id']:
        return Notification.UPDATED, 'card %s again' % old, ''
    stored.payment_method_id = method['id']
    stored.brand = str(card.get('brand') or '')[:32]
    stored.last4 = str(card.get('last4') or '')[:4]
    stored.exp_month = card.get('exp_month')
    stored.exp_year = card.get('exp_year')
    stored.save()
    if old:
        transaction.on_commit(lambda: _detach(old, project_id))
    LOG.info('Project %s saved card %s (%s %s)', project_id, method['id'],
             stored.brand, stored.last4)
    return (Notification.UPDATED, 'saved card %s %s' % (stored.brand,
                                                        stored.last4), '')


def _detach(method_id, project_id):
    try:
        stripe_checkout.client().v1.payment_methods.detach(method_id)
    except stripe.StripeError as e:
        # Stored nowhere here any more, so never charged by this plugin.
        LOG.warning('Stripe did not detach card %s of project %s: %s',
                    method_id, project_id, e)


def remove(project_id):
    """Forget the project's card and detach it at Stripe.

    Automatic payment is turned off with it. Raises ``ProviderError``
    when Stripe cannot detach it (nothing changes then), ``LookupError``
    when there is no card.
    """
    stored = card_for(project_id)
    if stored is None or not stored.has_card:
        raise LookupError(NO_CARD)
    try:
        stripe_checkout.client().v1.payment_methods.detach(
            stored.payment_method_id)
    except stripe.InvalidRequestError as e:
        # Already detached or gone at Stripe: forgetting it is right.
        LOG.warning('Stripe: card %s of project %s: %s',
                    stored.payment_method_id, project_id, e)
    except stripe.StripeError as e:
        LOG.error('Stripe did not detach card %s of project %s: %s',
                  stored.payment_method_id, project_id, e)
        raise base.ProviderError(UNAVAILABLE)
    SavedCard.objects.filter(
        pk=stored.pk, payment_method_id=stored.payment_method_id).update(
        payment_method_id='', brand='', last4='', exp_month=None,
        exp_year=None, autopay=False)


def set_autopay(project_id, enabled):
    """Turn automatic payment of new invoices on or off.

    Turned on, the invoices issued from now on are charged (not those
    issued before).

    Raises ``LookupError`` when turning it on without a saved card.
    """
    stored = card_for(project_id)
    if stored is None or not stored.has_card:
        if enabled:
            raise LookupError(NO_CARD)
        return
    if enabled and not stored.autopay:
        SavedCard.objects.filter(pk=stored.pk, autopay=False).update(
            autopay=True, autopay_since=timezone.now())
    elif not enabled:
        SavedCard.objects.filter(pk=stored.pk).update(autopay=False)


def attempts_for(invoice_id):
    """The automatic payment attempts of an invoice, first first."""
    return list(AutopayAttempt.objects.filter(invoice_id=invoice_id)
                .order_by('attempt'))
