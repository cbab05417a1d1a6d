"""The billing domain: invoices, numbering, VAT totals and the payments ledger.

Nothing here knows about Horizon. Views reach it through
``cleura_billing_dashboard.api.billing``; every query function takes the
Keystone project id the caller is scoped to.
"""
