from django.utils.translation import gettext_lazy as _

from horizon import views


class IndexView(views.HorizonTemplateView):
    template_name = 'identity/invoices/index.html'
    page_title = _("Invoices")
