"""BLE advertisements: which badge frame an advertising payload carries (`parse_advert`), and
the payloads a simulated badge sends (`ibeacon_advert`, `uid_advert`, `eid_advert`).

The payload is the advertising data of one report as a scanner hands it over: a sequence of AD
structures, each ``length | AD type | data`` with `length` counting the type and the data
(Bluetooth Core Specification Supplement, Part A, § 1; Core Vol 3 Part C § 11). It is at most
31 bytes for a legacy advertisement, 62 when a scanner appends the scan response (Android's
scan record does, padded with zeros), and at most `MAX_ADVERT_BYTES` for extended advertising.
A zero length octet is padding (the "non-significant part" of Core Vol 3 Part C § 11) and is
skipped, so an advertisement and its scan response may come concatenated.

Badge frames:

* **iBeacon** (Apple, "Proximity Beacon Specification" R1; layout as every public decoder
  reads it): Manufacturer Specific Data (AD type 0xFF), company identifier 0x004C
  (little-endian ``4C 00``), then ``02 15``, a 16-byte proximity UUID, major and minor
  (big-endian 16-bit), and the measured power at 1 m (signed dBm). Trailing bytes after those
  21 within the same structure (some tags append a battery byte) are ignored.
* **Eddystone-UID** and **Eddystone-EID** (https://github.com/google/eddystone,
  protocol-specification.md): Service Data - 16-bit UUID (AD type 0x16) for UUID 0xFEAA
  (``AA FE``), whose first byte is the frame type: 0x00 UID (ranging data, 10-byte namespace,
  6-byte instance, 2 reserved bytes that may be left out: 18 to 20 bytes), 0x30 EID (ranging
  data and the 8-byte ephemeral identifier: exactly 10 bytes). Eddystone's ranging data is the
  Tx power at **0 m**; "41 dBm is the signal loss that occurs over 1 meter"
  (https://github.com/google/eddystone/blob/master/eddystone-uid/README.md, Tx Power), so
  ``tx_power_1m = ranging data - 41``. The spec also asks for 0xFEAA in the Complete List of
  16-bit Service UUIDs (for iOS background scanning); it is not required here, since the
  per-device scanner formats (`kinds.badge.wire`) carry the service data alone, and beacontools
  does not require it either.
* Eddystone-URL (0x10), -TLM (0x20), other frame types, other manufacturers and every other AD
  type: a well-formed advertisement with no badge frame, `None` (a phone, a sensor, a TLM).

Malformed payloads raise `ValueError` with what is wrong: an AD structure running past the end,
a structure too short for its type (Flags without its octet, manufacturer or service data
without its identifier, a 16-bit UUID list of odd length), a truncated iBeacon or Eddystone
badge frame, or a payload longer than `MAX_ADVERT_BYTES`. When one payload holds several badge
frames (an advertisement plus a scan response) the first one is the answer.

Why not beacontools' `parse_packet` in the hot path: it is a `construct` grammar, measured at
about 100 µs a payload against about 2 µs here and 0.1 µs from the cache (a 2,000-badge office
with ten scanners makes 20,000 advertisements a second, 50 µs each for everything); the tests
cross-check both on generated and recorded payloads. An identical payload decodes identically,
so `parse_advert_cached` memoises it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Union

#: The largest advertising payload accepted: one extended advertising report's data (the
#: design's limit; the wire format allows 62 bytes for a legacy advertisement with its scan
#: response).
MAX_ADVERT_BYTES = 255
#: Eddystone: received power at 1 m = Tx power at 0 m - 41 dB (eddystone-uid/README.md).
EDDYSTONE_LOSS_AT_1M_DB = 41
#: Entries kept by `parse_advert_cached`: each distinct payload (a badge's current identifier, a
#: phone's advertisement) takes one, a few hundred bytes with its frame, so ~5 MB at most.
PARSE_CACHE_SIZE = 16384

AD_FLAGS = 0x01
AD_INCOMPLETE_16BIT_UUIDS = 0x02
AD_COMPLETE_16BIT_UUIDS = 0x03
AD_SERVICE_DATA_16BIT = 0x16
AD_MANUFACTURER_DATA = 0xFF
APPLE_COMPANY_ID = 0x004C
IBEACON_TYPE = 0x02
IBEACON_LENGTH = 0x15
EDDYSTONE_UUID = 0xFEAA
EDDYSTONE_UID = 0x00
EDDYSTONE_URL = 0x10
EDDYSTONE_TLM = 0x20
EDDYSTONE_EID = 0x30
#: The Flags the encoders send: LE General Discoverable Mode, BR/EDR Not Supported (the value
#: of the Eddystone protocol specification's example frame).
FLAGS_VALUE = 0x06

_IBEACON_BYTES = 25  # 4C 00 02 15 + uuid 16 + major 2 + minor 2 + power 1
_UID_BYTES = 18  # frame type, ranging data, namespace 10, instance 6 (without the 2 RFU bytes)
_UID_WITH_RFU = 20
_EID_BYTES = 10  # frame type, ranging data, EID 8


@dataclass(frozen=True, slots=True)
class IBeacon:
    """An iBeacon: proximity UUID (16 bytes), major, minor, measured power at 1 m (dBm)."""

    uuid: bytes
    major: int
    minor: int
    tx_power_1m: int


@dataclass(frozen=True, slots=True)
class EddystoneUid:
    """An Eddystone-UID: namespace (10 bytes), instance (6 bytes), power at 1 m (dBm)."""

    namespace: bytes
    instance: bytes
    tx_power_1m: int


@dataclass(frozen=True, slots=True)
class EddystoneEid:
    """An Eddystone-EID: the ephemeral identifier (8 bytes) and power at 1 m (dBm)."""

    eid: bytes
    tx_power_1m: int


BadgeFrame = Union[IBeacon, EddystoneUid, EddystoneEid]


def _int8(octet: int) -> int:
    return octet - 256 if octet > 127 else octet


def parse_advert(data: bytes) -> BadgeFrame | None:
    """The badge frame in one advertising payload; None for a well-formed payload without one;
    `ValueError` for a malformed payload (see the module docstring)."""
    if not isinstance(data, (bytes, bytearray)):
        raise ValueError(f"an advertising payload is bytes, not {type(data).__name__}")
    n = len(data)
    if n > MAX_ADVERT_BYTES:
        raise ValueError(f"advertising payload of {n} bytes; at most {MAX_ADVERT_BYTES} (extended advertising)")
    frame: BadgeFrame | None = None
    i = 0
    while i < n:
        length = data[i]
        if length == 0:  # padding: the non-significant part
            i += 1
            continue
        end = i + 1 + length
        if end > n:
            raise ValueError(f"AD structure at byte {i} declares {length} bytes but only {n - i - 1} follow")
        ad_type = data[i + 1]
        if ad_type == AD_MANUFACTURER_DATA:
            if length < 3:
                raise ValueError(f"manufacturer data at byte {i} without its 2-byte company identifier")
            if frame is None and data[i + 2] == 0x4C and data[i + 3] == 0x00 and length > 3 and data[i + 4] == IBEACON_TYPE:
                frame = _ibeacon(data, i + 2, end)
        elif ad_type == AD_SERVICE_DATA_16BIT:
            if length < 3:
                raise ValueError(f"service data at byte {i} without its 16-bit UUID")
            if data[i + 2] == 0xAA and data[i + 3] == 0xFE:
                eddystone = _eddystone(data, i + 4, end)
                if frame is None:
                    frame = eddystone
        elif ad_type == AD_FLAGS:
            if length < 2:
                raise ValueError(f"Flags at byte {i} without its flags octet")
        elif ad_type == AD_COMPLETE_16BIT_UUIDS or ad_type == AD_INCOMPLETE_16BIT_UUIDS:
            if length % 2 == 0:  # type octet + 2 per UUID: an odd length
                raise ValueError(f"16-bit service UUID list at byte {i} of {length - 1} bytes, not a multiple of 2")
        i = end
    return frame


def _ibeacon(data: bytes, start: int, end: int) -> IBeacon:
    """The iBeacon in the manufacturer data `data[start:end]` (which starts 4C 00 02)."""
    have = end - start
    if have < 4:
        raise ValueError(f"iBeacon truncated after {have} of {_IBEACON_BYTES} bytes")
    if data[start + 3] != IBEACON_LENGTH:
        raise ValueError(f"iBeacon declares {data[start + 3]} bytes of beacon data, not {IBEACON_LENGTH}")
    if have < _IBEACON_BYTES:
        raise ValueError(f"iBeacon truncated after {have} of {_IBEACON_BYTES} bytes")
    p = start + 20
    return IBeacon(
        bytes(data[start + 4 : p]), (data[p] << 8) | data[p + 1], (data[p + 2] << 8) | data[p + 3], _int8(data[p + 4])
    )


def _eddystone(data: bytes, start: int, end: int) -> EddystoneUid | EddystoneEid | None:
    """The badge frame in Eddystone service data `data[start:end]` (after the UUID), if any."""
    have = end - start
    if have == 0:
        raise ValueError("Eddystone service data without a frame type")
    frame_type = data[start]
    if frame_type == EDDYSTONE_EID:
        if have != _EID_BYTES:
            raise ValueError(f"Eddystone-EID frame of {have} bytes; the specification fixes {_EID_BYTES}")
        return EddystoneEid(bytes(data[start + 2 : end]), _int8(data[start + 1]) - EDDYSTONE_LOSS_AT_1M_DB)
    if frame_type == EDDYSTONE_UID:
        if not _UID_BYTES <= have <= _UID_WITH_RFU:
            raise ValueError(f"Eddystone-UID frame of {have} bytes; {_UID_BYTES} or, with its reserved bytes, {_UID_WITH_RFU}")
        return EddystoneUid(
            bytes(data[start + 2 : start + 12]), bytes(data[start + 12 : start + 18]),
            _int8(data[start + 1]) - EDDYSTONE_LOSS_AT_1M_DB,
        )
    return None  # URL, TLM, reserved: no badge


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def parse_advert_cached(data: bytes) -> BadgeFrame | None:
    """`parse_advert` memoised by payload (bytes only; frames are immutable, so sharing them is
    safe). At most `PARSE_CACHE_SIZE` payloads are kept, least recently used first out; a
    malformed payload raises every time (exceptions are not cached)."""
    return parse_advert(data)


# --- encoders (the simulator's badges) -------------------------------------------------------


def _check_int(name: str, value: int, lo: int, hi: int) -> int:
    if type(value) is not int or not lo <= value <= hi:
        raise ValueError(f"{name} is an integer in {lo}..{hi}, not {value!r}")
    return value


def _check_bytes(name: str, value: bytes, size: int) -> bytes:
    if not isinstance(value, (bytes, bytearray)) or len(value) != size:
        raise ValueError(f"{name} is {size} bytes, not {value!r:.60}")
    return bytes(value)


def _flags() -> bytes:
    return bytes((2, AD_FLAGS, FLAGS_VALUE))


def _eddystone_payload(frame: bytes) -> bytes:
    service_data = bytes((AD_SERVICE_DATA_16BIT, 0xAA, 0xFE)) + frame
    return _flags() + bytes((3, AD_COMPLETE_16BIT_UUIDS, 0xAA, 0xFE, len(service_data))) + service_data


def _ranging_octet(tx_power_1m: int) -> int:
    """Eddystone's ranging data (Tx power at 0 m) for a power at 1 m, as an int8 octet."""
    _check_int("tx_power_1m", tx_power_1m, -128 - EDDYSTONE_LOSS_AT_1M_DB, 127 - EDDYSTONE_LOSS_AT_1M_DB)
    return (tx_power_1m + EDDYSTONE_LOSS_AT_1M_DB) & 0xFF


