"""Processes of the lab: free ports, waiting for a server, process groups."""

import contextlib
import os
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


def free_port():
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


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
