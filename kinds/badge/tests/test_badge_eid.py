"""Eddystone-EID as Google's specification computes it: a published vector, the reference
implementation's own arithmetic, and what a resolver relies on (periods, bounds)."""

from __future__ import annotations

import random

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from kinds.badge.eid import MAX_COUNTER, eid, period_start, temporary_key

#: RadiusNetworks' ephemeral_calc (Ruby), spec/encryptor_spec.rb, "can compute an eid when
#: given a 16 byte identity key": identity key 0102030405060708090A111213141516, rotation
#: exponent 10, beacon time 0 -> EID A9B76A71C5F89290.
#: https://github.com/RadiusNetworks/ephemeral_calc/blob/master/spec/encryptor_spec.rb
RADIUS_KEY = bytes.fromhex("0102030405060708090A111213141516")
RADIUS_EID = bytes.fromhex("A9B76A71C5F89290")


def _aes(key: bytes, block: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def reference_eid(ik: bytes, scaler: int, beacon_time_seconds: int) -> tuple[bytes, bytes]:
    """(temporary key, EID) built the way Google's reference tool builds them, byte by byte:
    `GetAndPrintEid` of eddystone-eid/tools/eidtools.py
    (https://github.com/google/eddystone/blob/master/eddystone-eid/tools/eidtools.py), from
    Python 2 strings to bytes, with the same divisions and modulos; only the AES primitive is
    another library's (pycrypto there)."""
    tkdata = (
        b"\x00" * 11 + b"\xff" + b"\x00" * 2
        + bytes([(beacon_time_seconds // (2**24)) % 256]) + bytes([(beacon_time_seconds // (2**16)) % 256])
    )
    tk = _aes(ik, tkdata)
    beacon_time_seconds = (beacon_time_seconds // 2**scaler) * (2**scaler)
    eiddata = (
        b"\x00" * 11 + bytes([scaler])
        + bytes([(beacon_time_seconds // (2**24)) % 256]) + bytes([(beacon_time_seconds // (2**16)) % 256])
        + bytes([(beacon_time_seconds // (2**8)) % 256]) + bytes([(beacon_time_seconds // (2**0)) % 256])
    )
    return tk, _aes(tk, eiddata)[:8]


def test_the_published_vector():
    assert eid(RADIUS_KEY, 10, 0) == RADIUS_EID


def test_agrees_with_the_reference_implementation_over_keys_exponents_and_counters():
    rng = random.Random(21)
    counters = [0, 1, 65535, 65536, 65280, 2**31, MAX_COUNTER - 1, MAX_COUNTER]
    counters += [rng.randrange(2**32) for _ in range(200)]
    for counter in counters:
        ik = rng.randbytes(16)
        k = rng.randrange(16)
        tk, expected = reference_eid(ik, k, counter)
        assert temporary_key(ik, counter) == tk
        assert eid(ik, k, counter) == expected, (ik.hex(), k, counter)


@pytest.mark.parametrize("k", range(16))
def test_one_eid_per_period_and_a_new_one_at_the_boundary(k):
    ik = bytes(range(16))
    period = 2**k
    start = 3 * 65536 + 7 * period  # a period inside one temporary-key epoch
    first = eid(ik, k, start)
    assert len(first) == 8
    assert eid(ik, k, start + period - 1) == first
    assert eid(ik, k, start + period // 2) == first
    assert eid(ik, k, start + period) != first
    assert eid(ik, k, start - 1) != first
    assert period_start(k, start + period - 1) == start


def test_the_exponent_is_part_of_the_computation():
    ik = bytes(range(16))
    # counter 0 starts a period for every K, yet each K gives its own EID
    assert len({eid(ik, k, 0) for k in range(16)}) == 16


def test_the_temporary_key_changes_every_65536_seconds():
    ik = bytes(range(16))
    assert temporary_key(ik, 65535) == temporary_key(ik, 0)
    assert temporary_key(ik, 65536) != temporary_key(ik, 65535)
    # with K=15 a period never straddles an epoch: 65536 is a multiple of 2^15
    assert eid(ik, 15, 65535) != eid(ik, 15, 65536)


def test_another_key_gives_another_eid():
    assert eid(bytes(16), 10, 1234) != eid(bytes(15) + b"\x01", 10, 1234)


@pytest.mark.parametrize("counter", [-1, 2**32, 2**40, 1.0, True, "0"])
def test_counter_outside_32_bits_is_refused(counter):
    with pytest.raises(ValueError, match="32-bit"):
        eid(bytes(16), 10, counter)
    with pytest.raises(ValueError, match="32-bit"):
        temporary_key(bytes(16), counter)


@pytest.mark.parametrize("key", [b"", bytes(15), bytes(17), bytes(32), "00" * 16, None])
def test_key_not_16_bytes_is_refused(key):
    with pytest.raises(ValueError, match="16 bytes"):
        eid(key, 10, 0)


@pytest.mark.parametrize("k", [-1, 16, 1.0, None])
def test_exponent_outside_0_to_15_is_refused(k):
    with pytest.raises(ValueError, match="0..15"):
        eid(bytes(16), k, 0)
    with pytest.raises(ValueError, match="0..15"):
        period_start(k, 0)
