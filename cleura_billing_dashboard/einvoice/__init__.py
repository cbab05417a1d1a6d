"""Electronic invoices: invoice data in, EN 16931 XML out.

``ubl.invoice_ubl`` writes a Peppol BIS Billing 3.0 UBL Invoice or
CreditNote. Like ``pdf``, this package receives plain data (the dict of
``Invoice.as_document()``) and imports nothing from ``billing``.

Not yet wired: nothing issues, stores, mails or offers these documents yet.
"""
