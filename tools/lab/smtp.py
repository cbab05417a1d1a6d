"""A real SMTP server for the tests and the demo: aiosmtpd on loopback."""

import email
from email import policy
import threading
import time

from aiosmtpd.controller import Controller


class Received(object):
    """One accepted message: envelope recipients and the parsed mail."""

    def __init__(self, rcpt_tos, content):
        self.rcpt_tos = [address.lower() for address in rcpt_tos]
        self.received_at = time.time()
        self.message = email.message_from_bytes(content,
                                                policy=policy.default)

    @property
    def subject(self):
        return str(self.message['Subject'])

    @property
    def text(self):
        """The plain-text body, with the wire's CRLF made plain newlines."""
        body = self.message.get_body(preferencelist=('plain',))
        return body.get_content().replace('\r\n', '\n')

    def attachments(self):
        """``(filename, content type, bytes)`` of every attachment."""
        return [(part.get_filename(), part.get_content_type(),
                 part.get_payload(decode=True))
                for part in self.message.iter_attachments()]


class SmtpServer(object):
    """An SMTP server on 127.0.0.1:``port`` collecting what it accepts.

    ``stop()`` and ``start()`` again on the same port, to test a mail
    server that is down for a while.
    """

    def __init__(self, port):
        self.port = port
        self.received = []
        self._controller = None
        self._changed = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        with self._changed:
            self.received.append(Received(envelope.rcpt_tos,
                                          envelope.content))
            self._changed.notify_all()
        return '250 Message accepted for delivery'

    def start(self):
        self._controller = Controller(self, hostname='127.0.0.1',
                                      port=self.port)
        self._controller.start()

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self):
        return self._controller is not None

    def clear(self):
        """Forget what was received so far."""
        with self._changed:
            del self.received[:]

    def to(self, address):
        """Messages whose envelope names ``address``, oldest first."""
        return [item for item in list(self.received)
                if address.lower() in item.rcpt_tos]

    def wait_for(self, address, count=1, timeout=30):
        """The first ``count`` messages to ``address``; waits for them."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.to(address)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        'no mail #%d to %s within %ss; got mail to %s' % (
                            count, address, timeout,
                            [r.rcpt_tos for r in self.received]))
                self._changed.wait(left)
        return self.to(address)[:count]
