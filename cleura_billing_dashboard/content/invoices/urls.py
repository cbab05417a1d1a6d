from django.urls import re_path

from cleura_billing_dashboard.content.invoices import views

urlpatterns = [
    re_path(r'^$', views.IndexView.as_view(), name='index'),
]
