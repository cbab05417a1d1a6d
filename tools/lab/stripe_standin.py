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

Saved cards and automatic payments, as Stripe answers them:

* ``POST /v1/customers``, ``GET /v1/customers/<id>``.
* ``POST /v1/checkout/sessions`` with ``mode=setup`` (and ``customer``):
  the hosted page ``GET /pay/<id>`` offers Stripe's test cards
  (``TEST_CARDS``) and an expiry; ``POST /pay/<id>`` makes a
  PaymentMethod of the chosen card, attaches it to the customer, makes a
  succeeded SetupIntent, completes the session (``setup_intent``) and
  sends ``checkout.session.completed``.
* ``GET /v1/setup_intents/<id>`` (``expand[]=payment_method``),
  ``GET /v1/payment_methods/<id>``, ``POST .../<id>/detach``.
* ``POST /v1/payment_intents`` (``confirm``, ``off_session``), honouring
  ``Idempotency-Key`` as sessions do: the card decides. 4242... succeeds
  (status ``succeeded``; ``payment_intent.succeeded`` is sent afterwards,
  from another thread, as Stripe does); 4000000000000002 answers 402
  ``card_declined`` and 4000002760003184 402 ``authentication_required``
  (both with the PaymentIntent, ``requires_payment_method``, in the
  error, and a ``payment_intent.payment_failed`` event). The test
  PaymentMethods ``pm_card_visa``, ``pm_card_chargeDeclined`` and
  ``pm_card_authenticationRequired`` work too.

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


