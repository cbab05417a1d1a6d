"""The simulated tenants of ``tox -e load`` (tools/load.py), with locust.

``python -m tools.load_tenants PLAN RESULTS``: a process of its own, since
locust patches the standard library with gevent on import. PLAN (JSON, from
tools/load.py) names Horizon's address, the tenants (user, password,
invoice numbers), the browsing time and the think time. Each tenant logs
in through Horizon's real login form; once all are in, the request times
are recorded for ``seconds``, then locust stops and RESULTS gets, per page
name, every response time (ms) and the error count, and the logins'.

A response is an error when its status is not 2xx, when a page is Horizon's
login form (a lost session) or shows an error message, or when a download
is not of its type.
"""

import json
import random
import sys
import time

import gevent
import gevent.event
from locust import between
from locust.env import Environment
from locust import events
from locust import HttpUser
from locust import task

from tools.lab.login import hidden_inputs

PLAN = {}
STATE = {'recording': False, 'logged_in': 0, 'pages': {},
         'login': {'times': [], 'errors': 0}, 'error_samples': {}}
ALL_IN = gevent.event.Event()

INDEX = '/identity/invoices/'
ACCOUNT_TABS = ('customer', 'contact', 'settings')
# Horizon's error message (horizon/_messages.html).
ERROR_MESSAGE = 'alert alert-danger alert-dismissable'
STATUSES = ('paid', 'outstanding', 'overdue', 'credited')


def page_stats(name):
    return STATE['pages'].setdefault(name, {'times': [], 'errors': 0})


@events.request.add_listener
def on_request(request_type, name, response_time, exception, **kwargs):
    if name == 'login':
        entry = STATE['login']
    elif STATE['recording']:
        entry = page_stats(name)
    else:
        return
    entry['times'].append(response_time)
    if exception is not None:
        entry['errors'] += 1
        samples = STATE['error_samples'].setdefault(name, [])
        if len(samples) < 3:
            samples.append(str(exception)[:300])


def http_error(res):
    """'HTTP 500', or for no answer at all what the client met."""
    if res.status_code == 0 and getattr(res, 'error', None):
        return 'HTTP 0 (%s)' % (res.error,)
    return 'HTTP %d' % res.status_code


def check_page(res):
    if res.status_code // 100 != 2:
        res.failure(http_error(res))
    elif 'id="loginModal"' in res.text or '/auth/login/' in res.url:
        res.failure('the login form: session lost')
    elif ERROR_MESSAGE in res.text:
        message = res.text[res.text.find(ERROR_MESSAGE):]
        message = message[message.find('<p>'):message.find('</p>')]
        res.failure('an error message: %s' % message)
    else:
        res.success()


def check_download(content_type):
    def check(res):
        if res.status_code != 200:
            res.failure(http_error(res))
        elif not res.headers.get('Content-Type', '').startswith(
                content_type):
            res.failure('Content-Type %s, not %s'
                        % (res.headers.get('Content-Type'), content_type))
        elif not res.content:
            res.failure('empty')
        else:
            res.success()
    return check


