"""What the river kind tells the generic gateway: journal bodies, stored items, local alarms."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone

import pytest

from contract.items import PRIORITY_EVENT, PRIORITY_ROUTINE
from gateway.devices import device_kind
from ingest.testing import rate_of_rise, siaga_change, summary
from kinds.awlr.edge import KIND, LevelReading
from kinds.awlr.summary_records import RECORD_MARK

T0 = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)
GW = "gw-ciliwung"


def test_the_registry_finds_the_river_kind_by_its_name() -> None:
    assert device_kind("awlr") is KIND


@pytest.mark.parametrize("battery", [12.6, None, 0.0])
def test_a_journalled_reading_comes_back_equal(battery: float | None) -> None:
    reading = LevelReading("awlr-katulampa", 2**40, T0, 123.456789, battery)
    body = KIND.journal_body(reading)
    assert len(body) == (8 if battery is None else 16)
    assert KIND.from_journal(reading.device, reading.seq, reading.ts, body) == reading


@pytest.mark.parametrize("body", [b"", b"\x00" * 7, b"\x00" * 12, b"\x00" * 24])
def test_a_journal_body_of_another_size_is_refused(body: bytes) -> None:
    with pytest.raises(ValueError, match="8 or 16 bytes"):
        KIND.from_journal("awlr-katulampa", 1, T0, body)


def test_a_summary_is_stored_as_a_routine_record_that_closes_its_window() -> None:
    s = summary("katulampa", T0, 80.0, gateway=GW)
    stored = KIND.stored(s, GW)
    assert (stored.item_id, stored.priority, stored.kind, stored.type) == (s.id, PRIORITY_ROUTINE, "awlr", "summary")
    assert (stored.origin, stored.at) == ("katulampa/awlr-katulampa", T0.timestamp())
    assert stored.summarised == ("awlr-katulampa", s.window_end.timestamp())
    assert stored.body[:1] == RECORD_MARK


def test_a_summary_with_a_nan_is_stored_as_an_object_naming_its_kind() -> None:
    s = summary("katulampa", T0, 80.0, gateway=GW).model_copy(update={"mean_cm": math.nan})
    body = json.loads(KIND.stored(s, GW).body.replace(b"NaN", b"null"))
    assert (body["kind"], body["type"]) == ("awlr", "summary")


def test_events_are_stored_ahead_of_summaries_and_name_their_kind() -> None:
    for event in (siaga_change("depok", T0, 3, 210.0, siaga_from=4, gateway=GW), rate_of_rise("depok", T0 + timedelta(minutes=1), True, 215.0, gateway=GW)):
        stored = KIND.stored(event, GW)
        assert (stored.priority, stored.kind, stored.type, stored.origin, stored.summarised) == (PRIORITY_EVENT, "awlr", event.type, "depok/awlr-depok", None)
        assert stored.at == event.ts.timestamp()
        assert json.loads(stored.body)["kind"] == "awlr"


def test_siaga_changes_and_rises_sound_local_alarms_summaries_do_not() -> None:
    assert KIND.alarm(summary("katulampa", T0, 80.0, gateway=GW)) is None
    change = json.loads(KIND.alarm(siaga_change("depok", T0, 2, 260.0, siaga_from=3, gateway=GW)) or b"")
    assert (change["station"], change["kind"], change["siaga"], change["level_cm"]) == ("depok", "siaga_change", 2, 260.0)
    rise = json.loads(KIND.alarm(rate_of_rise("depok", T0, True, 215.0, gateway=GW)) or b"")
    assert (rise["kind"], rise["active"]) == ("rate_of_rise", True)
