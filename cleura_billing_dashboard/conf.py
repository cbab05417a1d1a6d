"""Every configuration option of the plugin, in one place (oslo.config).

Long because it is the one list: the config sample and the reference
documentation are generated from ``list_opts()``.

The file is read once per process from, in this order: the Horizon setting
``CLEURA_BILLING_CONFIG_FILE``, the environment variable
``CLEURA_BILLING_CONFIG_FILE``, then
``/etc/cleura-billing/cleura-billing.conf``.
A missing file leaves every option at its default; a file named by
``CLEURA_BILLING_CONFIG_FILE`` that does not exist is logged as a warning,
as are options the loaded file sets that take no effect.
``tox -e genconfig`` writes ``etc/cleura-billing.conf.sample`` from
``list_opts()``.
"""

import decimal
import logging
import os
import re
import threading

from oslo_config import cfg
from oslo_config import types

from cleura_billing_dashboard.i18n import _

LOG = logging.getLogger(__name__)

DEFAULT_CONFIG_FILE = '/etc/cleura-billing/cleura-billing.conf'

billing_group = cfg.OptGroup(
    'billing', title=_('Invoicing'),
    help=_('How invoices are numbered, priced and dated.'))
billing_opts = [
    cfg.StrOpt('currency', default='SEK', regex=r'^[A-Z]{3}$',
               help=_('ISO 4217 code of the currency invoices are issued '
                      'in.')),
    cfg.IntOpt('payment_terms_days', default=30, min=0, max=365,
               help=_('Days between the issue date and the due date.')),
    cfg.StrOpt('default_vat_rate', default='25',
               regex=r'^\d{1,2}(\.\d{1,2})?$',
               help=_('VAT rate in percent for usage lines that name none.')),
    cfg.StrOpt('number_series', default='{year}-',
               regex=r'^[^{}]*(\{year\})?[^{}]*$',
               help=_('Prefix of invoice numbers; "{year}" is replaced by '
                      'the issue year. Each prefix is its own gap-free '
                      'sequence.')),
    cfg.IntOpt('number_digits', default=6, min=1, max=12,
               help=_('Digits of the sequence part of an invoice number, '
                      'zero-padded.')),
]

seller_group = cfg.OptGroup(
    'seller', title=_('Seller'),
    help=_('The operator as printed on every invoice.'))
seller_opts = [
    cfg.StrOpt('name', default='Example Cloud AB',
               help=_('Legal name of the seller.')),
    cfg.StrOpt('address', default='Example street 1',
               help=_('Street address of the seller.')),
    cfg.StrOpt('postal_code', default='111 22', help=_('Postal code.')),
    cfg.StrOpt('city', default='Stockholm', help=_('City.')),
    cfg.StrOpt('country', default='SE',
               help=_('ISO 3166 two-letter country code.')),
    cfg.StrOpt('org_number', default='556677-8899',
               help=_('Organisation number of the seller.')),
    cfg.StrOpt('vat_number', default='SE556677889901',
               help=_('VAT registration number of the seller.')),
    cfg.StrOpt('email', default='billing@example.com',
               help=_('Address invoice mail is sent from and replies go '
                      'to.')),
    cfg.StrOpt('bankgiro', default='5050-1055',
               help=_('Bankgiro number printed for bank transfers.')),
    cfg.StrOpt('iban', default='SE4550000000058398257466',
               help=_('IBAN printed for bank transfers.')),
    cfg.StrOpt('bic', default='ESSESESS',
               help=_('BIC (SWIFT) of the bank holding the IBAN.')),
    cfg.StrOpt('peppol_id', regex=r'^[0-9]{4}:\S+$',
               help=_('Peppol participant id of the seller as '
                      'scheme:identifier, e.g. 0007:5566778899 (a Swedish '
                      'organisation number), sent as the seller\'s '
                      'electronic address in Peppol BIS 3.0 e-invoices. '
                      'Default: org_number under its country\'s Peppol '
                      'scheme (Sweden 0007, Norway 0192, Denmark 0184).')),
]


