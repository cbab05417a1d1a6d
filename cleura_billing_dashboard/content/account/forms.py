from django.utils import translation
from django.utils.translation import gettext_lazy as _

from horizon import exceptions
from horizon import forms
from horizon import messages

from cleura_billing_dashboard.api import account as account_api

MAX_LENGTH = account_api.CUSTOMER_MAX_LENGTH
BILLING_FIELDS = {'billing_' + field: field
                  for field in account_api.ADDRESS_FIELDS}


class AccountForm(forms.SelfHandlingForm):
    """A form that saves one change to the billing account.

    Carries the revision the user saw; the facade refuses the change when
    the account has moved on since. Refusals show on the form: on the
    field at fault when there is one, else above the fields.
    """

    revision = forms.CharField(widget=forms.HiddenInput(), max_length=20)

    def save(self, call):
        """``call()``'s result, or False with the refusal on the form."""
        try:
            return call()
        except account_api.Refused as e:
            for field, message in (e.errors or {e.field: e.message}).items():
                self.add_error(field if field in self.fields else None,
                               message)
        except account_api.Error as e:
            self.add_error(None, e.message)
        except Exception:
            # Unexpected (a database error): a message, never a 500.
            exceptions.handle(self.request,
                              _('Unable to save the billing account.'),
                              details='')
        return False

    def set_revision(self, revision):
        """Show ``revision`` when the form is displayed again."""
        self.data = self.data.copy()
        self.data['revision'] = str(revision)


class CustomerForm(AccountForm):
    name = forms.CharField(
        label=_("Name"), max_length=MAX_LENGTH['name'],
        help_text=_("Company name, or your full name for a personal "
                    "account."))
    org_number = forms.CharField(
        label=_("Organisation or personal number"), required=False,
        max_length=MAX_LENGTH['org_number'],
        help_text=_("Checked against the chosen country's register format, "
                    "e.g. 556677-8899 in Sweden."))
    vat_number = forms.CharField(
        label=_("VAT number"), required=False,
        max_length=MAX_LENGTH['vat_number'],
        help_text=_("With the country code, e.g. SE556677889901."))
    address = forms.CharField(label=_("Address"),
                              max_length=MAX_LENGTH['address'])
    postal_code = forms.CharField(
        label=_("Postal code"), max_length=MAX_LENGTH['postal_code'])
    city = forms.CharField(label=_("City"),
                           max_length=MAX_LENGTH['city'])
    country = forms.ChoiceField(label=_("Country"))
    po_reference = forms.CharField(
        label=_("Purchase order reference"), required=False,
        max_length=MAX_LENGTH['po_reference'],
        help_text=_("Printed on every invoice, if your accounts payable "
                    "needs one."))
    buyer_reference = forms.CharField(
        label=_("Your reference"), required=False,
        max_length=MAX_LENGTH['buyer_reference'],
        help_text=_("Your own reference for invoices to you, e.g. a cost "
                    "centre or a person: printed on invoices and sent in "
                    "e-invoices."))
    peppol_id = forms.CharField(
        label=_("Peppol ID"), required=False,
        max_length=MAX_LENGTH['peppol_id'],
        help_text=_("To receive e-invoices through Peppol: scheme and "
                    "identifier, e.g. 0007:5566778899 for a Swedish "
                    "organisation number."))
    billing_address = forms.CharField(
        label=_("Billing address"), required=False,
        max_length=MAX_LENGTH['address'],
        help_text=_("Only if invoices go to another address than the one "
                    "above; then fill in all four billing fields."))
    billing_postal_code = forms.CharField(
        label=_("Billing postal code"), required=False,
        max_length=MAX_LENGTH['postal_code'])
    billing_city = forms.CharField(
        label=_("Billing city"), required=False,
        max_length=MAX_LENGTH['city'])
    billing_country = forms.ChoiceField(label=_("Billing country"),
                                        required=False)

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        countries = account_api.country_choices(
            translation.get_language() or 'en')
        blank = [('', _("Choose a country"))]
        self.fields['country'].choices = blank + countries
        self.fields['billing_country'].choices = blank + countries

    @classmethod
    def initial_from(cls, account):
        info = account.customer
        initial = {field: info.get(field, '')
                   for field in account_api.CUSTOMER_FIELDS}
        for field, key in BILLING_FIELDS.items():
            initial[field] = (info.get('billing_address') or {}).get(key, '')
        initial['revision'] = account.revision
        return initial

    def handle(self, request, data):
        values = {field: data.get(field, '')
                  for field in account_api.CUSTOMER_FIELDS}
        billing = {key: data.get(field, '')
                   for field, key in BILLING_FIELDS.items()}
        values['billing_address'] = billing if any(billing.values()) else (
            None)
        saved = self.save(lambda: account_api.customer_update(
            request, data['revision'], values))
        if saved:
            messages.success(request, _('Customer info saved.'))
        return saved


