"""Processes of the lab: free ports, waiting for a server, process groups."""

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TOOLS_DIR = os.path.join(REPO_ROOT, 'tools')


# Ports handed out by this process: a port is picked well before its server
# binds it, and the kernel would give the same free port again meanwhile.
_handed_out = set()


def _ephemeral_low():
    try:
        with open('/proc/sys/net/ipv4/ip_local_port_range') as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    """A loopback port free now and not handed out before by this process.

    Taken below the kernel's ephemeral range where there is room: a port
    from that range (what ``bind(0)`` gives) can become the source port of
    any outgoing connection before the lab's server binds it.
    """
    low = min(_ephemeral_low(), 32768)
    rng = random.SystemRandom()
    for _ in range(500):
        # 0: the kernel's choice, where the range leaves no room below.
        wanted = rng.randrange(20000, low) if low > 21000 else 0
        with contextlib.closing(socket.socket()) as sock:
            try:
                sock.bind(('127.0.0.1', wanted))
            except OSError:
                continue
            port = sock.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise RuntimeError('no free loopback port found')


def wait_for_http(url, timeout, proc=None, log=None):
    """Return once ``url`` answers anything; fail with the log otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    tail = ''
    if log and os.path.exists(log):
        with open(log, encoding='utf-8', errors='replace') as f:
            tail = f.read()[-4000:]
    raise RuntimeError('%s did not answer within %ss\n%s'
                       % (url, timeout, tail))


def bin_path(name):
    return os.path.join(os.path.dirname(sys.executable), name)


class Process:
    """A child in its own process group, stopped with everything it started."""

    def __init__(self, args, log, env=None):
        self.log = log
        self._log_file = open(log, 'ab')
        self.popen = subprocess.Popen(
            args, stdout=self._log_file, stderr=subprocess.STDOUT,
            env=env, start_new_session=True)

    def stop(self, timeout=10):
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        self._log_file.close()
