"""A loopback TCP proxy a test can cut, to take a server away for real.

The lab's Horizon reaches its database through it: ``cut()`` closes the
listener and every live connection (clients see their connection reset,
new ones refused, as when the database host goes away); ``restore()``
listens again on the same port.
"""

import contextlib
import socket
import threading


class TcpProxy(object):
    """Forwards ``127.0.0.1:port`` to ``target`` (host, port)."""

    def __init__(self, target, port=0):
        self.target = target
        self.port = port
        self._listener = None
        self._conns = set()
        self._lock = threading.Lock()
        self._thread = None

    @property
    def running(self):
        return self._listener is not None

    def start(self):
        listener = socket.socket()
        # Blocking whatever socket.setdefaulttimeout() a library set.
        listener.settimeout(None)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(('127.0.0.1', self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._thread = threading.Thread(target=self._accept,
                                        args=(listener,), daemon=True)
        self._thread.start()
        return self

    def cut(self):
        """Stop listening and reset every connection through the proxy."""
        listener, self._listener = self._listener, None
        if listener is not None:
            # shutdown() wakes the accept() of the listening thread.
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
            self._thread.join(5)
        with self._lock:
            conns, self._conns = self._conns, set()
        for sock in conns:
            with contextlib.suppress(OSError):
                # An RST, not a FIN: the client's read fails at once.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                b'\x01\x00\x00\x00\x00\x00\x00\x00')
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def restore(self):
        """Listen again on the same port."""
        if self._listener is None:
            self.start()

    stop = cut

    def _accept(self, listener):
        while True:
            try:
                client, _addr = listener.accept()
            except OSError:
                return  # cut
            client.settimeout(None)
            try:
                upstream = socket.create_connection(self.target, timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._conns.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink),
                                 daemon=True).start()

    def _pump(self, source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        # One side closed: close both, the other pump ends with them.
        with self._lock:
            self._conns.discard(source)
            self._conns.discard(sink)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
