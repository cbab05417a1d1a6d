"""What the lab's CloudKitty runs on: InfluxDB and a virtualenv of its own.

CloudKitty pins libraries (SQLAlchemy, oslo.*, Flask) that Horizon's and
Keystone's environments need at other versions, so it runs from its own
virtualenv: ``CLEURA_LAB_CLOUDKITTY_VENV``, else
``~/.cache/cleura-billing-lab/cloudkitty-<version>``. It is made on first
use (about 20 s and 260 MB) and reused while its requirements are the
same. InfluxDB 1.x is Debian's ``influxdb`` package, installed with
apt-get (as root or through password-less sudo) when ``influxd`` is
missing; without either, this fails saying what to install.

    python -m tools.lab.cloudkitty_venv [DIR]

makes the virtualenv ahead of a run (CI does it before the tests).
"""

import os
import shutil
import subprocess
import sys

CLOUDKITTY_VERSION = '25.0.0'
# The stack verified in ../shared/notes/cloudkitty-lab.md; CloudKitty is
# pinned, the rest are floors.
REQUIREMENTS = [
    'cloudkitty==%s' % CLOUDKITTY_VERSION,
    'influxdb>=5.3',
    'keystonemiddleware>=10.0',
    'gunicorn>=22.0',
]
INFLUXD = '/usr/bin/influxd'


def default_venv():
    return os.environ.get('CLEURA_LAB_CLOUDKITTY_VENV') or os.path.join(
        os.path.expanduser('~'), '.cache', 'cleura-billing-lab',
        'cloudkitty-%s' % CLOUDKITTY_VERSION)


def ensure(venv=None):
    """The virtualenv's path, made and installed if needed."""
    venv = os.path.abspath(venv or default_venv())
    python = os.path.join(venv, 'bin', 'python')
    stamp = os.path.join(venv, 'cleura-lab-requirements.txt')
    wanted = '\n'.join(REQUIREMENTS) + '\n'
    if os.path.exists(stamp):
        with open(stamp) as f:
            if f.read() == wanted:
                return venv
    if not os.path.exists(python):
        subprocess.run([sys.executable, '-m', 'venv', venv], check=True)
    # Whatever constraints the calling tox env has are not CloudKitty's.
    env = {key: value for key, value in os.environ.items()
           if key not in ('PIP_CONSTRAINT', 'PIP_BUILD_CONSTRAINT',
                          'PYTHONPATH')}
    subprocess.run([python, '-m', 'pip', 'install', '-q'] + REQUIREMENTS,
                   check=True, env=env)
    with open(stamp, 'w') as f:
        f.write(wanted)
    return venv


def ensure_influxdb():
    """Path of ``influxd``, installing Debian's influxdb if missing."""
    if os.path.exists(INFLUXD):
        return INFLUXD
    prefix = []
    if os.geteuid() != 0:
        if not shutil.which('sudo') or subprocess.run(
                ['sudo', '-n', 'true'], capture_output=True).returncode:
            raise RuntimeError('The lab\'s CloudKitty needs the Debian '
                               'package influxdb: apt-get install influxdb')
        prefix = ['sudo', '-n']
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    # The lab runs its own influxd (own config, data and ports); a service
    # Debian may start on install is not used.
    subprocess.run(prefix + ['apt-get', 'update', '-qq'], check=True, env=env)
    subprocess.run(prefix + ['apt-get', 'install', '-y', '-qq', 'influxdb'],
                   check=True, env=env)
    return INFLUXD


def main():
    if len(sys.argv) > 2:
        raise SystemExit('usage: python -m tools.lab.cloudkitty_venv [DIR]')
    ensure_influxdb()
    print(ensure(sys.argv[1] if len(sys.argv) == 2 else None))


if __name__ == '__main__':
    main()
