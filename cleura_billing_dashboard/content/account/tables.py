"""The Contact tab's tables: email addresses with their roles, and phones.

Each action is a few lines that call ``api.account`` and report its
outcome the Horizon way. Over 300 lines for a reason: the addresses table
has many actions (add, verify, resend, edit, delete, and giving or taking
away each role in its column) and Horizon wants each as a class; splitting
the two tables into modules would only add imports between them.
"""

from django import shortcuts
from django.urls import reverse
from django.utils import html
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from django.utils.translation import pgettext_lazy

from horizon import exceptions
from horizon import messages
from horizon import tables

from cleura_billing_dashboard.api import account as account_api

POLICY_UPDATE = account_api.RULE_UPDATE
INDEX = 'horizon:settings:account:index'
CONTACT_TAB = 'account__contact'

STATUS_DISPLAY_CHOICES = (
    ('verified', pgettext_lazy('Email address status', 'Verified')),
    ('pending', pgettext_lazy('Email address status',
                              'Pending verification')),
)


def contact_tab_url():
    return '%s?tab=%s' % (reverse(INDEX), CONTACT_TAB)


def _revision(request):
    return request.POST.get('revision', '')


def _refused(request, error):
    messages.error(request, error.message)
    return shortcuts.redirect(contact_tab_url())


def _failed(request):
    """Back to the Contact tab with Horizon's message: never a 500."""
    exceptions.handle(request, _('Unable to save the billing account.'),
                      details='', redirect=contact_tab_url())


class CreateEmail(tables.LinkAction):
    name = 'create'
    verbose_name = _("Create new Email")
    url = 'horizon:settings:account:create_email'
    classes = ('ajax-modal',)
    icon = 'plus'
    policy_rules = POLICY_UPDATE


class VerifyEmail(tables.LinkAction):
    name = 'verify'
    verbose_name = _("Verify")
    classes = ('ajax-modal', 'btn-primary')
    icon = 'check'
    policy_rules = POLICY_UPDATE

    def get_link_url(self, datum):
        return reverse('horizon:settings:account:verify_email',
                       args=[datum.id])

    def allowed(self, request, datum=None):
        return datum is not None and datum.pending


class ResendCode(tables.Action):
    name = 'resend'
    verbose_name = _("Resend code")
    icon = 'envelope'
    policy_rules = POLICY_UPDATE

    def allowed(self, request, datum=None):
        return datum is not None and datum.pending

    def single(self, table, request, obj_id):
        try:
            mailed, account = account_api.contact_resend_code(
                request, _revision(request), obj_id)
        except account_api.Error as e:
            return _refused(request, e)
        except Exception:
            _failed(request)
        email = account.contact(obj_id).email
        if mailed:
            messages.success(request, _('A new code was mailed to %s.')
                             % email)
        else:
            messages.warning(request, _('The code could not be mailed to '
                                        '%s. Try again later.') % email)
        return shortcuts.redirect(contact_tab_url())


class EditEmail(tables.LinkAction):
    name = 'edit'
    verbose_name = _("Edit")
    classes = ('ajax-modal',)
    icon = 'pencil'
    policy_rules = POLICY_UPDATE

    def get_link_url(self, datum):
        return reverse('horizon:settings:account:update_email',
                       args=[datum.id])


class DeleteEmail(tables.DeleteAction):
    policy_rules = POLICY_UPDATE

    @staticmethod
    def action_present(count):
        return ngettext_lazy("Delete Email", "Delete Emails", count)

    @staticmethod
    def action_past(count):
        return ngettext_lazy("Deleted Email", "Deleted Emails", count)

    def handle(self, table, request, obj_ids):
        # One write for all rows: each write moves the revision on.
        try:
            removed, _account = account_api.contact_delete(
                request, _revision(request), obj_ids)
        except account_api.Error as e:
            return _refused(request, e)
        except Exception:
            _failed(request)
        messages.success(request, _('Deleted %s.') % ', '.join(
            contact.email for contact in removed))
        return shortcuts.redirect(contact_tab_url())


class RoleAction(tables.Action):
    """Give (``enabled``) or take away ``role``; rendered in its column."""

    role = None
    enabled = True
    policy_rules = POLICY_UPDATE

    def single(self, table, request, obj_id):
        try:
            contact, _account = account_api.contact_set_role(
                request, _revision(request), obj_id, self.role,
                self.enabled)
        except account_api.Error as e:
            return _refused(request, e)
        except Exception:
            _failed(request)
        values = {'email': contact.email,
                  'role': account_api.ROLE_LABELS[self.role]}
        if self.enabled:
            message = _('%(email)s now has %(role)s.') % values
        else:
            message = _('%(email)s no longer has %(role)s.') % values
        messages.success(request, message)
        return shortcuts.redirect(contact_tab_url())


