"""Line protocol built by hand (`ingest.points.summary_lines`): escaping, numbers, round trip.

`summary_lines` replaced influxdb-client's `Point` for speed; it must write the series `Point`
wrote byte for byte and the same field values (a whole float as `120.0` where `Point` writes
`120`), and VictoriaMetrics must read back the labels and values that went in.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.points import InfluxPointSink, _escape_tag, _point, summary_lines
from ingest.summaries import SummaryPoints
from ingest.testing import summary
from tepi.config import TsdbConfig
from tepi.messages import LevelSummary, QcCounts, summary_at, summary_rows
from tepi.processes import VictoriaMetrics

T0 = datetime(2025, 2, 3, 6, 0, tzinfo=timezone.utc)


def point(
    tenant: str = "dki-jakarta",
    station: str = "depok",
    gateway: str = "gw-ciliwung",
    *,
    window_start: datetime = T0,
    mean: float | None = 120.04,
    low: float | None = 118.2,
    high: float | None = 121.9,
    last: float | None = 119.6,
    count: int = 10,
    qc: QcCounts = QcCounts(good=10),
) -> SummaryPoints:
    s = LevelSummary(
        id=f"{gateway}:{station}:s:{int(window_start.timestamp())}:0",
        station=station,
        device="awlr-x",
        window_start=window_start,
        window_end=window_start + timedelta(minutes=10),
        count=count,
        min_cm=low,
        max_cm=high,
        mean_cm=mean,
        last_cm=last,
        qc=qc,
        last_ts=window_start + timedelta(minutes=9),
        first_seq=0,
        last_seq=max(count - 1, 0),
        siaga=4,
    )
    return SummaryPoints(tenant, gateway, summary_rows([s]))


def _line(p: SummaryPoints) -> str:
    (line,) = summary_lines(p)
    return line


def reference(p: SummaryPoints) -> str:
    """The line influxdb-client's `Point` writes for `p`."""
    line: str = _point(p.tenant, p.gateway, summary_at(p.rows, 0, p.gateway)).to_line_protocol()  # type: ignore[no-untyped-call]
    return line


def parsed(line: str) -> tuple[str, dict[str, float | int], int]:
    """(measurement and tags as written, field values, timestamp): what a TSDB reads of a line.

    Fields are numbers here, so the last two unescaped spaces are the separators."""
    head, ts = line.rsplit(" ", 1)
    series, fields = head.rsplit(" ", 1)
    values: dict[str, float | int] = {}
    for field in fields.split(","):
        key, text = field.split("=")
        values[key] = int(text[:-1]) if text.endswith("i") else float(text)
    return series, values, int(ts)


def same_point(p: SummaryPoints) -> bool:
    return parsed(_line(p)) == parsed(reference(p))


def test_a_summary_line_is_what_influxdb_client_writes() -> None:
    p = point()
    assert _line(p) == reference(p)  # no whole floats here: byte for byte
    assert _line(p) == (
        "awlr,gateway=gw-ciliwung,station=depok,tenant=dki-jakarta "
        "count=10i,level_last=119.6,level_max=121.9,level_mean=120.04,level_min=118.2,level_sum=1200.4,"
        "qc_fail=0i,qc_missing=0i,qc_suspect=0i "
        f"{int(T0.timestamp())}"
    )


def test_window_without_good_readings_has_counts_only() -> None:
    p = point(mean=None, low=None, high=None, last=None, count=0, qc=QcCounts(suspect=4, fail=2, missing=1))
    assert _line(p) == reference(p)
    assert _line(p).split(" ")[1] == "count=0i,qc_fail=2i,qc_missing=1i,qc_suspect=4i"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (120.0, "120.0"),  # a float field either way; `Point` writes "120"
        (-0.5, "-0.5"),
        (0.1 + 0.2, "0.30000000000000004"),  # repr: the shortest string that reads back exactly
        (1e-7, "1e-07"),
        (1e21, "1e+21"),
        (-0.0, "-0.0"),
    ],
)
def test_floats_are_written_as_repr(value: float, written: str) -> None:
    p = point(mean=None, low=None, high=None, last=value)
    assert f",level_last={written}," in _line(p)
    assert same_point(p)


def test_timestamps_are_whole_utc_seconds_whatever_the_zone() -> None:
    wib = timezone(timedelta(hours=7))
    for at in (T0, T0.astimezone(wib), T0 + timedelta(microseconds=999_999)):
        p = point(window_start=at)
        assert _line(p).endswith(f" {int(T0.timestamp())}")
        assert same_point(p)


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("plain-id_1.2", "plain-id_1.2"),
        ("a,b", r"a\,b"),
        ("a b", r"a\ b"),
        ("a=b", r"a\=b"),
        ("a\nb\tc\rd", r"a\nb\tc\rd"),  # a raw newline would end the line
        (r"a\b", r"a\b"),  # a backslash inside a value stays as it is
        ('say "hi"', r'say\ "hi"'),  # quotes need no escape in tags
        ("Kali Ciliwung, Depok", r"Kali\ Ciliwung\,\ Depok"),
        ("ends\\", "ends\\ "),  # would escape the separator: a space is added (as Point does)
    ],
)
def test_tag_values_are_escaped(value: str, escaped: str) -> None:
    assert _escape_tag(value) == escaped
    p = point(station=value)
    assert f",station={escaped},tenant=" in _line(p)
    assert parsed(_line(p))[0] == parsed(reference(p))[0]
    assert same_point(p)


