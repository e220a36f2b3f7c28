"""Receivers for tests and demos of reaching people: a real SMTP server (aiosmtpd, a test
dependency, imported only here) and a real HTTP server for webhooks, both on 127.0.0.1 with a
port of their own. Each keeps what it received; both can be told to refuse the next few
messages, to see a notifier retry.

What they receive is in their lists by the time the sender's call returns (they answer after
recording), so a test that runs a notifier pass reads them without waiting.
"""

from __future__ import annotations

import email
import email.policy
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        body = self.message.get_body(("plain",))
        return body.get_content() if body is not None else ""  # type: ignore[union-attr]


class SmtpInbox:
    """`with SmtpInbox() as inbox:` an SMTP server at `inbox.host`, `inbox.port`."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.messages: list[ReceivedMail] = []
        self._refusals = 0
        self._lock = threading.Lock()
        self._controller: Any = None
        self.port = 0

    def refuse(self, n: int) -> None:
        """Answer the next `n` messages `451 try again later` (a temporary failure)."""
        with self._lock:
            self._refusals = n

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        with self._lock:
            if self._refusals:
                self._refusals -= 1
                return "451 4.3.0 Try again later"
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.messages.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"

    def __enter__(self) -> SmtpInbox:
        from aiosmtpd.controller import Controller

        class _AnyPort(Controller):  # type: ignore[misc]
            """Binds port 0 and learns the port before aiosmtpd's own readiness check connects."""

            def _trigger_server(self) -> None:
                self.port = self.server.sockets[0].getsockname()[1]
                super()._trigger_server()

        self._controller = _AnyPort(self, hostname=self.host, port=0)
        self._controller.start()
        self.port = self._controller.port
        return self

    def __exit__(self, *_exc: object) -> None:
        self._controller.stop()

    def wait_for(self, n: int, timeout_s: float = 30.0) -> list[ReceivedMail]:
        """At least `n` messages, waiting up to `timeout_s` (for a notifier in another process)."""
        deadline = time.monotonic() + timeout_s
        while len(self.messages) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.messages)


@dataclass(frozen=True)
class ReceivedHook:
    path: str
    headers: dict[str, str]
    body: bytes


class WebhookReceiver:
    """`with WebhookReceiver() as hooks:` an HTTP server at `hooks.url`; answers 200 unless told
    otherwise (`answer_next`). `host`: the loopback address it listens on (127.0.0.2 shows where
    a sender connected, when a name is resolved for it)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.received: list[ReceivedHook] = []
        self._answers: list[int] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.received.append(ReceivedHook(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    status = receiver._answers.pop(0) if receiver._answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._server.server_address[0]}:{self.port}/hook"

    def answer_next(self, *statuses: int) -> None:
        with self._lock:
            self._answers.extend(statuses)

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
