"""Serve Keystone's public WSGI app on loopback for the demo and the tests.

Keystone 30 ships no keystone-wsgi-public script, and its app factory parses
sys.argv with oslo.config: it must see no arguments but the program name.
One thread, one process: Keystone on SQLite answers "database is locked" to
concurrent writes.
"""

import argparse
import os
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--config-file', required=True)
    parser.add_argument('--port', type=int, required=True)
    args = parser.parse_args()
    os.environ['OS_KEYSTONE_CONFIG_FILES'] = os.path.abspath(args.config_file)
    sys.argv = sys.argv[:1]

    from keystone.server import wsgi
    from werkzeug import serving

    app = wsgi.initialize_public_application()
    serving.run_simple('127.0.0.1', args.port, app, threaded=False,
                       use_reloader=False)


if __name__ == '__main__':
    main()
