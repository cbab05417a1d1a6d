from django.urls import re_path

from cleura_billing_dashboard.content.account import views

CONTACT = r'^emails/(?P<contact_id>[^/]+)/'
PHONE = r'^phones/(?P<phone_id>[^/]+)/'

urlpatterns = [
    re_path(r'^$', views.IndexView.as_view(), name='index'),
    re_path(r'^emails/create/$', views.CreateEmailView.as_view(),
            name='create_email'),
    re_path(CONTACT + r'update/$', views.UpdateEmailView.as_view(),
            name='update_email'),
    re_path(CONTACT + r'verify/$', views.VerifyEmailView.as_view(),
            name='verify_email'),
    re_path(r'^card/save/$', views.CardSaveView.as_view(), name='card_save'),
    re_path(r'^card/remove/$', views.CardRemoveView.as_view(),
            name='card_remove'),
    re_path(r'^card/autopay/$', views.CardAutopayView.as_view(),
            name='card_autopay'),
    re_path(r'^phones/create/$', views.CreatePhoneView.as_view(),
            name='create_phone'),
    re_path(PHONE + r'update/$', views.UpdatePhoneView.as_view(),
            name='update_phone'),
]
