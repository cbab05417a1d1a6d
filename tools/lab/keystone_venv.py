"""A virtualenv of its own for the lab's Keystone.

The lab runs the newest Keystone whatever Horizon it tests. The tox envs for
older OpenStack releases (``tox -e horizon-2025.1`` ...) install Horizon,
Django and the oslo libraries as that release's upper-constraints pin them,
and the newest Keystone needs newer oslo libraries than those: it cannot
share their virtualenv. Those envs run::

    python -m tools.lab.keystone_venv DIR

and set ``CLEURA_LAB_KEYSTONE_VENV=DIR``, so the lab (tools/lab/keystone.py)
runs keystone-manage and Keystone's server from DIR. Keystone and the tests
only talk HTTP. DIR is made once; later runs only check it with pip. The
requirements are the lines of test-requirements.txt that name Keystone and
the WSGI server it is served with, so the floors are written once.
"""

import os
import subprocess
import sys

from tools.lab.process import REPO_ROOT

# Project names in test-requirements.txt that the Keystone virtualenv gets.
KEYSTONE_PROJECTS = ('keystone', 'werkzeug')


def keystone_requirements(path=None):
    path = path or os.path.join(REPO_ROOT, 'test-requirements.txt')
    found = []
    with open(path) as f:
        for line in f:
            spec = line.split('#', 1)[0].strip()
            name = spec.split('>', 1)[0].split('=', 1)[0].split('<', 1)[0]
            if name.strip().lower() in KEYSTONE_PROJECTS:
                found.append(spec)
    if len(found) != len(KEYSTONE_PROJECTS):
        raise SystemExit('%s names %s, not all of %s'
                         % (path, found, ', '.join(KEYSTONE_PROJECTS)))
    return found


def ensure(venv):
    python = os.path.join(venv, 'bin', 'python')
    if not os.path.exists(python):
        subprocess.run([sys.executable, '-m', 'venv', venv], check=True)
    # The release envs constrain their own installs to that release; the
    # lab's Keystone is the newest, whatever those constraints say.
    env = {key: value for key, value in os.environ.items()
           if key not in ('PIP_CONSTRAINT', 'PIP_BUILD_CONSTRAINT')}
    subprocess.run([python, '-m', 'pip', 'install', '-q']
                   + keystone_requirements(), check=True, env=env)


def main():
    if len(sys.argv) != 2:
        raise SystemExit('usage: python -m tools.lab.keystone_venv DIR')
    ensure(os.path.abspath(sys.argv[1]))


if __name__ == '__main__':
    main()
