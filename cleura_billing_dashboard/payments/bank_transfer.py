"""Bank transfer: the seller's bank details and the invoice's OCR reference.

The customer pays from their own bank; the payment is recorded when the
operator imports the bank's ISO 20022 notification (``bank_import``, run by
``manage.py billing_import_payments``), matched by the OCR reference.
"""

from django.utils.translation import gettext_lazy as _

from cleura_billing_dashboard import conf
from cleura_billing_dashboard import money
from cleura_billing_dashboard.payments import base

NAME = 'bank_transfer'


class BankTransfer(base.PaymentProvider):
    name = NAME
    verbose_name = _('Bank transfer')
    explanation = _('Pay from your bank with the reference below; the '
                    'payment is matched to this invoice when the bank '
                    'reports it, usually within one banking day.')
    icon = 'university'
    redirects = False

    def start(self, invoice, amount, data):
        """``ShowDetails``: recipient, bankgiro, IBAN, BIC, OCR, amount.

        Details the operator left empty in ``[seller]`` are left out.
        """
        seller = conf.get_conf().seller
        rows = [
            (_('Recipient'), seller.name),
            (_('Bankgiro'), seller.bankgiro),
            (_('IBAN'), seller.iban),
            (_('BIC'), seller.bic),
            (_('Reference (OCR)'), invoice.payment_reference),
            (_('Amount'), money.format_money(amount, invoice.currency,
                                             data.locale)),
        ]
        return base.ShowDetails(tuple((label, value) for label, value in rows
                                      if value))
