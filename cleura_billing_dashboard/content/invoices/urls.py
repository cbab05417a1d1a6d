from django.urls import re_path

from cleura_billing_dashboard.content.invoices import views

NUMBER = r'(?P<number>[^/]+)'

urlpatterns = [
    re_path(r'^$', views.IndexView.as_view(), name='index'),
    re_path(r'^export\.csv$', views.CsvView.as_view(), name='csv'),
    re_path(r'^%s/$' % NUMBER, views.DetailView.as_view(), name='detail'),
    re_path(r'^%s/pdf/$' % NUMBER, views.PdfView.as_view(), name='pdf'),
    re_path(r'^%s/download/$' % NUMBER, views.DownloadView.as_view(),
            name='download'),
    re_path(r'^%s/einvoice/$' % NUMBER, views.EInvoiceView.as_view(),
            name='einvoice'),
    re_path(r'^%s/pay/$' % NUMBER, views.PayView.as_view(), name='pay'),
    re_path(r'^%s/paid/$' % NUMBER, views.PaidView.as_view(), name='paid'),
]
