"""Sending: email over SMTP (`smtplib`), webhooks over HTTP (`httpx`). Each send answers an
`Outcome` and never raises for what the other end does or for a target it cannot use; its error
text names what went wrong (an SMTP code, an HTTP status, an exception's type), never the
address, URL or a server's words, which may echo them.

A webhook goes to the address its host resolved to right before sending, once that address is
checked (`targets.check_address`): the request is made to the IP itself, with the name in `Host`
and in TLS (SNI, and the certificate is verified for the name), so a DNS answer that changes
between check and connect (rebinding) cannot send it elsewhere. Hence no connection is kept for
reuse (one made for one name must not carry another's request) and no proxy from the
environment is used (a proxy would resolve and connect on its own).
"""

from __future__ import annotations

import ipaddress
import smtplib
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import httpx

from central.notify.messages import signature
from central.notify.settings import NotifySettings
from central.notify.targets import IPAddress, TargetError, check_address, ip_of, wire_host

USER_AGENT = "Tepi-Webhook/1"
#: Answers worth another try: the receiver is busy or briefly unwell (4xx others mean the
#: request itself is refused, and stays refused).
_RETRY_4XX = frozenset({408, 425, 429})
#: Addresses of a name tried in turn when connecting fails (an IPv6 address first on a host
#: without IPv6 routes, say), as a browser would; each within the webhook timeout.
MAX_ADDRESSES_TRIED = 3

#: (host, port) -> the addresses to connect to, in the resolver's order.
Resolver = Callable[[str, int], Sequence[IPAddress]]


def resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses of `host` (an IP address: itself) for a TCP connection, without repeats."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in infos]
    return list(dict.fromkeys(addresses))


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
        """The message; `ValueError` for headers email cannot carry (a line break in `to`)."""
        msg = EmailMessage()
        msg["From"] = self._settings.smtp_from
        msg["To"] = to
        # One line whatever a station's or area's name holds: a line break would end the header.
        msg["Subject"] = " ".join(subject.split())
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
        try:
            msg = self.message(to, subject, text, delivery_id, now)
        except ValueError as exc:  # the same message fails the same way at every try
            return Outcome(False, permanent=True, error=f"email not composed ({type(exc).__name__})")
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
        except ValueError as exc:  # an address smtplib cannot encode: no retry mends it
            return Outcome(False, permanent=True, error=f"SMTP {type(exc).__name__}")
        return SENT


class WebhookChannel:
    """Signed JSON POSTs to checked addresses (see the module's text); redirects are not
    followed (a webhook goes where its owner said). `resolver` may be replaced in tests."""

    def __init__(self, settings: NotifySettings, client: httpx.Client | None = None, resolver: Resolver = resolve) -> None:
        self._allow_private = settings.webhook_allow_private
        self._resolve = resolver
        self._client = client or httpx.Client(
            timeout=settings.webhook_timeout_s,
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: the address checked is the one connected to
            transport=httpx.HTTPTransport(limits=httpx.Limits(max_keepalive_connections=0)),
        )

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
            host = wire_host(url)
            request = self._client.build_request("POST", url, content=body, headers=headers)
        except (TargetError, httpx.InvalidURL, ValueError):
            return Outcome(False, permanent=True, error="webhook URL invalid")
        try:
            addresses = self._resolve(host, request.url.port or (443 if request.url.scheme == "https" else 80))
        except UnicodeError:
            return Outcome(False, permanent=True, error="webhook URL invalid")
        except OSError as exc:  # the name does not resolve (now): DNS may answer later
            return Outcome(False, error=f"webhook DNS {type(exc).__name__}")
        try:
            for address in addresses:
                check_address(address, allow_private=self._allow_private)
        except TargetError:
            return Outcome(False, permanent=True, error="webhook address refused (not public)")
        if not addresses:
            return Outcome(False, error="webhook DNS no address")
        if ip_of(host) is None:  # TLS speaks to the name, not to the address connected to
            request.extensions = {**request.extensions, "sni_hostname": host}
        return self._post(request, addresses[:MAX_ADDRESSES_TRIED])

    def _post(self, request: httpx.Request, addresses: Sequence[IPAddress]) -> Outcome:
        """POST to each address in turn until one connects; `Host` stays the URL's."""
        failed = Outcome(False, error="webhook no address")
        for address in addresses:
            request.url = request.url.copy_with(host=str(address))
            try:
                response = self._client.send(request)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                failed = Outcome(False, error=f"webhook {type(exc).__name__}")
                continue  # nothing was sent: the next address may answer
            except httpx.TimeoutException:
                return Outcome(False, error="webhook timeout")
            except httpx.HTTPError as exc:
                return Outcome(False, error=f"webhook {type(exc).__name__}")
            status = response.status_code
            if 200 <= status < 300:
                return SENT
            return Outcome(False, permanent=400 <= status < 500 and status not in _RETRY_4XX, error=f"webhook HTTP {status}")
        return failed