# Standard VAT rates of the 27 member states in 2026, in percent, by ISO 3166
# code (Greece GR, which VAT numbers and the Commission write EL). Source:
# European Commission, "VAT rates applied in the Member States of the
# European Union" (taxation-customs.ec.europa.eu), the standard rates in
# force in 2026, e.g. Finland 25.5 (since 1 September 2024), Slovakia 23
# (since 1 January 2025), Estonia 24 (since 1 July 2025), Romania 21 (since
# 1 August 2025). Check the list again when a member state changes a rate.
OSS_RATE_DEFAULTS = {
    'AT': '20', 'BE': '21', 'BG': '20', 'CY': '19', 'CZ': '21', 'DE': '19',
    'DK': '25', 'EE': '24', 'ES': '21', 'FI': '25.5', 'FR': '20',
    'GR': '24', 'HR': '25', 'HU': '27', 'IE': '23', 'IT': '22', 'LT': '21',
    'LU': '17', 'LV': '21', 'MT': '18', 'NL': '21', 'PL': '23', 'PT': '23',
    'RO': '21', 'SE': '25', 'SI': '22', 'SK': '23',
}
_RATE = re.compile(r'^\d{1,2}(\.\d{1,2})?$')


class VatRates(types.Dict):
    """``CC:rate,...``: a standard VAT rate for each of the 27 member states.

    Keys are ISO 3166 codes (``EL`` is read as ``GR``), values percentages
    such as ``25`` or ``25.5``; the result maps codes to Decimals. Every
    member state must be named, and nothing else.
    """

    def __init__(self):
        super().__init__(type_name='VAT rates by country')

    def __call__(self, value):
        rates = {}
        for key, rate in super().__call__(value).items():
            code = key.strip().upper()
            code = 'GR' if code == 'EL' else code
            if code not in OSS_RATE_DEFAULTS:
                raise ValueError('%s is not the ISO 3166 code of an EU '
                                 'member state' % key)
            if code in rates:
                raise ValueError('%s is named twice' % code)
            text = str(rate).strip()
            if isinstance(rate, float) or not _RATE.match(text):
                raise ValueError('the rate of %s, %r, is not a percentage '
                                 'such as 25 or 25.5' % (code, rate))
            rates[code] = decimal.Decimal(text)
        missing = sorted(set(OSS_RATE_DEFAULTS) - set(rates))
        if missing:
            raise ValueError('no rate for %s: name all 27 member states'
                             % ', '.join(missing))
        return rates


vat_group = cfg.OptGroup(
    'vat', title=_('VAT'),
    help=_('VAT of buyers in other EU member states.'))
vat_opts = [
    cfg.Opt('oss_rates', type=VatRates(), default=OSS_RATE_DEFAULTS,
            help=_('Standard VAT rate in percent of each EU member state, '
                   'as CC:rate pairs separated by commas (ISO 3166 codes; '
                   'EL is read as GR): consumers in another member state '
                   'than the seller are charged their state\'s rate '
                   '(One-Stop Shop). Name all 27 member states. The '
                   'defaults are the standard rates of 2026 from the '
                   'European Commission\'s list "VAT rates applied in the '
                   'Member States of the European Union".')),
]


keystone_service_group = cfg.OptGroup(
    'keystone_service', title=_('Keystone service credentials'),
    help=_('The Keystone user the plugin writes billing accounts with. '
           'Keystone lets only admins update projects, so the plugin '
           'writes its one project attribute with these credentials, '
           'after its own policy allowed the Horizon user. Without an '
           'auth_url, billing accounts are read-only and invoices are '
           'issued without buyer details or mail.'))
keystone_service_opts = [
    cfg.StrOpt('auth_url',
               help=_('Keystone v3 URL, e.g. http://keystone:5000/v3.')),
    cfg.StrOpt('username', help=_('Service user name.')),
    cfg.StrOpt('password', secret=True, help=_('Service user password.')),
    cfg.StrOpt('project_name', help=_('Project the service user is '
                                      'scoped to.')),
    cfg.StrOpt('user_domain_name', default='Default',
               help=_('Domain of the service user.')),
    cfg.StrOpt('project_domain_name', default='Default',
               help=_('Domain of the service project.')),
    cfg.StrOpt('interface', default='public',
               choices=['public', 'internal', 'admin'],
               help=_('Catalog interface of the identity endpoint used for '
                      'project reads and writes.')),
    cfg.StrOpt('cafile',
               help=_('CA bundle to verify Keystone\'s certificate; default: '
                      'the system\'s.')),
    cfg.IntOpt('timeout', default=10, min=1, max=300,
               help=_('Seconds to wait for Keystone before the page says '
                      'it is unreachable.')),
]

