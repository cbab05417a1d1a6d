"""The interface every payment provider implements.

A provider is a class registered as a stevedore entry point in the
namespace ``cleura_billing.payment_providers`` and enabled by name in
``[payments] enabled_providers``; it is instantiated without arguments and
reads its own options from ``conf.get_conf()``. The Pay modal shows each
enabled provider's ``verbose_name`` and ``explanation``:

* a provider with ``redirects = False`` (a bank transfer) has its
  ``start()`` called whenever the modal is shown and answers
  ``ShowDetails``: what the customer needs to pay outside;
* a provider with ``redirects = True`` (a card checkout) has ``start()``
  called only when the customer submits the modal (a CSRF-protected POST)
  and answers ``Redirect``: the page the browser is sent to.

Providers never mark anything paid in ``start()``. Money is recorded when
the provider reports it, through ``billing.ledger.record_payment``: by
an operator command or by a notification (``handle_notification``,
served without login at ``/cleura-billing/<name>/webhook/``).
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class StartData:
    """What ``start()`` may use from the web side, without the request.

    ``return_url``: absolute URL of the page that says the payment is being
    processed; ``cancel_url``: absolute URL to come back to without paying;
    ``locale``: the customer's language (``sv``, ``en_GB``).
    """

    return_url: str = ''
    cancel_url: str = ''
    locale: str = 'en'


@dataclasses.dataclass(frozen=True)
class ShowDetails:
    """Show ``details``, ``(label, value)`` pairs, in the Pay modal."""

    details: tuple


@dataclasses.dataclass(frozen=True)
class Redirect:
    """Send the customer's browser to ``url`` (the provider's page)."""

    url: str


class ProviderError(Exception):
    """The provider could not start a payment.

    ``str(error)`` is a message for the customer (translated); the cause
    is logged by the provider. Nothing was recorded.
    """


class PaymentInProgress(ProviderError):
    """The customer already paid; the provider has not confirmed it yet."""


class InvalidNotification(Exception):
    """A notification that is not authentic or not readable (HTTP 400)."""


class NotificationNotSupported(Exception):
    """The provider takes no notifications (HTTP 404)."""


@dataclasses.dataclass(frozen=True)
class NotificationResult:
    """What became of a notification.

    ``outcome`` is a ``models.Notification`` outcome, or ``duplicate`` for
    an event handled before; ``detail`` says more.
    """

    outcome: str
    detail: str = ''


class PaymentProvider(object):
    """Base class of payment providers; subclasses set the attributes."""

    #: The entry point name; stored as ``Payment.provider``.
    name = None
    #: Shown as the method's heading (translatable, lazy).
    verbose_name = None
    #: One or two sentences on how paying this way works (lazy).
    explanation = None
    #: A Font Awesome icon name for the heading.
    icon = 'money'
    #: Whether ``start()`` sends the customer away (see the module doc).
    redirects = False
    #: The submit button of a redirecting provider (lazy).
    submit_label = None

    def is_available(self):
        """Whether the provider is configured well enough to be offered."""
        return True

    def start(self, invoice, amount, data):
        """Start paying: ``ShowDetails`` or ``Redirect``.

        ``invoice`` is a ``billing.models.Invoice``, ``amount`` a Decimal in
        its currency, ``data`` a ``StartData``. Raises ``ProviderError``.
        """
        raise NotImplementedError

    def handle_notification(self, body, headers):
        """Handle a notification posted by the provider.

        ``body`` is the raw request body (bytes), ``headers`` the request
        headers (case-insensitive mapping). Returns a
        ``NotificationResult``; raises ``InvalidNotification`` for a
        forged or unreadable one and ``NotificationNotSupported`` when the
        provider takes none.
        """
        raise NotificationNotSupported(self.name)
