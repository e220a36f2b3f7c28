"""What office scanners publish over MQTT, declared once: the simulator and Tepi's own scanner
firmware encode with `encode_scan`, the office gateway decodes every accepted format with
`decode_message` into a `ScanReport` (advertisements heard, with their RSSI and raw bytes).
Which badge an advertisement carries is `kinds.badge.adverts`' business, not this module's.

**Tepi's batch format** (one message per scan interval with everything heard; what the
throughput target is measured on)::

    {"v": 1, "scanner": "<device id>", "t": <Unix seconds, float>,
     "adv": [["aa:bb:cc:dd:ee:ff", -67, "<payload hex>"], ...]}

* `v` is 1; `scanner` must be the device the message came from (else `station_mismatch`);
  `t` is the end of the scan interval, Unix seconds (UTC), finite and within datetime's span
  (whether it is too far ahead is the gateway's to judge: `future_timestamp`).
* `adv` holds at most `MAX_ENTRIES` entries ``[mac, rssi, hex]``: the advertiser's address
  (six hex pairs with colons, either case, stored lower-case), the RSSI in dBm as an integer
  in `RSSI_SPAN_DBM` (-127..20, the HCI LE Advertising Report's range; 127 "not available" is
  no reading), and the advertising payload as even-length hex without spaces: at most
  `LEGACY_ADVERT_BYTES` (62: the 31-byte advertisement plus its 31-byte scan response). An
  extended advertisement adds a fourth element, ``"ext"``, and may carry up to
  `EXTENDED_ADVERT_BYTES` (255).
* Each field once (`duplicate_key`), no other fields (`malformed`), none missing
  (`truncated`); JSON types exact (an RSSI written -67.0 or "-67" is `wrong_type`).

**One message per device heard**, as third-party scanners publish (no scanner id in them, so
the device id is the topic's; `at` is the gateway's receive time):

* Theengs Gateway and OpenMQTTGateway, ``.../BTtoMQTT/<MAC>``
  (https://github.com/theengs/gateway, TheengsGateway/ble_gateway.py; OpenMQTTGateway,
  https://docs.openmqttgateway.com/use/ble.html): ``{"id": "AA:BB:CC:DD:EE:FF", "rssi": -67,
  "manufacturerdata": "<company id LE + data, hex>", "servicedatauuid": "feaa" | "0xfeaa",
  "servicedata": "<hex>", ...}``. The advertisement is rebuilt from those fields: manufacturer
  data as AD 0xFF, 16-bit service data as AD 0x16 (service data without its UUID, or with a
  32/128-bit one, cannot be an Eddystone frame and is left out). Theengs Gateway's default
  (``publish_advdata`` off) drops the raw fields of decoded devices; for its decoded iBeacon
  (``"model_id": "IBEACON"`` with ``uuid``, ``major``, ``minor``, ``txpower``) the iBeacon
  payload is rebuilt from them. Other fields (name, brand, distance, ...) are ignored: the
  format is theirs, not ours.
* ESPresense, ``espresense/devices/<id>/<room>`` (https://github.com/ESPresense/ESPresense,
  src/BleFingerprint.cpp ``fill``): ``{"mac": "aabbccddeeff", "id": "...", "rssi@1m": -59,
  "rssi": -72.5, ...}``. ESPresense sends no raw bytes, only its fingerprint id; supported:
  ``iBeacon:<uuid>-<major>-<minor>`` (rebuilt as the iBeacon payload with ``rssi@1m`` as its
  measured power) and ``eddy:<namespace>-<instance>`` (Eddystone-UID; ESPresense's format
  repeats the namespace's fifth byte, which is checked and dropped; ``rssi@1m`` is ESPresense's
  Tx power at 0 m minus 41). Every other id (``apple:...``, ``md:...``, ``name:...``) is a
  device without a badge frame: an empty payload. Its ``rssi`` is ESPresense's smoothed value,
  rounded. Eddystone-EID cannot be told apart in ESPresense's ids: EID badges need Tepi's
  format or Theengs.

Bad input: `WireError` (a `gateway.errors.FrameRejected`) with a counted reason of
`gateway.errors.REJECTION_REASONS`. A bad entry of a batch costs only itself: the others are
returned and the bad ones counted by reason in `ScanReport.rejected`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any
from uuid import UUID

from gateway.errors import FrameRejected
from gateway.strict_json import strict_json
from kinds.badge.adverts import (
    AD_MANUFACTURER_DATA,
    AD_SERVICE_DATA_16BIT,
    EDDYSTONE_LOSS_AT_1M_DB,
    ibeacon_advert,
    uid_advert,
)

VERSION = 1
MAX_ENTRIES = 5000
LEGACY_ADVERT_BYTES = 62
EXTENDED_ADVERT_BYTES = 255
#: RSSI an advertising report may carry: -127..+20 dBm (Bluetooth Core Vol 4 Part E § 7.7.65.2).
RSSI_SPAN_DBM = (-127, 20)
EXTENDED = "ext"
#: A batch of `MAX_ENTRIES` extended advertisements is ~2.8 MB; anything longer is refused unread.
MAX_MESSAGE_BYTES = 3 * 2**20
#: One device's message (Theengs, ESPresense) is a few hundred bytes.
MAX_DEVICE_MESSAGE_BYTES = 4096
_BATCH_FIELDS = frozenset(("v", "scanner", "t", "adv"))
_MAX_UNIX_S = 253402300799.0  # 9999-12-31T23:59:59Z, datetime's last second
_MAC = re.compile(r"[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}\Z")
_MAC12 = re.compile(r"[0-9a-fA-F]{12}\Z")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*\Z")
_DIGITS = re.compile(r"[0-9]{1,5}\Z")
_BLE_BASE_UUID_TAIL = "-0000-1000-8000-00805f9b34fb"


class WireError(FrameRejected):
    """A scanner message, or one entry of it, that cannot be accepted; `reason` is one of
    `gateway.errors.REJECTION_REASONS`."""


@dataclass(frozen=True, slots=True)
class Heard:
    """One advertisement heard: the advertiser's address ("aa:bb:cc:dd:ee:ff"), the RSSI
    (dBm) and the raw advertising payload; `extended` for an extended advertisement."""

    mac: str
    rssi: int
    data: bytes
    extended: bool = False


@dataclass(frozen=True, slots=True)
class ScanReport:
    """What one scanner message says: the scanner (device id), when (UTC), the advertisements
    heard, and the bad entries left out, as (reason, count) pairs sorted by reason."""

    scanner: str
    at: datetime
    heard: tuple[Heard, ...]
    rejected: tuple[tuple[str, int], ...] = ()

    @property
    def bad_entries(self) -> int:
        return sum(count for _, count in self.rejected)


# --- encoding ---------------------------------------------------------------------------------


def encode_scan(report: ScanReport) -> bytes:
    """Tepi's batch message for `report` (`ValueError` for what `decode_message` would refuse)."""
    if report.at.tzinfo is None:
        raise ValueError("a scan report's time is timezone-aware")
    if len(report.heard) > MAX_ENTRIES:
        raise ValueError(f"{len(report.heard)} advertisements in one message; at most {MAX_ENTRIES}")
    adv = []
    for h in report.heard:
        limit = EXTENDED_ADVERT_BYTES if h.extended else LEGACY_ADVERT_BYTES
        if len(h.data) > limit or not _MAC.match(h.mac) or not RSSI_SPAN_DBM[0] <= h.rssi <= RSSI_SPAN_DBM[1]:
            raise ValueError(f"advertisement {h!r:.120} does not fit the batch format")
        adv.append([h.mac.lower(), h.rssi, h.data.hex(), EXTENDED] if h.extended else [h.mac.lower(), h.rssi, h.data.hex()])
    message = {"v": VERSION, "scanner": report.scanner, "t": report.at.timestamp(), "adv": adv}
    return json.dumps(message, separators=(",", ":")).encode()