# Stripe's test cards: number -> (brand, what charging it off-session does).
TEST_CARDS = {
    '4242424242424242': ('visa', None),
    '5555555555554444': ('mastercard', None),
    '4000000000000002': ('visa', 'card_declined'),
    '4000002760003184': ('visa', 'authentication_required'),
}
TEST_PAYMENT_METHODS = {
    'pm_card_visa': '4242424242424242',
    'pm_card_mastercard': '5555555555554444',
    'pm_card_chargeDeclined': '4000000000000002',
    'pm_card_authenticationRequired': '4000002760003184',
}
DECLINE_MESSAGES = {
    'card_declined': 'Your card was declined.',
    'authentication_required': 'Your card was declined. This transaction '
                               'requires authentication.',
}


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
        self.customers = {}
        self.payment_methods = {}
        self.setup_intents = {}
        self.payment_intents = {}
        self.intent_requests = []
        self._senders = []
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
            self.customers.clear()
            self.payment_methods.clear()
            self.setup_intents.clear()
            self.payment_intents.clear()
            self.intent_requests.clear()
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

    def charges(self, status='succeeded'):
        """The PaymentIntents in ``status`` (all with None)."""
        with self._lock:
            return [intent for intent in self.payment_intents.values()
                    if status is None or intent['status'] == status]

    def settle(self, timeout=60):
        """Wait until the events sent from other threads are delivered."""
        with self._lock:
            senders, self._senders = self._senders, []
        for sender in senders:
            sender.join(timeout)

    def send_later(self, event):
        """``send(event)`` from another thread, as Stripe sends events."""
        sender = threading.Thread(target=self._send_quietly, args=(event,),
                                  daemon=True)
        with self._lock:
            self._senders.append(sender)
        sender.start()

    def _send_quietly(self, event):
        try:
            self.send(event)
        except requests.RequestException:
            with self._lock:
                self.deliveries.append((event['id'], event['type'], None))

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
            # Nowhere to deliver yet: kept, as Stripe keeps retrying.
            if self.hold_webhooks or not self.webhook_url:
                self._held.append(event)
                return None
        return self._deliver(event)

    def take_held(self):
        """The held events, no longer held (for a test to post itself)."""
        self.settle()
        with self._lock:
            held, self._held = self._held, []
        return held

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

    def _replayed(self, idempotency_key, params):
        """``(status, body, True)`` of a replayed key, else None."""
        if not idempotency_key or idempotency_key not in self._idempotent:
            return None
        first_params, first_status, first_response = self._idempotent[
            idempotency_key]
        if first_params != params:
            return 400, {'error': {
                'type': 'idempotency_error',
                'message': 'Keys for idempotent requests can only be used '
                           'with the same parameters they were first used '
                           'with.'}}, True
        return first_status, json.loads(first_response), True

    def _remember(self, idempotency_key, params, status, body):
        if idempotency_key:
            self._idempotent[idempotency_key] = (params, status,
                                                 json.dumps(body))

    def _create_customer(self, params, idempotency_key):
        with self._lock:
            replayed = self._replayed(idempotency_key, params)
            if replayed:
                return replayed
            customer = {
                'id': _new_id('cus'), 'object': 'customer',
                'created': int(time.time()), 'livemode': False,
                'description': params.get('description'),
                'email': params.get('email'), 'name': params.get('name'),
                'metadata': _nested(params, 'metadata'),
            }
            self.customers[customer['id']] = customer
            self._remember(idempotency_key, params, 200, customer)
            return 200, customer, False

    def add_payment_method(self, number, exp_month=12, exp_year=2034,
                           customer=None):
        """A card PaymentMethod of test card ``number`` (a dict).

        Attached to ``customer`` when given.
        """
        brand, _outcome = TEST_CARDS[number]
        method = {
            'id': _new_id('pm'), 'object': 'payment_method',
            'type': 'card', 'created': int(time.time()), 'livemode': False,
            'customer': customer,
            'card': {'brand': brand, 'last4': number[-4:],
                     'exp_month': int(exp_month), 'exp_year': int(exp_year),
                     'country': 'US', 'funding': 'credit'},
            'billing_details': {}, 'metadata': {},
        }
        with self._lock:
            self.payment_methods[method['id']] = dict(method,
                                                      _number=number)
        return method

    def _payment_method(self, method_id):
        """The stored PaymentMethod (with ``_number``), or None."""
        with self._lock:
            if (method_id in TEST_PAYMENT_METHODS and
                    method_id not in self.payment_methods):
                number = TEST_PAYMENT_METHODS[method_id]
                brand, _outcome = TEST_CARDS[number]
                self.payment_methods[method_id] = {
                    'id': method_id, 'object': 'payment_method',
                    'type': 'card', 'created': int(time.time()),
                    'livemode': False, 'customer': None,
                    'card': {'brand': brand, 'last4': number[-4:],
                             'exp_month': 12, 'exp_year': 2034,
                             'country': 'US', 'funding': 'credit'},
                    'billing_details': {}, 'metadata': {},
                    '_number': number}
            return self.payment_methods.get(method_id)

    @staticmethod
    def _public(method):
        return {key: value for key, value in method.items()
                if not key.startswith('_')}

    def complete_setup(self, session_id, number, exp_month=12,
                       exp_year=2034, deliver=True):
        """The customer saved test card ``number`` on a setup session.

        Returns the ``checkout.session.completed`` event.
        """
        with self._lock:
            session = self.sessions[session_id]
            method = self.add_payment_method(number, exp_month, exp_year,
                                             session.get('customer'))
            intent = {
                'id': _new_id('seti'), 'object': 'setup_intent',
                'status': 'succeeded', 'usage': 'off_session',
                'customer': session.get('customer'),
                'payment_method': method['id'],
                'metadata': dict(session.get('metadata') or {}),
                'created': int(time.time()), 'livemode': False,
            }
            self.setup_intents[intent['id']] = intent
            session['status'] = 'complete'
            session['payment_status'] = 'no_payment_required'
            session['setup_intent'] = intent['id']
            event = self.event('checkout.session.completed', session)
        if deliver:
            self.send(event)
        return event

    def _retrieve_setup_intent(self, intent_id, expand):
        with self._lock:
            intent = self.setup_intents.get(intent_id)
            if intent is None:
                return 404, _missing(intent_id, 'setup_intent')
            intent = dict(intent)
            if 'payment_method' in expand and intent['payment_method']:
                intent['payment_method'] = self._public(
                    self.payment_methods[intent['payment_method']])
            return 200, intent

    def _detach(self, method_id):
        with self._lock:
            method = self.payment_methods.get(method_id)
            if method is None:
                return 404, _missing(method_id, 'payment_method')
            if not method['customer']:
                return 400, {'error': {
                    'type': 'invalid_request_error',
                    'message': 'The payment method you provided is not '
                               'attached to a customer so detachment is '
                               'impossible.'}}
            method['customer'] = None
            return 200, self._public(method)

    def _create_payment_intent(self, params, idempotency_key):
        with self._lock:
            self.intent_requests.append(idempotency_key)
            replayed = self._replayed(idempotency_key, params)
            if replayed:
                return replayed
            method = self._payment_method(params.get('payment_method', ''))
            try:
                amount = int(params['amount'])
                currency = params['currency']
            except (KeyError, ValueError) as e:
                return 400, {'error': {
                    'type': 'invalid_request_error',
                    'message': 'Missing or invalid parameter: %s' % e}}, False
            if method is None:
                return 400, _missing(params.get('payment_method'),
                                     'payment_method'), False
            if (method['customer'] and
                    method['customer'] != params.get('customer')):
                return 400, {'error': {
                    'type': 'invalid_request_error',
                    'message': 'The provided PaymentMethod belongs to '
                               'another Customer.'}}, False
            failure = TEST_CARDS[method['_number']][1]
            intent = {
                'id': _new_id('pi'), 'object': 'payment_intent',
                'amount': amount, 'amount_received': 0,
                'currency': currency,
                'customer': params.get('customer'),
                'payment_method': method['id'],
                'description': params.get('description'),
                'metadata': _nested(params, 'metadata'),
                'created': int(time.time()), 'livemode': False,
                'confirmation_method': 'automatic',
                'capture_method': 'automatic',
                'last_payment_error': None, 'latest_charge': None,
                'status': 'requires_confirmation',
            }
            confirm = params.get('confirm') == 'true'
            if confirm and failure:
                intent['status'] = 'requires_payment_method'
                error = {'type': 'card_error', 'code': failure,
                         'message': DECLINE_MESSAGES[failure],
                         'payment_method': self._public(method)}
                if failure == 'card_declined':
                    error['decline_code'] = 'generic_decline'
                intent['last_payment_error'] = dict(error)
                error['payment_intent'] = json.loads(json.dumps(intent))
                status, body = 402, {'error': error}
                event = self.event('payment_intent.payment_failed', intent)
            elif confirm:
                intent['status'] = 'succeeded'
                intent['amount_received'] = amount
                intent['latest_charge'] = _new_id('ch')
                status, body = 200, intent
                event = self.event('payment_intent.succeeded', intent)
            else:
                status, body, event = 200, intent, None
            self.payment_intents[intent['id']] = intent
            self._remember(idempotency_key, params, status, body)
        if event is not None:
            self.send_later(event)
        return status, body, False

    def _create_session(self, params, idempotency_key):
        with self._lock:
            self.create_requests.append(idempotency_key)
            if params.get('mode') == 'setup':
                return self._create_setup_session(params, idempotency_key)
            # Stripe replays the first response, as it was then.
            replayed = self._replayed(idempotency_key, params)
            if replayed:
                return replayed
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
            self._remember(idempotency_key, params, 200, session)
            return 200, session, False

    def _create_setup_session(self, params, idempotency_key):
        replayed = self._replayed(idempotency_key, params)
        if replayed:
            return replayed
        if not params.get('success_url'):
            return 400, {'error': {
                'type': 'invalid_request_error', 'param': 'success_url',
                'message': 'Missing required param: success_url.'}}, False
        if params.get('customer') not in self.customers:
            return 400, {'error': {
                'type': 'invalid_request_error', 'code': 'resource_missing',
                'param': 'customer',
                'message': 'No such customer: %r'
                           % params.get('customer')}}, False
        session_id = _new_id('cs')
        session = {
            'id': session_id, 'object': 'checkout.session', 'mode': 'setup',
            'status': 'open', 'payment_status': 'no_payment_required',
            'amount_total': None, 'currency': params.get('currency'),
            'customer': params['customer'],
            'client_reference_id': params.get('client_reference_id'),
            'metadata': _nested(params, 'metadata'),
            'success_url': params['success_url'],
            'cancel_url': params.get('cancel_url'),
            'payment_intent': None, 'setup_intent': None,
            'created': int(time.time()),
            'expires_at': int(time.time()) + 24 * 3600,
            'livemode': False,
            'url': '%s/pay/%s' % (self.url, session_id),
        }
        self.sessions[session_id] = session
        self._remember(idempotency_key, params, 200, session)
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
                if parts[0] == 'v1' and len(parts) == 3 and parts[1] in (
                        'setup_intents', 'payment_methods', 'customers',
                        'payment_intents'):
                    if self._api_refused():
                        return
                    return self._send(*self._retrieve(parts[1], parts[2]))
                self._send(404, {'error': {'type': 'invalid_request_error',
                                           'message': 'Unknown path'}})

            def _retrieve(self, kind, object_id):
                query = parse.parse_qs(parse.urlsplit(self.path).query)
                expand = query.get('expand[]', []) + query.get(
                    'expand[0]', [])
                if kind == 'setup_intents':
                    return standin._retrieve_setup_intent(object_id, expand)
                with standin._lock:
                    found = {'payment_methods': standin.payment_methods,
                             'customers': standin.customers,
                             'payment_intents': standin.payment_intents,
                             }[kind].get(object_id)
                if found is None:
                    return 404, _missing(object_id, kind[:-1])
                return 200, standin._public(found)

            def _api_post(self, parts):
                """The API's POSTs other than Checkout's; None: unknown."""
                params = self._form()
                if self._api_refused():
                    return True
                key = self.headers.get('Idempotency-Key')
                if parts == ['v1', 'customers']:
                    status, body, replayed = standin._create_customer(
                        params, key)
                elif parts == ['v1', 'payment_intents']:
                    status, body, replayed = standin._create_payment_intent(
                        params, key)
                elif (len(parts) == 4 and parts[:2] == ['v1',
                                                        'payment_methods']
                        and parts[3] == 'detach'):
                    (status, body), replayed = standin._detach(parts[2]), False
                else:
                    return None
                headers = [('Idempotent-Replayed', 'true')] if (
                    replayed) else []
                self._send(status, body, headers=headers)
                return True

            def do_POST(self):
                path = parse.urlsplit(self.path).path
                parts = path.strip('/').split('/')
                if parts[0] == 'pay' and len(parts) == 2:
                    return self._pay(parts[1], self._form())
                if parts[:2] == ['v1', 'customers'] or parts[:2] == [
                        'v1', 'payment_intents'] or parts[:2] == [
                        'v1', 'payment_methods']:
                    if self._api_post(parts):
                        return
                    return self._send(404, {'error': {
                        'type': 'invalid_request_error',
                        'message': 'Unknown path'}})
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
                if session['mode'] == 'setup':
                    return self._setup_page(session)
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

            def _setup_page(self, session):
                if session['status'] != 'open':
                    body = ('<p class="checkout-closed">This checkout '
                            'session is %s.</p>' % session['status'])
                else:
                    choices = ''.join(
                        '<option value="%s">%s \u2022\u2022\u2022\u2022 '
                        '%s%s</option>' % (
                            number, brand.capitalize(), number[-4:],
                            ' (%s)' % outcome.replace('_', ' ')
                            if outcome else '')
                        for number, (brand, outcome) in TEST_CARDS.items())
                    body = (
                        '<form method="post" action="/pay/%s">'
                        '<p>Save a card for future payments</p>'
                        '<label for="card">Card</label>'
                        '<select id="card" name="card">%s</select>'
                        '<label for="exp_month">MM</label>'
                        '<input id="exp_month" name="exp_month" value="12">'
                        '<label for="exp_year">YYYY</label>'
                        '<input id="exp_year" name="exp_year" value="2034">'
                        '<button id="save" type="submit">Save card</button>'
                        '</form>' % (session['id'], choices))
                self._send(200, '<!DOCTYPE html><html><head><title>Stripe '
                           'Checkout stand-in</title></head><body>%s'
                           '</body></html>' % body, 'text/html')

            def _pay(self, session_id, form):
                with standin._lock:
                    session = standin.sessions.get(session_id)
                    is_open = session is not None and (
                        session['status'] == 'open')
                if not is_open:
                    return self._send(400, 'Not an open session',
                                      'text/html')
                if session['mode'] == 'setup':
                    try:
                        standin.complete_setup(
                            session_id, form.get('card', ''),
                            int(form.get('exp_month', '12')),
                            int(form.get('exp_year', '2034')))
                    except (KeyError, ValueError):
                        return self._send(400, 'Not a test card',
                                          'text/html')
                else:
                    standin.complete(session_id)
                location = session['success_url'].replace(
                    '{CHECKOUT_SESSION_ID}', session_id)
                self.send_response(303)
                self.send_header('Location', location)
                self.send_header('Content-Length', '0')
                self.end_headers()

        return Handler


def _missing(object_id, kind='checkout.session'):
    return {'error': {'type': 'invalid_request_error',
                      'code': 'resource_missing',
                      'message': 'No such %s: %r' % (kind, object_id)}}


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
