# Invoices, in the Identity dashboard directly below Users (_3030).
PANEL = 'invoices'
PANEL_DASHBOARD = 'identity'
PANEL_GROUP = 'default'
ADD_PANEL = 'cleura_billing_dashboard.content.invoices.panel.Invoices'
