"""One process of the autopay concurrency test; prints its result as JSON.

    python -m tests.db.autopay_worker - cards STANDIN_URL PROJECT...
    python -m tests.db.autopay_worker - issue USAGE_FILE PERIOD ISSUE_DATE
    python -m tests.db.autopay_worker BARRIER autopay STANDIN_URL
    python -m tests.db.autopay_worker - events STANDIN_URL EVENTS_FILE
    python -m tests.db.autopay_worker - report

Stripe is the stand-in at STANDIN_URL (started by the test); see
``tests.db.worker`` for the barrier.
"""

import datetime
import json
import sys
import types

from tests.db import worker  # sets up Django  # noqa: I100

from django.utils import timezone  # noqa: E402

from cleura_billing_dashboard.billing.models import Payment  # noqa: E402
from cleura_billing_dashboard.payments import autopay  # noqa: E402
from cleura_billing_dashboard.payments.models import (  # noqa: E402
    AutopayAttempt)
from cleura_billing_dashboard.payments.models import SavedCard  # noqa: E402
from cleura_billing_dashboard.payments import stripe_checkout  # noqa: E402
from cleura_billing_dashboard.payments import stripe_webhook  # noqa: E402
from tools.lab import stripe_standin  # noqa: E402


def configured(url):
    return stripe_standin.configured(types.SimpleNamespace(
        api_key=stripe_standin.API_KEY,
        webhook_secret=stripe_standin.WEBHOOK_SECRET, url=url))


def save_cards(*projects):
    """A Stripe customer and Stripe's test Visa per project, autopay on."""
    since = timezone.now() - datetime.timedelta(minutes=1)
    api = stripe_checkout.client()
    for project_id in projects:
        customer = api.v1.customers.create(
            {'metadata': {'project_id': project_id}})
        SavedCard.objects.create(
            project_id=project_id, provider='stripe',
            customer_id=customer.id, payment_method_id='pm_card_visa',
            brand='visa', last4='4242', exp_month=12, exp_year=2034,
            autopay=True, autopay_since=since)
    return {'cards': list(projects)}


def run_autopay():
    result = autopay.charge_due_invoices(None, send_mail=False)
    return {'charged': [[number, attempt, intent]
                        for number, attempt, intent in result.charged],
            'errors': [[number, message]
                       for number, _attempt, message in result.errors]}


def apply_events(path):
    with open(path) as f:
        events = json.load(f)
    return {'outcomes': [stripe_webhook.handle_event(event).outcome
                         for event in events]}


def report():
    return {
        'attempts': sorted(AutopayAttempt.objects.values_list(
            'invoice__number', 'attempt', 'state')),
        'payments': sorted(Payment.objects.values_list(
            'invoice__number', 'provider_reference', 'state')),
    }


def main(barrier, command, *args):
    if command == 'report':
        print(json.dumps(report()))
        return
    if command == 'issue':
        print(json.dumps(worker.issue_period(*args)))
        return
    with configured(args[0]):
        if command == 'cards':
            result = save_cards(*args[1:])
        elif command == 'events':
            result = apply_events(args[1])
        else:
            worker.wait_for_go(barrier)
            result = run_autopay()
    print(json.dumps(result))


if __name__ == '__main__':
    main(*sys.argv[1:])
