"""billing_credit_note: an operator credits an issued invoice in full."""

from django.core.management import CommandError
import pytest

from cleura_billing_dashboard.billing import issue
from cleura_billing_dashboard.billing.models import Invoice
from cleura_billing_dashboard.billing import queries
from tests import factories
from tests.unit.test_billing_commands import run

pytestmark = pytest.mark.django_db


def test_credits_an_invoice_once_with_its_documents():
    invoice = factories.issue_invoice('proj-a')
    out, err = run('billing_credit_note', invoice.number,
                   '--reason', 'Billed twice')
    note = Invoice.objects.get(type=Invoice.CREDIT_NOTE)
    assert out.splitlines() == ['Issued credit note %s for %s: -SEK125.00'
                                % (note.number, invoice.number)]
    assert (note.credits_id, note.reason, note.total) == (
        invoice.pk, 'Billed twice', -invoice.total)
    assert bytes(note.pdf).startswith(b'%PDF')
    assert note.einvoices.get().content   # its UBL, stored with it
    assert queries.get_invoice('proj-a', invoice.pk).status == 'credited'

    with pytest.raises(CommandError) as again:
        run('billing_credit_note', invoice.number, '--reason', 'Again')
    assert str(again.value) == '%s is already credited.' % invoice.number
    assert Invoice.objects.filter(type=Invoice.CREDIT_NOTE).count() == 1


@pytest.mark.parametrize('args, message', [
    (['2099-000001', '--reason', 'x'], 'No invoice numbered 2099-000001'),
    (['{number}', '--reason', '  '],
     'Give a reason of 1 to 255 characters.'),
    (['{note}', '--reason', 'x'], '{note} is a credit note'),
])
def test_refuses_what_cannot_be_credited(args, message):
    invoice = factories.issue_invoice('proj-a')
    other = factories.issue_invoice('proj-b')
    credit = issue.issue_credit_note('proj-b', other, 'setup')
    names = {'number': invoice.number, 'note': credit.number}
    before = Invoice.objects.count()
    with pytest.raises(CommandError) as refused:
        run('billing_credit_note', *[a.format(**names) for a in args])
    assert str(refused.value) == message.format(**names)
    assert Invoice.objects.count() == before