mail_group = cfg.OptGroup(
    'mail', title=_('Mail'),
    help=_('Invoice mail and address verification. Mail goes through '
           'Django\'s email backend (EMAIL_* settings of Horizon).'))
mail_opts = [
    cfg.StrOpt('from_address',
               help=_('Sender of invoice and verification mail; default: '
                      '[seller] email.')),
    cfg.IntOpt('verification_code_lifetime', default=30, min=1, max=1440,
               help=_('Minutes a mailed verification code stays valid.')),
    cfg.IntOpt('verification_code_attempts', default=5, min=1, max=20,
               help=_('Wrong verification codes an address may have '
                      'entered in one hour, across all the codes mailed '
                      'to it in the project: then checks and new codes '
                      'for it are refused until the oldest wrong code is '
                      'an hour old.')),
    cfg.IntOpt('verification_resend_interval', default=60, min=0,
               max=3600,
               help=_('Seconds before another code may be mailed to the '
                      'same address.')),
    cfg.IntOpt('verification_codes_per_hour', default=10, min=1, max=100,
               help=_('Verification codes mailed for one project in one '
                      'hour, to all its addresses together; more are '
                      'refused until the oldest is an hour old.')),
    cfg.StrOpt('invoice_link_base_url',
               help=_('Public Horizon URL (e.g. https://dashboard.example.'
                      'com) that invoice links start with. Without it, '
                      'projects that chose a link get the PDF attached.')),
    cfg.StrOpt('invoice_link_path', default='/identity/invoices/{number}/pdf/',
               help=_('Path of an invoice\'s PDF in Horizon, after '
                      'invoice_link_base_url; {number} is the invoice '
                      'number.')),
    cfg.IntOpt('retry_max_delay', default=3600, min=60, max=86400,
               help=_('Longest wait in seconds between two attempts to '
                      'send a mail the SMTP server did not accept.')),
]


class ReminderSchedule(types.List):
    """``-3,7,21``: days relative to an invoice's due date, each once.

    Negative is before the due date, positive after; the result is sorted.
    """

    def __init__(self):
        super().__init__(item_type=types.Integer(min=-365, max=365),
                         type_name='days relative to the due date')

    def __call__(self, value):
        days = super().__call__(value)
        if len(set(days)) != len(days):
            raise ValueError('a day is named twice in %r' % (value,))
        return sorted(days)


reminders_group = cfg.OptGroup(
    'reminders', title=_('Payment reminders'),
    help=_('Reminders that billing_send_reminders (run daily from cron) '
           'mails to the verified Billing addresses of projects with '
           'unpaid invoices.'))
reminders_opts = [
    cfg.Opt('schedule', type=ReminderSchedule(), default=[-3, 7, 21],
            help=_('When to remind, in days relative to the due date: '
                   'negative before it, positive after it, 0 on the day '
                   '(-365 to 365). Each step is mailed once per invoice '
                   'and address; a run that finds several steps due mails '
                   'only the latest. Empty: no reminders.')),
]


payments_group = cfg.OptGroup(
    'payments', title=_('Payments'),
    help=_('How customers pay invoices from the Pay dialog.'))
payments_opts = [
    cfg.ListOpt('enabled_providers', default=['bank_transfer'],
                help=_('Payment providers offered, in this order: names of '
                       'entry points in the namespace '
                       'cleura_billing.payment_providers. Shipped: '
                       'bank_transfer, stripe.')),
]

stripe_group = cfg.OptGroup(
    'stripe', title=_('Stripe'),
    help=_('Card payments through Stripe Checkout. Register the webhook '
           'https://<horizon>/cleura-billing/stripe/webhook/ in Stripe for '
           'the events checkout.session.completed, '
           'checkout.session.async_payment_succeeded, '
           'checkout.session.async_payment_failed and '
           'checkout.session.expired.'))
