"""No models: the account lock moved to ``cleura_billing_dashboard.account``.

The app keeps its migrations so an existing install's history still
applies (``0002`` hands the table over without touching it).
"""
