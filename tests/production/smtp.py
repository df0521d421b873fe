"""An SMTP server on 127.0.0.1 that keeps what it receives (aiosmtpd): the check's mail server."""

from __future__ import annotations

import email
import email.policy
import logging
import threading
import time

from aiosmtpd.controller import Controller


class _Keep:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.sink.lock:
            self.sink.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self, port: int):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.lock = threading.Lock()
        self.controller = Controller(_Keep(self), hostname="127.0.0.1", port=port)
        self.port = port
        # aiosmtpd logs every connection at INFO from its own thread, some of
        # them after the test that caused them has ended (and its log capture).
        logging.getLogger("mail.log").setLevel(logging.WARNING)

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def wait_for(self, recipient: str, subject_part: str, seconds: float = 60):
        """The first message to `recipient` whose subject contains `subject_part`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                for recipients, message in self.messages:
                    if recipient in recipients and subject_part in message["Subject"]:
                        return message
            time.sleep(0.2)
        with self.lock:
            got = [(r, m["Subject"]) for r, m in self.messages]
        raise AssertionError(f"no e-mail to {recipient} about {subject_part!r}; got {got}")
