import logging

from django import http
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views import generic

from cleura_billing_dashboard.api import billing

LOG = logging.getLogger(__name__)
#: The largest notification body read, in bytes. Stripe's events are well
#: under 64 KiB.
MAX_NOTIFICATION_BYTES = 256 * 1024
_CHUNK = 64 * 1024


def _declared_length(request):
    """The request's Content-Length as an int, or None (absent, unreadable)."""
    try:
        return int(request.META.get('CONTENT_LENGTH') or '')
    except ValueError:
        return None


def read_body(request, limit=MAX_NOTIFICATION_BYTES):
    """The raw body, or None when it is longer than ``limit`` bytes.

    A declared Content-Length over the limit is refused before anything is
    read; otherwise at most ``limit + 1`` bytes are read from the stream,
    whatever the header said (missing, chunked or false). ``request.body``
    is never touched: for a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` it
    raises ``RequestDataTooBig``, which Django logs with a traceback.
    """
    declared = _declared_length(request)
    if declared is not None and declared > limit:
        return None
    chunks = []
    left = limit + 1
    while left > 0:
        chunk = request.read(min(left, _CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    if left <= 0:
        return None
    return b''.join(chunks)


@method_decorator(csrf_exempt, name='dispatch')
class WebhookView(generic.View):
    """A provider's notification: POST only, no login, no CSRF token.

    Authenticity is the provider's to check (Stripe: the signature over
    the raw body). Answers 200 with the outcome once the notification is
    handled (or was before), 400 when it is not authentic or not
    readable (nothing recorded), 404 for a provider that is not enabled,
    413 when the body is over ``MAX_NOTIFICATION_BYTES`` (refused before
    it is read; nothing recorded), and 500 when it could not be handled
    now (nothing recorded; the provider delivers it again).
    """

    http_method_names = ['post']

    def post(self, request, provider):
        body = read_body(request)
        if body is None:
            declared = _declared_length(request)
            LOG.warning('Refused a %s notification from %s: its body (%s) '
                        'is over the limit of %d bytes', provider,
                        request.META.get('REMOTE_ADDR'),
                        '%d bytes' % declared if declared else 'length '
                        'not given', MAX_NOTIFICATION_BYTES)
            return http.JsonResponse({'error': 'notification too large'},
                                     status=413)
        try:
            result = billing.payment_notification(provider, body,
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
