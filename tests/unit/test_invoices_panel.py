"""The Invoices panel with Horizon's test helpers and a real billing store."""

import datetime
import hashlib
from unittest import mock

from django.db import OperationalError
from django.test.utils import override_settings
from django.urls import reverse

from openstack_dashboard.test import helpers as test

from cleura_billing_dashboard.billing import ledger
from cleura_billing_dashboard.billing import models
from cleura_billing_dashboard.billing import reminders
from cleura_billing_dashboard import notify
from tests import factories
from tests.unit import helpers

INDEX_URL = reverse('horizon:identity:invoices:index')
TODAY = datetime.date.today()
POLICY_ON = override_settings(
    POLICY_CHECK_FUNCTION='openstack_auth.policy.check')


def issue_for(project_id, period, lines=None, issue_date=None):
    """An instance and a volume for a month, issued on TODAY by default."""
    return factories.issue_invoice(
        project_id, period, lines or factories.instance_and_volume(),
        today=issue_date or TODAY)


class InvoicesPanelTests(test.TestCase):

    def setUp(self):
        super().setUp()
        project = self.tenant.id
        long_ago = TODAY - datetime.timedelta(days=90)
        self.paid = issue_for(project, '2026-01', issue_date=long_ago)
        ledger.record_payment(self.paid, self.paid.total, provider='manual',
                              reference='paid-in-full')
        self.overdue = issue_for(project, '2026-02', issue_date=long_ago)
        self.outstanding = issue_for(project, '2026-03')
        self.other = issue_for('another-project', '2026-03')

    def test_index_lists_the_projects_invoices_newest_first(self):
        res = self.client.get(INDEX_URL)
        self.assertTemplateUsed(res, 'identity/invoices/index.html')
        numbers = [row.number for row in res.context['table'].data]
        self.assertEqual([self.outstanding.number, self.overdue.number,
                          self.paid.number], numbers)
        self.assertNotContains(res, self.other.number)
        for header in ('Type', 'Invoice No', 'Outstanding Amount',
                       'Invoice Date', 'Due Date', 'Total'):
            self.assertContains(res, header)

    def test_paid_row_has_green_tick_and_zero_outstanding(self):
        res = self.client.get(INDEX_URL)
        row = self._row_html(res, self.paid.number)
        self.assertIn('fa-check-circle text-success', row)
        self.assertIn('SEK0.00', row.replace('\xa0', ''))

    def test_overdue_row_is_marked_in_a_warning_colour(self):
        res = self.client.get(INDEX_URL)
        row = self._row_html(res, self.overdue.number)
        self.assertIn('fa-exclamation-triangle text-warning', row)

    def test_amounts_follow_the_users_language(self):
        res = self.client.get(INDEX_URL, HTTP_ACCEPT_LANGUAGE='sv')
        row = self._row_html(res, self.outstanding.number)
        # 744 * 0.45 + 100 * 1.10 = 444.80 net, 556.00 with 25 % VAT.
        self.assertIn('556,00\xa0kr', row)

    def test_pay_action_only_on_outstanding_rows(self):
        res = self.client.get(INDEX_URL)
        pay = reverse('horizon:identity:invoices:pay',
                      args=[self.paid.number])
        self.assertNotContains(res, pay)
        self.assertContains(res, reverse('horizon:identity:invoices:pay',
                                         args=[self.overdue.number]))

    def test_every_url_of_another_projects_invoice_is_404(self):
        for name in ('detail', 'pdf', 'download', 'einvoice', 'pay'):
            url = reverse('horizon:identity:invoices:' + name,
                          args=[self.other.number])
            self.assertEqual(404, self.client.get(url).status_code, name)

    def test_view_pdf_serves_the_stored_bytes_inline(self):
        res = self.client.get(reverse('horizon:identity:invoices:pdf',
                                      args=[self.outstanding.number]))
        self.assertEqual('application/pdf', res['Content-Type'])
        self.assertTrue(res['Content-Disposition'].startswith('inline'))
        stored = models.Invoice.objects.get(pk=self.outstanding.pk)
        self.assertEqual(stored.pdf_sha256,
                         hashlib.sha256(res.content).hexdigest())

    def test_download_pdf_is_an_attachment_named_after_the_number(self):
        res = self.client.get(reverse('horizon:identity:invoices:download',
                                      args=[self.outstanding.number]))
        self.assertEqual('attachment; filename="%s.pdf"'
                         % self.outstanding.number,
                         res['Content-Disposition'])
        self.assertTrue(res.content.startswith(b'%PDF'))

    def test_download_einvoice_serves_the_stored_ubl(self):
        res = self.client.get(reverse('horizon:identity:invoices:einvoice',
                                      args=[self.outstanding.number]))
        self.assertEqual(200, res.status_code)
        self.assertEqual('application/xml', res['Content-Type'])
        self.assertEqual('attachment; filename="%s.xml"'
                         % self.outstanding.number,
                         res['Content-Disposition'])
        stored = models.EInvoice.objects.get(invoice=self.outstanding)
        self.assertEqual(stored.sha256,
                         hashlib.sha256(res.content).hexdigest())
        self.assertIn('<cbc:ID>%s</cbc:ID>' % self.outstanding.number,
                      res.content.decode())

    def test_download_einvoice_is_a_row_action_and_on_the_detail_page(self):
        url = reverse('horizon:identity:invoices:einvoice',
                      args=[self.paid.number])
        row = self._row_html(self.client.get(INDEX_URL), self.paid.number)
        self.assertIn('href="%s"' % url, row)
        self.assertIn('Download e-invoice', row)
        res = self.client.get(reverse('horizon:identity:invoices:detail',
                                      args=[self.paid.number]))
        self.assertContains(res, 'href="%s"' % url)

    def test_an_unknown_number_has_no_einvoice(self):
        res = self.client.get(reverse('horizon:identity:invoices:einvoice',
                                      args=['2026-999999']))
        self.assertEqual(404, res.status_code)

    def test_a_failing_database_on_einvoice_download_shows_a_message(self):
        url = reverse('horizon:identity:invoices:einvoice',
                      args=[self.outstanding.number])
        with mock.patch('cleura_billing_dashboard.billing.einvoices.'
                        'project_ubl', side_effect=OperationalError('down')):
            res = self.client.get(url, follow=True)
        self.assertEqual(200, res.status_code)
        self.assertEqual([(INDEX_URL, 302)], res.redirect_chain)
        self.assertContains(res, 'Unable to retrieve the e-invoice.')

    def test_detail_shows_lines_totals_and_payments(self):
        res = self.client.get(reverse('horizon:identity:invoices:detail',
                                      args=[self.paid.number]))
        self.assertContains(res, 'Block storage')
        self.assertContains(res, 'paid-in-full')
        self.assertContains(res, 'SEK556.00')

    def test_detail_names_payment_method_and_state_in_words(self):
        url = reverse('horizon:identity:invoices:detail',
                      args=[self.paid.number])
        res = self.client.get(url)
        payments = res.content.decode().split('invoice-payments')[1]
        self.assertIn('<td>Recorded by the operator</td>', payments)
        self.assertIn('<td>Settled</td>', payments)
        self.assertNotIn('<td>manual</td>', payments)
        res = self.client.get(url, HTTP_ACCEPT_LANGUAGE='sv')
        payments = res.content.decode().split('invoice-payments')[1]
        self.assertIn('<td>Genomförd</td>', payments)
        self.assertIn('<td>Registrerad av operatören</td>', payments)

    def test_detail_shows_an_overpayment_as_credit(self):
        ledger.record_payment(self.outstanding,
                              self.outstanding.total + 100,
                              provider='manual', reference='too-much')
        res = self.client.get(reverse('horizon:identity:invoices:detail',
                                      args=[self.outstanding.number]))
        self.assertContains(res, '<dt>Credit</dt>')
        self.assertContains(res, 'SEK100.00')

    def test_detail_of_a_domestic_invoice_has_no_vat_note(self):
        res = self.client.get(reverse('horizon:identity:invoices:detail',
                                      args=[self.outstanding.number]))
        self.assertNotContains(res, 'invoice-vat-note')

    def vat_invoice(self, period, buyer):
        return factories.issue_invoice(
            self.tenant.id, period, factories.instance_and_volume(),
            today=TODAY, buyer_lookup=lambda project: buyer)

    def test_detail_and_pay_modal_show_a_reverse_charge(self):
        invoice = self.vat_invoice('2026-04', dict(
            factories.ACME, country='DE', vat_number='DE136695976'))
        for name in ('detail', 'pay'):
            res = self.client.get(reverse('horizon:identity:invoices:' +
                                          name, args=[invoice.number]))
            note = res.content.decode().split('invoice-vat-note')[1]
            self.assertIn('Reverse charge (Article 196 of Directive '
                          '2006/112/EC)', note)
            self.assertIn("Buyer's VAT no.", note)
            self.assertIn('DE136695976', note)
            self.assertContains(res, 'VAT 0 %')

    def test_detail_shows_an_oss_rate_and_an_export_in_words(self):
        oss = self.vat_invoice('2026-04', dict(factories.ACME, country='FR'))
        export = self.vat_invoice('2026-05', dict(factories.ACME,
                                                  country='US'))
        res = self.client.get(reverse('horizon:identity:invoices:detail',
                                      args=[oss.number]),
                              HTTP_ACCEPT_LANGUAGE='sv')
        self.assertContains(res, 'Moms enligt köparlandets momssats, FR '
                                 '(One Stop Shop)')
        res = self.client.get(reverse('horizon:identity:invoices:pay',
                                      args=[export.number]))
        note = res.content.decode().split('invoice-vat-note')[1]
        self.assertIn('Export outside the EU', note)
        self.assertNotIn('VAT no.', note)

    def test_overdue_banner_counts_and_links_to_the_overdue_invoices(self):
        res = self.client.get(INDEX_URL)
        self.assertContains(res, 'invoices-overdue')
        self.assertContains(res, '1 invoice is overdue: SEK556.00 '
                                 'outstanding.')
        res = self.client.get(INDEX_URL, HTTP_ACCEPT_LANGUAGE='sv')
        self.assertContains(res, '1 faktura är förfallen: 556,00\xa0kr att '
                                 'betala.')
        res = self.client.get(INDEX_URL + '?status=overdue')
        self.assertRedirects(res, INDEX_URL, fetch_redirect_response=False)
        res = self.client.get(INDEX_URL)
        self.assertEqual([self.overdue.number],
                         [row.number for row in res.context['table'].data])

    def test_no_overdue_banner_when_nothing_is_overdue(self):
        ledger.record_payment(self.overdue, self.overdue.total,
                              provider='manual', reference='late')
        self.assertNotContains(self.client.get(INDEX_URL),
                               'invoices-overdue')

    def test_detail_lists_the_reminders_sent(self):
        url = reverse('horizon:identity:invoices:detail',
                      args=[self.overdue.number])
        self.assertNotContains(self.client.get(url), 'invoice-reminders')
        for step in (-3, 7):
            notify.queue_reminder(
                number=self.overdue.number, project_id=self.tenant.id,
                step=step, recipients=['ap@example.com'], pdf=b'%PDF-1.4',
                summary={'outstanding': '556.00', 'currency': 'SEK'})
        notify.send_pending(still_due=reminders.still_due)
        reminders_html = self.client.get(url).content.decode().split(
            'invoice-reminders')[1]
        self.assertIn('3 days before the due date', reminders_html)
        self.assertIn('7 days after the due date', reminders_html)
        self.assertIn('<td>ap@example.com</td>', reminders_html)

    def test_pay_modal_shows_the_dues_and_bank_transfer(self):
        res = self.client.get(reverse('horizon:identity:invoices:pay',
                                      args=[self.overdue.number]))
        self.assertTemplateUsed(res, 'identity/invoices/pay.html')
        self.assertContains(res, 'compute.m1.small')
        self.assertContains(res, self.overdue.payment_reference)
        self.assertContains(res, 'This invoice was due on')

    def test_paying_a_paid_invoice_is_refused_with_a_message(self):
        res = self.client.get(reverse('horizon:identity:invoices:pay',
                                      args=[self.paid.number]))
        self.assertRedirectsNoFollow(res, INDEX_URL)

    def test_filter_by_status(self):
        self.client.post(INDEX_URL, {
            'invoices__filter__q_field': 'status',
            'invoices__filter__q': 'overdue',
            'action': 'invoices__filter'})
        res = self.client.get(INDEX_URL)
        self.assertEqual([self.overdue.number],
                         [row.number for row in res.context['table'].data])

    def test_filter_by_status_as_the_table_shows_it_in_swedish(self):
        self.client.post(INDEX_URL, {
            'invoices__filter__q_field': 'status',
            'invoices__filter__q': 'Förfallen',
            'action': 'invoices__filter'}, HTTP_ACCEPT_LANGUAGE='sv')
        res = self.client.get(INDEX_URL, HTTP_ACCEPT_LANGUAGE='sv')
        self.assertEqual([self.overdue.number],
                         [row.number for row in res.context['table'].data])

    def test_a_bad_filter_says_why(self):
        self.client.post(INDEX_URL, {
            'invoices__filter__q_field': 'issued',
            'invoices__filter__q': 'last tuesday',
            'action': 'invoices__filter'})
        res = self.client.get(INDEX_URL)
        self.assertEqual([], list(res.context['table'].data))
        self.assertMessageCount(res, error=1)
        self.assertContains(res, 'is not a date')

    def test_an_overlong_filter_is_refused_and_not_kept(self):
        # Horizon keeps a server filter in the session; in a signed-cookie
        # session a 10,000-character value made every later request too
        # large for gunicorn (431).
        self.client.post(INDEX_URL, {
            'invoices__filter__q_field': 'number',
            'invoices__filter__q': self.paid.number,
            'action': 'invoices__filter'})
        res = self.client.post(INDEX_URL, {
            'invoices__filter__q_field': 'number',
            'invoices__filter__q': '9' * 10000,
            'action': 'invoices__filter'}, follow=True)
        self.assertContains(res, 'A filter has at most 64 characters.')
        self.assertNotIn('9' * 100, ''.join(
            str(value) for value in self.client.session.values()))
        self.assertEqual([self.paid.number],
                         [row.number for row in res.context['table'].data])
        res = self.client.get(reverse('horizon:identity:invoices:csv'))
        self.assertEqual(2, len(res.content.decode().strip().splitlines()))

    def test_a_filter_as_long_as_useful_is_kept(self):
        value = '2026-01-01..2026-03-31'
        self.client.post(INDEX_URL, {
            'invoices__filter__q_field': 'issued',
            'invoices__filter__q': value,
            'action': 'invoices__filter'})
        self.assertEqual(value,
                         self.client.session['invoices__filter__q'])

    def test_csv_export_lists_the_filtered_invoices(self):
        self.client.post(INDEX_URL, {
            'invoices__filter__q_field': 'number',
            'invoices__filter__q': self.paid.number,
            'action': 'invoices__filter'})
        res = self.client.get(reverse('horizon:identity:invoices:csv'))
        lines = res.content.decode().strip().splitlines()
        self.assertEqual(2, len(lines))
        self.assertIn(self.paid.number, lines[1])
        self.assertIn('Paid', lines[1])

    def test_a_failing_database_shows_a_message_not_a_500(self):
        with mock.patch('cleura_billing_dashboard.billing.queries.'
                        'invoice_page', side_effect=OperationalError('down')):
            res = self.client.get(INDEX_URL)
        self.assertEqual(200, res.status_code)
        self.assertMessageCount(res, error=1)
        self.assertContains(res, 'Unable to retrieve the invoices.')

    def test_the_index_works_without_its_banner_when_the_count_fails(self):
        with mock.patch('cleura_billing_dashboard.billing.queries.'
                        'overdue_totals',
                        side_effect=OperationalError('down')):
            res = self.client.get(INDEX_URL)
        self.assertEqual(200, res.status_code)
        self.assertNotContains(res, 'invoices-overdue')
        self.assertMessageCount(res, error=0)
        self.assertEqual([self.outstanding.number, self.overdue.number,
                          self.paid.number],
                         [row.number for row in res.context['table'].data])

    def credit_div(self, res):
        return res.content.decode().split('invoices-credit')[1].split(
            '</div>')[0].replace('\xa0', ' ')

    def test_index_shows_the_projects_credit(self):
        ledger.record_payment(self.paid, 125, provider='manual',
                              reference='twice')
        res = self.client.get(INDEX_URL)
        self.assertIn('Credit: SEK125.00, taken off your next invoice.',
                      ' '.join(self.credit_div(res).split()))
        res = self.client.get(INDEX_URL, HTTP_ACCEPT_LANGUAGE='sv')
        self.assertIn('125,00 kr', self.credit_div(res))

    def test_no_credit_line_without_credit(self):
        ledger.record_payment(self.other, 999,
                              provider='manual', reference='theirs')
        self.assertNotContains(self.client.get(INDEX_URL), 'invoices-credit')

    def test_the_index_works_without_its_credit_line_when_it_fails(self):
        with mock.patch('cleura_billing_dashboard.billing.credit.'
                        'project_credits',
                        side_effect=OperationalError('down')):
            res = self.client.get(INDEX_URL)
        self.assertEqual(200, res.status_code)
        self.assertNotContains(res, 'invoices-credit')
        self.assertEqual(3, len(res.context['table'].data))

    def test_detail_shows_the_credit_applied_at_issue(self):
        ledger.record_payment(self.paid, 100, provider='manual',
                              reference='too-much')
        after = issue_for(self.tenant.id, '2026-04')
        res = self.client.get(reverse('horizon:identity:invoices:detail',
                                      args=[after.number]))
        self.assertContains(res, '<dt>Credit applied</dt>')
        self.assertContains(res, 'invoice-credit-applied">SEK100.00</dd>')
        # 556.00 less the 100.00 of credit.
        self.assertContains(res, '<dt>Outstanding</dt><dd>SEK456.00</dd>')
        self.assertNotContains(self.client.get(INDEX_URL), 'invoices-credit')
        res = self.client.get(reverse('horizon:identity:invoices:detail',
                                      args=[self.outstanding.number]))
        self.assertNotContains(res, 'Credit applied')

    def test_paging_uses_the_last_number_as_marker(self):
        with override_settings(API_RESULT_PAGE_SIZE=2):
            first = self.client.get(INDEX_URL)
            rows = list(first.context['table'].data)
            self.assertEqual(2, len(rows))
            self.assertContains(first, '?marker=' + rows[-1].number)
            second = self.client.get(INDEX_URL + '?marker=' + rows[-1].number)
        self.assertEqual([self.paid.number],
                         [row.number for row in second.context['table'].data])

    def _row_html(self, res, number):
        text = res.content.decode()
        start = text.index('id="invoices__row__%s"' % number)
        return text[start:text.index('</tr>', start)]


