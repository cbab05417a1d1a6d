"""The VAT treatment of an invoice, decided per buyer (billing/vat.py)."""

import decimal
import unittest

from django.test import override_settings
from django.utils import translation
from oslo_config import cfg

from cleura_billing_dashboard.billing import vat
from cleura_billing_dashboard import conf
from tests import fresh_conf

D = decimal.Decimal
RATES = conf.OSS_RATE_DEFAULTS


class TestDecide(unittest.TestCase):

    def test_a_buyer_in_the_seller_s_country_keeps_the_line_s_rate(self):
        treatment = vat.decide('SE', 'SE', 'SE556677889901', RATES)

        self.assertEqual(treatment, vat.Treatment(kind='domestic',
                                                  category='S'))
        self.assertIsNone(treatment.rate)
        self.assertEqual(vat.line_rate(treatment, D('12')), D('12'))
        self.assertEqual(vat.line_rate(treatment, '25'), D('25'))

    def test_a_domestic_consumer_too(self):
        self.assertEqual(vat.decide('SE', 'se', '', RATES).kind, 'domestic')

    def test_an_eu_business_with_a_valid_number_is_reverse_charged(self):
        treatment = vat.decide('SE', 'DE', 'de 136 695 976', RATES)

        self.assertEqual(treatment.kind, 'reverse_charge')
        self.assertEqual(treatment.category, 'AE')
        self.assertEqual(treatment.rate, D('0'))
        self.assertEqual(treatment.exemption_reason_code, 'VATEX-EU-AE')
        self.assertEqual(str(treatment.exemption_reason),
                         'Reverse charge (Article 196 of Directive '
                         '2006/112/EC)')
        self.assertEqual(treatment.buyer_vat_number, 'DE136695976')
        self.assertEqual(vat.line_rate(treatment, D('25')), D('0'))

    def test_a_number_of_another_country_is_refused(self):
        with self.assertRaises(vat.InvalidVatNumber) as caught:
            vat.decide('SE', 'FR', 'DE136695976', RATES)

        self.assertEqual(caught.exception.code, 'vat_number_country')
        self.assertEqual(str(caught.exception),
                         "The VAT number DE136695976 is not one of the "
                         "buyer's country: it must start with FR.")

    def test_a_number_with_a_wrong_check_digit_is_refused(self):
        with self.assertRaises(vat.InvalidVatNumber) as caught:
            vat.decide('SE', 'DE', 'DE136695977', RATES)

        self.assertEqual(caught.exception.code, 'vat_number_invalid')
        self.assertIn('DE136695977', str(caught.exception))

    def test_a_number_that_is_not_one_at_all_is_refused(self):
        with self.assertRaises(vat.InvalidVatNumber):
            vat.decide('SE', 'DE', '-', RATES)
        with self.assertRaises(vat.InvalidVatNumber):
            vat.decide('SE', 'DE', 'DE12', RATES)

    def test_an_eu_consumer_pays_the_rate_of_their_country(self):
        treatment = vat.decide('SE', 'FR', None, RATES)

        self.assertEqual(treatment, vat.Treatment(kind='oss', category='S',
                                                  rate=D('20')))
        self.assertIsNone(treatment.exemption_reason_code)
        self.assertIsNone(treatment.buyer_vat_number)
        self.assertEqual(vat.line_rate(treatment, D('25')), D('20'))
        self.assertEqual(vat.decide('SE', 'FI', '  ', RATES).rate,
                         D('25.5'))

    def test_greece_is_gr_as_a_country_and_el_in_vat_numbers(self):
        business = vat.decide('SE', 'GR', 'EL094259216', RATES)
        self.assertEqual(business.kind, 'reverse_charge')
        self.assertEqual(business.buyer_vat_number, 'EL094259216')
        self.assertEqual(vat.decide('SE', 'EL', 'EL094259216', RATES),
                         business)
        with self.assertRaises(vat.InvalidVatNumber) as caught:
            vat.decide('SE', 'GR', 'GR094259216', RATES)
        self.assertIn('EL', str(caught.exception))

        self.assertEqual(vat.decide('SE', 'GR', '', RATES).rate, D('24'))
        self.assertEqual(vat.decide('SE', 'GR', '', {'EL': '24'}).rate,
                         D('24'))

    def test_a_greek_seller_is_domestic_to_a_greek_buyer(self):
        self.assertEqual(vat.decide('GR', 'GR', '', RATES).kind, 'domestic')

    def test_a_buyer_outside_the_eu_is_not_charged_eu_vat(self):
        for buyer, number in (('US', '12-3456789'), ('NO', ''),
                              ('GB', 'GB980780684'), ('CH', None)):
            treatment = vat.decide('SE', buyer, number, RATES)

            self.assertEqual(treatment.kind, 'outside_eu')
            self.assertEqual(treatment.category, 'G')
            self.assertEqual(treatment.rate, D('0'))
            self.assertEqual(treatment.exemption_reason_code, 'VATEX-EU-G')
            self.assertTrue(str(treatment.exemption_reason).startswith(
                'Export outside the EU'))
            self.assertIsNone(treatment.buyer_vat_number)

    def test_a_rate_of_the_table_wins(self):
        rates = dict(RATES, FR='19.6')
        self.assertEqual(vat.decide('SE', 'FR', '', rates).rate, D('19.6'))

    def test_a_country_missing_from_the_table_is_an_error(self):
        rates = {code: rate for code, rate in RATES.items() if code != 'FR'}

        with self.assertRaises(vat.MissingOssRate) as caught:
            vat.decide('SE', 'FR', '', rates)

        self.assertEqual(caught.exception.code, 'oss_rate_missing')
        self.assertIn('FR', str(caught.exception))
        self.assertIn('oss_rates', str(caught.exception))

    def test_a_seller_outside_the_eu_is_a_configuration_error(self):
        with self.assertRaises(ValueError):
            vat.decide('NO', 'SE', '', RATES)

    def test_rates_are_decimals_never_floats(self):
        with self.assertRaises(TypeError):
            vat.decide('SE', 'FR', '', {'FR': 20.0})
        with self.assertRaises(TypeError):
            vat.line_rate(vat.decide('SE', 'SE', '', RATES), 25.0)
        with self.assertRaises(ValueError):
            vat.decide('SE', 'FR', '', {'FR': 'twenty'})

    def test_the_member_states_are_the_27(self):
        self.assertEqual(len(vat.EU_MEMBER_STATES), 27)
        self.assertEqual(set(RATES), vat.EU_MEMBER_STATES)

    def test_the_treatment_is_frozen(self):
        treatment = vat.decide('SE', 'FR', '', RATES)
        with self.assertRaises(AttributeError):
            treatment.rate = D('25')


