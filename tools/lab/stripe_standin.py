"""A stand-in for the Stripe API on loopback (stripe-mock is not installable).

It answers the requests the plugin makes through the official SDK the way
Stripe does, and plays the customer's side of Checkout:

* ``POST /v1/checkout/sessions``: a new open session. The
  ``Idempotency-Key`` header is honoured as Stripe does: the same key with
  the same parameters answers the first session again, with other
  parameters a 400 ``idempotency_error``.
* ``GET /v1/checkout/sessions/<id>``, ``POST .../<id>/expire``.
* ``GET /pay/<id>``: the hosted checkout page, with a Pay button;
  ``POST /pay/<id>`` completes the session, posts a signed
  ``checkout.session.completed`` event to ``webhook_url`` (at once, or when
  ``release_webhooks()`` is called while ``hold_webhooks`` is set) and
  redirects the browser to the session's ``success_url``.

Events are signed with the SDK's own helper
(``stripe.WebhookSignature.generate_signature_header``), exactly what
``stripe.Webhook.construct_event`` verifies.
"""

import contextlib
import html
import http.server
import json
import secrets
import sys
import threading
import time
from urllib import parse

import requests
import stripe

# The lab's [stripe] options (tools/lab/horizon.py BILLING_CONF) use these.
API_KEY = 'sk_test_cleura_lab'
WEBHOOK_SECRET = 'whsec_cleura_lab'
WEBHOOK_PATH = '/cleura-billing/stripe/webhook/'


def _new_id(prefix):
    return '%s_test_%s' % (prefix, secrets.token_hex(12))


def _nested(params, prefix):
    """``{'a': 'x'}`` from form keys ``prefix[a]=x`` (Stripe's encoding)."""
    found = {}
    for key, value in params.items():
        if key.startswith(prefix + '[') and key.endswith(']'):
            found[key[len(prefix) + 1:-1]] = value
    return found


