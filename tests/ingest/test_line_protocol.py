"""Line protocol built for whole columns (`ingest.line_protocol`, `kinds.awlr.ingest.points.summary_bodies`).

`summary_bodies` replaced influxdb-client's `Point` for speed; it must write the series `Point`
wrote byte for byte and the same field values, rounded to `FIELD_DECIMALS` (a whole float as
`120.0` where `Point` writes `120`), and VictoriaMetrics must read back the labels and values
that went in. The encoder under it must write every integer as `str` and every float as `repr`.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.line_protocol import LineField, encode_lines
from kinds.awlr.ingest.points import InfluxPointSink, SeriesKeys, _escape_tag, _point, field_value, summary_bodies
from kinds.awlr.ingest.summaries import SummaryPoints
from ingest.testing import summary
from core.config import TsdbConfig
from kinds.awlr.items import LevelSummary, QcCounts
from core.processes import VictoriaMetrics
from kinds.awlr.ingest.uplink import summary_at, summary_rows

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


def lines_of(points: list[SummaryPoints], series: SeriesKeys | None = None) -> list[str]:
    return [line for body, _n in summary_bodies(points, series) for line in body.decode().split("\n")]


def _line(p: SummaryPoints) -> str:
    (line,) = lines_of([p])
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


def rounded(line: str) -> tuple[str, dict[str, float | int], int]:
    """`parsed`, float fields rounded as the sink writes them (`field_value`)."""
    series, values, ts = parsed(line)
    return series, {k: v if isinstance(v, int) else float(field_value(np.array([v]))[0]) for k, v in values.items()}, ts


def same_point(p: SummaryPoints) -> bool:
    return parsed(_line(p)) == rounded(reference(p))


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
        (0.1 + 0.2, "0.3"),  # 0.30000000000000004 rounded to 1e-6 cm
        (120.03666666666666, "120.036667"),  # a mean of readings
        (3.3e-05, "3.3e-05"),  # repr of the rounded value: an exponent below 1e-4
        (1e-7, "0.0"),
        (1e21, "1e+21"),  # too large to round: written as it is
        (-0.0, "-0.0"),
    ],
)
def test_floats_are_written_rounded_to_a_millionth_as_repr(value: float, written: str) -> None:
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
    series = SeriesKeys()
    assert lines_of(points, series) == [reference(p) for p in points]
    assert len(series) == 3
    assert lines_of(points, series) == [reference(p) for p in points]  # from the cache


def test_a_full_series_cache_starts_again_between_writes_not_within_one(monkeypatch: pytest.MonkeyPatch) -> None:
    import kinds.awlr.ingest.points

    monkeypatch.setattr(kinds.awlr.ingest.points, "STATION_LISTS_CACHE", 2)
    series = SeriesKeys()
    first = [point(station=s) for s in ("a", "b", "c")]  # three station lists: past the bound
    assert lines_of(first, series) == [reference(p) for p in first]
    # A list seen before, then new ones: the cache must not start again between them, or the
    # rows of the first would be written under another station's tags.
    second = [point(station="a"), point(station="x"), point(station="y")]
    assert lines_of(second, series) == [reference(p) for p in second]
    assert len(series) == 3, "it started again before the second write, with its three series"


def test_rows_with_and_without_statistics_in_one_write() -> None:
    """Null statistics are left out of their own lines only, and the lines keep their order."""
    summaries = [
        summary("depok", T0 + timedelta(minutes=10 * i), None if i % 3 == 1 else 100.0 + i, count=5) for i in range(7)
    ]
    p = SummaryPoints("dki-jakarta", "gw-ciliwung", summary_rows(summaries))
    lines = lines_of([p])
    assert [parsed(line) for line in lines] == [
        parsed(_point(p.tenant, p.gateway, s).to_line_protocol()) for s in summaries  # type: ignore[no-untyped-call]
    ]
    assert ["level_mean" in parsed(line)[1] for line in lines] == [i % 3 != 1 for i in range(7)]


# Any text but NUL, which the encoder refuses (station, tenant and gateway ids are identifiers).
tag_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=20)
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


# -- the column encoder ------------------------------------------------------------------------


def python_lines(series: list[str], codes: list[int], fields: list[LineField], ts: list[int]) -> bytes:
    """What `encode_lines` must write, one line at a time with `str` and `repr`."""
    lines = []
    for i, code in enumerate(codes):
        parts = []
        for f in fields:
            v = f.values[i]
            if f.kind == "int":
                parts.append(f"{f.name}={int(v)}i")
            elif not np.isnan(v):
                parts.append(f"{f.name}={float(v)!r}")
        lines.append(f"{series[code]}{','.join(parts)} {ts[i]}")
    return "\n".join(lines).encode()


any_float = st.one_of(
    st.floats(allow_nan=True, allow_infinity=False, width=64),
    st.floats(-1e4, 1e4).map(lambda x: round(x, 3)),  # levels as sensors give them
    st.sampled_from([0.0, -0.0, 1e-4, 9.999999e-5, 1e9, 999999999.999999, 0.1 + 0.2, 5e-7, -123.4567891]),
)
int64 = st.integers(-(2**63) + 1, 2**63 - 1)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 2), int64, any_float, any_float, st.integers(0, 10**6), int64), min_size=1, max_size=40),
)
def test_encoded_columns_are_str_and_repr_of_every_value(rows: list[tuple[int, int, float, float, int, int]]) -> None:
    series = ["m,t=a ", "m,t=b\\ c ", "m "]
    codes = [r[0] for r in rows]
    fields = [
        LineField("first", "int", np.array([r[1] for r in rows], dtype=np.int64)),
        LineField("f1", "float", np.array([r[2] for r in rows], dtype=np.float64)),
        LineField("f2", "float", np.array([r[3] for r in rows], dtype=np.float64)),
        LineField("small", "int", np.array([r[4] for r in rows], dtype=np.int64)),
    ]
    ts = [r[5] for r in rows]
    got = encode_lines(series, np.array(codes, dtype=np.intp), fields, np.array(ts, dtype=np.int64))
    assert got == python_lines(series, codes, fields, ts)


@pytest.mark.parametrize("seed", range(4))
def test_a_full_chunk_is_str_and_repr_of_every_value(seed: int) -> None:
    # Thousands of lines, as ingest writes them: numpy takes other code paths (SIMD) for long
    # arrays than for the few lines hypothesis draws, and one of them once wrote wrong signs.
    rng = np.random.default_rng(seed)
    n = 5000
    bits = rng.integers(0, 2**63, n, dtype=np.int64).view(np.float64)  # any finite or not
    arbitrary = np.where(np.isfinite(bits), bits, np.nan)
    kinds = rng.integers(0, 5, n)
    floats = np.select(
        [kinds == 0, kinds == 1, kinds == 2, kinds == 3],
        [np.round(rng.uniform(-500, 5000, n), 1), np.round(rng.uniform(-1e9, 1e9, n), 6), arbitrary, np.nan],
        default=rng.choice([0.0, -0.0, 1e-4, 9.999999e-5, 1e9, 0.1 + 0.2, 5e-7], n),
    )
    ints = np.where(rng.random(n) < 0.5, rng.integers(0, 100, n), rng.integers(-(2**62), 2**62, n))
    series = ["m,t=a ", "m,t=b\\ c ", "m "]
    codes = rng.integers(0, 3, n)
    fields = [
        LineField("count", "int", ints),
        LineField("f1", "float", floats),
        LineField("f2", "float", rng.permutation(floats)),
        LineField("small", "int", rng.integers(0, 1000, n)),
    ]
    ts = rng.integers(0, 4_000_000_000, n)
    got = encode_lines(series, codes.astype(np.intp), fields, ts)
    assert got == python_lines(series, codes.tolist(), fields, ts.tolist())


def test_encoder_refuses_what_line_protocol_cannot_say() -> None:
    one = np.array([1], dtype=np.int64)
    codes = np.array([0], dtype=np.intp)
    with pytest.raises(ValueError, match="first field"):
        encode_lines(["m "], codes, [LineField("x", "float", np.array([1.0]))], one)
    with pytest.raises(ValueError, match="infinite"):
        encode_lines(["m "], codes, [LineField("n", "int", one), LineField("x", "float", np.array([np.inf]))], one)
    with pytest.raises(ValueError, match="a value per line"):
        encode_lines(["m "], codes, [LineField("n", "int", np.array([1, 2]))], one)
    with pytest.raises(ValueError, match="NUL"):  # the encoder's own marker of bytes left out
        encode_lines(["m,t=a\x00b "], codes, [LineField("n", "int", one)], one)
    assert encode_lines(["m "], np.array([], dtype=np.intp), [LineField("n", "int", one[:0])], one[:0]) == b""


def test_bodies_are_split_at_the_chunk_size_in_order() -> None:
    points = [point(station=f"s{i % 4}", window_start=T0 + timedelta(minutes=10 * i), mean=100.25 + i) for i in range(11)]
    bodies = list(summary_bodies(points, chunk=4))
    assert [n for _, n in bodies] == [4, 4, 3]
    assert [line for body, _ in bodies for line in body.decode().split("\n")] == [reference(p) for p in points]


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


def written(x: float) -> float:
    """What VictoriaMetrics gives back for `x`: rounded to 1e-6 by the sink, then 12 significant
    decimal digits (what VictoriaMetrics keeps)."""
    return float(f"{float(field_value(np.array([x]))[0]):.12g}")


def test_tags_and_values_round_trip_through_victoria_metrics(victoria_metrics: VictoriaMetrics) -> None:
    # Values of up to 12 significant digits: VictoriaMetrics keeps that many (a TSDB property).
    values = [120.04, 0.3, 1e-07, 3.3e-05, 123456.789, -12.5, 0.0, 700.0, 12345678.1234, 120.03666666666666]
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
        assert mean["values"] == [written(v) for v in values]
        assert got[("awlr_level_min", station)]["values"] == [written(v - 1.5) for v in values]
        assert got[("awlr_level_max", station)]["values"] == [written(v + 2.25) for v in values]
        assert got[("awlr_level_last", station)]["values"] == [written(v) for v in values]
        assert got[("awlr_level_sum", station)]["values"] == [written(v * 7) for v in values]
        assert got[("awlr_count", station)]["values"] == [7] * len(values)
        assert got[("awlr_qc_suspect", station)]["values"] == list(range(len(values)))
        assert got[("awlr_qc_fail", station)]["values"] == [2 * j for j in range(len(values))]
        assert got[("awlr_qc_missing", station)]["values"] == [3 * j for j in range(len(values))]
