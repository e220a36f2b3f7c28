"""Scanner messages: Tepi's batch round-trips, real advertisements survive every accepted
format (batch, Theengs/OpenMQTTGateway, ESPresense), limits and bad input give a counted
reason, a bad entry costs only itself, and nothing but `WireError` ever comes out."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import FrameRejected, REJECTION_REASONS
from kinds.badge.adverts import EddystoneEid, EddystoneUid, IBeacon, eid_advert, ibeacon_advert, parse_advert, uid_advert
from kinds.badge.wire import (
    EXTENDED_ADVERT_BYTES,
    LEGACY_ADVERT_BYTES,
    MAX_ENTRIES,
    Heard,
    ScanReport,
    WireError,
    decode_message,
    encode_scan,
)

RX = datetime(2026, 3, 2, 1, 30, tzinfo=timezone.utc)
AT = datetime(2026, 3, 2, 1, 29, 59, 250000, tzinfo=timezone.utc)
RECORDINGS = {
    r["id"]: r
    for r in map(json.loads, (Path(__file__).parent / "data" / "recorded_adverts.jsonl").read_text().splitlines())
}


def reason(payload: bytes | str, scanner: str = "scan-1") -> str:
    with pytest.raises(WireError) as info:
        decode_message(payload.encode() if isinstance(payload, str) else payload, scanner, RX)
    assert info.value.reason in REJECTION_REASONS
    return info.value.reason


def batch(adv: list, **fields) -> bytes:
    message = {"v": 1, "scanner": "scan-1", "t": AT.timestamp(), "adv": adv} | fields
    return json.dumps(message).encode()


def decode(payload: bytes | str, scanner: str = "scan-1") -> ScanReport:
    return decode_message(payload.encode() if isinstance(payload, str) else payload, scanner, RX)


# --- Tepi's batch -------------------------------------------------------------------------


def sample_report(n: int = 30, seed: int = 5) -> ScanReport:
    rng = random.Random(seed)
    heard = []
    for i in range(n):
        mac = ":".join(f"{rng.randrange(256):02x}" for _ in range(6))
        data = [ibeacon_advert(rng.randbytes(16), i, 7, -59), uid_advert(rng.randbytes(10), rng.randbytes(6), -60),
                eid_advert(rng.randbytes(8), -62), rng.randbytes(rng.randrange(LEGACY_ADVERT_BYTES + 1))][i % 4]
        heard.append(Heard(mac, rng.randrange(-127, 21), data))
    heard.append(Heard("02:00:00:00:00:01", -80, bytes(EXTENDED_ADVERT_BYTES), extended=True))
    return ScanReport("scan-1", AT, tuple(heard))


def test_a_batch_round_trips():
    report = sample_report()
    assert decode(encode_scan(report)) == report
    assert decode(encode_scan(report)).at == AT  # to the microsecond, in UTC


def test_the_batch_is_the_declared_json():
    report = ScanReport("scan-1", AT, (Heard("aa:bb:cc:dd:ee:ff", -67, b"\x02\x01\x06"),))
    assert json.loads(encode_scan(report)) == {"v": 1, "scanner": "scan-1", "t": AT.timestamp(), "adv": [["aa:bb:cc:dd:ee:ff", -67, "020106"]]}


def test_real_advertisements_survive_a_batch():
    heard = []
    for rid in ("pybtsteward_ibeacon_hci", "pybtsteward_uid_hci"):
        raw = bytes.fromhex(RECORDINGS[rid]["hex"])
        heard.append([RECORDINGS[rid]["mac"].upper(), RECORDINGS[rid]["rssi"], raw[14 : 14 + raw[13]].hex().upper()])
    for rid in ("aosp_bluecharm_uid", "sbb_eid_c22fe1f198109681", "so_airlocate_ibeacon"):
        heard.append(["c0:ff:ee:00:00:01", -70, RECORDINGS[rid]["hex"]])
    report = decode(batch(heard))
    assert report.rejected == ()
    assert [h.mac for h in report.heard][:2] == ["0c:f3:ee:00:f8:ec", "e5:15:aa:e0:53:f5"]
    frames = [parse_advert(h.data) for h in report.heard]
    assert frames[0] == IBeacon(bytes.fromhex("8deefbb9f7384297804096668bb44281"), 5000, 3918, -63)
    assert frames[1] == EddystoneUid(bytes.fromhex("edd1ebeac04e5defa017"), bytes.fromhex("e515aae053f5"), -74)
    assert frames[2] == EddystoneUid(b"bluecharm1", bytes.fromhex("000000000001"), -59)
    assert frames[3] == EddystoneEid(bytes.fromhex("c22fe1f198109681"), -107)
    assert frames[4].major == 0 and frames[4].tx_power_1m == -59


def test_another_scanner_named_in_the_message_is_station_mismatch():
    assert reason(batch([]), scanner="scan-2") == "station_mismatch"


def test_an_empty_batch_is_a_report_of_nothing():
    report = decode(batch([]))
    assert report == ScanReport("scan-1", AT, ())


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ("aa:bb:cc:dd:ee:ff", "wrong_type"),
        (["aa:bb:cc:dd:ee:ff", -60], "truncated"),
        (["aa:bb:cc:dd:ee:ff", -60, "020106", "ext", 1], "malformed"),
        (["aa:bb:cc:dd:ee:ff", -60, "020106", "legacy"], "malformed"),
        (["aa:bb:cc:dd:ee", -60, "020106"], "malformed"),
        (["aa-bb-cc-dd-ee-ff", -60, "020106"], "malformed"),
        ([None, -60, "020106"], "wrong_type"),
        (["aa:bb:cc:dd:ee:ff", -60.0, "020106"], "wrong_type"),
        (["aa:bb:cc:dd:ee:ff", "-60", "020106"], "wrong_type"),
        (["aa:bb:cc:dd:ee:ff", True, "020106"], "wrong_type"),
        (["aa:bb:cc:dd:ee:ff", -128, "020106"], "out_of_range"),
        (["aa:bb:cc:dd:ee:ff", 21, "020106"], "out_of_range"),
        (["aa:bb:cc:dd:ee:ff", -60, "02010"], "malformed"),
        (["aa:bb:cc:dd:ee:ff", -60, "02 01 06"], "malformed"),
        (["aa:bb:cc:dd:ee:ff", -60, "0x0201"], "malformed"),
        (["aa:bb:cc:dd:ee:ff", -60, b"\x02".hex() * 63], "too_large"),
        (["aa:bb:cc:dd:ee:ff", -60, "00" * 256, "ext"], "too_large"),
        (["aa:bb:cc:dd:ee:ff", -60, 20106], "wrong_type"),
    ],
)
def test_a_bad_entry_is_counted_and_the_others_kept(entry, why):
    good = ["aa:bb:cc:dd:ee:01", -60, eid_advert(bytes(8), -60).hex()]
    report = decode(batch([good, entry, good]))
    assert report.rejected == ((why, 1),)
    assert report.bad_entries == 1
    assert [h.mac for h in report.heard] == ["aa:bb:cc:dd:ee:01", "aa:bb:cc:dd:ee:01"]


def test_bad_entries_are_counted_per_reason():
    adv = [["aa:bb:cc:dd:ee:ff", 99, "00"]] * 3 + [["x", -60, "00"]] * 2 + [["aa:bb:cc:dd:ee:ff", -60, "00"]]
    report = decode(batch(adv))
    assert report.rejected == (("malformed", 2), ("out_of_range", 3))
    assert len(report.heard) == 1


def test_the_limits_are_inclusive():
    mac = "aa:bb:cc:dd:ee:ff"
    report = decode(batch([[mac, -127, "00" * LEGACY_ADVERT_BYTES], [mac, 20, "00" * EXTENDED_ADVERT_BYTES, "ext"]]))
    assert report.rejected == ()
    assert report.heard[1].extended and len(report.heard[1].data) == EXTENDED_ADVERT_BYTES
    assert len(decode(batch([[mac, -60, "00"]] * MAX_ENTRIES)).heard) == MAX_ENTRIES
    assert reason(batch([[mac, -60, "00"]] * (MAX_ENTRIES + 1))) == "too_large"


def test_addresses_are_stored_lower_case():
    assert decode(batch([["AA:BB:CC:DD:EE:0F", -60, "AB"]])).heard == (Heard("aa:bb:cc:dd:ee:0f", -60, b"\xab"),)


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b"\xff\xfe", "not_json"),
        (b"{", "not_json"),
        (b"[1, 2]", "malformed"),
        (b"{}", "malformed"),
        (b'{"v":1,"scanner":"scan-1","t":1.0,"adv":[],"adv":[]}', "duplicate_key"),
        (b'{"v":1,"scanner":"scan-1","t":NaN,"adv":[]}', "out_of_range"),
        (b'{"v":1,"scanner":"scan-1","t":1e999,"adv":[]}', "out_of_range"),
        (b'{"v":1,"scanner":"scan-1","t":-1,"adv":[]}', "out_of_range"),
        (b'{"v":1,"scanner":"scan-1","t":1e12,"adv":[]}', "out_of_range"),
        (b'{"v":1,"scanner":"scan-1","t":"1","adv":[]}', "wrong_type"),
        (b'{"v":1,"scanner":"scan-1","t":true,"adv":[]}', "wrong_type"),
        (b'{"v":1,"scanner":"scan-1","adv":[]}', "truncated"),
        (b'{"v":1,"scanner":"scan-1","t":1,"adv":[],"room":"a"}', "malformed"),
        (b'{"v":2,"scanner":"scan-1","t":1,"adv":[]}', "malformed"),
        (b'{"v":1.0,"scanner":"scan-1","t":1,"adv":[]}', "wrong_type"),
        (b'{"v":1,"scanner":7,"t":1,"adv":[]}', "wrong_type"),
        (b'{"v":1,"scanner":"scan-1","t":1,"adv":{}}', "wrong_type"),
        (b"[" * 100_000 + b"]" * 100_000, "not_json"),
        (b" " * (3 * 2**20 + 1), "too_large"),
        # Integers too large for a float: once an OverflowError that stopped the gateway's loop.
        (b'{"v":1,"scanner":"scan-1","t":1' + b"0" * 400 + b',"adv":[]}', "out_of_range"),
        (b'{"id":"AA:BB:CC:DD:EE:FF","rssi":1' + b"0" * 400 + b"}", "out_of_range"),
        (b'{"mac":"aabbccddeeff","id":"x","rssi":-1' + b"0" * 400 + b"}", "out_of_range"),
        # "\u00b2" (superscript two) passes str.isdigit() but is no number int() reads.
        ('{"mac":"aabbccddeeff","id":"iBeacon:e2c56db5-dffb-48d2-b060-d0f5a71096e0-\u00b2-1","rssi":-60,"rssi@1m":-59}'.encode(), "malformed"),
    ],
)
def test_a_bad_message_has_a_counted_reason(payload, why):
    assert reason(payload) == why


def test_a_huge_rssi_inside_a_batch_costs_only_its_entry():
    payload = b'{"v":1,"scanner":"scan-1","t":1,"adv":[["aa:bb:cc:dd:ee:ff",1' + b"0" * 400 + b',"02"],["aa:bb:cc:dd:ee:f0",-60,"0201"]]}'
    report = decode_message(payload, "scan-1", datetime.now(timezone.utc))
    assert [h.mac for h in report.heard] == ["aa:bb:cc:dd:ee:f0"]
    assert dict(report.rejected) == {"out_of_range": 1}


def test_wire_error_is_the_gateways_rejection():
    assert issubclass(WireError, FrameRejected)


def test_receive_time_must_be_aware():
    with pytest.raises(ValueError):
        decode_message(batch([]), "scan-1", RX.replace(tzinfo=None))


def test_encode_refuses_what_decode_would():
    with pytest.raises(ValueError):
        encode_scan(ScanReport("s", AT.replace(tzinfo=None), ()))
    with pytest.raises(ValueError):
        encode_scan(ScanReport("s", AT, (Heard("aa:bb:cc:dd:ee:ff", -60, bytes(LEGACY_ADVERT_BYTES + 1)),)))


# --- Theengs Gateway / OpenMQTTGateway ------------------------------------------------------


def theengs(**fields) -> ScanReport:
    return decode(json.dumps({"id": "AA:BB:CC:DD:EE:FF", "rssi": -71} | fields))


@pytest.mark.parametrize("rid", [r for r in RECORDINGS if r.startswith("theengs_")])
def test_theengs_manufacturer_data_of_real_ibeacons(rid):
    record = RECORDINGS[rid]
    report = theengs(manufacturerdata=record["hex"], name="tag", mfr="Apple, Inc.")
    (heard,) = report.heard
    assert (heard.mac, heard.rssi, report.at) == ("aa:bb:cc:dd:ee:ff", -71, RX)
    e = record["expect"]
    assert parse_advert(heard.data) == IBeacon(bytes.fromhex(e["uuid"]), e["major"], e["minor"], e["tx_power_1m"])


@pytest.mark.parametrize("uuid", ["feaa", "0xfeaa", "FEAA", "0000feaa-0000-1000-8000-00805f9b34fb"])
def test_theengs_eddystone_service_data(uuid):
    # SBB's recorded EID frame and AOSP's recorded Blue Charm UID frame, as their service data
    eid = theengs(servicedatauuid=uuid, servicedata="30bec22fe1f198109681")
    assert parse_advert(eid.heard[0].data) == EddystoneEid(bytes.fromhex("c22fe1f198109681"), -107)
    uid = theengs(servicedatauuid=uuid, servicedata="00ee626c7565636861726d310000000000010000")
    assert parse_advert(uid.heard[0].data) == EddystoneUid(b"bluecharm1", bytes(5) + b"\x01", -59)


def test_theengs_decoded_ibeacon_without_raw_fields():
    # Theengs decoder's expected output for the recorded Blue Charm (publish_advdata off)
    report = theengs(brand="GENERIC", model="iBeacon", model_id="IBEACON", type="BCON", mfid="4c00",
                     uuid="426c7565436861726d426561636f6e73", major=3838, minor=4949, txpower=-59)
    assert parse_advert(report.heard[0].data) == IBeacon(b"BlueCharmBeacons", 3838, 4949, -59)


def test_openmqttgateway_documented_message_is_a_device_without_badge():
    # https://docs.openmqttgateway.com/use/ble.html: service data without its UUID
    report = decode('{"id":"45:e1:74:12:6e:00","rssi":-89,"distance":21.51847,"servicedata":"fe0000000000000000000000000000000000000000"}')
    assert report.heard == (Heard("45:e1:74:12:6e:00", -89, b""),)
    assert parse_advert(report.heard[0].data) is None


def test_theengs_other_uuids_and_devices_are_no_badge():
    assert parse_advert(theengs(servicedatauuid="0000fe9f-0000-1000-8000-00805f9b34fc", servicedata="00").heard[0].data) is None
    assert theengs(brand="Xiaomi", tempc=26).heard[0].data == b""


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"rssi": None}, "wrong_type"),
        ({"rssi": -71.5}, "wrong_type"),
        ({"rssi": -200}, "out_of_range"),
        ({"manufacturerdata": "4c0"}, "malformed"),
        ({"manufacturerdata": "4c"}, "malformed"),
        ({"manufacturerdata": 76}, "wrong_type"),
        ({"servicedatauuid": "feaa", "servicedata": "zz"}, "malformed"),
        ({"servicedatauuid": "eddystone", "servicedata": "00"}, "malformed"),
        ({"servicedatauuid": 65194, "servicedata": "00"}, "wrong_type"),
        ({"manufacturerdata": "4c00" + "00" * 300}, "too_large"),
        ({"model_id": "IBEACON", "uuid": "xyz", "major": 1, "minor": 2, "txpower": -59}, "malformed"),
        ({"model_id": "IBEACON", "uuid": "00" * 16, "major": 70000, "minor": 2, "txpower": -59}, "out_of_range"),
    ],
)
def test_theengs_bad_fields(fields, why):
    assert reason(json.dumps({"id": "AA:BB:CC:DD:EE:FF", "rssi": -71} | fields)) == why


def test_theengs_presence_message_without_rssi_is_truncated():
    assert reason('{"id":"AA:BB:CC:DD:EE:FF","presence":"present"}') == "truncated"


# --- ESPresense ---------------------------------------------------------------------------


def espresense(ident: str, **fields) -> ScanReport:
    message = {"mac": "e5ca1ade0001", "id": ident, "rssi@1m": -59, "rssi": -72.46, "rxAdj": 0, "distance": 2.1, "int": 1020}
    return decode(json.dumps(message | fields))


def test_espresense_ibeacon_id_becomes_its_ibeacon():
    report = espresense("iBeacon:e2c56db5-dffb-48d2-b060-d0f5a71096e0-100-7")
    (heard,) = report.heard
    assert (heard.mac, heard.rssi, report.at) == ("e5:ca:1a:de:00:01", -72, RX)
    assert parse_advert(heard.data) == IBeacon(bytes.fromhex("e2c56db5dffb48d2b060d0f5a71096e0"), 100, 7, -59)


def test_espresense_eddystone_uid_id_with_its_repeated_byte():
    # namespace edd1ebeac04e5defa017 as ESPresense prints it: the fifth byte (c0) twice
    report = espresense("eddy:edd1ebeac0c04e5defa017-e515aae053f5", **{"rssi@1m": -74})
    assert parse_advert(report.heard[0].data) == EddystoneUid(
        bytes.fromhex("edd1ebeac04e5defa017"), bytes.fromhex("e515aae053f5"), -74
    )


@pytest.mark.parametrize("ident", ["apple:1005:9", "md:0075:24", "name:living-room-tv", "sd:0xfe9f", "exp:20"])
def test_espresense_other_ids_are_devices_without_badge(ident):
    (heard,) = espresense(ident).heard
    assert heard.data == b"" and parse_advert(heard.data) is None


@pytest.mark.parametrize(
    ("ident", "fields", "why"),
    [
        ("iBeacon:e2c56db5-dffb-48d2-b060-d0f5a71096e0-100", {}, "malformed"),
        ("iBeacon:not-a-uuid-100-7", {}, "malformed"),
        ("iBeacon:e2c56db5-dffb-48d2-b060-d0f5a71096e0-70000-7", {}, "out_of_range"),
        ("iBeacon:e2c56db5-dffb-48d2-b060-d0f5a71096e0-100-7", {"rssi@1m": None}, "wrong_type"),
        ("iBeacon:e2c56db5-dffb-48d2-b060-d0f5a71096e0-100-7", {"rssi@1m": -300}, "out_of_range"),
        ("eddy:edd1ebeac0c14e5defa017-e515aae053f5", {}, "malformed"),
        ("eddy:edd1ebeac04e5defa017-e515aae053f5", {}, "malformed"),
        ("apple:1005:9", {"mac": "e5:ca:1a:de:00:01"}, "malformed"),
        ("apple:1005:9", {"rssi": "-72"}, "wrong_type"),
        ("apple:1005:9", {"rssi": -127.9}, "out_of_range"),
    ],
)
def test_espresense_bad_messages(ident, fields, why):
    message = {"mac": "e5ca1ade0001", "id": ident, "rssi@1m": -59, "rssi": -72.46} | fields
    assert reason(json.dumps(message)) == why


def test_espresense_ibeacon_without_its_power_is_truncated():
    assert reason('{"mac":"e5ca1ade0001","id":"iBeacon:e2c56db5-dffb-48d2-b060-d0f5a71096e0-1-2","rssi":-70}') == "truncated"


def test_a_one_device_message_is_small():
    assert reason(json.dumps({"id": "AA:BB:CC:DD:EE:FF", "rssi": -71, "name": "x" * 5000})) == "too_large"


def test_neither_format_is_malformed():
    assert reason('{"id":"not-a-mac","rssi":-60}') == "malformed"


# --- nothing but WireError ----------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=20)
    | st.sampled_from(["aa:bb:cc:dd:ee:ff", "AA:BB:CC:DD:EE:FF", "020106", "ext", "feaa", "iBeacon:x-1-2", "eddy:", "scan-1"]),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(
        st.sampled_from(["v", "scanner", "t", "adv", "id", "mac", "rssi", "rssi@1m", "manufacturerdata", "servicedata",
                         "servicedatauuid", "model_id", "uuid", "major", "minor", "txpower", "x"]), inner, max_size=6),
    max_leaves=12,
)


def survives(payload: bytes) -> ScanReport | None:
    try:
        return decode_message(payload, "scan-1", RX)
    except WireError as exc:
        assert exc.reason in REJECTION_REASONS
        return None


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes(payload):
    survives(payload)


@settings(max_examples=400, deadline=None)
@given(JSON_VALUES)
def test_random_json(value):
    survives(json.dumps(value).encode())


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["v", "scanner", "t", "adv", None]), JSON_VALUES, st.lists(st.tuples(st.integers(0, 40), st.integers(-1, 3), JSON_VALUES), max_size=4))
def test_batches_with_edited_fields_and_entries_account_for_every_entry(field, value, edits):
    message = json.loads(encode_scan(sample_report(12)))
    if field is not None:
        message[field] = value
    adv = message["adv"]
    for at, element, replacement in edits:
        if isinstance(adv, list) and adv:
            i = at % len(adv)
            if element < 0 or not isinstance(adv[i], list) or not adv[i]:
                adv[i] = replacement
            else:
                adv[i][element % len(adv[i])] = replacement
    report = survives(json.dumps(message).encode())
    if report is not None:
        assert len(report.heard) + report.bad_entries == len(message["adv"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255), st.sampled_from(["set", "insert", "delete"])), max_size=6))
def test_byte_edits_of_a_batch(edits):
    data = bytearray(encode_scan(sample_report(6)))
    for at, value, op in edits:
        i = at % (len(data) + 1)
        if op == "insert":
            data.insert(i, value)
        elif data and i < len(data):
            if op == "set":
                data[i] = value
            else:
                del data[i]
    survives(bytes(data))


def test_a_later_batch_time_is_not_this_modules_to_judge():
    future = AT + timedelta(days=365)
    assert decode(batch([], t=future.timestamp())).at == future  # the gateway refuses future_timestamp