# --- decoding ---------------------------------------------------------------------------------


def decode_message(payload: bytes, scanner: str, received_at: datetime) -> ScanReport:
    """The advertisements of one MQTT message from device `scanner`, received at `received_at`
    (timezone-aware; the time of per-device messages, which carry none). Whatever the bytes,
    the only exception out of it is `WireError`."""
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    try:
        return _decode(payload, scanner, received_at)
    except WireError:
        raise
    except (ValueError, OverflowError, TypeError, RecursionError) as exc:  # a check this module missed
        raise WireError("malformed", f"{type(exc).__name__}: {str(exc)[:120]}") from exc


def _decode(payload: bytes, scanner: str, received_at: datetime) -> ScanReport:
    if not isinstance(payload, (bytes, bytearray)):
        raise WireError("garbage", f"payload is {type(payload).__name__}, not bytes")
    if len(payload) > MAX_MESSAGE_BYTES:
        raise WireError("too_large", f"{len(payload)} bytes; at most {MAX_MESSAGE_BYTES}")
    obj = _parse_json(payload)
    if type(obj) is not dict:
        raise WireError("malformed", f"payload is a JSON {type(obj).__name__}, not an object")
    if "v" in obj or "adv" in obj:
        return _batch(obj, scanner)
    if len(payload) > MAX_DEVICE_MESSAGE_BYTES:
        raise WireError("too_large", f"a one-device message of {len(payload)} bytes; at most {MAX_DEVICE_MESSAGE_BYTES}")
    at = received_at.astimezone(timezone.utc)
    ident = obj.get("id")
    if type(ident) is str and _MAC.match(ident):
        return ScanReport(scanner, at, (_theengs(obj, ident),))
    if "mac" in obj and type(ident) is str:
        return ScanReport(scanner, at, (_espresense(obj, ident),))
    raise WireError("malformed", "neither Tepi's batch, a Theengs/OpenMQTTGateway BTtoMQTT nor an ESPresense message")


