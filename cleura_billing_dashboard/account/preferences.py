"""Invoice delivery (PDF attached or a link), invoice language, e-invoice.

``einvoice``: whether the invoice mail carries the e-invoice (Peppol BIS
Billing 3.0 UBL, XML) too, whatever the delivery.
"""

from django.utils.translation import gettext_lazy as _

from cleura_billing_dashboard.account import document
from cleura_billing_dashboard.account import errors

DELIVERY_LABELS = {
    document.DELIVERY_ATTACHMENT: _('Mail with the invoice PDF attached'),
    document.DELIVERY_LINK: _('Mail with a link to the invoice'),
}
LANGUAGE_LABELS = {
    'en': _('English'),
    'sv': _('Swedish'),
}


def update_preferences(doc, delivery, language, einvoice=False):
    """Store delivery, language and ``einvoice`` (a bool) in ``doc``.

    Returns the settings.
    """
    problems = {}
    if delivery not in document.DELIVERIES:
        problems['delivery'] = _('Choose how invoices are delivered.')
    if language not in document.LANGUAGES:
        problems['language'] = _('Choose English or Swedish.')
    if problems:
        raise errors.InvalidFields(problems)
    doc['settings'] = {'delivery': delivery, 'language': language,
                       'einvoice': einvoice is True}
    return doc['settings']
