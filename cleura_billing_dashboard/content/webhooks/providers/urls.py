from django.urls import re_path

from cleura_billing_dashboard.content.webhooks.providers import views

urlpatterns = [
    re_path(r'^(?P<provider>[a-z0-9_]+)/webhook/$',
            views.WebhookView.as_view(), name='webhook'),
]
