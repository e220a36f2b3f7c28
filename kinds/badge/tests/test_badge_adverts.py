"""Badge frames in BLE advertisements: real recordings (tests/data/README.md) decode to what
their sources say, beacontools agrees on recorded and generated payloads, and malformed bytes
are a `ValueError` that says what is wrong."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from beacontools import EddystoneEIDFrame, EddystoneUIDFrame, IBeaconAdvertisement, parse_packet
from hypothesis import given, settings
from hypothesis import strategies as st

from kinds.badge.adverts import (
    MAX_ADVERT_BYTES,
    PARSE_CACHE_SIZE,
    EddystoneEid,
    EddystoneUid,
    IBeacon,
    eid_advert,
    ibeacon_advert,
    parse_advert,
    parse_advert_cached,
    uid_advert,
)

DATA = Path(__file__).parent / "data"
RECORDINGS = [json.loads(line) for line in (DATA / "recorded_adverts.jsonl").read_text().splitlines() if line]


def hci_report(raw: bytes) -> tuple[str, int, bytes]:
    """(address, RSSI, advertising data) of a BlueZ HCI LE Advertising Report event with one
    report: 04 3E len 02 01 event-type address-type address(6, little-endian) data-len data rssi
    (Bluetooth Core Vol 4 Part E § 7.7.65.2)."""
    assert raw[:2] == b"\x04\x3e" and raw[3] == 0x02 and raw[4] == 1
    address = ":".join(f"{b:02x}" for b in reversed(raw[7:13]))
    size = raw[13]
    rssi = raw[14 + size]
    return address, rssi - 256 if rssi > 127 else rssi, raw[14 : 14 + size]


def payload_of(record: dict) -> bytes:
    raw = bytes.fromhex(record["hex"])
    if record["kind"] == "hci":
        return hci_report(raw)[2]
    if record["kind"] == "theengs_manufacturerdata":
        return bytes((len(raw) + 1, 0xFF)) + raw  # the AD structure the field came from
    return raw


def expected_frame(expect: dict):
    if expect["frame"] == "ibeacon":
        return IBeacon(bytes.fromhex(expect["uuid"]), expect["major"], expect["minor"], expect["tx_power_1m"])
    if expect["frame"] == "eddystone_uid":
        return EddystoneUid(bytes.fromhex(expect["namespace"]), bytes.fromhex(expect["instance"]), expect["tx_power_0m"] - 41)
    return EddystoneEid(bytes.fromhex(expect["eid"]), expect["tx_power_0m"] - 41)


def test_the_recordings_cover_every_badge_frame_from_real_devices():
    frames = {r["expect"]["frame"] for r in RECORDINGS if isinstance(r["expect"], dict) and not r["id"].startswith("beacontools")}
    assert frames == {"ibeacon", "eddystone_uid", "eddystone_eid"}
    assert 20 <= len(RECORDINGS) <= 40


@pytest.mark.parametrize("record", RECORDINGS, ids=lambda r: r["id"])
def test_a_recording_decodes_to_what_its_source_says(record):
    data = payload_of(record)
    if record["expect"] == "malformed":
        with pytest.raises(ValueError, match="AD structure at byte"):
            parse_advert(data)
    elif record["expect"] is None:
        assert parse_advert(data) is None
    else:
        assert parse_advert(data) == expected_frame(record["expect"])


def test_the_hci_recordings_carry_address_and_rssi():
    by_id = {r["id"]: r for r in RECORDINGS}
    for rid in ("pybtsteward_ibeacon_hci", "pybtsteward_uid_hci"):
        mac, rssi, _ = hci_report(bytes.fromhex(by_id[rid]["hex"]))
        assert (mac, rssi) == (by_id[rid]["mac"], by_id[rid]["rssi"])


def assert_agrees_with_beacontools(data: bytes) -> None:
    """parse_advert and beacontools' parse_packet name the same badge (ids and Tx power)."""
    mine, theirs = parse_advert(data), parse_packet(data)
    if isinstance(mine, IBeacon):
        assert isinstance(theirs, IBeaconAdvertisement)
        assert theirs.uuid.replace("-", "") == mine.uuid.hex()
        assert (theirs.major, theirs.minor, theirs.tx_power) == (mine.major, mine.minor, mine.tx_power_1m)
    elif isinstance(mine, EddystoneUid):
        assert isinstance(theirs, EddystoneUIDFrame)
        assert (theirs.namespace, theirs.instance) == (mine.namespace.hex(), mine.instance.hex())
        assert theirs.tx_power == mine.tx_power_1m + 41
    elif isinstance(mine, EddystoneEid):
        assert isinstance(theirs, EddystoneEIDFrame)
        assert bytes(theirs.eid) == mine.eid  # beacontools gives the 8 bytes
        assert theirs.tx_power == mine.tx_power_1m + 41
    else:
        assert not isinstance(theirs, (IBeaconAdvertisement, EddystoneUIDFrame, EddystoneEIDFrame))