def _parse_json(payload: bytes) -> Any:
    try:
        return strict_json(payload)
    except FrameRejected as exc:
        raise WireError(exc.reason, exc.detail) from exc


def _batch(obj: dict[str, Any], scanner: str) -> ScanReport:
    keys = obj.keys()
    if keys != _BATCH_FIELDS:
        missing = _BATCH_FIELDS - keys
        if missing:
            raise WireError("truncated", f"missing fields {sorted(missing)}")
        raise WireError("malformed", f"unknown fields {sorted(str(k)[:40] for k in keys - _BATCH_FIELDS)[:5]}")
    v, claimed, t, adv = obj["v"], obj["scanner"], obj["t"], obj["adv"]
    if type(v) is not int:
        raise WireError("wrong_type", f"v is a JSON {type(v).__name__}, not an integer")
    if v != VERSION:
        raise WireError("malformed", f"format version {v}; this gateway reads version {VERSION}")
    if type(claimed) is not str:
        raise WireError("wrong_type", f"scanner is a JSON {type(claimed).__name__}, not a string")
    if claimed != scanner:
        raise WireError("station_mismatch", f"message names scanner {claimed[:64]!r}, sent by device {scanner!r}")
    if type(t) is not float and type(t) is not int:
        raise WireError("wrong_type", f"t is a JSON {type(t).__name__}, not a number")
    if not 0 <= t <= _MAX_UNIX_S:  # before any float conversion: a 400-digit integer overflows one; NaN fails it
        raise WireError("out_of_range", f"t {t!r:.30} is not a time (Unix seconds 0..{_MAX_UNIX_S:.0f})")
    if type(adv) is not list:
        raise WireError("wrong_type", f"adv is a JSON {type(adv).__name__}, not an array")
    if len(adv) > MAX_ENTRIES:
        raise WireError("too_large", f"{len(adv)} advertisements in one message; at most {MAX_ENTRIES}")
    heard: list[Heard] = []
    rejected: dict[str, int] = {}
    append, fromhex, mac_of = heard.append, bytes.fromhex, _mac
    lo, hi = RSSI_SPAN_DBM
    for entry in adv:
        # the fast path: a legacy entry every well-behaved scanner sends
        if type(entry) is list and len(entry) == 3:
            mac, rssi, text = entry
            if (
                type(rssi) is int and type(text) is str and type(mac) is str and lo <= rssi <= hi
                and len(text) <= 2 * LEGACY_ADVERT_BYTES and (mac := mac_of(mac)) is not None
            ):
                try:
                    data = fromhex(text)
                except ValueError:
                    pass
                else:
                    if 2 * len(data) == len(text):  # fromhex skips spaces; the format has none
                        append(Heard(mac, rssi, data))
                        continue
        try:
            append(_entry(entry))
        except WireError as exc:
            rejected[exc.reason] = rejected.get(exc.reason, 0) + 1
    at = datetime.fromtimestamp(t, timezone.utc)
    return ScanReport(scanner, at, tuple(heard), tuple(sorted(rejected.items())))


@lru_cache(maxsize=65536)
def _mac(text: str) -> str | None:
    """`text` as "aa:bb:cc:dd:ee:ff", None if it is no address. Cached: the same badges are
    heard every second (a phone's random addresses only churn the bounded cache)."""
    return text.lower() if _MAC.match(text) else None


