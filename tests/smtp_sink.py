"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, a port the OS chooses.

It keeps every message it accepts (`messages`, parsed), and can refuse
recipients for good (`refuse`: an SMTP 550, as a server does for an address
it does not know). Django's SMTP backend, in this process or in a worker,
talks to it through `env` (EMAIL_HOST, EMAIL_PORT, no TLS).
"""

from __future__ import annotations

import asyncio
import email
import socket
import threading
import time
from email.message import Message

from aiosmtpd.smtp import SMTP


class SmtpSink:
    def __init__(self):
        self.messages: list[Message] = []
        self.refuse: set[str] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # aiosmtpd's handler hooks -------------------------------------------------

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.original_content))
        return "250 Message accepted for delivery"

    # serving ------------------------------------------------------------------

    def start(self) -> SmtpSink:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        created = asyncio.run_coroutine_threadsafe(
            self._loop.create_server(lambda: SMTP(self, hostname="sink.test"), sock=sock),
            self._loop,
        )
        self._server = created.result(timeout=10)
        return self

    def stop(self) -> None:
        """Stop listening (the port is then closed: a mail server that is down)."""
        if self._loop is None:
            return
        loop = self._loop

        async def close():
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout=10)
        loop.close()
        self._loop = None

    @property
    def env(self) -> dict[str, str]:
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.port),
            "EMAIL_USE_TLS": "false",
            "EMAIL_TIMEOUT": "5",
        }

    def wait_for(self, count: int, timeout: float) -> list[Message]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return list(self.messages)