class TestSwedish(unittest.TestCase):

    def test_the_wording_is_translated(self):
        reverse = vat.decide('SE', 'DE', 'DE136695976', RATES)
        outside = vat.decide('SE', 'US', '', RATES)
        with translation.override('sv'):
            self.assertEqual(str(reverse.exemption_reason),
                             'Omvänd betalningsskyldighet (artikel 196 i '
                             'direktiv 2006/112/EG)')
            self.assertTrue(str(outside.exemption_reason).startswith(
                'Export utanför EU'))

    def test_the_errors_are_translated_when_shown(self):
        with self.assertRaises(vat.InvalidVatNumber) as caught:
            vat.decide('SE', 'FR', 'DE136695976', RATES)
        with self.assertRaises(vat.MissingOssRate) as missing:
            vat.decide('SE', 'FR', '', {})
        with translation.override('sv'):
            self.assertEqual(str(caught.exception),
                             'Momsregistreringsnumret DE136695976 hör inte '
                             'till köparens land: det ska börja med FR.')
            self.assertIn('FR', str(missing.exception))
            self.assertIn('momssats', str(missing.exception))


class TestConfig(fresh_conf.FreshConfTestCase):
    """``[vat] oss_rates``: defaults, a file's table, and bad values."""

    def setUp(self):
        super().setUp()
        self.path = self.write_config('')
        settings = override_settings(CLEURA_BILLING_CONFIG_FILE=self.path)
        settings.enable()
        self.addCleanup(settings.disable)

    def load(self, oss_rates=None, seller_country=None):
        with open(self.path, 'w') as f:
            if seller_country:
                f.write('[seller]\ncountry = %s\n' % seller_country)
            if oss_rates is not None:
                f.write('[vat]\noss_rates = %s\n' % oss_rates)
        return conf.get_conf()

    @staticmethod
    def table(**changes):
        rates = dict(RATES, **changes)
        return ','.join('%s:%s' % item for item in rates.items())

    def test_the_defaults_are_the_27_standard_rates_as_decimals(self):
        rates = self.load().vat.oss_rates

        self.assertEqual(set(rates), vat.EU_MEMBER_STATES)
        self.assertEqual(rates['FI'], D('25.5'))
        self.assertEqual(rates['EE'], D('24'))
        self.assertEqual(rates['SK'], D('23'))
        self.assertEqual(rates['RO'], D('21'))
        self.assertTrue(all(isinstance(rate, D) for rate in rates.values()))

    def test_the_file_s_table_overrides_a_rate(self):
        settings = self.load(self.table(FR='19.6'))

        self.assertEqual(settings.vat.oss_rates['FR'], D('19.6'))
        self.assertEqual(vat.decide_from_config('FR', '').rate, D('19.6'))
        self.assertEqual(vat.decide_from_config('DE', '').rate, D('19'))

    def test_the_seller_country_comes_from_the_seller_section(self):
        self.load(seller_country='FR')

        self.assertEqual(vat.decide_from_config('FR', '').kind, 'domestic')
        self.assertEqual(vat.decide_from_config('SE', '').rate, D('25'))

    def test_el_names_greece(self):
        text = self.table().replace('GR:24', 'el:23')

        self.assertEqual(self.load(text).vat.oss_rates['GR'], D('23'))

    def assert_refused(self, text, *words):
        with self.assertRaises(cfg.ConfigFileValueError) as caught:
            self.load(text)
        message = str(caught.exception)
        self.assertIn('oss_rates', message)
        self.assertIn(self.path, message)
        for word in words:
            self.assertIn(word, message)

    def test_a_table_missing_a_member_state_fails_at_load(self):
        self.assert_refused('FR:20,DE:19', 'no rate for', 'SE')

    def test_a_bad_rate_fails_at_load(self):
        self.assert_refused(self.table(FR='twenty'), 'FR', 'twenty')
        self.assert_refused(self.table(FR='120'), 'FR')
        self.assert_refused(self.table(FR='-1'), 'FR')

    def test_a_country_outside_the_eu_fails_at_load(self):
        self.assert_refused(self.table(NO='25'), 'NO')

    def test_a_country_named_twice_fails_at_load(self):
        self.assert_refused(self.table() + ',el:24', 'GR')

    def test_not_a_table_fails_at_load(self):
        self.assert_refused('25', 'NAME:VALUE')
