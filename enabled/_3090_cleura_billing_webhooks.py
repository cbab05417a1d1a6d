# Payment providers' notifications (e.g. Stripe's webhook) at
# /cleura-billing/<provider>/webhook/: a dashboard that needs no login and
# shows in no menu. Copy it into openstack_dashboard/local/enabled/ with
# the other files; without it, card payments are never marked paid.
DASHBOARD = 'cleura-billing'
ADD_INSTALLED_APPS = [
    'cleura_billing_dashboard.content.webhooks',
]
