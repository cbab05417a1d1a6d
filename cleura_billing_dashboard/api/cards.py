"""The Horizon side's one door to the project's saved card (Stripe).

Every function works on the caller's own project (``request.user.
project_id``) and checks its ``billing:payment_method:*`` rule first
(``NotAllowed``). Refusals a user can act on are ``Error`` with a
``message`` for the page (Stripe unreachable: nothing changed). The card
itself is entered on Stripe's page, never here.
"""

from django.utils.translation import gettext_lazy as _
from openstack_dashboard.api import base
from openstack_dashboard import policy

from cleura_billing_dashboard.payments import base as payments_base
from cleura_billing_dashboard.payments import saved_cards
from cleura_billing_dashboard import policy as billing_policy

RULE_GET = billing_policy.PAYMENT_METHOD_GET
RULE_CREATE = billing_policy.PAYMENT_METHOD_CREATE
RULE_DELETE = billing_policy.PAYMENT_METHOD_DELETE
RULE_UPDATE = billing_policy.PAYMENT_METHOD_UPDATE


class Error(Exception):
    """A refusal to show the user: ``message``."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class NotAllowed(Error):
    def __init__(self):
        super().__init__(_('You are not allowed to change the saved card.'))


class SavedCard(base.APIResourceWrapper):
    """What may be shown of the project's card."""

    _attrs = ['brand', 'last4', 'exp_month', 'exp_year', 'autopay',
              'has_card']

    @property
    def brand_label(self):
        return (self.brand or '').capitalize()

    @property
    def expiry(self):
        return '%02d/%d' % (self.exp_month or 0, self.exp_year or 0)


def _project_id(request):
    return request.user.project_id


def _require(request, rule):
    if not policy.check(rule, request):
        raise NotAllowed()


def can_see(request):
    """Whether the user may see the saved card."""
    return policy.check(RULE_GET, request)


def permissions(request):
    """``{'create': bool, 'delete': bool, 'update': bool}`` for the user."""
    return {'create': policy.check(RULE_CREATE, request),
            'delete': policy.check(RULE_DELETE, request),
            'update': policy.check(RULE_UPDATE, request)}


def is_available():
    """Whether cards can be saved at all (Stripe is configured)."""
    return saved_cards.is_available()


def card_get(request):
    """The project's ``SavedCard``, or None without a card."""
    _require(request, RULE_GET)
    stored = saved_cards.card_for(_project_id(request))
    if stored is None or not stored.has_card:
        return None
    return SavedCard(stored)


def card_setup_start(request, return_url, cancel_url):
    """The URL of Stripe's page where a card is saved (or replaced)."""
    _require(request, RULE_CREATE)
    try:
        return saved_cards.start_setup(_project_id(request), return_url,
                                       cancel_url)
    except payments_base.ProviderError as e:
        raise Error(e.args[0] if e.args else saved_cards.UNAVAILABLE)


def card_delete(request):
    """Remove the project's card (autopay goes off with it)."""
    _require(request, RULE_DELETE)
    try:
        saved_cards.remove(_project_id(request))
    except LookupError:
        raise Error(saved_cards.NO_CARD)
    except payments_base.ProviderError as e:
        raise Error(e.args[0] if e.args else saved_cards.UNAVAILABLE)


def autopay_update(request, enabled):
    """Turn paying new invoices automatically on or off."""
    _require(request, RULE_UPDATE)
    try:
        saved_cards.set_autopay(_project_id(request), enabled)
    except LookupError:
        raise Error(saved_cards.NO_CARD)
