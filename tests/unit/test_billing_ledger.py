"""The payments ledger: one row per provider reference."""

import datetime
import decimal

import pytest

from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard.billing import ledger
from cleura_billing_dashboard.billing.models import Payment
from cleura_billing_dashboard import usage

D = decimal.Decimal


@pytest.fixture
def invoice(db):
    data = ('project_id,product,region,quantity,unit,unit_price\n'
            'proj-a,compute,Sto2,10,h,10\n')
    return issue.issue_invoices_for_period(
        usage.parse_usage(data, 'csv'), '2026-10',
        today=datetime.date(2026, 11, 1)).issued[0]


def test_a_replayed_payment_is_recorded_once(invoice):
    recorded = ledger.record_payment(invoice, D('50'), provider='card',
                                     reference='ch_1')
    replayed = ledger.record_payment(
        invoice, D('50.00'), provider='card', reference='ch_1')
    first, again = recorded.payment, replayed.payment
    assert (recorded.created, replayed.created, again.pk) == (
        True, False, first.pk)
    assert (first.amount, first.currency, first.state) == (
        D('50.00'), 'SEK', Payment.SETTLED)
    assert Payment.objects.count() == 1


def test_same_reference_of_another_provider_is_another_payment(invoice):
    ledger.record_payment(invoice, D('1'), provider='card', reference='r')
    ledger.record_payment(invoice, D('1'), provider='bank', reference='r')
    assert Payment.objects.count() == 2


def test_a_replay_with_other_details_is_a_conflict(invoice):
    ledger.record_payment(invoice, D('50'), provider='card', reference='r')
    with pytest.raises(ledger.PaymentConflict):
        ledger.record_payment(invoice, D('51'), provider='card',
                              reference='r')
    assert Payment.objects.get().amount == D('50')


@pytest.mark.parametrize('amount, currency', [
    (D('0'), None), (D('-5'), None), (D('5'), 'EUR')])
def test_bad_payments_are_refused(invoice, amount, currency):
    with pytest.raises(ValueError):
        ledger.record_payment(invoice, amount, provider='card',
                              reference='r', currency=currency)
    assert not Payment.objects.exists()


def test_amounts_are_rounded_to_minor_units(invoice):
    payment = ledger.record_payment(invoice, D('10.005'), provider='card',
                                    reference='r').payment
    assert Payment.objects.get(pk=payment.pk).amount == D('10.01')


def test_credit_notes_take_no_payments(invoice):
    note = issue.issue_credit_note('proj-a', invoice, 'x')
    with pytest.raises(ValueError):
        ledger.record_payment(note, D('1'), provider='card', reference='r')


def test_payment_state_moves(invoice):
    ledger.record_payment(invoice, D('5'), provider='card', reference='r',
                          state=Payment.PENDING)
    assert ledger.set_payment_state('card', 'r', Payment.SETTLED).state == \
        Payment.SETTLED
    assert Payment.objects.get().state == Payment.SETTLED
    with pytest.raises(ValueError):
        ledger.set_payment_state('card', 'r', 'lost')
    with pytest.raises(Payment.DoesNotExist):
        ledger.set_payment_state('card', 'other', Payment.FAILED)