@pytest.mark.parametrize("record", [r for r in RECORDINGS if r["expect"] != "malformed"], ids=lambda r: r["id"])
def test_beacontools_agrees_on_the_recordings(record):
    assert_agrees_with_beacontools(payload_of(record))


#: What else shares an advertisement with a badge frame: a name, a Tx power level, another
#: company's data, an Apple Nearby message, another service's data (always well-formed).
OTHER_STRUCTURES = [
    b"\x05\x09Tepi", b"\x02\x0a\xf4", b"\x05\xff\x59\x00\x01\x02", b"\x07\xff\x4c\x00\x10\x02\x0b\x00",
    b"\x05\x16\x0f\x18\x64\x00", b"\x05\x03\x0f\x18\x0a\x18",
]


def generated_payloads(n: int, seed: int = 21):
    rng = random.Random(seed)
    for i in range(n):
        kind = i % 3
        if kind == 0:
            frame = IBeacon(rng.randbytes(16), rng.randrange(65536), rng.randrange(65536), rng.randrange(-128, 128))
            data = ibeacon_advert(frame.uuid, frame.major, frame.minor, frame.tx_power_1m)
        elif kind == 1:
            frame = EddystoneUid(rng.randbytes(10), rng.randbytes(6), rng.randrange(-128, 128) - 41)
            data = uid_advert(frame.namespace, frame.instance, frame.tx_power_1m)
        else:
            frame = EddystoneEid(rng.randbytes(8), rng.randrange(-128, 128) - 41)
            data = eid_advert(frame.eid, frame.tx_power_1m)
        extra = rng.choice(OTHER_STRUCTURES)
        yield frame, data
        yield frame, data + extra  # a scan response after it
        yield frame, data + b"\x00" * (62 - len(data + extra)) + extra  # Android: padded, then the scan response


def test_generated_payloads_round_trip_and_beacontools_agrees():
    count = 0
    for frame, data in generated_payloads(600):
        assert parse_advert(data) == frame
        assert_agrees_with_beacontools(data)
        count += 1
    assert count == 1800


def test_eddystone_carries_the_power_at_0_m_which_is_41_db_above_1_m():
    data = uid_advert(bytes(10), bytes(6), -59)
    assert data[12] == (-18) & 0xFF  # ranging data of the UID frame: -59 + 41
    assert eid_advert(bytes(8), -59)[12] == (-18) & 0xFF
    assert ibeacon_advert(bytes(16), 0, 0, -59)[-1] == (-59) & 0xFF  # iBeacon's is at 1 m already


def test_the_encoders_send_flags_and_eddystone_its_uuid_list():
    for data in (ibeacon_advert(bytes(16), 1, 2, -59), uid_advert(bytes(10), bytes(6), -59), eid_advert(bytes(8), -59)):
        assert data[:3] == b"\x02\x01\x06"
        assert len(data) <= 31  # one legacy advertisement
    assert uid_advert(bytes(10), bytes(6), -59)[3:7] == b"\x03\x03\xaa\xfe"
    assert len(uid_advert(bytes(10), bytes(6), -59)) == 31


def test_padding_anywhere_is_skipped():
    data = eid_advert(bytes(range(8)), -60)
    assert parse_advert(b"\x00\x00" + data[:3] + b"\x00" + data[3:] + b"\x00" * 10) == EddystoneEid(bytes(range(8)), -60)
    assert parse_advert(b"") is None
    assert parse_advert(bytes(62)) is None


def test_first_badge_frame_wins():
    a, b = eid_advert(b"A" * 8, -60), ibeacon_advert(b"B" * 16, 1, 2, -59)
    assert parse_advert(a + b) == EddystoneEid(b"A" * 8, -60)
    assert parse_advert(b + a) == IBeacon(b"B" * 16, 1, 2, -59)