stripe_opts = [
    cfg.StrOpt('api_key', secret=True,
               help=_('Secret API key (``sk_live_...`` or a restricted key '
                      'that may write Checkout Sessions). Without it, '
                      'card payments are not offered.')),
    cfg.StrOpt('webhook_secret', secret=True,
               help=_('Signing secret of the webhook endpoint '
                      '(``whsec_...``); notifications not signed with it '
                      'are refused.')),
    cfg.StrOpt('api_base', default='https://api.stripe.com',
               help=_('Base URL of the Stripe API; change it only for a '
                      'test stand-in such as stripe-mock.')),
    cfg.ListOpt('payment_method_types', default=['card'],
                help=_('Payment methods the Checkout page offers.')),
    cfg.StrOpt('return_url_base',
               help=_('Public Horizon URL (e.g. https://dashboard.example.'
                      'com) customers return to from Stripe, paid or '
                      'cancelled; default: the address they used.')),
    cfg.IntOpt('webhook_tolerance', default=300, min=1, max=86400,
               help=_('Seconds a signed notification stays valid; older '
                      'signatures are refused as replays.')),
    cfg.IntOpt('timeout', default=30, min=1, max=300,
               help=_('Seconds to wait for the Stripe API.')),
    cfg.IntOpt('max_network_retries', default=2, min=0, max=5,
               help=_('Retries of a failed Stripe API request; safe, as '
                      'every request carries an idempotency key.')),
]

autopay_group = cfg.OptGroup(
    'autopay', title=_('Automatic card payments'),
    help=_('New invoices of projects that saved a card and turned on '
           '"pay new invoices automatically" are charged to the card by '
           'billing_autopay (run after billing_issue, and daily from '
           'cron). Needs [stripe]; register the webhook for the events '
           'payment_intent.succeeded and checkout.session.completed too.'))
autopay_opts = [
    cfg.ListOpt('retry_days', default=['1', '3', '7'],
                item_type=cfg.types.Integer(min=0, max=365),
                help=_('After a declined charge, or one the card issuer '
                       'wants the customer to confirm, the Billing '
                       'contacts are mailed a link to pay by hand and the '
                       'card is charged again after these days, counted '
                       'from each failure. After the last one, not again. '
                       'Empty: one attempt only.')),
    cfg.StrOpt('pay_link_path', default='/identity/invoices/{number}/',
               help=_('Path of the page where an invoice is paid by hand, '
                      'after [mail] invoice_link_base_url; {number} is '
                      'the invoice number.')),
]

pdf_group = cfg.OptGroup(
    'pdf', title=_('Invoice PDF'),
    help=_('How invoice and credit note PDFs are rendered.'))
pdf_opts = [
    cfg.StrOpt('fonts_dir', default='',
               help=_('Directory holding DejaVuSans.ttf and '
                      'DejaVuSans-Bold.ttf, the fonts every PDF is set in '
                      'and embeds. Empty: the copies bundled with the '
                      'plugin. Distribution packages set it to the '
                      'system\'s DejaVu fonts, e.g. '
                      '``/usr/share/fonts/truetype/dejavu``. While either '
                      'file is missing there, no invoice is issued.')),
]


cloudkitty_group = cfg.OptGroup(
    'cloudkitty', title=_('CloudKitty'),
    help=_('Issuing invoices from the usage CloudKitty rated '
           '(billing_issue --source cloudkitty). CloudKitty is read with '
           'the [keystone_service] credentials, which need the admin role '
           'in CloudKitty to read every project; its v2 summary is read '
           'for the period\'s calendar month in UTC. The Invoices '
           'panel\'s "This month" card reads it with the user\'s own '
           'token, for the user\'s project and region, and is shown only '
           'when the user\'s catalog has a service_type endpoint there.'))
