import logging

from django import http
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views import generic

from cleura_billing_dashboard.api import billing

LOG = logging.getLogger(__name__)


@method_decorator(csrf_exempt, name='dispatch')
class WebhookView(generic.View):
    """A provider's notification: POST only, no login, no CSRF token.

    Authenticity is the provider's to check (Stripe: the signature over
    the raw body). Answers 200 with the outcome once the notification is
    handled (or was before), 400 when it is not authentic or not
    readable (nothing recorded), 404 for a provider that is not enabled,
    and 500 when it could not be handled now (nothing recorded; the
    provider delivers it again).
    """

    http_method_names = ['post']

    def post(self, request, provider):
        try:
            result = billing.payment_notification(provider, request.body,
                                                  request.headers)
        except http.Http404:
            raise
        except billing.InvalidNotification as e:
            LOG.warning('Refused a %s notification from %s: %s', provider,
                        request.META.get('REMOTE_ADDR'), e)
            return http.JsonResponse({'error': 'invalid notification'},
                                     status=400)
        except Exception:
            LOG.exception('A %s notification could not be handled; the '
                          'provider will deliver it again', provider)
            return http.JsonResponse({'error': 'not handled, retry'},
                                     status=500)
        return http.JsonResponse({'outcome': result.outcome})
