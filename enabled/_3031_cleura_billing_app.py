# The billing plugin's Django app: templates, catalogs, models, migrations.
# Copy this file and the panel files beside it into
# openstack_dashboard/local/enabled/.
FEATURE = 'cleura_billing'
ADD_INSTALLED_APPS = [
    'cleura_billing_dashboard',
    'cleura_billing_dashboard.account',
    'cleura_billing_dashboard.billing',
    'cleura_billing_dashboard.notify',
    'cleura_billing_dashboard.payments',
]
