"""Payment reminders through the lab's real SMTP server.

``billing_issue`` and ``billing_send_reminders`` run as the operator runs
them (cron), on the lab's database, Keystone and configuration; the
reminders arrive at the session's aiosmtpd server (``smtp_server``).
"""

from concurrent import futures
import json
import re

import pytest

from tests.functional.test_account_keystone import project_id
from tests.functional.test_account_keystone import reset

pytestmark = pytest.mark.functional

ADDRESS = 'reminders@globex.example'


def test_reminders_arrive_once_per_step(real_lab, smtp_server, tmp_path):
    reset(real_lab, 'globex', {
        'schema_version': 1,
        'customer': {'name': 'Globex Corporation', 'address': 'Main St 1',
                     'postal_code': '111 22', 'city': 'Stockholm',
                     'country': 'SE'},
        'contacts': [{'id': 'r1', 'email': ADDRESS,
                      'roles': ['billing', 'tech', 'dpo'],
                      'verified': True}],
        'settings': {'delivery': 'attachment', 'language': 'sv'},
    })
    usage = tmp_path / 'usage.json'
    usage.write_text(json.dumps({'projects': [{
        'project_id': project_id(real_lab, 'globex'),
        'lines': [{'product': 'compute', 'region': 'Sto2', 'quantity': 10,
                   'unit': 'h', 'unit_price': '10'}]}]}))
    # Issued far in the future, so no other test's invoice is due first.
    issued = real_lab.horizon.manage('billing_issue', '--usage', str(usage),
                                     '--period', '2039-12',
                                     '--issue-date', '2040-01-02')
    number = re.search(r'Issued (\S+) to', issued.stdout).group(1)
    smtp_server.wait_for(ADDRESS)  # the invoice itself

    # The lab keeps the 30 days' terms: due 2040-02-01, +7 days.
    first = real_lab.horizon.manage('billing_send_reminders',
                                    '--date', '2040-02-08')
    assert ('Queued reminder +7 days of %s to %s' % (number, ADDRESS)
            in first.stdout), first.stdout
    assert 'Mailed %s to %s' % (number, ADDRESS) in first.stdout
    # Every unpaid globex invoice in the lab (the demo's, other tests') is
    # overdue by 2040 and reminded to ADDRESS too: count this run's mail.
    sent = len(smtp_server.to(ADDRESS))
    again = real_lab.horizon.manage('billing_send_reminders',
                                    '--date', '2040-02-08')
    assert number not in again.stdout, again.stdout
    assert len(smtp_server.to(ADDRESS)) == sent  # nothing mailed twice

    # In the account's language. (Django folds a long non-ASCII subject
    # right after "Subject:", which unfolds to a leading space.)
    [reminder] = [mail for mail in smtp_server.to(ADDRESS)
                  if mail.subject.strip().startswith('Påminnelse:')
                  and number in mail.subject]
    assert reminder.subject.strip() == (
        'Påminnelse: faktura %s från Cleura Demo AB är förfallen' % number
    ), reminder.subject
    assert re.search(r'\b125,00\b', reminder.text), reminder.text
    [(filename, content_type, pdf)] = reminder.attachments()
    assert (filename, content_type) == (number + '.pdf', 'application/pdf')
    assert pdf.startswith(b'%PDF')
    subjects = [mail.subject.strip() for mail in smtp_server.to(ADDRESS)]
    assert len(subjects) == len(set(subjects)), subjects


def test_two_runs_at_once_send_each_reminder_once(real_lab, smtp_server,
                                                  tmp_path):
    """Cron overlapping a manual run, on the lab's shared database."""
    address = 'overlap@acme.example'
    reset(real_lab, 'acme', {
        'schema_version': 1,
        'customer': {'name': 'Acme AB', 'address': 'Storgatan 1',
                     'postal_code': '111 22', 'city': 'Stockholm',
                     'country': 'SE'},
        'contacts': [{'id': 'o1', 'email': address,
                      'roles': ['billing', 'tech', 'dpo'],
                      'verified': True}],
        'settings': {'delivery': 'link', 'language': 'en'},
    })
    usage = tmp_path / 'usage.json'
    usage.write_text(json.dumps({'projects': [{
        'project_id': project_id(real_lab, 'acme'),
        'lines': [{'product': 'compute', 'region': 'Sto2', 'quantity': 10,
                   'unit': 'h', 'unit_price': '10'}]}]}))
    issued = real_lab.horizon.manage('billing_issue', '--usage', str(usage),
                                     '--period', '2040-05',
                                     '--issue-date', '2040-06-01')
    number = re.search(r'Issued (\S+) to', issued.stdout).group(1)
    smtp_server.wait_for(address)

    # Due 2040-07-01; both runs find the +7 step due.
    with futures.ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(
            lambda _: real_lab.horizon.manage(
                'billing_send_reminders', '--date', '2040-07-08',
                check=False), range(2)))
    for run in runs:
        assert run.returncode == 0, run.stderr
    output = ''.join(run.stdout for run in runs)
    queued = 'Queued reminder +7 days of %s to %s' % (number, address)
    mailed = 'Mailed %s to %s' % (number, address)
    assert output.count(queued) == 1, output
    assert output.count(mailed) == 1, output
    # Other unpaid acme invoices in the lab are reminded too; none twice.
    subjects = [mail.subject.strip() for mail in smtp_server.to(address)]
    assert len(subjects) == len(set(subjects)), subjects
    [reminder] = [mail for mail in smtp_server.to(address)
                  if mail.subject.strip().startswith('Reminder:')
                  and number in mail.subject]
    assert reminder.subject.strip() == ('Reminder: invoice %s from Cleura '
                                        'Demo AB is overdue' % number)
    assert reminder.attachments() == []  # the account takes a link