def _entry(entry: Any) -> Heard:
    """One batch entry with every check and the reason for the first that fails."""
    if type(entry) is not list:
        raise WireError("wrong_type", f"an advertisement is a JSON array, not {type(entry).__name__}")
    if len(entry) < 3:
        raise WireError("truncated", f"an advertisement of {len(entry)} fields, not 3")
    if len(entry) > 4 or (len(entry) == 4 and entry[3] != EXTENDED):
        raise WireError("malformed", f"an advertisement of {len(entry)} fields, or a 4th that is not {EXTENDED!r}")
    mac, rssi, text = entry[0], entry[1], entry[2]
    extended = len(entry) == 4
    if type(mac) is not str or type(text) is not str:
        raise WireError("wrong_type", "address and payload are JSON strings")
    if type(rssi) is not int:
        raise WireError("wrong_type", f"rssi is a JSON {type(rssi).__name__}, not an integer")
    normal = _mac(mac)
    if normal is None:
        raise WireError("malformed", f"address {mac[:40]!r} is not aa:bb:cc:dd:ee:ff")
    if not RSSI_SPAN_DBM[0] <= rssi <= RSSI_SPAN_DBM[1]:
        raise WireError("out_of_range", f"rssi {rssi} dBm outside {RSSI_SPAN_DBM}")
    limit = EXTENDED_ADVERT_BYTES if extended else LEGACY_ADVERT_BYTES
    if len(text) > 2 * limit:
        raise WireError("too_large", f"payload of {len(text) // 2} bytes; at most {limit}")
    return Heard(normal, rssi, _hex("payload", text), extended)


def _hex(name: str, text: str) -> bytes:
    if not _HEX.match(text):
        raise WireError("malformed", f"{name} {text[:40]!r} is not even-length hex")
    return bytes.fromhex(text)


def _rssi(obj: dict[str, Any], *, rounding: bool = False) -> int:
    if "rssi" not in obj:
        raise WireError("truncated", "no rssi")
    rssi = obj["rssi"]
    if type(rssi) is not int and not (rounding and type(rssi) is float):
        raise WireError("wrong_type", f"rssi is a JSON {type(rssi).__name__}, not {'a number' if rounding else 'an integer'}")
    if not RSSI_SPAN_DBM[0] <= rssi <= RSSI_SPAN_DBM[1]:  # NaN and Infinity fail it too, huge integers do not overflow
        raise WireError("out_of_range", f"rssi {rssi!r:.20} dBm outside {RSSI_SPAN_DBM}")
    return round(rssi)


def _ad(ad_type: int, body: bytes) -> bytes:
    if len(body) > EXTENDED_ADVERT_BYTES - 2:
        raise WireError("too_large", f"{len(body)} bytes do not fit one AD structure")
    return bytes((len(body) + 1, ad_type)) + body


def _uuid16(text: Any) -> int | None:
    """A 16-bit service UUID as Theengs ("feaa") or OpenMQTTGateway ("0xfeaa") or a BLE stack
    (the full base-UUID form) writes it; None for a 32- or 128-bit UUID."""
    if type(text) is not str:
        raise WireError("wrong_type", f"servicedatauuid is a JSON {type(text).__name__}, not a string")
    t = text.lower()
    if t.startswith("0x"):
        t = t[2:]
    if len(t) == 36 and t.startswith("0000") and t.endswith(_BLE_BASE_UUID_TAIL):
        t = t[4:8]
    if len(t) == 4 and _HEX.match(t):
        return int(t, 16)
    if len(t) == 8 and _HEX.match(t):
        return None
    if len(t) == 36:
        try:
            UUID(t)
        except ValueError:
            pass
        else:
            return None
    raise WireError("malformed", f"servicedatauuid {text[:40]!r} is not a UUID")


