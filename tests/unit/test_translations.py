"""The Swedish catalog: complete, compiled, and used by the pages."""

import gettext
import os

from babel.messages import pofile
from django.urls import reverse

from openstack_dashboard.test import helpers as test

from cleura_billing_dashboard import i18n

CATALOG = os.path.join(i18n.locale_dir(), 'sv', 'LC_MESSAGES')


def test_every_message_has_a_swedish_translation():
    with open(os.path.join(CATALOG, 'django.po'), 'rb') as f:
        catalog = pofile.read_po(f)
    missing = [message.id for message in catalog
               if message.id and not all(
                   message.string if isinstance(message.string, tuple)
                   else [message.string])]
    assert missing == []


def test_the_compiled_catalog_matches_the_po_file():
    with open(os.path.join(CATALOG, 'django.po'), 'rb') as f:
        catalog = pofile.read_po(f)
    with open(os.path.join(CATALOG, 'django.mo'), 'rb') as f:
        compiled = gettext.GNUTranslations(f)
    for message in catalog:
        if message.id and not message.pluralizable and not message.context:
            assert compiled.gettext(message.id) == message.string, message.id


def test_messages_of_the_domain_and_commands_are_in_the_catalog():
    # Below the views, strings go through oslo.i18n's ``_``: extraction
    # must find them too.
    with open(os.path.join(CATALOG, 'django.po'), 'rb') as f:
        catalog = pofile.read_po(f)
    assert catalog.get('Nothing to issue: every project already has an '
                       'invoice for %s').string
    assert catalog.get('Invoicing').string


class SwedishPagesTests(test.TestCase):

    def test_invoices_page_speaks_swedish(self):
        res = self.client.get(reverse('horizon:identity:invoices:index'),
                              HTTP_ACCEPT_LANGUAGE='sv')
        self.assertContains(res, 'Fakturanr')
        self.assertContains(res, 'Förfallodatum')
