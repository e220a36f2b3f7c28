"""Badge identity keys at rest: AES-256-GCM under a key derived (HKDF-SHA256) from a secret of
the environment, `TEPI_BADGE_KEY_SECRET`, never from the database.

Why: an Eddystone-EID badge is unforgeable only while its 16-byte identity key is secret; whoever
has it computes every EID the badge will ever send (Google's Eddystone-EID specification,
https://github.com/google/eddystone/tree/master/eddystone-eid). The state database is backed up,
replicated and read by more people than the gateways are, so it holds each key only sealed: a
copy of the database without the secret gives nothing. The key is shown once at issue (to
program the badge), and opened again only to build the roster an office gateway receives over
its authenticated channel (`kinds.badge.ingest.roster`).

Each sealed key is bound to its badge id (GCM's associated data): a sealed key copied onto
another badge's row does not open. The sealed form is `01 | 12-byte nonce | ciphertext | tag`
(NIST SP 800-38D; the `cryptography` library's AESGCM).

Modes, as the API's secrets (`api.settings`): `TEPI_MODE=demo` (only `tepi demo`) falls back to
a public demo secret; anything else (production, the default) requires a secret of at least 32
characters, and refuses the demo one. Keys and secrets are never logged.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SECRET_ENV = "TEPI_BADGE_KEY_SECRET"
#: Public (it is in the source): demo mode only; production refuses it.
DEMO_SECRET = "tepi-demo-badge-key-secret-public-never-use-in-production"
MIN_SECRET_CHARS = 32
IDENTITY_KEY_BYTES = 16
_VERSION = b"\x01"
_NONCE_BYTES = 12
_SALT = b"tepi badge identity keys"
_INFO = b"AES-256-GCM key v1"
_GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


class BadgeKeyError(RuntimeError):
    """The badge key secret is missing or unfit, or a sealed key does not open with it."""


def new_identity_key() -> bytes:
    """A fresh 16-byte identity key (AES-128, as Eddystone-EID uses), from the OS's CSPRNG."""
    return secrets.token_bytes(IDENTITY_KEY_BYTES)


def secret_from_environment(environ: Mapping[str, str] | None = None) -> str:
    """`TEPI_BADGE_KEY_SECRET`, checked against the mode (`TEPI_MODE`); `BadgeKeyError` saying
    what to set when it is missing, too short, or the public demo value outside demo mode."""
    env = os.environ if environ is None else environ
    demo = env.get("TEPI_MODE", "production") == "demo"
    secret = env.get(SECRET_ENV) or None
    if secret is None:
        if demo:
            return DEMO_SECRET
        raise BadgeKeyError(
            f"{SECRET_ENV} is required outside demo mode (only `tepi demo` or TEPI_MODE=demo run with a public "
            "demo secret): the secret that badge identity keys are encrypted with in the database; generate one "
            f"with {_GENERATE}, keep it out of the database and the repository, and give the same one to "
            "`tepi admin badge` and to ingest"
        )
    if secret == DEMO_SECRET and not demo:
        raise BadgeKeyError(f"{SECRET_ENV} is the public demo value; production needs its own secret")
    if len(secret) < MIN_SECRET_CHARS:
        raise BadgeKeyError(f"{SECRET_ENV} must be at least {MIN_SECRET_CHARS} characters")
    return secret


class KeySeal:
    """Seals and opens identity keys under one secret (see the module)."""

    __slots__ = ("_aead",)

    def __init__(self, secret: str) -> None:
        if not secret:
            raise BadgeKeyError("an empty secret seals nothing")
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(secret.encode())
        self._aead = AESGCM(key)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> KeySeal:
        return cls(secret_from_environment(environ))

    def __repr__(self) -> str:
        return "KeySeal(<secret>)"

    def seal(self, identity_key: bytes, badge_id: str) -> bytes:
        """`identity_key` encrypted and bound to `badge_id`; `ValueError` for a key not 16 bytes."""
        if len(identity_key) != IDENTITY_KEY_BYTES:
            raise ValueError(f"an identity key is {IDENTITY_KEY_BYTES} bytes, not {len(identity_key)}")
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, identity_key, badge_id.encode())

    def open(self, sealed: bytes, badge_id: str) -> bytes:
        """The identity key `seal` sealed for `badge_id`; `BadgeKeyError` when it was sealed under
        another secret, for another badge, or altered."""
        if len(sealed) != 1 + _NONCE_BYTES + IDENTITY_KEY_BYTES + 16 or sealed[:1] != _VERSION:
            raise BadgeKeyError(f"the identity key of badge {badge_id} is not in a sealed form this version knows")
        try:
            return self._aead.decrypt(sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :], badge_id.encode())
        except InvalidTag as exc:
            raise BadgeKeyError(
                f"the identity key of badge {badge_id} does not open with this {SECRET_ENV}: the secret differs "
                "from the one it was issued under (or the row was altered)"
            ) from exc