cloudkitty_opts = [
    cfg.MultiStrOpt(
        'mapping', default=[],
        help=_('What a CloudKitty rating type is invoiced as, one entry '
               'per type, repeated for each type: '
               '"TYPE | PRODUCT | UNIT | VAT | DESCRIPTION", e.g. '
               '"instance | compute.{flavor_name} | h | 25 | '
               '{flavor_name} instance". VAT is a percentage (empty: '
               '[billing] default_vat_rate); DESCRIPTION is optional '
               '(default: the product). PRODUCT and DESCRIPTION may name '
               'the fields of groupby in braces. A line\'s amount is '
               'what CloudKitty rated, rounded to the cent; its quantity '
               'is CloudKitty\'s, in the unit the CloudKitty metric '
               'counts in (its metrics.yml). A type CloudKitty rated '
               'that is not mapped stops the run: nothing is issued.')),
    cfg.ListOpt(
        'groupby', default=[],
        help=_('Fields (CloudKitty groupby keys, e.g. flavor_name) a type '
               'is split by into several lines, besides project and '
               'type.')),
    cfg.ListOpt(
        'regions', default=[],
        help=_('Regions whose CloudKitty is read, each the region name on '
               'the invoice lines. Empty: every region with a CloudKitty '
               '(service_type) endpoint in the Keystone catalog.')),
    cfg.DictOpt(
        'endpoints', default={},
        help=_('CloudKitty URLs by region, as region:url pairs separated '
               'by commas, used instead of the Keystone catalog\'s, e.g. '
               'RegionOne:http://cloudkitty.example:8889.')),
    cfg.StrOpt('service_type', default='rating',
               help=_('Service type of CloudKitty in the Keystone '
                      'catalog.')),
    cfg.StrOpt('interface', default='public',
               choices=['public', 'internal', 'admin'],
               help=_('Catalog interface of the CloudKitty endpoints.')),
    cfg.IntOpt('timeout', default=60, min=1, max=600,
               help=_('Seconds to wait for each CloudKitty request before '
                      'the run stops, issuing nothing.')),
    cfg.FloatOpt('card_timeout', default=1.5, min=0.1, max=30,
                 help=_('Seconds the Invoices page waits for CloudKitty '
                        'for its "This month" card; then the page shows '
                        '"cost estimate unavailable" instead.')),
    cfg.IntOpt('card_cache_seconds', default=60, min=0, max=3600,
               help=_('Seconds the "This month" card\'s figures are kept '
                      '(Django cache, per project and region) before '
                      'CloudKitty is asked again. 0: asked on every '
                      'page.')),
    cfg.IntOpt('card_failure_cache_seconds', default=15, min=0, max=3600,
               help=_('Seconds a CloudKitty failure or timeout is kept, so '
                      'that a hanging CloudKitty does not add its timeout '
                      'to every reload of the Invoices page.')),
]


def list_opts():
    """Options by group, for oslo-config-generator."""
    return [
        (billing_group, billing_opts),
        (seller_group, seller_opts),
        (vat_group, vat_opts),
        (keystone_service_group, keystone_service_opts),
        (mail_group, mail_opts),
        (reminders_group, reminders_opts),
        (payments_group, payments_opts),
        (stripe_group, stripe_opts),
        (autopay_group, autopay_opts),
        (pdf_group, pdf_opts),
        (cloudkitty_group, cloudkitty_opts),
    ]


CONF = cfg.ConfigOpts()
for _group, _opts in list_opts():
    CONF.register_group(_group)
    CONF.register_opts(_opts, group=_group)

_lock = threading.Lock()
_loaded = False


def _named_config_file():
    """The config file's path and what named it (None: the default)."""
    try:
        from django.conf import settings
        path = getattr(settings, 'CLEURA_BILLING_CONFIG_FILE', None)
    except Exception:  # Django not configured: an operator command
        path = None
    if path:
        return path, 'the Horizon setting CLEURA_BILLING_CONFIG_FILE'
    path = os.environ.get('CLEURA_BILLING_CONFIG_FILE')
    if path:
        return path, 'the environment variable CLEURA_BILLING_CONFIG_FILE'
    return DEFAULT_CONFIG_FILE, None


def config_file():
    """Path of the config file this process reads (it may not exist)."""
    return _named_config_file()[0]


def get_conf():
    """The parsed configuration; the file is read on first use.

    Loading logs a warning for a file named by ``CLEURA_BILLING_CONFIG_FILE``
    that does not exist, and for options that the loaded values make
    ineffective (see ``_warn_about_ignored_options``).
    """
    global _loaded
    with _lock:
        if not _loaded:
            path, named_by = _named_config_file()
            if os.path.exists(path):
                files = [path]
            else:
                files = []
                if named_by:
                    # A typo here would silently leave every default.
                    LOG.warning('The config file %s, named by %s, does not '
                                'exist: every option of the plugin has its '
                                'default.', path, named_by)
            CONF([], project='cleura-billing', default_config_files=files,
                 use_env=False)
            # Parsed now: a bad VAT table fails at load, naming the file.
            CONF.vat.oss_rates
            _warn_about_ignored_options(CONF)
            _loaded = True
    return CONF


def _warn_about_ignored_options(conf):
    keystone = conf.keystone_service
    if (keystone.username or keystone.password) and not keystone.auth_url:
        LOG.warning('[keystone_service] has credentials but no auth_url: '
                    'they are ignored, billing accounts are read-only and '
                    'invoices are issued without buyer details or mail.')
