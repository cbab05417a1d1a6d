"""billing_autopay in separate OS processes at once, on the database
CLEURA_TEST_DB names: each invoice is charged once, paid once.

Stripe is the stand-in, in this process; the workers reach it over
loopback. See test_numbering_concurrency for the database set-up.
"""

import json
import os
import subprocess
import sys

import pytest

from tests.db.test_numbering_concurrency import child_env  # noqa: F401
from tests.db.test_numbering_concurrency import run_workers
from tools.lab import stripe_standin

pytestmark = [pytest.mark.database, pytest.mark.django_db(transaction=True)]

WORKERS = 4
PROJECTS = ['autopay-%d' % i for i in range(6)]
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


@pytest.fixture
def standin():
    server = stripe_standin.StripeStandIn().start()
    yield server
    server.stop()


def run(env, *args):
    out = subprocess.run([sys.executable, '-m', 'tests.db.autopay_worker',
                          '-'] + list(args), env=env, cwd=REPO_ROOT,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[-1])


def test_concurrent_autopay_runs_charge_each_invoice_once(
        child_env, standin, tmp_path):  # noqa: F811
    run(child_env, 'cards', standin.url, *PROJECTS)
    usage_file = tmp_path / 'usage.csv'
    usage_file.write_text(
        'project_id,product,region,quantity,unit,unit_price\n' +
        ''.join('%s,compute,Sto2,10,h,0.45\n' % p for p in PROJECTS))
    issued = run(child_env, 'issue', str(usage_file), '2044-04',
                 '2044-05-02')['issued']
    assert len(issued) == len(PROJECTS)

    results = run_workers(child_env, tmp_path / 'barrier',
                          [['autopay', standin.url]] * WORKERS,
                          module='tests.db.autopay_worker')
    charged = [number for result in results
               for number, _attempt, _intent in result['charged']]
    assert sorted(charged) == sorted(issued)
    assert all(result['errors'] == [] for result in results)
    # One PaymentIntent per invoice at Stripe, each key sent once.
    assert len(standin.charges()) == len(PROJECTS)
    assert len(standin.intent_requests) == len(PROJECTS)

    # Stripe's events, each delivered twice: one payment per invoice.
    events = tmp_path / 'events.json'
    events.write_text(json.dumps(standin.take_held() * 2))
    outcomes = run(child_env, 'events', standin.url,
                   str(events))['outcomes']
    assert sorted(outcomes) == (['duplicate'] * len(PROJECTS) +
                                ['recorded'] * len(PROJECTS))
    stored = run(child_env, 'report')
    assert sorted(number for number, _ref, _state in stored['payments']) \
        == sorted(charged)
    assert {state for _n, _ref, state in stored['payments']} == {'settled'}
    assert [(attempt, state) for _n, attempt, state in stored['attempts']] \
        == [(1, 'succeeded')] * len(PROJECTS)
