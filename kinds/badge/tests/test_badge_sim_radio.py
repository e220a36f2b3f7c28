"""The simulator's radio: the path loss the gateway inverts, the noise it must smooth, the walls
that keep a badge next door weaker than one at home."""

from __future__ import annotations

import numpy as np
import pytest

from kinds.badge.sim.radio import PathLoss, Site, adjacent_floors, office_floor


def test_mean_rssi_falls_by_ten_n_per_decade_and_by_a_wall_per_wall() -> None:
    m = PathLoss(exponent=2.7, wall_db=8.0)
    assert m.mean_rssi(-59, 1.0) == pytest.approx(-59)
    assert m.mean_rssi(-59, 10.0) == pytest.approx(-86)
    assert m.mean_rssi(-59, 10.0, 2) == pytest.approx(-102)
    # The gateway's distance estimate is the inverse.
    assert m.distance_m(-59, float(m.mean_rssi(-59, 4.0))) == pytest.approx(4.0)


def test_samples_scatter_around_the_mean_with_the_badges_sigma_and_some_are_missed() -> None:
    m = PathLoss(missed_share=0.2)
    rng = np.random.default_rng(1)
    mean = np.full((2, 20_000), -70.0)
    got = m.sample(rng, mean, np.array([1.5, 3.7]))
    for row, sigma in zip(got, (1.5, 3.7)):
        heard = row[~np.isnan(row)]
        assert heard.mean() == pytest.approx(-70, abs=0.1)
        # Rounding to whole dBm adds 1/12 dB^2 of variance.
        assert heard.std() == pytest.approx(np.sqrt(sigma**2 + 1 / 12), rel=0.05)
        assert len(heard) / len(row) == pytest.approx(0.8, abs=0.02)


def test_a_badge_below_the_scanners_sensitivity_is_never_heard() -> None:
    got = PathLoss(missed_share=0.0).sample(np.random.default_rng(2), np.full((1, 1000), -130.0), np.array([3.7]))
    assert np.isnan(got).all()


def test_badge_sigmas_lie_in_the_issues_range() -> None:
    s = PathLoss().badge_sigmas(np.random.default_rng(3), 500)
    assert s.min() >= 1.5 and s.max() <= 3.7 and s.std() > 0.3


def test_the_same_seed_gives_the_same_samples() -> None:
    mean = np.full((5, 7), -75.0)
    a = PathLoss().sample(np.random.default_rng(9), mean, np.full(5, 2.0))
    b = PathLoss().sample(np.random.default_rng(9), mean, np.full(5, 2.0))
    c = PathLoss().sample(np.random.default_rng(10), mean, np.full(5, 2.0))
    assert np.array_equal(a, b, equal_nan=True) and not np.array_equal(a, c, equal_nan=True)


def test_adjacent_offices_share_one_wall_and_their_scanners_hear_a_wall_desk_weaker_than_its_own() -> None:
    a, b = adjacent_floors([("bkpsdm", [f"a{i}" for i in range(6)], 40), ("diskominfo", [f"b{i}" for i in range(6)], 40)])
    site = Site("puspemkab", (a, b))
    assert len(site.walls) == 7  # two rectangles, the wall between them once
    desk = max(a.desks, key=lambda d: d[0])  # by the shared wall
    own = [s for s in site.scanners if s.office == "bkpsdm"]
    other = [s for s in site.scanners if s.office == "diskominfo"]
    assert {site.walls_between(*desk, s) for s in own} == {0}
    assert {site.walls_between(*desk, s) for s in other} == {1}
    mean = site.mean_rssi(PathLoss(), [desk], -59)[0]
    strongest_own = max(mean[: len(own)])
    strongest_other = max(mean[len(own):])
    assert strongest_own - strongest_other >= 8, "the wall and the extra distance keep next door well below"


def test_every_desk_is_within_enter_range_of_a_scanner_of_its_own_office() -> None:
    """The simulated floors are laid out as an installer would: every desk reads at least
    -78 dBm (mean) from its nearest scanner, so the office's `enter_dbm` of -80 holds it."""
    floor = office_floor("bkpsdm", [f"s{i}" for i in range(6)], desks=60)
    mean = Site("x", (floor,)).mean_rssi(PathLoss(), list(floor.desks) + [floor.door], -59)
    assert mean.max(axis=1).min() >= -78


def test_more_desks_than_the_floor_holds_is_an_error() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        office_floor("x", ["s1"], width=6, depth=6, desks=50)
