"""Where a message may go: an email address, or a webhook URL. Checked when a subscription is
made and again before sending (the settings may have changed since); a webhook's host is also
resolved right before each send, and every address it resolves to is checked (`check_address`),
because a name says nothing about where it points (`*.nip.io`, a DNS record changed later).

Email: the common syntax (RFC 5321's dot-atom local part, a domain of LDH labels with a dot), ASCII
only; the address is not resolved or probed. A webhook: https to a public address. Loopback and
private addresses (an SMS or WhatsApp gateway in the office network) only when the deployment
allows them (`TEPI_WEBHOOK_ALLOW_PRIVATE`); plain http only when it also allows that
(`TEPI_WEBHOOK_ALLOW_HTTP`) and only to such an address written as such
(`http://127.0.0.1:9000/...`, `http://10.0.0.5/...`, `http://localhost/...`). Never credentials
in the URL (it is shown back to its owner and stored in plain text), never link-local,
multicast, unspecified or reserved addresses, whatever the settings (cloud metadata services
live at 169.254.169.254), nor an IPv6 address standing for one (`::ffff:169.254.169.254`).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import httpx

MAX_EMAIL = 254
MAX_URL = 2000

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+$")
#: A host name as it travels (IDNA-encoded): LDH labels, an optional final dot.
_HOST = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*\.?$")
MAX_HOST = 253
#: IPv6 prefixes whose addresses carry an IPv4 address that a translator on the way connects to.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
#: Carrier-grade NAT (RFC 6598): neither global nor `is_private` to Python, but inside a network.
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")
_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetError(ValueError):
    """An address or URL no message may be sent to; the message says why."""


def check_email(address: str) -> str:
    """The address as given, if it is one; `TargetError` otherwise."""
    if len(address) > MAX_EMAIL or not _EMAIL.fullmatch(address):
        raise TargetError("not an email address (name@example.go.id, ASCII, at most 254 characters)")
    if len(address.partition("@")[0]) > 64:
        raise TargetError("the part of the email address before @ is longer than 64 characters")
    return address


def check_webhook_url(url: str, *, allow_http: bool, allow_private: bool) -> str:
    """The URL as given, if a webhook may be sent there; `TargetError` otherwise. A host name
    passes here; the addresses it resolves to are checked when sending (`check_address`)."""
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
    host = wire_host(url)
    address = ip_of(host)
    if address is not None:
        check_address(address, allow_private=allow_private)
    elif (host.rstrip(".") == "localhost" or host.rstrip(".").endswith(".localhost")) and not allow_private:
        raise TargetError(_PRIVATE_OFF)
    if parts.scheme == "http":
        if not allow_http:
            raise TargetError("a webhook URL must be https (plain http is off in this deployment)")
        if not (host == "localhost" or (address is not None and (address.is_loopback or address.is_private))):
            raise TargetError("plain http is allowed only to loopback or private addresses (e.g. http://10.0.0.5/...)")
    return url


def wire_host(url: str) -> str:
    """The URL's host as it is looked up and sent (IDNA-encoded, an IPv6 address without
    brackets); `TargetError` for a host no HTTP client could reach (`https://xn--zz.com/`,
    `https://☃.net/`, `https://a..b/`)."""
    try:
        parsed = httpx.URL(url)
        parsed.host  # noqa: B018 - decoding the IDNA form checks its A-labels (xn--zz is none)
        host = parsed.raw_host.decode("ascii")
    except (httpx.InvalidURL, ValueError) as exc:  # IDNAError and UnicodeError are ValueErrors
        raise TargetError("the webhook URL's host is not a valid host name") from exc
    if ip_of(host) is None and (len(host) > MAX_HOST or not _HOST.fullmatch(host)):
        raise TargetError("the webhook URL's host is not a valid host name")
    return host


_PRIVATE_OFF = (
    "a webhook may go to a loopback or private address only where the deployment allows it "
    "(TEPI_WEBHOOK_ALLOW_PRIVATE, for a gateway in its own network)"
)


def check_address(address: IPAddress, *, allow_private: bool) -> None:
    """`TargetError` unless a webhook may connect to `address`: a global one, or a loopback or
    private one where `allow_private`; never link-local, multicast, unspecified or reserved. An
    IPv6 address standing for an IPv4 one (mapped, NAT64, 6to4) is judged as that one."""
    effective = _carried_ipv4(address) or address
    if (
        effective.is_link_local or effective.is_multicast or effective.is_unspecified
        or (effective.is_reserved and not effective.is_loopback)  # ::1 lies in IPv6's reserved ::/8
        or effective in _THIS_NETWORK
    ):
        raise TargetError("a webhook may not go to a link-local, multicast, unspecified or reserved address")
    if effective.is_global:
        return
    if allow_private and (effective.is_private or effective.is_loopback or effective in _SHARED):
        return
    raise TargetError(_PRIVATE_OFF)


def _carried_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def ip_of(host: str) -> IPAddress | None:
    """The address a host is, if it is written as one (`10.0.0.5`, `::1`); None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None
