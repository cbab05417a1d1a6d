import logging

from django import http
from django.urls import reverse
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from horizon import exceptions
from horizon import forms
from horizon import messages

from cleura_billing_dashboard.api import billing

LOG = logging.getLogger(__name__)
INDEX_URL = reverse_lazy('horizon:identity:invoices:index')


class PayForm(forms.SelfHandlingForm):
    """Choose how to pay; submitting sends the browser to the provider.

    Only methods that redirect (a card checkout) are choices; the others
    (a bank transfer) are details shown beside the form. The view passes
    ``number`` (the invoice) and ``methods`` (``billing.payment_methods``).
    """

    method = forms.ChoiceField(label=_('Payment method'),
                               widget=forms.RadioSelect)

    def __init__(self, request, *args, **kwargs):
        self.number = kwargs.pop('number')
        methods = [method for method in kwargs.pop('methods')
                   if method['redirects']]
        super().__init__(request, *args, **kwargs)
        field = self.fields['method']
        field.choices = [(method['name'], method['verbose_name'])
                         for method in methods]
        if len(methods) == 1:
            field.widget = forms.HiddenInput()
            field.initial = methods[0]['name']

    def handle(self, request, data):
        number = self.number
        return_url = request.build_absolute_uri(
            reverse('horizon:identity:invoices:paid', args=[number]))
        cancel_url = request.build_absolute_uri(
            reverse('horizon:identity:invoices:detail', args=[number]))
        try:
            action = billing.payment_start(request, number, data['method'],
                                           return_url, cancel_url)
        except billing.PaymentInProgress as e:
            messages.info(request, str(e))
            return http.HttpResponseRedirect(
                reverse('horizon:identity:invoices:detail', args=[number]))
        except billing.NothingToPay:
            messages.info(request, _('Invoice %s has nothing left to pay.')
                          % number)
            return http.HttpResponseRedirect(INDEX_URL)
        except billing.ProviderError as e:
            messages.error(request, str(e))
            return False
        except LookupError:
            self.api_error(_('This payment method is not offered.'))
            return False
        except http.Http404:
            raise
        except Exception:
            LOG.exception('Starting a %s payment of invoice %s failed',
                          data['method'], number)
            msg = _('Unable to start the payment of invoice %s; nothing '
                    'was charged. Please try again later.') % number
            exceptions.handle(request, msg)
            return False
        # Horizon turns this into X-Horizon-Location for the modal's ajax
        # POST, so the browser itself goes to the provider's page.
        return http.HttpResponseRedirect(action.url)