def ibeacon_advert(uuid: bytes, major: int, minor: int, tx_power_1m: int) -> bytes:
    """Flags and an iBeacon (30 bytes)."""
    body = (
        bytes((0x4C, 0x00, IBEACON_TYPE, IBEACON_LENGTH)) + _check_bytes("uuid", uuid, 16)
        + _check_int("major", major, 0, 65535).to_bytes(2, "big") + _check_int("minor", minor, 0, 65535).to_bytes(2, "big")
        + bytes((_check_int("tx_power_1m", tx_power_1m, -128, 127) & 0xFF,))
    )
    return _flags() + bytes((len(body) + 1, AD_MANUFACTURER_DATA)) + body


def uid_advert(namespace: bytes, instance: bytes, tx_power_1m: int) -> bytes:
    """Flags, the Eddystone UUID list and an Eddystone-UID with its reserved bytes (31 bytes)."""
    frame = (
        bytes((EDDYSTONE_UID, _ranging_octet(tx_power_1m))) + _check_bytes("namespace", namespace, 10)
        + _check_bytes("instance", instance, 6) + b"\x00\x00"
    )
    return _eddystone_payload(frame)


def eid_advert(eid: bytes, tx_power_1m: int) -> bytes:
    """Flags, the Eddystone UUID list and an Eddystone-EID (21 bytes)."""
    return _eddystone_payload(bytes((EDDYSTONE_EID, _ranging_octet(tx_power_1m))) + _check_bytes("eid", eid, 8))
