"""What issuing an invoice needs from a billing account."""

from cleura_billing_dashboard.account import contacts
from cleura_billing_dashboard.account import document


def buyer_details(doc):
    """The buyer for ``issue_invoices_for_period``'s ``buyer_lookup``.

    The keys of the issuer's buyer fields plus ``language``; a separate
    billing address, when given, replaces the customer's address. None
    when the customer info was never filled in.
    """
    customer = doc['customer']
    if not customer.get('name'):
        return None
    details = {field: customer.get(field) or ''
               for field in document.CUSTOMER_FIELDS}
    if customer.get('billing_address'):
        details.update(customer['billing_address'])
    details['language'] = doc['settings']['language']
    return details


def billing_recipients(doc):
    """Verified Billing addresses, in list order, each once."""
    seen = set()
    recipients = []
    for contact in contacts.billing_holders(doc):
        key = contact['email'].casefold()
        if key not in seen:
            seen.add(key)
            recipients.append(contact['email'])
    return recipients