class StripeStandIn(object):
    """The stand-in server; ``url`` is the SDK's API base."""

    def __init__(self, port=0, api_key=API_KEY,
                 webhook_secret=WEBHOOK_SECRET):
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.webhook_url = None
        self.hold_webhooks = False
        self.sessions = {}
        self.create_requests = []
        self.deliveries = []
        self._held = []
        self._idempotent = {}
        self._failures = []
        self._delays = []
        self._lock = threading.RLock()
        self._server = http.server.ThreadingHTTPServer(
            ('127.0.0.1', port), self._handler_class())
        self._server.daemon_threads = True
        self._server.handle_error = self._handle_error
        self.port = self._server.server_address[1]
        self.url = 'http://127.0.0.1:%d' % self.port
        self._thread = None

    def _handle_error(self, request, client_address):
        # A client that gave up on a delayed answer (delay_next) is not
        # an error of the stand-in's.
        if isinstance(sys.exc_info()[1], (BrokenPipeError,
                                          ConnectionResetError)):
            return
        http.server.ThreadingHTTPServer.handle_error(
            self._server, request, client_address)

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    def reset(self):
        """Forget every session, request, delivery and planned failure."""
        with self._lock:
            self.sessions.clear()
            self.create_requests.clear()
            self.deliveries.clear()
            self._held.clear()
            self._idempotent.clear()
            self._failures.clear()
            self._delays.clear()
            self.hold_webhooks = False

    def fail_next(self, count=1, status=500):
        """Answer the next ``count`` API requests with ``status``."""
        with self._lock:
            self._failures.extend([status] * count)

    def delay_next(self, seconds, count=1):
        """Hold the next ``count`` API requests ``seconds`` before serving.

        A slow Stripe: the request is served as usual afterwards (a
        session is made even if the client gave up waiting).
        """
        with self._lock:
            self._delays.extend([seconds] * count)

    # -- what the tests use to play Stripe's side ---------------------------

    def complete(self, session_id, payment_status='paid', deliver=True):
        """The customer paid: complete the session, send the event.

        Returns the event (a dict). ``payment_status`` ``unpaid`` is a
        delayed payment method (the async events follow later).
        """
        with self._lock:
            session = self.sessions[session_id]
            session['status'] = 'complete'
            session['payment_status'] = payment_status
            session['payment_intent'] = session['payment_intent'] or (
                _new_id('pi'))
            event = self.event('checkout.session.completed', session)
        if deliver:
            self.send(event)
        return event

    def event(self, event_type, session, event_id=None):
        """A Stripe event of ``event_type`` carrying a copy of ``session``."""
        return {
            'id': event_id or _new_id('evt'),
            'object': 'event',
            'api_version': stripe.api_version,
            'created': int(time.time()),
            'livemode': False,
            'pending_webhooks': 1,
            'request': {'id': None, 'idempotency_key': None},
            'type': event_type,
            'data': {'object': json.loads(json.dumps(session))},
        }

    def sign(self, payload, timestamp=None, secret=None):
        """The ``Stripe-Signature`` header for ``payload`` (a str)."""
        return stripe.WebhookSignature.generate_signature_header(
            payload, secret or self.webhook_secret, timestamp=timestamp)

    def signed(self, event, timestamp=None, secret=None):
        """``(body bytes, Stripe-Signature header)`` of ``event``."""
        payload = json.dumps(event)
        return payload.encode('utf-8'), self.sign(payload, timestamp,
                                                  secret)

    def send(self, event):
        """Deliver ``event`` to ``webhook_url``, or hold it (see module)."""
        with self._lock:
            if self.hold_webhooks:
                self._held.append(event)
                return None
        return self._deliver(event)

    def release_webhooks(self):
        """Deliver the held events; their HTTP status codes."""
        with self._lock:
            held, self._held = self._held, []
            self.hold_webhooks = False
        return [self._deliver(event) for event in held]

    def _deliver(self, event):
        body, signature = self.signed(event)
        response = requests.post(
            self.webhook_url, data=body, timeout=60,
            headers={'Content-Type': 'application/json; charset=utf-8',
                     'Stripe-Signature': signature,
                     'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/'
                                   'webhooks)'})
        with self._lock:
            self.deliveries.append((event['id'], event['type'],
                                    response.status_code))
        return response.status_code

    # -- the API -------------------------------------------------------------

    def _create_session(self, params, idempotency_key):
        with self._lock:
            self.create_requests.append(idempotency_key)
            if idempotency_key and idempotency_key in self._idempotent:
                first_params, first_response = self._idempotent[
                    idempotency_key]
                if first_params != params:
                    return 400, {'error': {
                        'type': 'idempotency_error',
                        'message': 'Keys for idempotent requests can only '
                                   'be used with the same parameters they '
                                   'were first used with.'}}, True
                # Stripe replays the first response, as it was then.
                return 200, json.loads(first_response), True
            item = _nested(params, 'line_items[0][price_data]')
            try:
                unit_amount = int(item['unit_amount'])
                quantity = int(params.get('line_items[0][quantity]', '1'))
                currency = item['currency']
                success_url = params['success_url']
            except (KeyError, ValueError) as e:
                return 400, {'error': {
                    'type': 'invalid_request_error',
                    'message': 'Missing or invalid parameter: %s' % e}}, False
            session_id = _new_id('cs')
            session = {
                'id': session_id,
                'object': 'checkout.session',
                'mode': params.get('mode', 'payment'),
                'status': 'open',
                'payment_status': 'unpaid',
                'amount_total': unit_amount * quantity,
                'currency': currency,
                'client_reference_id': params.get('client_reference_id'),
                'metadata': _nested(params, 'metadata'),
                'success_url': success_url,
                'cancel_url': params.get('cancel_url'),
                'payment_intent': None,
                'created': int(time.time()),
                'expires_at': int(time.time()) + 24 * 3600,
                'livemode': False,
                'url': '%s/pay/%s' % (self.url, session_id),
            }
            self.sessions[session_id] = session
            if idempotency_key:
                self._idempotent[idempotency_key] = (params,
                                                     json.dumps(session))
            return 200, session, False

    def _expire_session(self, session_id):
        with self._lock:
            session = self.sessions.get(session_id)
            if session is None:
                return 404, _missing(session_id)
            if session['status'] != 'open':
                return 400, {'error': {
                    'type': 'invalid_request_error',
                    'message': 'Only Checkout Sessions with a status in '
                               '["open"] can be expired.'}}
            session['status'] = 'expired'
            return 200, session

    def _handler_class(self):
        standin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, format, *args):
                pass

            def _send(self, status, body, content_type='application/json',
                      headers=()):
                data = (json.dumps(body) if content_type ==
                        'application/json' else body).encode('utf-8')
                self.send_response(status)
                self.send_header('Content-Type', content_type)
                self.send_header('Content-Length', str(len(data)))
                self.send_header('Request-Id', _new_id('req'))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _form(self):
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length).decode('utf-8')
                return dict(parse.parse_qsl(body, keep_blank_values=True))

            def _api_refused(self):
                """An auth or planned failure answer, or None."""
                expected = 'Bearer %s' % standin.api_key
                if self.headers.get('Authorization') != expected:
                    self._send(401, {'error': {
                        'type': 'invalid_request_error',
                        'message': 'Invalid API Key provided'}})
                    return True
                with standin._lock:
                    delay = (standin._delays.pop(0)
                             if standin._delays else 0)
                time.sleep(delay)
                with standin._lock:
                    status = (standin._failures.pop(0)
                              if standin._failures else None)
                if status:
                    self._send(status, {'error': {
                        'type': 'api_error',
                        'message': 'Planned failure of the stand-in'}},
                        headers=[('Stripe-Should-Retry', 'false')])
                    return True
                return False

            def do_GET(self):
                path = parse.urlsplit(self.path).path
                parts = path.strip('/').split('/')
                if parts[:3] == ['v1', 'checkout', 'sessions'] and \
                        len(parts) == 4:
                    if self._api_refused():
                        return
                    with standin._lock:
                        session = standin.sessions.get(parts[3])
                    if session is None:
                        return self._send(404, _missing(parts[3]))
                    return self._send(200, session)
                if parts[0] == 'pay' and len(parts) == 2:
                    return self._checkout_page(parts[1])
                self._send(404, {'error': {'type': 'invalid_request_error',
                                           'message': 'Unknown path'}})

            def do_POST(self):
                path = parse.urlsplit(self.path).path
                parts = path.strip('/').split('/')
                if parts[0] == 'pay' and len(parts) == 2:
                    self._form()
                    return self._pay(parts[1])
                if parts[:3] != ['v1', 'checkout', 'sessions']:
                    return self._send(404, {'error': {
                        'type': 'invalid_request_error',
                        'message': 'Unknown path'}})
                params = self._form()
                if self._api_refused():
                    return
                if len(parts) == 3:
                    status, body, replayed = standin._create_session(
                        params, self.headers.get('Idempotency-Key'))
                    headers = [('Idempotent-Replayed', 'true')] if (
                        replayed and status == 200) else []
                    return self._send(status, body, headers=headers)
                if len(parts) == 5 and parts[4] == 'expire':
                    return self._send(*standin._expire_session(parts[3]))
                self._send(404, {'error': {'type': 'invalid_request_error',
                                           'message': 'Unknown path'}})

            def _checkout_page(self, session_id):
                with standin._lock:
                    session = standin.sessions.get(session_id)
                if session is None:
                    return self._send(404, 'No such session', 'text/html')
                amount = '%s %.2f' % (session['currency'].upper(),
                                      session['amount_total'] / 100.0)
                if session['status'] != 'open':
                    body = ('<p class="checkout-closed">This checkout '
                            'session is %s.</p>' % session['status'])
                else:
                    body = (
                        '<form method="post" action="/pay/%s">'
                        '<p>Pay <span class="amount">%s</span> for %s</p>'
                        '<button id="pay" type="submit">Pay %s</button>'
                        '</form>' % (session_id, html.escape(amount),
                                     html.escape(str(
                                         session['client_reference_id'])),
                                     html.escape(amount)))
                self._send(200, '<!DOCTYPE html><html><head><title>Stripe '
                           'Checkout stand-in</title></head><body>%s'
                           '</body></html>' % body, 'text/html')

            def _pay(self, session_id):
                with standin._lock:
                    session = standin.sessions.get(session_id)
                    is_open = session is not None and (
                        session['status'] == 'open')
                if not is_open:
                    return self._send(400, 'Not an open session',
                                      'text/html')
                standin.complete(session_id)
                location = session['success_url'].replace(
                    '{CHECKOUT_SESSION_ID}', session_id)
                self.send_response(303)
                self.send_header('Location', location)
                self.send_header('Content-Length', '0')
                self.end_headers()

        return Handler