class PreferencesForm(AccountForm):
    delivery = forms.ChoiceField(
        label=_("Invoice delivery"), widget=forms.RadioSelect(),
        choices=account_api.DELIVERY_CHOICES)
    language = forms.ChoiceField(
        label=_("Invoice language"),
        choices=account_api.LANGUAGE_CHOICES,
        help_text=_("The language of invoices and invoice mail."))
    einvoice = forms.BooleanField(
        label=_("Attach the e-invoice (XML) to the invoice mail"),
        required=False,
        help_text=_("An EN 16931 e-invoice (Peppol BIS Billing 3.0) that "
                    "accounting systems read, sent with the PDF or the "
                    "link."))

    @classmethod
    def initial_from(cls, account):
        return dict(account.settings, revision=account.revision)

    def handle(self, request, data):
        saved = self.save(lambda: account_api.preferences_update(
            request, data['revision'], data['delivery'], data['language'],
            data.get('einvoice') is True))
        if saved:
            messages.success(request, _('Settings saved.'))
        return saved


def _code_message(request, email, mailed, held=None):
    if held is not None:
        # A mail limit: saved, pending, no code; the reason says when.
        messages.warning(request, _('%(email)s is saved, pending '
                                    'verification, but no code was mailed '
                                    'to it. %(reason)s Then use "Resend '
                                    'code".') % {'email': email,
                                                 'reason': held.message})
    elif mailed:
        messages.success(request, _('A verification code was mailed to '
                                    '%s. Enter it with "Verify".') % email)
    else:
        messages.warning(request, _('The verification code could not be '
                                    'mailed to %s. Try "Resend code" '
                                    'later.') % email)


class CreateEmailForm(AccountForm):
    email = forms.CharField(label=_("Email address"),
                            max_length=account_api.EMAIL_MAX_LENGTH)
    name = forms.CharField(label=_("Name"), required=False,
                           max_length=account_api.CONTACT_NAME_MAX_LENGTH,
                           help_text=_("Optional: who or what reads this "
                                       "address."))

    def handle(self, request, data):
        result = self.save(lambda: account_api.contact_create(
            request, data['revision'], data['email'], data['name']))
        if result:
            contact, mailed, held, _account = result
            _code_message(request, contact.email, mailed, held)
        return result


class UpdateEmailForm(CreateEmailForm):
    contact_id = forms.CharField(widget=forms.HiddenInput())

    def handle(self, request, data):
        result = self.save(lambda: account_api.contact_update(
            request, data['revision'], data['contact_id'], data['email'],
            data['name']))
        if result:
            contact, readdressed, mailed, held, _account = result
            if readdressed:
                _code_message(request, contact.email, mailed, held)
            else:
                messages.success(request, _('Saved %s.') % contact.email)
        return result


class VerifyEmailForm(AccountForm):
    contact_id = forms.CharField(widget=forms.HiddenInput())
    code = forms.RegexField(
        label=_("Verification code"), regex=r'^\s*\d{6}\s*$', max_length=12,
        error_messages={'invalid': _("The code is the six digits in the "
                                     "mail.")},
        widget=forms.TextInput(attrs={'autocomplete': 'one-time-code',
                                      'inputmode': 'numeric'}))

    OUTCOME_ERRORS = {
        account_api.WRONG: _('This is not the code we mailed. Check the '
                             'latest mail and try again (%(left)d '
                             'attempts left).'),
        account_api.EXHAUSTED: _('Too many wrong codes. Use "Resend code" '
                                 'to get a new one.'),
        account_api.EXPIRED: _('The code has expired. Use "Resend code" to '
                               'get a new one.'),
        account_api.NO_CODE: _('No code was sent to this address. Use '
                               '"Resend code".'),
        account_api.LOCKED: _('Too many wrong codes were entered for this '
                              'address. Wait up to an hour, then use '
                              '"Resend code" to get a new one.'),
    }

    def handle(self, request, data):
        result = self.save(lambda: account_api.contact_verify(
            request, data['revision'], data['contact_id'], data['code']))
        if not result:
            return False
        outcome, account = result
        if outcome == account_api.VERIFIED:
            contact = account.contact(data['contact_id'])
            messages.success(request, _('%s is verified.') % contact.email)
            return result
        # The attempt was stored: a retry must carry the new revision.
        self.set_revision(account.revision)
        left = account.contact(data['contact_id']).attempts_left
        self.add_error('code', self.OUTCOME_ERRORS[outcome] % {'left': left})
        return False


class PhoneForm(AccountForm):
    number = forms.CharField(
        label=_("Phone number"), max_length=account_api.PHONE_MAX_LENGTH,
        help_text=_("International form: + and the country code, e.g. "
                    "+46 70 123 45 67."))
    label = forms.CharField(label=_("Label"), required=False,
                            max_length=account_api.PHONE_LABEL_MAX_LENGTH,
                            help_text=_("Optional, e.g. Switchboard or "
                                        "On call."))

    def handle(self, request, data):
        result = self.save(lambda: account_api.phone_create(
            request, data['revision'], data['number'], data['label']))
        if result:
            messages.success(request, _('Added %s.') % result[0].number)
        return result


class UpdatePhoneForm(PhoneForm):
    phone_id = forms.CharField(widget=forms.HiddenInput())

    def handle(self, request, data):
        result = self.save(lambda: account_api.phone_update(
            request, data['revision'], data['phone_id'], data['number'],
            data['label']))
        if result:
            messages.success(request, _('Saved %s.') % result[0].number)
        return result
