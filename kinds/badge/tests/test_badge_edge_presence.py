"""The presence machine on noisy RSSI: a person's arrival, stay and departure with the
advertisement scatter measured indoors (σ 1.5-3.7 dB), smoothed as the gateway smooths it,
gives one check-in near the arrival and one check-out near the departure, never a flap."""

from __future__ import annotations

import random

import pytest

from kinds.badge.edge.presence import CHECK_IN, CHECK_OUT, DWELL, IN, OUT, BadgePresence, PresenceSettings, Transition
from kinds.badge.edge.rssi import RssiFilter, distance_m

S = PresenceSettings()


def _day(rng: random.Random, sigma: float, arrive: float, leave: float, inside_dbm: float, loss: float = 0.1) -> list[Transition]:
    """A badge advertising about once a second, heard by one scanner from `arrive` to `leave`
    at `inside_dbm` on average (and fading in and out over 20 s at the door), each advert lost
    with probability `loss`; the office's time keeps moving (other badges) until an hour after."""
    machine, f = BadgePresence(), None
    out: list[Transition] = []
    t = arrive - 600.0
    while t < leave + 3600.0:
        t += rng.uniform(0.9, 1.1)
        if arrive - 20 <= t <= leave + 20 and rng.random() > loss:
            ramp = min(1.0, (t - (arrive - 20)) / 20, ((leave + 20) - t) / 20)
            mean = -100.0 + (inside_dbm + 100.0) * ramp
            rssi = round(rng.gauss(mean, sigma))
            if f is None:
                f = RssiFilter(t, rssi)
            level = f.update(t, rssi)
            if (tr := machine.heard(t, level, True, S)) is not None:
                out.append(tr)
        elif (tr := machine.silent(t, S)) is not None:
            out.append(tr)
    return out


@pytest.mark.parametrize("sigma", [1.5, 2.5, 3.7])
@pytest.mark.parametrize("inside_dbm", [-60.0, -68.0, -72.0])
def test_a_day_in_the_office_is_one_check_in_and_one_check_out_within_two_minutes(sigma: float, inside_dbm: float) -> None:
    for seed in range(6):
        rng = random.Random(seed * 1000 + int(sigma * 10) - int(inside_dbm))
        arrive, leave = 1_767_225_600.0 + rng.uniform(0, 3600), 1_767_225_600.0 + 8 * 3600 + rng.uniform(0, 3600)
        got = _day(rng, sigma, arrive, leave, inside_dbm)
        assert [tr.event for tr in got] == [CHECK_IN, CHECK_OUT], (seed, got)
        check_in, check_out = got
        assert arrive - 20 <= check_in.at <= arrive + 120
        assert leave - 120 <= check_out.at <= leave + 20


def test_a_badge_hovering_between_the_thresholds_never_flaps() -> None:
    """Level -80 dBm, between exit (-85) and enter (-75), for hours, σ 3.7 dB: once in, it
    stays in; once out, it stays out."""
    for start_in in (True, False):
        rng = random.Random(7)
        machine, f, t = BadgePresence(), RssiFilter(0.0, -80.0), 0.0
        if start_in:
            machine.state, machine.last_inside, machine.last_heard = IN, 0.0, 0.0
        events = []
        for _ in range(4 * 3600):
            t += 1.0
            tr = machine.heard(t, f.update(t, rng.gauss(-80.0, 3.7)), True, S)
            if tr is not None:
                events.append(tr)
        assert events == []
        assert machine.state == (IN if start_in else OUT)


def test_a_passer_by_at_the_door_and_a_badge_through_the_wall_enter_nothing() -> None:
    rng = random.Random(3)
    machine, f, t, events = BadgePresence(), RssiFilter(0.0, -70.0), 0.0, []
    for _ in range(20):  # 20 s strong: walked past the scanner
        t += 1.0
        events.append(machine.heard(t, f.update(t, rng.gauss(-65.0, 2.5)), True, S))
    for _ in range(3600):  # then the far side of a wall, -82 dBm
        t += 1.0
        events.append(machine.heard(t, f.update(t, rng.gauss(-82.0, 2.5)), True, S))
    assert [e for e in events if e is not None] == []


def test_an_office_that_may_not_take_the_badge_never_checks_it_in() -> None:
    machine = BadgePresence()
    assert all(machine.heard(float(t), -60.0, False, S) is None for t in range(600))
    assert machine.state == OUT


def test_check_out_after_silence_is_dated_at_the_last_time_heard_inside() -> None:
    machine = BadgePresence()
    for t in range(0, 40):
        machine.heard(float(t), -60.0, True, S)
    assert machine.state == IN
    assert machine.silent(39.0 + S.absence_s - 1, S) is None
    assert machine.silent(39.0 + S.absence_s, S) == Transition(CHECK_OUT, 39.0)


def test_a_short_gap_keeps_the_dwell_and_a_long_one_restarts_it() -> None:
    machine = BadgePresence()
    for t in (0.0, 10.0, 20.0):
        assert machine.heard(t, -60.0, True, S) is None
    assert machine.heard(30.0, -60.0, True, S) == Transition(CHECK_IN, 0.0)
    machine = BadgePresence()
    machine.heard(0.0, -60.0, True, S)
    assert machine.silent(16.0, S) is None and machine.state == OUT
    assert machine.heard(17.0, -60.0, True, S) is None and machine.state == DWELL and machine.dwell_start == 17.0


def test_another_office_taking_the_badge_checks_it_out_here_no_later_than_it_arrived_there() -> None:
    machine = BadgePresence()
    for t in range(0, 100):
        machine.heard(float(t), -60.0, True, S)
    assert machine.leave(80.0) == Transition(CHECK_OUT, 80.0)
    assert machine.state == OUT and machine.leave(90.0) is None


def test_settings_refuse_a_machine_without_hysteresis() -> None:
    with pytest.raises(ValueError):
        PresenceSettings(enter_dbm=-80, exit_dbm=-80)
    with pytest.raises(ValueError):
        PresenceSettings(dwell_s=0)


def test_the_filter_smooths_noise_and_follows_after_a_silence() -> None:
    rng = random.Random(11)
    f, t, levels = RssiFilter(0.0, -70.0), 0.0, []
    for _ in range(600):
        t += 1.0
        levels.append(f.update(t, rng.gauss(-70.0, 3.7)))
    spread = (sum((x + 70.0) ** 2 for x in levels[60:]) / len(levels[60:])) ** 0.5
    assert spread < 2.0  # raw samples scatter 3.7 dB
    f.update(t + 600.0, -90.0)  # ten minutes later, far away: the new sample dominates
    assert f.level < -85.0


def test_distance_follows_the_log_distance_model() -> None:
    assert distance_m(-59.0, -59.0) == pytest.approx(1.0)
    assert distance_m(-86.0, -59.0, 2.7) == pytest.approx(10.0)
    assert distance_m(-79.0, -59.0, 2.0) == pytest.approx(10.0)
    assert distance_m(-200.0, -59.0) == 1000.0
    with pytest.raises(ValueError):
        distance_m(-70.0, -59.0, 0.0)
