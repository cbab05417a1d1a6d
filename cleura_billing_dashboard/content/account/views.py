from django.core.exceptions import PermissionDenied
from django import shortcuts
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import generic

from horizon import exceptions
from horizon import forms
from horizon import messages
from horizon import tabs
from horizon.utils import memoized

from cleura_billing_dashboard.api import account as account_api
from cleura_billing_dashboard.api import cards as cards_api
from cleura_billing_dashboard.content.account import forms as account_forms
from cleura_billing_dashboard.content.account import tables as account_tables
from cleura_billing_dashboard.content.account import tabs as account_tabs

# Forms shown inside a tab of the index page, by tab slug.
INLINE_FORMS = {
    'customer': account_forms.CustomerForm,
    'settings': account_forms.PreferencesForm,
}


def _require_update(request):
    # Every write is refused here first; the facade checks again.
    if not account_api.can_update(request):
        raise PermissionDenied(_('You are not allowed to change the billing '
                                 'account.'))


class IndexView(tabs.TabbedTableView):
    """The three tabs; saves the Customer Info and Settings forms too."""

    tab_group_class = account_tabs.AccountTabs
    template_name = 'settings/account/index.html'
    page_title = _("Account settings")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bound_forms = {}

    def get_tabs(self, request, **kwargs):
        if self._tab_group is None:
            self._tab_group = self.tab_group_class(
                request, bound_forms=self.bound_forms, **kwargs)
        return self._tab_group

    def post(self, request, *args, **kwargs):
        _require_update(request)
        slug = request.POST.get('account_form')
        form_class = INLINE_FORMS.get(slug)
        if form_class is None:
            return super().post(request, *args, **kwargs)
        form = form_class(request, data=request.POST)
        if form.is_valid() and form.handle(request, form.cleaned_data):
            return shortcuts.redirect('%s?tab=%s__%s' % (
                reverse(account_tables.INDEX),
                account_tabs.AccountTabs.slug, slug))
        self.bound_forms[slug] = form
        return self.get(request, *args, **kwargs)


class AccountFormView(forms.ModalFormView):
    """A modal form of the Contact tab, also usable as a full page."""

    template_name = 'settings/account/form.html'
    description = ''
    url_name = None

    def dispatch(self, request, *args, **kwargs):
        _require_update(request)
        return super().dispatch(request, *args, **kwargs)

    def get_success_url(self):
        return account_tables.contact_tab_url()

    def get_cancel_url(self):
        return account_tables.contact_tab_url()

    def get_submit_url(self):
        return reverse(self.url_name, kwargs=self.kwargs)

    @memoized.memoized_method
    def get_account(self):
        try:
            return account_api.account_get(self.request)
        except account_api.Error as e:
            messages.error(self.request, e.message)
            raise exceptions.Http302(account_tables.contact_tab_url())
        except Exception:
            exceptions.handle(self.request,
                              _('Unable to retrieve the billing account.'),
                              redirect=account_tables.contact_tab_url())

    def get_initial(self):
        return {'revision': self.get_account().revision}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context['submit_url'] = self.get_submit_url()
        context['description'] = self.description
        return context


class CreateEmailView(AccountFormView):
    form_class = account_forms.CreateEmailForm
    form_id = 'create_email_form'
    modal_id = 'create_email_modal'
    modal_header = _("Create new Email")
    page_title = _("Create new Email")
    submit_label = _("Create and send code")
    url_name = 'horizon:settings:account:create_email'
    description = _("We mail a six-digit code to the new address. Enter it "
                    "with Verify; until then the address is pending and "
                    "cannot receive invoices or other mail.")


class ContactMixin(object):

    @memoized.memoized_method
    def get_contact(self):
        try:
            return self.get_account().contact(self.kwargs['contact_id'])
        except account_api.NotFound as e:
            messages.error(self.request, e.message)
            raise exceptions.Http302(account_tables.contact_tab_url())

    def get_initial(self):
        initial = super().get_initial()
        contact = self.get_contact()
        initial.update(contact_id=contact.id, email=contact.email,
                       name=contact.name)
        return initial

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context['contact'] = self.get_contact()
        return context


