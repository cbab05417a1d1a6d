"""Payment providers behind one interface, and what they reported.

``base`` is the interface a provider implements; ``providers`` loads the
ones the operator enabled (stevedore entry points in the namespace
``cleura_billing.payment_providers``, named in ``[payments]
enabled_providers``). Two ship: ``bank_transfer`` (bank details and the
OCR reference; payments arrive by ``billing_import_payments``, see
``bank_import``) and ``stripe`` (card through Stripe Checkout, settled by
its webhook, see ``stripe_checkout`` and ``stripe_webhook``). Every
payment is written through ``billing.ledger.record_payment``.
"""