@pytest.mark.parametrize(
    "data",
    [
        b"\x03\x03\xaa\xfe\x0a\x16\xaa\xfe\x10\xeb\x02abc\x07",  # URL: Google's RFduino example
        b"\x02\x01\x06\x03\x03\xaa\xfe\x11\x16\xaa\xfe\x20\x00\x0b\x18\x13\x00\x00\x00\x14\x67\x00\x00\x2a\xc4",  # TLM
        b"\x03\x03\xaa\xfe\x05\x16\xaa\xfe\x40\x00",  # a reserved frame type
        b"\x1a\xff\x59\x00\x02\x15" + bytes(21),  # iBeacon layout under another company's id
        b"\x07\xff\x4c\x00\x10\x02\x0b\x00",  # Apple Nearby
        b"\x03\xff\x4c\x00",  # Apple, no data
        b"\x0c\x16\x0f\x18" + bytes(9),  # another 16-bit service's data
    ],
    ids=["url", "tlm", "reserved", "other-company", "apple-nearby", "apple-empty", "other-service"],
)
def test_other_advertisements_are_no_badge(data):
    assert parse_advert(data) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x1e\x01\x06", "declares 30 bytes but only 2 follow"),
        (b"0000000", "declares 48 bytes"),  # beacontools' bad packets: ASCII digits
        (b"\x02\x01\x06\x03\x03", "AD structure at byte 3"),  # beacontools' bad packets: cut short
        (b"\x01\x01", "Flags at byte 0 without"),
        (b"\x01\xff", "company identifier"),
        (b"\x02\xff\x4c", "company identifier"),
        (b"\x02\x16\xaa", "16-bit UUID"),
        (b"\x04\x03\xaa\xfe\x0f", "not a multiple of 2"),
        (b"\x03\x16\xaa\xfe", "without a frame type"),
        (b"\x04\xff\x4c\x00\x02", "iBeacon truncated"),
        (b"\x1a\xff\x4c\x00\x02\x14" + bytes(21), "not 21"),
        (b"\x19\xff\x4c\x00\x02\x15" + bytes(20), "iBeacon truncated after 24 of 25"),
        (b"\x14\x16\xaa\xfe\x00\xee" + bytes(15), "Eddystone-UID frame of 17 bytes"),
        (b"\x18\x16\xaa\xfe\x00\xee" + bytes(19), "Eddystone-UID frame of 21 bytes"),
        (b"\x0c\x16\xaa\xfe\x30\xee" + bytes(7), "Eddystone-EID frame of 9 bytes"),
        (b"\x0e\x16\xaa\xfe\x30\xee" + bytes(9), "Eddystone-EID frame of 11 bytes"),
        (bytes(MAX_ADVERT_BYTES + 1), "at most 255"),
    ],
)
def test_malformed_payloads_say_what_is_wrong(data, message):
    with pytest.raises(ValueError, match=message):
        parse_advert(data)


def test_a_payload_cut_inside_a_structure_is_malformed_and_at_a_boundary_is_shorter():
    data = uid_advert(bytes(range(10)), bytes(range(6)), -59)
    boundaries = {0, 3, 7, 31}
    for cut in range(len(data)):
        if cut in boundaries:
            assert parse_advert(data[:cut]) is None
        else:
            with pytest.raises(ValueError):
                parse_advert(data[:cut])


def test_the_uid_frame_without_its_reserved_bytes_is_a_uid():
    data = uid_advert(bytes(range(10)), bytes(range(6)), -59)
    short = data[:7] + b"\x15" + data[8:-2]
    assert parse_advert(short) == EddystoneUid(bytes(range(10)), bytes(range(6)), -59)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_are_a_frame_none_or_value_error(data):
    try:
        parse_advert(data)
    except ValueError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2), st.lists(st.tuples(st.integers(0, 30), st.integers(0, 255)), max_size=4))
def test_edited_badge_payloads_are_a_frame_none_or_value_error(kind, edits):
    data = bytearray([ibeacon_advert(bytes(16), 1, 2, -59), uid_advert(bytes(10), bytes(6), -59), eid_advert(bytes(8), -59)][kind])
    for at, value in edits:
        data[at % len(data)] = value
    try:
        frame = parse_advert(bytes(data))
    except ValueError:
        return
    assert frame is None or isinstance(frame, (IBeacon, EddystoneUid, EddystoneEid))


def test_the_cache_answers_as_the_parser_and_is_bounded():
    data = eid_advert(b"cachetst", -61)
    assert parse_advert_cached(data) == parse_advert(data)
    assert parse_advert_cached(data) is parse_advert_cached(data)
    assert parse_advert_cached.cache_info().maxsize == PARSE_CACHE_SIZE
    for _ in range(2):  # malformed input is refused every time, never cached as an answer
        with pytest.raises(ValueError):
            parse_advert_cached(b"\x05\x01")


@pytest.mark.parametrize(
    "call",
    [
        lambda: ibeacon_advert(bytes(15), 0, 0, -59),
        lambda: ibeacon_advert(bytes(16), 65536, 0, -59),
        lambda: ibeacon_advert(bytes(16), 0, -1, -59),
        lambda: ibeacon_advert(bytes(16), 0, 0, 128),
        lambda: uid_advert(bytes(9), bytes(6), -59),
        lambda: uid_advert(bytes(10), bytes(7), -59),
        lambda: uid_advert(bytes(10), bytes(6), 87),  # 87 + 41 does not fit the ranging byte
        lambda: eid_advert(bytes(7), -59),
        lambda: eid_advert(bytes(8), -170),
        lambda: eid_advert(bytes(8), -59.0),
    ],
)
def test_the_encoders_refuse_what_no_badge_sends(call):
    with pytest.raises(ValueError):
        call()


def test_non_bytes_are_refused():
    with pytest.raises(ValueError, match="bytes"):
        parse_advert("0201060303aafe")  # type: ignore[arg-type]
