"""The cropped land mask answers as global-land-mask does, inside its box, without the globe in
memory: every point drawn at random in the boxes of both tenants' coasts, and every cell centre
and cell edge of a small box, against `globe.is_land` itself (loaded once per test session, as
the voyage tests load it)."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from kinds.fishfinder.sea_mask import Box, SeaMask, SeaMaskError
from kinds.fishfinder.tests.test_fishfinder_voyage import is_land

BALI_SOUTH = Box(south=-9.2, north=-8.0, west=114.4, east=115.8)
INDRAMAYU = Box(south=-6.6, north=-5.8, west=107.9, east=108.8)
OFF_BENOA = Box(south=-8.80, north=-8.70, west=115.15, east=115.25)


@functools.cache
def off_benoa() -> SeaMask:
    """The small box's crop, made once for the tests that only read it (a crop takes about a second)."""
    return SeaMask.crop(OFF_BENOA)


@pytest.mark.parametrize("box", [BALI_SOUTH, INDRAMAYU], ids=["bali-south", "indramayu"])
def test_inside_its_box_the_cropped_mask_answers_as_the_library(box: Box) -> None:
    mask = SeaMask.crop(box)
    rng = np.random.default_rng(20)
    lat = rng.uniform(box.south, box.north, 20_000)
    lon = rng.uniform(box.west, box.east, 20_000)
    lat = np.r_[lat, box.south, box.north, box.south, box.north]
    lon = np.r_[lon, box.west, box.east, box.east, box.west]
    expected = is_land()(lat, lon)
    assert 0.05 < expected.mean() < 0.95, "a coast: both land and sea in the box"
    assert np.array_equal(mask.is_land(lat, lon), expected)
    assert mask.nbytes < 1_000_000, "a region, not the globe's 0.9 GB"


def test_every_cell_and_its_edges_agree_in_a_small_box_off_benoa() -> None:
    box = OFF_BENOA
    mask = off_benoa()
    step = 1 / 120
    lat = np.arange(box.south, box.north, step / 4)
    lon = np.arange(box.west, box.east, step / 4)
    glat, glon = (a.ravel() for a in np.meshgrid(lat, lon, indexing="ij"))
    assert np.array_equal(mask.is_land(glat, glon), is_land()(glat, glon))
    assert not mask.is_land(-8.7394, 115.2083), "Benoa's fishing port berth is sea on the mask"


def test_a_point_outside_the_box_or_a_bad_box_is_refused() -> None:
    mask = off_benoa()
    with pytest.raises(SeaMaskError, match="outside the mask's box"):
        mask.is_land([-8.75, -8.60], [115.2, 115.2])
    with pytest.raises(SeaMaskError, match="south < north"):
        Box(south=-8.0, north=-9.0, west=115.0, east=116.0)
    with pytest.raises(SeaMaskError, match="west < east"):
        Box(south=-9.0, north=-8.0, west=116.0, east=115.0)


def test_a_file_that_is_no_mask_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "mask.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(SeaMaskError, match="cannot read the land mask"):
        SeaMask.crop(BALI_SOUTH, path=str(bad))


def test_cropping_never_loads_the_globe() -> None:
    """In a process of its own: the package's `__init__` imports `globe`, which would inflate the
    whole 0.9 GB mask; cropping must find the file without it."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from kinds.fishfinder.sea_mask import Box, SeaMask\n"
        "SeaMask.crop(Box(south=-9.2, north=-8.0, west=114.4, east=115.8))\n"
        "assert not any(m.startswith('global_land_mask') for m in sys.modules), sorted(sys.modules)\n"
        "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.split()[-1]) < 300_000, "peak RSS (kB, VmHWM: this process's own, not the forking parent's) far below the globe's"


def test_a_crop_kept_on_disk_is_the_same_mask_and_a_bad_cache_is_cropped_again(tmp_path) -> None:  # type: ignore[no-untyped-def]
    box = OFF_BENOA
    fresh = off_benoa()
    first = SeaMask.cached_crop(box, tmp_path)
    (kept,) = list(tmp_path.iterdir())
    again = SeaMask.cached_crop(box, tmp_path)  # read from the file
    for mask in (first, again):
        assert np.array_equal(mask.land, fresh.land) and mask.land.dtype == np.bool_
        assert (mask.row0, mask.col0, mask.lat_first, mask.lat_step, mask.lon_first, mask.lon_step) == (
            fresh.row0, fresh.col0, fresh.lat_first, fresh.lat_step, fresh.lon_first, fresh.lon_step)
    kept.write_bytes(b"not a mask")
    assert np.array_equal(SeaMask.cached_crop(box, tmp_path).land, fresh.land), "a broken file is cropped again"
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    assert np.array_equal(SeaMask.cached_crop(box, blocked / "cache").land, fresh.land), "an unusable cache is skipped"