@POLICY_ON
class InvoicesPolicyTests(helpers.RoleMixin, test.TestCase):

    def setUp(self):
        super().setUp()
        self.invoice = issue_for(self.tenant.id, '2026-03')

    def test_a_reader_lists_and_downloads_but_cannot_pay(self):
        self.as_role('reader')
        res = self.client.get(INDEX_URL)
        self.assertEqual(200, res.status_code)
        pay = reverse('horizon:identity:invoices:pay',
                      args=[self.invoice.number])
        self.assertNotContains(res, pay)
        for name in ('download', 'einvoice'):
            self.assertEqual(200, self.client.get(reverse(
                'horizon:identity:invoices:' + name,
                args=[self.invoice.number])).status_code, name)
        self.assertNotEqual(200, self.client.get(pay).status_code)

    def test_a_member_may_pay(self):
        self.as_role('member')
        res = self.client.get(INDEX_URL)
        self.assertContains(res, reverse('horizon:identity:invoices:pay',
                                         args=[self.invoice.number]))

    def test_the_overdue_banner_is_for_members_who_can_pay(self):
        issue_for(self.tenant.id, '2026-01',
                  issue_date=TODAY - datetime.timedelta(days=90))
        self.as_role('reader')
        self.assertNotContains(self.client.get(INDEX_URL),
                               'invoices-overdue')
        self.as_role('member')
        self.assertContains(self.client.get(INDEX_URL), 'invoices-overdue')

    def test_no_role_no_panel(self):
        self.as_role('some-other-role')
        res = self.client.get(INDEX_URL)
        self.assertNotEqual(200, res.status_code)

    def test_no_role_no_einvoice(self):
        self.as_role('some-other-role')
        res = self.client.get(reverse('horizon:identity:invoices:einvoice',
                                      args=[self.invoice.number]))
        self.assertNotEqual(200, res.status_code)
        self.assertNotIn(b'<cbc:ID>', res.content)