def test_a_series_cache_gives_the_same_lines() -> None:
    points = [point(station=f"st {i % 3}", window_start=T0 + timedelta(minutes=10 * (i // 3))) for i in range(9)]
    series: dict[tuple[str, str, str], str] = {}
    assert [line for p in points for line in summary_lines(p, series)] == [reference(p) for p in points]
    assert len(series) == 3


def test_rows_with_and_without_statistics_in_one_write() -> None:
    """The column-wise fast path and the row-wise path for nulls give the lines in order."""
    summaries = [
        summary("depok", T0 + timedelta(minutes=10 * i), None if i % 3 == 1 else 100.0 + i, count=5) for i in range(7)
    ]
    p = SummaryPoints("dki-jakarta", "gw-ciliwung", summary_rows(summaries))
    lines = summary_lines(p)
    assert [parsed(line) for line in lines] == [
        parsed(_point(p.tenant, p.gateway, s).to_line_protocol()) for s in summaries  # type: ignore[no-untyped-call]
    ]
    assert ["level_mean" in parsed(line)[1] for line in lines] == [i % 3 != 1 for i in range(7)]


tag_text = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=20)
level = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=64))


@settings(max_examples=300, deadline=None)
@given(
    tenant=tag_text,
    station=tag_text,
    gateway=tag_text,
    values=st.tuples(level, level, level, level),
    count=st.integers(0, 10_000),
    qc=st.tuples(st.integers(0, 10_000), st.integers(0, 10_000), st.integers(0, 10_000)),
    seconds=st.integers(0, 4_000_000_000),
    micros=st.integers(0, 999_999),
)
def test_any_summary_line_matches_influxdb_client(
    tenant: str,
    station: str,
    gateway: str,
    values: tuple[float | None, ...],
    count: int,
    qc: tuple[int, int, int],
    seconds: int,
    micros: int,
) -> None:
    mean, low, high, last = values
    start = datetime.fromtimestamp(seconds, timezone.utc) + timedelta(microseconds=micros)
    s = summary("x", start, 100.0).model_copy(
        update={
            "station": station,
            "mean_cm": mean,
            "min_cm": low,
            "max_cm": high,
            "last_cm": last,
            "count": count,
            "qc": QcCounts(suspect=qc[0], fail=qc[1], missing=qc[2]),
        }
    )
    p = SummaryPoints(tenant, gateway, summary_rows([s]))
    assert same_point(p)


# -- round trip through VictoriaMetrics ------------------------------------------------------




AWKWARD_STATIONS = [
    "lp-rt plain",
    "lp-rt,comma",
    "lp-rt=equals",
    r"lp-rt\back\slash",
    'lp-rt "quoted"',
    "lp-rt Kali Ciliwung, Pos Depok",
    "lp-rt sungai-ĉiliwung-水位",
]


def vm_digits(x: float) -> float:
    """What VictoriaMetrics gives back for `x`: it keeps 12 significant decimal digits."""
    return float(f"{x:.12g}")


def test_tags_and_values_round_trip_through_victoria_metrics(victoria_metrics: VictoriaMetrics) -> None:
    # Values of up to 12 significant digits: VictoriaMetrics keeps that many (a TSDB property).
    values = [120.04, 0.3, 1e-07, 3.3e-05, 123456.789, -12.5, 0.0, 700.0, 12345678.1234]
    points = [
        point(
            tenant="lp tenant,x",
            station=station,
            gateway="gw=lp",
            window_start=T0 + timedelta(minutes=10 * j),
            mean=value,
            low=value - 1.5,
            high=value + 2.25,
            last=value,
            count=7,
            qc=QcCounts(good=7, suspect=j, fail=2 * j, missing=3 * j),
        )
        for station in AWKWARD_STATIONS
        for j, value in enumerate(values)
    ]
    sink = InfluxPointSink(TsdbConfig(url=victoria_metrics.url))
    try:
        sink.write(points)
    finally:
        sink.close()
    rows = victoria_metrics.export('{__name__=~"awlr_.*",gateway="gw=lp"}', want_series=9 * len(AWKWARD_STATIONS))
    got = {(r["metric"]["__name__"], r["metric"]["station"]): r for r in rows}
    assert {station for _name, station in got} == set(AWKWARD_STATIONS)
    times = [int((T0 + timedelta(minutes=10 * j)).timestamp()) * 1000 for j in range(len(values))]
    for station in AWKWARD_STATIONS:
        mean = got[("awlr_level_mean", station)]
        assert mean["metric"] == {"__name__": "awlr_level_mean", "tenant": "lp tenant,x", "station": station, "gateway": "gw=lp"}
        assert mean["timestamps"] == times
        assert mean["values"] == values
        assert got[("awlr_level_min", station)]["values"] == [vm_digits(v - 1.5) for v in values]
        assert got[("awlr_level_max", station)]["values"] == [vm_digits(v + 2.25) for v in values]
        assert got[("awlr_level_last", station)]["values"] == values
        assert got[("awlr_level_sum", station)]["values"] == [vm_digits(v * 7) for v in values]
        assert got[("awlr_count", station)]["values"] == [7] * len(values)
        assert got[("awlr_qc_suspect", station)]["values"] == list(range(len(values)))
        assert got[("awlr_qc_fail", station)]["values"] == [2 * j for j in range(len(values))]
        assert got[("awlr_qc_missing", station)]["values"] == [3 * j for j in range(len(values))]