def _theengs(obj: dict[str, Any], ident: str) -> Heard:
    rssi = _rssi(obj)
    parts = []
    manufacturer = obj.get("manufacturerdata")
    if manufacturer is not None:
        if type(manufacturer) is not str:
            raise WireError("wrong_type", "manufacturerdata is a hex string")
        body = _hex("manufacturerdata", manufacturer)
        if len(body) < 2:
            raise WireError("malformed", "manufacturerdata without its company identifier")
        parts.append(_ad(AD_MANUFACTURER_DATA, body))
    elif obj.get("model_id") == "IBEACON" and "txpower" in obj:
        parts.append(_decoded_ibeacon(obj))
    service = obj.get("servicedata")
    if service is not None and "servicedatauuid" in obj:
        if type(service) is not str:
            raise WireError("wrong_type", "servicedata is a hex string")
        body = _hex("servicedata", service)
        uuid16 = _uuid16(obj["servicedatauuid"])
        if uuid16 is not None:
            parts.append(_ad(AD_SERVICE_DATA_16BIT, uuid16.to_bytes(2, "little") + body))
    data = b"".join(parts)
    if len(data) > EXTENDED_ADVERT_BYTES:
        raise WireError("too_large", f"advertisement of {len(data)} bytes; at most {EXTENDED_ADVERT_BYTES}")
    return Heard(ident.lower(), rssi, data)


def _int_field(obj: dict[str, Any], name: str, lo: int, hi: int) -> int:
    if name not in obj:
        raise WireError("truncated", f"no {name}")
    value = obj[name]
    if type(value) is not int:
        raise WireError("wrong_type", f"{name} is a JSON {type(value).__name__}, not an integer")
    if not lo <= value <= hi:
        raise WireError("out_of_range", f"{name} {value} outside {lo}..{hi}")
    return value


def _decoded_ibeacon(obj: dict[str, Any]) -> bytes:
    """The iBeacon payload behind Theengs' decoded iBeacon (its raw fields dropped)."""
    uuid = obj.get("uuid")
    if type(uuid) is not str or len(uuid) != 32 or not _HEX.match(uuid):
        raise WireError("malformed", f"iBeacon uuid {str(uuid)[:40]!r} is not 32 hex digits")
    return ibeacon_advert(
        bytes.fromhex(uuid), _int_field(obj, "major", 0, 65535), _int_field(obj, "minor", 0, 65535),
        _int_field(obj, "txpower", -128, 127),
    )


def _espresense(obj: dict[str, Any], ident: str) -> Heard:
    mac = obj["mac"]
    if type(mac) is not str or not _MAC12.match(mac):
        raise WireError("malformed", f"mac {str(mac)[:40]!r} is not 12 hex digits")
    address = ":".join(mac[i : i + 2] for i in range(0, 12, 2)).lower()
    rssi = _rssi(obj, rounding=True)
    if ident.startswith("iBeacon:"):
        data = _espresense_ibeacon(obj, ident[8:])
    elif ident.startswith("eddy:"):
        data = _espresense_uid(obj, ident[5:])
    else:
        data = b""  # a phone, a tag of another make: no badge frame
    return Heard(address, rssi, data)


def _espresense_ibeacon(obj: dict[str, Any], rest: str) -> bytes:
    parts = rest.rsplit("-", 2)
    if len(parts) != 3 or not _DIGITS.match(parts[1]) or not _DIGITS.match(parts[2]):  # str.isdigit takes "²"
        raise WireError("malformed", f"ESPresense id iBeacon:{rest[:60]!r} is not <uuid>-<major>-<minor>")
    try:
        uuid = UUID(parts[0])
    except ValueError as exc:
        raise WireError("malformed", f"iBeacon uuid {parts[0][:40]!r}: {exc}") from exc
    major, minor = int(parts[1]), int(parts[2])
    if major > 65535 or minor > 65535:
        raise WireError("out_of_range", f"iBeacon major {major} or minor {minor} above 65535")
    return ibeacon_advert(uuid.bytes, major, minor, _int_field(obj, "rssi@1m", -128, 127))


def _espresense_uid(obj: dict[str, Any], rest: str) -> bytes:
    """ESPresense writes the namespace's bytes 0-4, byte 4 again, then bytes 5-9 (22 digits)."""
    ns, _, instance = rest.partition("-")
    if len(ns) != 22 or len(instance) != 12 or not _HEX.match(ns) or not _HEX.match(instance) or ns[8:10] != ns[10:12]:
        raise WireError("malformed", f"ESPresense id eddy:{rest[:60]!r} is not an Eddystone-UID fingerprint")
    power = _int_field(obj, "rssi@1m", -128 - EDDYSTONE_LOSS_AT_1M_DB, 127 - EDDYSTONE_LOSS_AT_1M_DB)
    return uid_advert(bytes.fromhex(ns[:10] + ns[12:]), bytes.fromhex(instance), power)
