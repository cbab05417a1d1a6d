"""Invoice numbers: sequential per series, and a rollback leaves no gap."""

import datetime

from django.db import transaction
import pytest

from cleura_billing_dashboard.billing.models import NumberSeries
from cleura_billing_dashboard.billing import numbering
from cleura_billing_dashboard import conf


@pytest.fixture
def options():
    """Override [billing] options for one test."""
    settings = conf.get_conf()
    overridden = []

    def override(**values):
        for name, value in values.items():
            settings.set_override(name, value, group='billing')
            overridden.append(name)

    yield override
    for name in overridden:
        settings.clear_override(name, group='billing')


def take(prefix):
    numbering.ensure_series(prefix)
    with transaction.atomic():
        return numbering.next_number(prefix)


@pytest.mark.django_db
def test_numbers_are_sequential_per_series():
    assert [take('2026-') for _ in range(3)] == [
        '2026-000001', '2026-000002', '2026-000003']
    assert take('2027-') == '2027-000001'
    assert take('2026-') == '2026-000004'


@pytest.mark.django_db
def test_a_rolled_back_number_is_taken_again():
    assert take('2026-') == '2026-000001'
    with pytest.raises(ZeroDivisionError):
        with transaction.atomic():
            assert numbering.next_number('2026-') == '2026-000002'
            1 / 0
    assert take('2026-') == '2026-000002'
    assert NumberSeries.objects.get(prefix='2026-').last_value == 2


@pytest.mark.django_db
def test_a_series_is_created_before_numbers_are_taken():
    with pytest.raises(NumberSeries.DoesNotExist):
        with transaction.atomic():
            numbering.next_number('NEW-')
    assert not NumberSeries.objects.filter(prefix='NEW-').exists()
    assert take('NEW-') == 'NEW-000001'


@pytest.mark.django_db
def test_ensure_series_starts_at_zero_and_is_idempotent():
    numbering.ensure_series('2026-')
    numbering.ensure_series('2026-')
    assert NumberSeries.objects.get(prefix='2026-').last_value == 0
    assert take('2026-') == '2026-000001'


@pytest.mark.django_db
def test_prefix_and_digits_come_from_the_configuration(options):
    options(number_series='INV{year}/', number_digits=4)
    prefix = numbering.series_prefix(datetime.date(2027, 1, 31))
    assert prefix == 'INV2027/'
    assert take(prefix) == 'INV2027/0001'


@pytest.mark.django_db(transaction=True)
def test_a_number_outside_a_transaction_is_refused():
    numbering.ensure_series('2026-')
    with pytest.raises(RuntimeError):
        numbering.next_number('2026-')
    assert NumberSeries.objects.get().last_value == 0