class Tenant(HttpUser):
    """One project's user: logs in, waits for the others, then browses."""

    # Set from the plan in main().
    wait_time = between(1, 5)

    def on_start(self):
        self.me = PLAN['tenants'].pop()
        self.login()
        STATE['logged_in'] += 1
        if STATE['logged_in'] == len(PLAN['all_tenants']):
            ALL_IN.set()
        ALL_IN.wait()

    def login(self):
        page = self.client.get('/auth/login/', name='login')
        form = dict(hidden_inputs(page.text))
        form.update(username=self.me['username'],
                    password=self.me['password'])
        with self.client.post('/auth/login/', data=form, name='login',
                              headers={'Referer': self.host + '/auth/login/'},
                              catch_response=True) as res:
            if 'class="dropdown user-menu"' not in res.text:
                res.failure('login as %s failed' % self.me['username'])

    def get(self, url, name, check=check_page):
        with self.client.get(url, name=name, catch_response=True) as res:
            check(res)

    def post_filter(self, field, value, name, then):
        """The filter form's POST, then the page it redirects to.

        Horizon keeps the filter in the session and redirects a changed
        filter to the index, which the GET ``then`` measures on its own.
        """
        data = {'invoices__filter__q_field': field,
                'invoices__filter__q': value,
                'action': 'invoices__filter',
                'csrfmiddlewaretoken': self.client.cookies.get('csrftoken')}
        location = None
        with self.client.post(INDEX, data=data, name=name,
                              headers={'Referer': self.host + INDEX},
                              allow_redirects=False,
                              catch_response=True) as res:
            if res.status_code == 302:
                location = res.headers.get('Location')
                res.success()
            else:
                check_page(res)
        if location:
            self.get(location, then)

    def number(self):
        return random.choice(self.me['invoices'])

    # The reference: Horizon's own Settings page, as often as the index.
    @task(4)
    def settings(self):
        self.get('/settings/', 'Settings (Horizon)')

    @task(4)
    def invoices(self):
        self.get(INDEX, 'Invoices index')

    @task(1)
    def filter_status(self):
        self.post_filter('status', random.choice(STATUSES),
                         'Invoices filter: status (POST)',
                         'Invoices index, filtered')
        self.post_filter('status', '', 'Invoices filter: clear (POST)',
                         'Invoices index')

    @task(1)
    def filter_date(self):
        month = random.choice(PLAN['months'])
        value = random.choice([month, '%s..%s' % (PLAN['months'][0], month)])
        self.post_filter('issued', value, 'Invoices filter: date (POST)',
                         'Invoices index, filtered')
        self.post_filter('issued', '', 'Invoices filter: clear (POST)',
                         'Invoices index')

    @task(3)
    def detail(self):
        self.get('%s%s/' % (INDEX, self.number()), 'Invoice detail')

    @task(1)
    def view_pdf(self):
        self.get('%s%s/pdf/' % (INDEX, self.number()), 'View PDF',
                 check_download('application/pdf'))

    @task(1)
    def download_pdf(self):
        self.get('%s%s/download/' % (INDEX, self.number()), 'Download PDF',
                 check_download('application/pdf'))

    @task(1)
    def einvoice(self):
        self.get('%s%s/einvoice/' % (INDEX, self.number()),
                 'Download e-invoice', check_download('application/xml'))

    @task(1)
    def csv(self):
        self.get(INDEX + 'export.csv', 'CSV export',
                 check_download('text/csv'))

    @task(2)
    def account(self):
        tab = random.choice(ACCOUNT_TABS)
        self.get('/settings/account/?tab=account__%s' % tab,
                 'Account settings: %s' % tab)


def main():
    plan_path, results_path = sys.argv[1:3]
    with open(plan_path) as f:
        PLAN.update(json.load(f))
    PLAN['all_tenants'] = list(PLAN['tenants'])
    Tenant.wait_time = between(*PLAN['think'])
    env = Environment(user_classes=[Tenant], host=PLAN['host'],
                      events=events)
    runner = env.create_local_runner()
    count = len(PLAN['all_tenants'])
    runner.start(count, spawn_rate=PLAN['spawn_rate'])
    start = time.monotonic()
    # Logins are slow (Keystone checks each password): allow for them.
    if not ALL_IN.wait(timeout=60 + 5 * count):
        print('Only %d of %d tenants logged in; logins: %d errors'
              % (STATE['logged_in'], count, STATE['login']['errors']))
        runner.quit()
        return 1
    print('  all %d logged in after %.0f s; browsing %.0f s'
          % (count, time.monotonic() - start, PLAN['seconds']), flush=True)
    STATE['recording'] = True
    begin = time.monotonic()
    gevent.sleep(PLAN['seconds'])
    STATE['recording'] = False
    elapsed = time.monotonic() - begin
    runner.quit()
    with open(results_path, 'w') as f:
        json.dump({'seconds': elapsed, 'users': count,
                   'pages': STATE['pages'], 'login': STATE['login'],
                   'error_samples': STATE['error_samples']}, f)
    return 0


if __name__ == '__main__':
    sys.exit(main())
