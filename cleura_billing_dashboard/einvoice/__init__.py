"""Electronic invoices: invoice data in, EN 16931 XML (and PDF) out.

``ubl.invoice_ubl`` writes a Peppol BIS Billing 3.0 UBL Invoice or
CreditNote; ``cii.invoice_cii`` a Factur-X EN 16931 CII
CrossIndustryInvoice from the same dict, with the same decisions
(``_common``); ``facturx.make_facturx`` attaches that CII to the invoice's
rendered PDF and makes it PDF/A-3b, the Factur-X PDF. Like ``pdf``, this
package receives plain data (the dict of ``Invoice.as_document()`` and
the PDF's bytes) and imports nothing from ``billing``.

Not yet wired: nothing issues, stores, mails or offers these documents yet.
"""
