from django.middleware import csrf
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from horizon import exceptions
from horizon import tabs
from horizon.utils import memoized

from cleura_billing_dashboard.api import account as account_api
from cleura_billing_dashboard.api import cards as cards_api
from cleura_billing_dashboard.content.account import forms as account_forms
from cleura_billing_dashboard.content.account import tables as account_tables


class AccountTab(tabs.Tab):
    """A tab that shows the account, or why it cannot be read."""

    form_class = None

    def get_context_data(self, request, **kwargs):
        context = super().get_context_data(request, **kwargs)
        account, error = self.tab_group.account()
        # Horizon renders a tab without the request, so the csrf context
        # processor never runs: without this, {% csrf_token %} is empty and
        # a browser's Save ends on the login page.
        context['csrf_token'] = csrf.get_token(request)
        context.update(account=account, account_error=error,
                       can_update=account_api.can_update(request),
                       action_url='%s?tab=%s__%s' % (
                           reverse(account_tables.INDEX),
                           self.tab_group.slug, self.slug))
        if account is not None and context['can_update'] and (
                self.form_class is not None):
            context['form'] = self.tab_group.bound_forms.get(self.slug) or (
                self.form_class(request,
                                initial=self.form_class.initial_from(
                                    account)))
        return context


class CustomerTab(AccountTab):
    name = _("Customer Info")
    slug = 'customer'
    template_name = 'settings/account/_customer.html'
    form_class = account_forms.CustomerForm

    def get_context_data(self, request, **kwargs):
        context = super().get_context_data(request, **kwargs)
        account = context['account']
        if account is not None:
            names = dict(account_api.country_choices(
                getattr(request, 'LANGUAGE_CODE', 'en')))
            info = account.customer
            context['country_name'] = names.get(info.get('country'), '')
            billing = info.get('billing_address') or {}
            context['billing_country_name'] = names.get(
                billing.get('country'), '')
        return context


class ContactTab(tabs.TableTab):
    name = _("Contact")
    slug = 'contact'
    template_name = 'settings/account/_contact.html'
    table_classes = (account_tables.EmailsTable, account_tables.PhonesTable)
    preload = True

    def _account(self):
        account, _error = self.tab_group.account()
        for table in self._tables.values():
            table.revision = account.revision if account else None
        return account

    def get_emails_data(self):
        account = self._account()
        return account.contacts if account else []

    def get_phones_data(self):
        account = self._account()
        return account.phones if account else []

    def get_context_data(self, request, **kwargs):
        context = super().get_context_data(request, **kwargs)
        account, error = self.tab_group.account()
        context.update(account=account, account_error=error,
                       can_update=account_api.can_update(request))
        return context


class SettingsTab(AccountTab):
    name = _("Settings")
    slug = 'settings'
    template_name = 'settings/account/_settings.html'
    form_class = account_forms.PreferencesForm

    def get_context_data(self, request, **kwargs):
        context = super().get_context_data(request, **kwargs)
        account = context['account']
        if account is not None:
            context['delivery_label'] = account_api.DELIVERY_LABELS[
                account.settings['delivery']]
            context['language_label'] = account_api.LANGUAGE_LABELS[
                account.settings['language']]
        context.update(self._card_context(request))
        return context

    def _card_context(self, request):
        """The saved card section: the card, or why it is not shown."""
        if not cards_api.can_see(request):
            return {'show_card': False}
        context = {'show_card': True, 'card': None, 'card_error': None,
                   'card_available': cards_api.is_available(),
                   'card_can': cards_api.permissions(request),
                   'card_returned': request.GET.get('card') == 'saved'}
        try:
            context['card'] = cards_api.card_get(request)
        except cards_api.Error as e:
            context['card_error'] = e.message
        except Exception:
            message = _('Unable to retrieve the saved card.')
            exceptions.handle(request, message, ignore=True)
            context['card_error'] = message
        return context


class AccountTabs(tabs.TabGroup):
    slug = 'account'
    tabs = (CustomerTab, ContactTab, SettingsTab)

    def __init__(self, request, bound_forms=None, **kwargs):
        self.bound_forms = bound_forms or {}
        super().__init__(request, **kwargs)

    @memoized.memoized_method
    def account(self):
        """``(account, None)``, or ``(None, message)`` when unreadable."""
        try:
            return account_api.account_get(self.request), None
        except account_api.Error as e:
            return None, e.message
        except Exception:
            # Unexpected: logged, and the tabs say so instead of a 500.
            message = _('Unable to retrieve the billing account.')
            exceptions.handle(self.request, message, ignore=True)
            return None, message