def _missing(session_id):
    return {'error': {'type': 'invalid_request_error',
                      'code': 'resource_missing',
                      'message': 'No such checkout.session: %r'
                                 % session_id}}


_configured = []


def _apply(options, overrides):
    for (group, name), value in overrides.items():
        options.set_override(name, value, group)


@contextlib.contextmanager
def configured(standin, enabled=('bank_transfer', 'stripe'),
               **stripe_options):
    """The plugin's ``[payments]`` and ``[stripe]`` options for ``standin``.

    ``stripe_options`` override more ``[stripe]`` options. The SDK does
    not retry (planned failures fail at once). Nested uses add to the
    enclosing one and give it back on exit.
    """
    from cleura_billing_dashboard import conf
    options = conf.get_conf()
    overrides = dict(_configured[-1] if _configured else {})
    overrides[('payments', 'enabled_providers')] = list(enabled)
    for name, value in dict({
            'api_key': standin.api_key,
            'webhook_secret': standin.webhook_secret,
            'api_base': standin.url,
            'max_network_retries': 0}, **stripe_options).items():
        overrides[('stripe', name)] = value
    _configured.append(overrides)
    _apply(options, overrides)
    try:
        yield options
    finally:
        _configured.pop()
        for group, name in overrides:
            options.clear_override(name, group)
        if _configured:
            _apply(options, _configured[-1])


class StandInMixin(object):
    """For a TestCase: one stand-in per class, the plugin pointed at it."""

    enabled_providers = ('bank_transfer', 'stripe')

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.standin = StripeStandIn().start()
        cls.addClassCleanup(cls.standin.stop)

    def setUp(self):
        super().setUp()
        self.standin.reset()
        # Not TestCase.enterContext: that is Python 3.11's, and the plugin's
        # tests run on 3.10 too.
        settings = configured(self.standin, self.enabled_providers)
        settings.__enter__()
        self.addCleanup(settings.__exit__, None, None, None)
        real_connect = getattr(self, '_real_conn_request', None)
        if real_connect is not None:
            # Horizon's TestCase refuses every real connection (a missed
            # mock); the stand-in is a real server on loopback.
            from urllib3 import connection
            guard = connection.HTTPConnection.connect

            def connect(conn):
                if conn.host == '127.0.0.1':
                    return real_connect(conn)
                return guard()

            connection.HTTPConnection.connect = connect
