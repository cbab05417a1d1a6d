"""The demo: real Keystone + Horizon + this plugin + sample data, on loopback.

Keystone on http://127.0.0.1:5000/v3, Horizon on http://127.0.0.1:8000.
State lives in .demo/ beside this repository and is reused by the next run;
delete it for a fresh start. Runs until Ctrl-C or SIGTERM, then stops every
process it started.

There is no mail server or Stripe account here, so the demo runs the lab's
loopback stand-ins, as the tests do: mail the plugin sends (invoices,
verification codes) is written to .demo/mail/ and announced on the console,
and "Pay by card" goes to a stand-in checkout page whose Pay button notifies
Horizon's webhook as Stripe would. CloudKitty runs too (tools/lab/
cloudkitty.py), with this month so far and 2025-04 rated for acme and
globex: the Invoices panel shows "This month", and 2025-04 can be issued
from it.
"""

import argparse
import datetime
import os
import signal
import socket
import sys
import threading
import time

from tools import lab
from tools.lab import cloudkitty as lab_cloudkitty
from tools.lab import demo_data
from tools.lab import smtp
from tools.lab import stripe_standin
from tools.lab import tcp_proxy

STATE_DIR = os.path.join(lab.REPO_ROOT, '.demo')


class MailDrop(smtp.SmtpServer):
    """The SMTP stand-in, keeping each mail as a file a person can open."""

    def __init__(self, port, folder):
        super().__init__(port)
        self.folder = folder
        os.makedirs(folder, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        name = '%s-%s.eml' % (time.strftime('%Y%m%d-%H%M%S'),
                              len(self.received))
        path = os.path.join(self.folder, name)
        with open(path, 'wb') as f:
            f.write(envelope.original_content or envelope.content)
        print('Mail to %s: %s' % (', '.join(envelope.rcpt_tos), path),
              flush=True)
        return answer


def port_is_free(port):
    with socket.socket() as sock:
        # As the servers do: connections of the last run in TIME_WAIT must
        # not make a free port look taken.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(('127.0.0.1', port))
        except OSError:
            return False
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--keystone-port', type=int, default=5000)
    parser.add_argument('--horizon-port', type=int, default=8000)
    parser.add_argument('--state-dir', default=STATE_DIR)
    parser.add_argument(
        '--postgresql', metavar='DATABASE',
        help='Horizon\'s database (the billing tables with it) on '
             'PostgreSQL at 127.0.0.1:5432 (user postgres), through a '
             'proxy the demo cuts on SIGUSR1 and restores on SIGUSR2, to '
             'see the pages with the database gone.')
    args = parser.parse_args()
    for port in (args.keystone_port, args.horizon_port):
        if not port_is_free(port):
            sys.exit('Port %d on 127.0.0.1 is in use: is a demo already '
                     'running? Stop it, or pass --keystone-port/'
                     '--horizon-port.' % port)

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    print('Starting Keystone and Horizon (state in %s) ...' % args.state_dir,
          flush=True)
    mail = MailDrop(lab.free_port(), os.path.join(args.state_dir, 'mail'))
    mail.start()
    stripe = stripe_standin.StripeStandIn(lab.free_port()).start()
    os.environ['CLEURA_LAB_STRIPE_API_BASE'] = stripe.url
    proxy, options = None, {}
    if args.postgresql:
        proxy = database_proxy(args.postgresql)
        options['postgresql'] = {'NAME': args.postgresql,
                                 'HOST': '127.0.0.1', 'PORT': proxy.port}
    try:
        keystone, horizon = lab.start_lab(
            args.state_dir, args.keystone_port, args.horizon_port,
            smtp_port=mail.port, extra_conf=lab_cloudkitty.BILLING_CONF,
            **options)
    except BaseException:
        stripe.stop()
        mail.stop()
        if proxy:
            proxy.cut()
        raise
    cloudkitty = lab_cloudkitty.CloudKitty(
        os.path.join(args.state_dir, 'cloudkitty'), keystone)
    stripe.webhook_url = horizon.url + stripe_standin.WEBHOOK_PATH
    try:
        for line in lab.load_demo_data(keystone, horizon, credit=True):
            print(line, flush=True)
        # acme shows a saved card (Settings tab); autopay stays off.
        print(demo_data.save_demo_card(keystone, horizon, stripe),
              flush=True)
        print('Starting CloudKitty ...', flush=True)
        cloudkitty.start()
        for line in seed_cloudkitty(cloudkitty):
            print(line, flush=True)
        manage = os.path.join(args.state_dir, 'django-admin')
        horizon.write_manage_script(manage)
        usage = os.path.join(args.state_dir, 'usage.json')
        demo_data.write_sample_usage(keystone, usage)
        print(READY.format(url=horizon.url, keystone=keystone.url,
                           mail=mail.folder, manage=manage, usage=usage),
              flush=True)
        if proxy:
            print(CUT.format(pid=os.getpid()), flush=True)
        stop.wait()
        print('Stopping ...', flush=True)
    finally:
        cloudkitty.stop()
        horizon.stop()
        keystone.stop()
        stripe.stop()
        mail.stop()
        if proxy:
            proxy.cut()
    return 0


def database_proxy(name):
    """A proxy to PostgreSQL's ``name`` (created if missing).

    SIGUSR1 cuts it (tools/lab/tcp_proxy.py), SIGUSR2 restores it.
    """
    import psycopg2
    conn = psycopg2.connect(dbname='postgres', user='postgres',
                            host='127.0.0.1', port=5432)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute('SELECT 1 FROM pg_database WHERE datname = %s',
                       [name])
        if cursor.fetchone() is None:
            cursor.execute('CREATE DATABASE "%s"' % name.replace('"', ''))
    conn.close()
    proxy = tcp_proxy.TcpProxy(('127.0.0.1', 5432)).start()

    def cut(*_args):
        proxy.cut()
        print('The database is cut: reload the pages.', flush=True)

    def restore(*_args):
        proxy.restore()
        print('The database is back.', flush=True)

    signal.signal(signal.SIGUSR1, cut)
    signal.signal(signal.SIGUSR2, restore)
    return proxy


CUT = """Horizon reaches PostgreSQL through a proxy:
  kill -USR1 {pid}   cuts the database (live connections too)
  kill -USR2 {pid}   brings it back
"""


# A month the sample invoices leave free, rated for issuing by hand.
CLOUDKITTY_PERIOD = '2025-04'


def seed_cloudkitty(cloudkitty):
    """Rate this month so far and ``CLOUDKITTY_PERIOD`` for acme, globex."""
    now = datetime.datetime.now(datetime.timezone.utc)
    this_month = now.strftime('%Y-%m')
    cloudkitty.seed(this_month, until=now)
    cloudkitty.seed(CLOUDKITTY_PERIOD)
    yield 'CloudKitty rated %s so far and %s' % (
        this_month, CLOUDKITTY_PERIOD)


READY = """
The demo is ready: {url}  (Keystone: {keystone})

  user    password  project  role
  alice   demo      acme     manager
  bob     demo      acme     member
  carol   demo      acme     reader
  dave    demo      globex   manager
  admin   admin     admin    admin

Mail goes to {mail}; card payments to a Stripe stand-in.
Operator commands run against this demo with {manage}, e.g.
  {manage} billing_issue --usage {usage} --period 2025-03
  {manage} billing_issue --source cloudkitty --period 2025-04

Press Ctrl-C to stop.
"""

if __name__ == '__main__':
    sys.exit(main())
