"""GET /api/v1/alerts/stream on a real server: order, resume by Last-Event-ID, filters, heartbeats."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from api_people import DKI, OFFICER, app_settings
from prometheus_client import CollectorRegistry
from river_story import T0
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.main import create_app
from api.testing import SseMessage, bearer, parse_sse, serve
from central.alerts import acknowledge
from central.db import Alert, writer
from kinds.awlr.ingest.points import SqlPointSink
from ingest.service import apply_batch
from ingest.testing import batch, rate_of_rise, siaga_change
from core.config import TepiConfig
from kinds.awlr.items import RateOfRise, SiagaChange

#: What the river story (tests/api/river_story.py) wrote to the event log, in order.
STORY = [
    ("depok", "opened"),
    ("depok", "cleared"),
    ("katulampa", "opened"),
    ("katulampa", "escalated"),
    ("manggarai", "opened"),
]


#: DKI Jakarta's duty officer: every stream here is theirs (Badung's events must never show).
AS = (DKI, OFFICER)


def events(url: str, headers: dict[str, str] | None = None, **params: str) -> Iterator[SseMessage]:
    """Data-carrying SSE messages of a stream, as they arrive (5 s of silence fails the test)."""
    with httpx.Client(timeout=5, headers=bearer(KEYS[AS])) as http, http.stream(
        "GET", f"{url}/api/v1/alerts/stream", headers=headers or {}, params=params
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        for msg in parse_sse(r.iter_lines()):
            if msg.data_lines:
                yield msg


KEYS: dict[tuple[str, str], str] = {}


@pytest.fixture(autouse=True)
def _keys(keys: dict[tuple[str, str], str]) -> Iterator[None]:
    KEYS.update(keys)
    yield
    KEYS.clear()


def take(stream: Iterator[SseMessage], n: int) -> list[SseMessage]:
    return [next(stream) for _ in range(n)]


def store(engine: Engine, *items: SiagaChange | RateOfRise) -> None:
    with Session(writer(engine)) as s, s.begin():
        apply_batch(s, batch(list(items)), SqlPointSink(s))


def test_replay_from_the_start_then_live_in_order(live_api: str, engine: Engine) -> None:
    stream = events(live_api, {"Last-Event-ID": "0"})
    replay = take(stream, len(STORY))
    assert [(m.json()["alert"]["station"], m.json()["kind"]) for m in replay] == STORY
    ids = [int(m.id or 0) for m in replay]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    first = replay[0].json()
    assert first["seq"] == ids[0] and first["who"] == "gateway:gw-ciliwung"
    assert first["alert"]["status"] == "active"  # the alert as it was then, not as it is now

    store(engine, rate_of_rise("depok", T0 + timedelta(hours=6), True, 260.0, rate_cm_per_h=175.0, seq=9))
    (live,) = take(stream, 1)
    body = live.json()
    assert (body["kind"], body["alert"]["type"], body["alert"]["rate_cm_per_h"]) == ("opened", "rate_of_rise", 175.0)
    assert int(live.id or 0) > ids[-1]
    stream.close()


def test_resume_after_last_event_id_replays_exactly_what_was_missed(live_api: str, engine: Engine) -> None:
    seen = take(events(live_api, {"Last-Event-ID": "0"}), 3)
    last = seen[-1].id
    assert last is not None
    # While the client was away, Katulampa fell back to normal.
    store(engine, siaga_change("katulampa", T0 + timedelta(hours=8), 4, 70.0, siaga_from=2, seq=10))
    resumed = take(events(live_api, {"Last-Event-ID": last}), 3)
    assert [(m.json()["alert"]["station"], m.json()["kind"]) for m in resumed] == [
        *STORY[3:],
        ("katulampa", "cleared"),
    ]
    assert int(resumed[0].id or 0) == int(last) + 1
    # `?after=` does the same for clients that cannot set headers.
    via_query = take(events(live_api, after=last), 1)
    assert via_query[0].id == resumed[0].id


def test_filters_by_station_and_type(live_api: str, engine: Engine) -> None:
    stream = events(live_api, {"Last-Event-ID": "0"}, station="katulampa", type="siaga")
    got = take(stream, 2)
    assert [(m.json()["alert"]["station"], m.json()["kind"]) for m in got] == STORY[2:4]
    store(
        engine,
        siaga_change("depok", T0 + timedelta(hours=8), 3, 205.0, siaga_from=4, seq=11),
        rate_of_rise("katulampa", T0 + timedelta(hours=8), True, 170.0, seq=12),
        siaga_change("katulampa", T0 + timedelta(hours=9), 1, 230.0, siaga_from=2, seq=13),
    )
    (next_one,) = take(stream, 1)  # Depok and the rise alert are filtered out
    assert (next_one.json()["kind"], next_one.json()["alert"]["siaga"]) == ("escalated", 1)
    stream.close()
    with httpx.Client(timeout=5, headers=bearer(KEYS[AS])) as http:
        assert http.get(f"{live_api}/api/v1/alerts/stream", params={"type": "flood"}).status_code == 422
        assert http.get(f"{live_api}/api/v1/alerts/stream", headers={"Last-Event-ID": "x"}).status_code == 422


def test_streams_need_a_key_of_an_alert_reading_role(live_api: str) -> None:
    with httpx.Client(timeout=5) as http:
        r = http.get(f"{live_api}/api/v1/alerts/stream")
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        fisher = http.get(f"{live_api}/api/v1/alerts/stream", headers=bearer(KEYS[(DKI, "Fisher DKI")]))
        assert fisher.status_code == 403


def test_a_viewers_stream_carries_no_names(live_api: str, engine: Engine) -> None:
    with Session(writer(engine)) as s, s.begin():
        ack = s.scalars(sa.select(Alert).where(Alert.station_id == "katulampa")).one()
        acknowledge(s, ack.id, OFFICER, T0 + timedelta(hours=5), note="on my way")
    with httpx.Client(timeout=5) as http, http.stream(
        "GET",
        f"{live_api}/api/v1/alerts/stream",
        headers={**bearer(KEYS[(DKI, "Viewer DKI")]), "Last-Event-ID": "0"},
    ) as r:
        got = [m.json() for m in itertools.islice((m for m in parse_sse(r.iter_lines()) if m.data_lines), 6)]
    assert [(e["alert"]["station"], e["kind"]) for e in got] == [*STORY, ("katulampa", "acknowledged")]
    assert (got[-1]["who"], got[-1]["detail"], got[-1]["alert"]["acknowledged_by"]) == (None, {}, None)
    assert OFFICER not in json.dumps(got)


def test_idle_stream_sends_retry_then_heartbeat_comments(live_api: str) -> None:
    with httpx.Client(timeout=5, headers=bearer(KEYS[AS])) as http, http.stream(
        "GET", f"{live_api}/api/v1/alerts/stream"
    ) as r:
        messages = parse_sse(r.iter_lines())
        first = next(messages)
        assert first.retry is not None and first.retry > 0
        beat = next(messages)
        assert beat.comments == ["keepalive"] and not beat.data_lines


def test_a_stream_ends_after_stream_max_s_so_shutdown_is_not_held_up(
    database_url: str, default_config: TepiConfig, engine: Engine
) -> None:
    settings = app_settings(database_url, stream_max_s=0.5, stream_heartbeat_s=0.2)
    # The retry line, the story, and about 0.5 / 0.2 keepalives by the server's own clock (a few
    # more allowed for timer rounding): reading more can only mean the stream did not end by
    # itself. A bound on messages, not on the wall clock, so a loaded machine cannot fail it.
    most = 1 + len(STORY) + 6
    with serve(create_app(default_config, settings, registry=CollectorRegistry())) as url:
        with httpx.Client(timeout=5, headers=bearer(KEYS[AS])) as http, http.stream(
            "GET", f"{url}/api/v1/alerts/stream", headers={"Last-Event-ID": "0"}
        ) as r:
            messages = list(itertools.islice(parse_sse(r.iter_lines()), most + 1))
        assert len(messages) <= most, "the stream went on past stream_max_s"
        got = [m.json() for m in messages if m.data_lines]
        assert [(e["alert"]["station"], e["kind"]) for e in got] == STORY
