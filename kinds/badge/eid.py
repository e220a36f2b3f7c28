"""Eddystone-EID: the 8-byte ephemeral identifier a badge advertises, computed exactly as Google's
specification defines it ("EID Computation",
https://github.com/google/eddystone/blob/master/eddystone-eid/eid-computation.md).

Why a rotating identifier: a static iBeacon or Eddystone-UID is cloned by any phone that hears
it once, so a colleague could "attend" from home. An EID changes every 2^K seconds and only a
holder of the badge's identity key can compute the next one; a recording is worthless after
its period (the gateway's resolver, `kinds.badge.edge`, tells a replay from a live badge).

The computation, in two AES-128 (ECB, one block each) steps:

1. temporary key = AES-128(identity key, ``00×11 | FF | 00 00 | TS[0] TS[1]``), where TS[0..1]
   are the top 16 bits of the badge's 32-bit time counter, big-endian (so the temporary key
   changes every 65,536 s);
2. EID = the first 8 bytes of AES-128(temporary key, ``00×11 | K | TS[0..3]``), where TS[0..3]
   is the 32-bit counter, big-endian, with its K lowest bits cleared (K, the rotation period
   exponent, is 0..15).

The counter is the badge's own seconds counter (here: Unix time minus the roster's epoch); the
specification requires only that it tick once a second, within 150 ppm.

Pure functions: `ValueError` for a key that is not 16 bytes, K outside 0..15 or a counter
outside 0..2^32-1. AES comes from `cryptography` (OpenSSL), never hand-written.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

KEY_BYTES = 16
EID_BYTES = 8
MAX_K = 15
MAX_COUNTER = 2**32 - 1
_PADDING = bytes(11)
_SALT = b"\xff\x00\x00"


def _check_key(identity_key: bytes) -> None:
    if not isinstance(identity_key, (bytes, bytearray)) or len(identity_key) != KEY_BYTES:
        size = len(identity_key) if isinstance(identity_key, (bytes, bytearray)) else type(identity_key).__name__
        raise ValueError(f"an identity key is {KEY_BYTES} bytes (AES-128), not {size}")


def _check_counter(counter: int) -> None:
    if type(counter) is not int or not 0 <= counter <= MAX_COUNTER:
        raise ValueError(f"the time counter is a 32-bit unsigned integer (0..{MAX_COUNTER}), not {counter!r}")


def _aes_block(key: bytes, block: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(bytes(key)), modes.ECB()).encryptor()  # noqa: S305 - one block, as the spec says
    return encryptor.update(block) + encryptor.finalize()


def temporary_key(identity_key: bytes, counter: int) -> bytes:
    """The 16-byte temporary key of the 65,536-second epoch that holds `counter`."""
    _check_key(identity_key)
    _check_counter(counter)
    return _aes_block(identity_key, _PADDING + _SALT + (counter >> 16).to_bytes(2, "big"))


def eid(identity_key: bytes, k: int, counter: int) -> bytes:
    """The 8-byte EID a badge with `identity_key` and rotation exponent `k` advertises while its
    time counter reads `counter`; the same for every counter of one 2^k-second period."""
    if type(k) is not int or not 0 <= k <= MAX_K:
        raise ValueError(f"the rotation period exponent K is 0..{MAX_K}, not {k!r}")
    key = temporary_key(identity_key, counter)
    quantum = (counter >> k) << k
    return _aes_block(key, _PADDING + bytes((k,)) + quantum.to_bytes(4, "big"))[:EID_BYTES]


def period_start(k: int, counter: int) -> int:
    """The first counter value of the 2^k-second period holding `counter` (whose EID it shares)."""
    if type(k) is not int or not 0 <= k <= MAX_K:
        raise ValueError(f"the rotation period exponent K is 0..{MAX_K}, not {k!r}")
    _check_counter(counter)
    return (counter >> k) << k
