"""Sending: email over SMTP (`smtplib`), webhooks over HTTP (`httpx`). Each send answers an
`Outcome` and never raises for what the other end does; its error text names what went wrong
(an SMTP code, an HTTP status, an exception's type), never the address, URL or a server's words,
which may echo them.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import httpx

from central.notify.messages import signature
from central.notify.settings import NotifySettings

USER_AGENT = "Tepi-Webhook/1"
#: Answers worth another try: the receiver is busy or briefly unwell (4xx others mean the
#: request itself is refused, and stays refused).
_RETRY_4XX = frozenset({408, 425, 429})


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt came to: sent, or failed (`permanent`: no retry mends it)."""

    sent: bool
    permanent: bool = False
    error: str | None = None


SENT = Outcome(True)


class EmailChannel:
    """Plain-text email through the configured SMTP server, one connection per message (a few
    messages a minute at most: a pool would only hold idle connections the server drops)."""

    def __init__(self, settings: NotifySettings) -> None:
        self._settings = settings
        self._domain = settings.smtp_from.rpartition("@")[2] or "localhost"

    @property
    def configured(self) -> bool:
        return self._settings.smtp_host is not None

    def message(self, to: str, subject: str, text: str, delivery_id: int, now: datetime) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self._settings.smtp_from
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = format_datetime(now)
        msg["Message-ID"] = make_msgid(f"tepi.{delivery_id}", domain=self._domain)
        # RFC 3834: no vacation replies or loops from auto-responders.
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Tepi-Delivery"] = str(delivery_id)
        msg.set_content(text)
        return msg

    def send(self, to: str, subject: str, text: str, delivery_id: int, now: datetime) -> Outcome:
        s = self._settings
        if s.smtp_host is None:
            return Outcome(False, error="TEPI_SMTP_HOST is not set")
        msg = self.message(to, subject, text, delivery_id, now)
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_s) as smtp:
                if s.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if s.smtp_username is not None:
                    smtp.login(s.smtp_username, s.smtp_password.get_secret_value() if s.smtp_password else "")
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _text in exc.recipients.values()})
            return Outcome(False, permanent=all(c >= 500 for c in codes), error=f"SMTP recipient refused {codes}")
        except smtplib.SMTPResponseException as exc:
            return Outcome(False, error=f"SMTP {exc.smtp_code}")
        except (OSError, smtplib.SMTPException) as exc:
            return Outcome(False, error=f"SMTP {type(exc).__name__}")
        return SENT


class WebhookChannel:
    """Signed JSON POSTs; redirects are not followed (a webhook goes where its owner said)."""

    def __init__(self, settings: NotifySettings, client: httpx.Client | None = None) -> None:
        self._client = client or httpx.Client(timeout=settings.webhook_timeout_s, follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    @staticmethod
    def headers(body: bytes, secret: str, delivery_id: int, event: str, now: datetime) -> dict[str, str]:
        timestamp = int(now.timestamp())
        return {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Tepi-Delivery": str(delivery_id),
            "X-Tepi-Event": event,
            "X-Tepi-Timestamp": str(timestamp),
            "X-Tepi-Signature": signature(secret, timestamp, body),
        }

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        try:
            response = self._client.post(url, content=body, headers=headers)
        except httpx.TimeoutException:
            return Outcome(False, error="webhook timeout")
        except httpx.HTTPError as exc:
            return Outcome(False, error=f"webhook {type(exc).__name__}")
        status = response.status_code
        if 200 <= status < 300:
            return SENT
        return Outcome(False, permanent=400 <= status < 500 and status not in _RETRY_4XX, error=f"webhook HTTP {status}")
