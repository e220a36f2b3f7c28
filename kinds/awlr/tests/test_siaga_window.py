"""Pure edge computations: Siaga classification and windowed summaries."""

from __future__ import annotations

import numpy as np
import pytest

from kinds.awlr.siaga import SiagaLevel, classify_siaga
from kinds.awlr.edge.window import summarize, window_start

KATULAMPA = (80.0, 150.0, 200.0)
MANGGARAI = (750.0, 850.0, 950.0)


@pytest.mark.parametrize(
    ("bounds", "level", "expected"),
    [
        (KATULAMPA, 40, 4), (KATULAMPA, 79.9, 4), (KATULAMPA, 80, 3), (KATULAMPA, 149.9, 3),
        (KATULAMPA, 150, 2), (KATULAMPA, 200, 1), (KATULAMPA, 250, 1),
        (MANGGARAI, 749, 4), (MANGGARAI, 850, 2), (MANGGARAI, 949.9, 2), (MANGGARAI, 950, 1),
    ],
)
def test_classifies_published_thresholds(bounds: tuple[float, float, float], level: float, expected: int) -> None:
    assert classify_siaga([level], bounds).tolist() == [expected]


def test_classification_keeps_shape_and_marks_missing() -> None:
    levels = np.array([[40.0, np.nan], [160.0, 210.0]])
    out = classify_siaga(levels, KATULAMPA)
    assert out.shape == levels.shape
    assert out.tolist() == [[4, 0], [2, 1]]


@pytest.mark.parametrize("bounds", [(150.0, 80.0, 200.0), (80.0, 80.0, 200.0), (80.0, 150.0), (80.0, np.nan, 200.0)])
def test_rejects_bad_bounds(bounds: tuple[float, ...]) -> None:
    with pytest.raises(ValueError):
        classify_siaga([100.0], bounds)  # type: ignore[arg-type]


def test_labels_match_bpbd_usage() -> None:
    assert SiagaLevel(4).label == "SIAGA IV"
    assert SiagaLevel.AWAS.label == "SIAGA I"
    assert SiagaLevel(3).name_id == "Waspada"


def test_windows_align_to_epoch() -> None:
    assert window_start([0, 599.9, 600, 1201], 600).tolist() == [0, 0, 600, 1200]
    with pytest.raises(ValueError):
        window_start([1.0], 0)


def test_summary_ignores_missing_and_takes_latest_as_last() -> None:
    s = summarize([10, 30, 20, 40], [100.0, 130.0, np.nan, 120.0])
    assert (s.count, s.min, s.max, s.last) == (3, 100.0, 130.0, 120.0)
    assert s.mean == pytest.approx(350 / 3)
    assert summarize([30, 10], [1.0, 2.0]).last == 1.0


@pytest.mark.parametrize(("ts", "levels"), [([], []), ([1.0], [np.nan]), ([1.0, 2.0], [1.0]), ([[1.0]], [[1.0]])])
def test_summary_rejects_bad_input(ts: list[float], levels: list[float]) -> None:
    with pytest.raises(ValueError):
        summarize(ts, levels)