def _role_actions():
    actions = []
    for role in account_api.ROLES:
        label = account_api.ROLE_LABELS[role]
        for enabled, verb in ((True, 'grant'), (False, 'revoke')):
            name = '%s_%s' % (verb, role)
            verbose_name = (format_lazy(_('Give {role}'), role=label)
                            if enabled else
                            format_lazy(_('Take away {role}'), role=label))
            actions.append(type(str('RoleAction_' + name), (RoleAction,), {
                'name': name, 'role': role, 'enabled': enabled,
                'verbose_name': verbose_name}))
    return tuple(actions)


ROLE_ACTIONS = _role_actions()


class RoleColumn(tables.Column):
    """On/off for one role; a submit button when the user may change it."""

    def __init__(self, role, **kwargs):
        self.role = role
        super().__init__(lambda datum: datum.has_role(role),
                         verbose_name=account_api.ROLE_LABELS[role],
                         classes=('role-column', 'role-' + role), **kwargs)

    def get_data(self, datum):
        on = datum.has_role(self.role)
        label = account_api.ROLE_LABELS[self.role]
        state = _("on") if on else _("off")
        icon = html.format_html(
            '<span class="fa {} {}" aria-hidden="true"></span>'
            '<span class="sr-only">{}: {}</span>',
            'fa-toggle-on' if on else 'fa-toggle-off',
            'text-success' if on else 'text-muted', label, state)
        table = self.table
        if not table.can_update or (datum.pending and not on):
            return icon
        if on:
            title = _('Take %(role)s away from %(email)s')
        else:
            title = _('Give %(role)s to %(email)s')
        return html.format_html(
            '<button type="submit" name="action" value="{}" title="{}" '
            'aria-pressed="{}" class="btn btn-xs btn-default role-toggle" '
            'data-role="{}" data-contact="{}">{}</button>',
            '%s__%s_%s__%s' % (table.name, 'revoke' if on else 'grant',
                               self.role, datum.id),
            title % {'role': label, 'email': datum.email},
            'true' if on else 'false', self.role, datum.email, icon)


def _status(datum):
    return 'pending' if datum.pending else 'verified'


class AccountTable(tables.DataTable):
    """A table of the account: carries the revision its page shows."""

    revision = None

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.can_update = account_api.can_update(request)

    def get_object_id(self, datum):
        return datum.id


class EmailsTable(AccountTable):
    email = tables.WrappingColumn('email', verbose_name=_("Email"))
    name = tables.Column('name', verbose_name=_("Name"))
    status = tables.Column(_status, verbose_name=_("Status"), status=True,
                           status_choices=(('verified', True),
                                           ('pending', None)),
                           display_choices=STATUS_DISPLAY_CHOICES)
    billing = RoleColumn(account_api.BILLING)
    tech = RoleColumn(account_api.TECH)
    dpo = RoleColumn(account_api.DPO)

    def get_object_display(self, datum):
        return datum.email

    def get_row_actions(self, datum):
        # Role changes are the buttons in the role columns, not menu items.
        return [action for action in super().get_row_actions(datum)
                if not isinstance(action, RoleAction)]

    class Meta(object):
        name = 'emails'
        verbose_name = _("Email addresses")
        template = 'settings/account/_account_table.html'
        hidden_title = False
        status_columns = ['status']
        table_actions = (CreateEmail,)
        row_actions = (VerifyEmail, ResendCode, EditEmail, DeleteEmail) + (
            ROLE_ACTIONS)


class CreatePhone(tables.LinkAction):
    name = 'create'
    verbose_name = _("Add Phone")
    url = 'horizon:settings:account:create_phone'
    classes = ('ajax-modal',)
    icon = 'plus'
    policy_rules = POLICY_UPDATE


class EditPhone(tables.LinkAction):
    name = 'edit'
    verbose_name = _("Edit")
    classes = ('ajax-modal',)
    icon = 'pencil'
    policy_rules = POLICY_UPDATE

    def get_link_url(self, datum):
        return reverse('horizon:settings:account:update_phone',
                       args=[datum.id])


class DeletePhone(tables.DeleteAction):
    policy_rules = POLICY_UPDATE

    @staticmethod
    def action_present(count):
        return ngettext_lazy("Delete Phone", "Delete Phones", count)

    @staticmethod
    def action_past(count):
        return ngettext_lazy("Deleted Phone", "Deleted Phones", count)

    def handle(self, table, request, obj_ids):
        try:
            removed, _account = account_api.phone_delete(
                request, _revision(request), obj_ids)
        except account_api.Error as e:
            return _refused(request, e)
        except Exception:
            _failed(request)
        messages.success(request, _('Deleted %s.') % ', '.join(
            phone.number for phone in removed))
        return shortcuts.redirect(contact_tab_url())


class PhonesTable(AccountTable):
    number = tables.Column('number', verbose_name=_("Phone number"))
    label = tables.Column('label', verbose_name=_("Label"))

    def get_object_display(self, datum):
        return datum.number

    class Meta(object):
        name = 'phones'
        verbose_name = _("Phone List")
        template = 'settings/account/_account_table.html'
        hidden_title = False
        table_actions = (CreatePhone,)
        row_actions = (EditPhone, DeletePhone)
