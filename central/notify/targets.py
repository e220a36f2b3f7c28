"""Where a message may go: an email address, or a webhook URL. Checked when a subscription is
made and again before sending (the settings may have changed since).

Email: the common syntax (RFC 5321's dot-atom local part, a domain of LDH labels with a dot), ASCII
only; the address is not resolved or probed. A webhook: https to any host; plain http only when
the deployment allows it (`TEPI_WEBHOOK_ALLOW_HTTP`) and only to a loopback or private address
written as such (`http://127.0.0.1:9000/...`, `http://10.0.0.5/...`, `http://localhost/...`), e.g. an
SMS gateway in the same network; never with credentials in the URL (it is shown back to its
owner and stored in plain text), never to link-local, multicast or unspecified addresses (cloud
metadata services live at 169.254.169.254).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

MAX_EMAIL = 254
MAX_URL = 2000

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+$")


class TargetError(ValueError):
    """An address or URL no message may be sent to; the message says why."""


def check_email(address: str) -> str:
    """The address as given, if it is one; `TargetError` otherwise."""
    if len(address) > MAX_EMAIL or not _EMAIL.fullmatch(address):
        raise TargetError("not an email address (name@example.go.id, ASCII, at most 254 characters)")
    if len(address.partition("@")[0]) > 64:
        raise TargetError("the part of the email address before @ is longer than 64 characters")
    return address


def check_webhook_url(url: str, *, allow_http: bool) -> str:
    """The URL as given, if a webhook may be sent there; `TargetError` otherwise."""
    if len(url) > MAX_URL or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise TargetError(f"not a URL (no spaces or control characters, at most {MAX_URL} characters)")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise TargetError("a webhook URL must be absolute https, e.g. https://sms.example.go.id/tepi")
    if parts.username is not None or parts.password is not None:
        raise TargetError("a webhook URL must not carry credentials: the signature authenticates Tepi")
    if parts.fragment:
        raise TargetError("a webhook URL must not have a fragment")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise TargetError("the webhook URL has an invalid port") from exc
    address = _ip(parts.hostname)
    if address is not None and (address.is_link_local or address.is_multicast or address.is_unspecified):
        raise TargetError("a webhook may not go to a link-local, multicast or unspecified address")
    if parts.scheme == "http":
        if not allow_http:
            raise TargetError("a webhook URL must be https (plain http is off in this deployment)")
        if not (parts.hostname == "localhost" or (address is not None and (address.is_loopback or address.is_private))):
            raise TargetError("plain http is allowed only to loopback or private addresses (e.g. http://10.0.0.5/...)")
    return url


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None
