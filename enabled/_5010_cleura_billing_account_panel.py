# Account settings, in the user's Settings dashboard (_5000) and, through
# the plugin app, in the user menu at the top right.
PANEL = 'account'
PANEL_DASHBOARD = 'settings'
PANEL_GROUP = 'default'
ADD_PANEL = 'cleura_billing_dashboard.content.account.panel.AccountSettings'
