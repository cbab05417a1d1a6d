"""The lab's free ports: never the same twice, never one in use."""

import contextlib
import socket

from tools.lab import process


def test_a_port_is_handed_out_once_even_while_it_is_still_free():
    ports = [process.free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    for port in ports:
        # Still free: nothing here bound them, yet none came back twice.
        with contextlib.closing(socket.socket()) as sock:
            sock.bind(('127.0.0.1', port))


def test_a_port_in_use_is_not_handed_out(monkeypatch):
    with contextlib.closing(socket.socket()) as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        busy = taken.getsockname()[1]
        choices = iter([busy, busy + 1 if busy < 65535 else busy - 1])

        class Fixed(object):
            def randrange(self, low, high):
                return next(choices)

        monkeypatch.setattr(process.random, 'SystemRandom', Fixed)
        monkeypatch.setattr(process, '_ephemeral_low', lambda: 32768)
        assert process.free_port() != busy


def test_ports_come_from_below_the_ephemeral_range():
    low = min(process._ephemeral_low(), 32768)
    if low > 21000:
        assert all(20000 <= process.free_port() < low for _ in range(20))
    else:  # a machine with a wide ephemeral range: the kernel's choice
        assert process.free_port() > 0
