"""Repeated parts of a loaded configuration are one object each, and nothing else changes."""

from __future__ import annotations

import pickle

from tepi.config import QcConfig, TepiConfig
from tepi.config_sharing import share_equal_parts


def _copy(config: TepiConfig) -> TepiConfig:
    return pickle.loads(pickle.dumps(config))


def test_equal_frozen_parts_are_shared_and_the_configuration_is_unchanged(default_config: TepiConfig) -> None:
    before = _copy(default_config)
    stations = [s.model_copy(update={"id": f"s{i}", "qc": QcConfig(spike_fail_cm=61.0)}) for i, s in enumerate(before.stations)]
    config = before.model_copy(update={"stations": stations + [s.model_copy(update={"id": f"x{i}"}) for i, s in enumerate(stations)]})
    config = _copy(config)  # every part an object of its own, as parsing gives them
    expected = config.model_dump()
    shared = share_equal_parts(config)
    assert shared.model_dump() == expected
    assert all(s.model_fields_set == t.model_fields_set for s, t in zip(shared.stations, _copy(shared).stations))
    qcs = {id(s.qc) for s in shared.stations}
    assert len(qcs) == 1
    twin = shared.stations[len(stations)]  # x0, equal to s0 but for its id
    assert shared.stations[0].alerting is twin.alerting and shared.stations[0].thresholds is twin.thresholds
    assert shared.stations[0].tenant is twin.tenant


def test_values_equal_only_numerically_are_not_merged() -> None:
    from tepi.config_sharing import _shared

    seen: dict = {}
    a, b, c = _shared((0.0, 1.0), seen), _shared((-0.0, 1.0), seen), _shared((0, 1), seen)
    assert a is not b and a is not c
    assert str(b[0]) == "-0.0" and type(c[0]) is int
    assert _shared((0.0, 1.0), seen) is a
