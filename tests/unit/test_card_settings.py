"""The saved card on the Settings tab: shown, saved, replaced, removed,
autopay on and off, with ``billing:payment_method:*`` on every action.

Keystone is the in-memory ``FakeKeystone`` (see test_account_facade);
Stripe is the stand-in; the webhook is posted signed, as Stripe does.
"""

from django import test as django_test
from django.urls import reverse

from cleura_billing_dashboard.payments.models import SavedCard
from tests import factories
from tests.unit import test_account_facade as fakes
from tests.unit.test_account_panel import AccountPaneTestCase
from tools.lab import stripe_standin

SETTINGS_URL = (reverse('horizon:settings:account:index') +
                '?tab=account__settings')
SAVE_URL = reverse('horizon:settings:account:card_save')
REMOVE_URL = reverse('horizon:settings:account:card_remove')
AUTOPAY_URL = reverse('horizon:settings:account:card_autopay')


class CardTestCase(stripe_standin.StandInMixin, AccountPaneTestCase):

    def setUp(self):
        super().setUp()
        self.seed(factories.account_document())

    def save_card(self, number='4242424242424242'):
        """Save, Stripe's page, the signed webhook: the Settings tab."""
        res = self.client.post(SAVE_URL)
        self.assertEqual(302, res.status_code)
        checkout = res['Location']
        self.assertTrue(checkout.startswith(self.standin.url + '/pay/'))
        session_id = checkout.rsplit('/', 1)[1]
        session = self.standin.sessions[session_id]
        self.assertTrue(session['success_url'].endswith(
            SETTINGS_URL + '&card=saved'))
        event = self.standin.complete_setup(session_id, number, 9, 2032,
                                            deliver=False)
        body, signature = self.standin.signed(event)
        stripe = django_test.Client(enforce_csrf_checks=True)
        hook = stripe.post(stripe_standin.WEBHOOK_PATH, data=body,
                           content_type='application/json',
                           HTTP_STRIPE_SIGNATURE=signature)
        self.assertEqual({'outcome': 'updated'}, hook.json())
        return self.client.get(SETTINGS_URL)


@fakes.POLICY_ON
class CardSettingsTests(CardTestCase):

    def setUp(self):
        super().setUp()
        self.as_role('manager')

    def test_no_card_offers_save(self):
        res = self.client.get(SETTINGS_URL)
        self.assertContains(res, 'No card is saved.')
        self.assertContains(res, 'id="card_save"')
        self.assertNotContains(res, 'id="card_remove"')

    def test_a_saved_card_shows_brand_last_four_and_expiry(self):
        res = self.save_card()
        self.assertContains(
            res, '<dd class="saved-card-number">Visa '
                 '&bull;&bull;&bull;&bull; 4242</dd>', html=False)
        self.assertContains(res, '<dd class="saved-card-expiry">09/2032</dd>')
        self.assertContains(res, 'id="card_autopay_on"')
        self.assertContains(res, 'id="card_replace"')
        self.assertContains(res, 'id="card_remove"')
        self.assertNotContains(res, '4242424242424242')

    def test_autopay_on_and_off(self):
        self.save_card()
        res = self.client.post(AUTOPAY_URL, {'autopay': 'on'})
        self.assertRedirectsNoFollow(res, SETTINGS_URL)
        self.assertTrue(SavedCard.objects.get().autopay)
        page = self.client.get(SETTINGS_URL)
        self.assertContains(page, 'New invoices are paid automatically')
        self.assertContains(page, 'id="card_autopay_off"')
        self.client.post(AUTOPAY_URL, {'autopay': 'off'})
        self.assertFalse(SavedCard.objects.get().autopay)

    def test_autopay_without_a_card_is_refused_with_a_message(self):
        res = self.client.post(AUTOPAY_URL, {'autopay': 'on'}, follow=True)
        self.assertContains(res, 'There is no saved card')
        self.assertFalse(SavedCard.objects.filter(autopay=True).exists())

    def test_remove(self):
        self.save_card()
        res = self.client.post(REMOVE_URL, follow=True)
        self.assertContains(res, 'The saved card was removed')
        self.assertContains(res, 'No card is saved.')

    def test_stripe_down_shows_a_message_and_saves_nothing(self):
        self.standin.fail_next(1, status=500)
        res = self.client.post(SAVE_URL, follow=True)
        self.assertContains(res, 'The card service cannot be reached')
        self.assertFalse(SavedCard.objects.exists())

    def test_another_projects_card_is_not_shown(self):
        SavedCard.objects.create(project_id='another-project',
                                 provider='stripe', customer_id='cus_x',
                                 payment_method_id='pm_x', brand='visa',
                                 last4='1881', exp_month=1, exp_year=2030)
        res = self.client.get(SETTINGS_URL)
        self.assertNotContains(res, '1881')
        self.assertContains(res, 'No card is saved.')


@fakes.POLICY_ON
class CardPolicyTests(CardTestCase):

    def test_readers_and_members_see_the_card_without_actions(self):
        self.as_role('manager')
        self.save_card()
        for role in ('reader', 'member'):
            self.as_role(role)
            res = self.client.get(SETTINGS_URL)
            self.assertContains(res, 'saved-card-number')
            for action in ('card_save', 'card_replace', 'card_remove',
                           'card_autopay_on'):
                self.assertNotContains(res, 'id="%s"' % action)
            for url, data in ((SAVE_URL, {}), (REMOVE_URL, {}),
                              (AUTOPAY_URL, {'autopay': 'on'})):
                self.assertEqual(403, self.client.post(url, data).status_code)
        card = SavedCard.objects.get()
        self.assertEqual((True, False), (card.has_card, card.autopay))
        self.assertEqual(1, len(self.standin.sessions))
