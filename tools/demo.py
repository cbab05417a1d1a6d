"""The demo: real Keystone + Horizon + this plugin + sample data, on loopback.

Keystone on http://127.0.0.1:5000/v3, Horizon on http://127.0.0.1:8000.
State lives in .demo/ beside this repository and is reused by the next run;
delete it for a fresh start. Runs until Ctrl-C or SIGTERM, then stops every
process it started.
"""

import argparse
import os
import signal
import socket
import sys
import threading

import lab

STATE_DIR = os.path.join(lab.REPO_ROOT, '.demo')


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
    keystone, horizon = lab.start_lab(args.state_dir, args.keystone_port,
                                      args.horizon_port)
    try:
        for line in lab.load_demo_data(keystone, horizon):
            print(line, flush=True)
        print(READY.format(url=horizon.url, keystone=keystone.url),
              flush=True)
        stop.wait()
        print('Stopping ...', flush=True)
    finally:
        horizon.stop()
        keystone.stop()
    return 0


READY = """
The demo is ready: {url}  (Keystone: {keystone})

  user    password  project  role
  alice   demo      acme     manager
  bob     demo      acme     member
  carol   demo      acme     reader
  dave    demo      globex   manager
  admin   admin     admin    admin

Press Ctrl-C to stop.
"""

if __name__ == '__main__':
    sys.exit(main())