class UpdateEmailView(ContactMixin, AccountFormView):
    form_class = account_forms.UpdateEmailForm
    form_id = 'update_email_form'
    modal_id = 'update_email_modal'
    modal_header = _("Edit Email")
    page_title = _("Edit Email")
    submit_label = _("Save")
    url_name = 'horizon:settings:account:update_email'
    description = _("A changed address is verified again and loses its "
                    "roles. The last verified Billing address cannot be "
                    "changed: add the new one first.")


class VerifyEmailView(ContactMixin, AccountFormView):
    form_class = account_forms.VerifyEmailForm
    form_id = 'verify_email_form'
    modal_id = 'verify_email_modal'
    modal_header = _("Verify Email")
    page_title = _("Verify Email")
    submit_label = _("Verify")
    url_name = 'horizon:settings:account:verify_email'
    description = _("Enter the six-digit code we mailed to this address.")


class CreatePhoneView(AccountFormView):
    form_class = account_forms.PhoneForm
    form_id = 'create_phone_form'
    modal_id = 'create_phone_modal'
    modal_header = _("Add Phone")
    page_title = _("Add Phone")
    submit_label = _("Add")
    url_name = 'horizon:settings:account:create_phone'


class UpdatePhoneView(AccountFormView):
    form_class = account_forms.UpdatePhoneForm
    form_id = 'update_phone_form'
    modal_id = 'update_phone_modal'
    modal_header = _("Edit Phone")
    page_title = _("Edit Phone")
    submit_label = _("Save")
    url_name = 'horizon:settings:account:update_phone'

    @memoized.memoized_method
    def get_phone(self):
        try:
            return self.get_account().phone(self.kwargs['phone_id'])
        except account_api.NotFound as e:
            messages.error(self.request, e.message)
            raise exceptions.Http302(account_tables.contact_tab_url())

    def get_initial(self):
        initial = super().get_initial()
        phone = self.get_phone()
        initial.update(phone_id=phone.id, number=phone.number,
                       label=phone.label)
        return initial


def settings_tab_url():
    return '%s?tab=%s__settings' % (reverse(account_tables.INDEX),
                                    account_tabs.AccountTabs.slug)


class CardActionView(generic.View):
    """A POST from the Settings tab's card section; back to the tab.

    Refusals the user can act on become a message on the tab; a user
    without the rule gets 403.
    """

    http_method_names = ['post']
    rule = None

    def post(self, request):
        if not cards_api.permissions(request)[self.rule]:
            raise PermissionDenied(cards_api.NotAllowed().message)
        try:
            return self.act(request)
        except cards_api.Error as e:
            messages.error(request, e.message)
        except Exception:
            exceptions.handle(request, _('Unable to change the saved card.'),
                              redirect=settings_tab_url())
        return shortcuts.redirect(settings_tab_url())


class CardSaveView(CardActionView):
    """Save or replace the card: on to Stripe's page."""

    rule = 'create'

    def act(self, request):
        back = request.build_absolute_uri(settings_tab_url())
        return shortcuts.redirect(cards_api.card_setup_start(
            request, back + '&card=saved', back))


class CardRemoveView(CardActionView):
    rule = 'delete'

    def act(self, request):
        cards_api.card_delete(request)
        messages.success(request, _('The saved card was removed; new '
                                    'invoices are not paid automatically.'))
        return shortcuts.redirect(settings_tab_url())


class CardAutopayView(CardActionView):
    rule = 'update'

    def act(self, request):
        enabled = request.POST.get('autopay') == 'on'
        cards_api.autopay_update(request, enabled)
        messages.success(request, _('New invoices are paid automatically '
                                    'with the saved card.') if enabled else
                         _('New invoices are no longer paid '
                           'automatically.'))
        return shortcuts.redirect(settings_tab_url())
