"""The SOS at the gateway on board, as a crew and a rescue centre live it: a press is its own
incident (a new trip's press 1 too), the centre's `resolved` ends it, a stale answer never starts
SOS mode, a restart resumes it exactly, and a GNSS-only boat's journal stays small."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from contract.downlink import KindDownlink
from kinds.fishfinder.edge import KIND
from kinds.fishfinder.edge.processor import SEA_WINDOW_S, SOS_REPEAT_S, BoatProcessor
from kinds.fishfinder.edge.reading import BoatReading, reading_of
from kinds.fishfinder.items import DistressCall, SosStatus, Track
from kinds.fishfinder.values import Distress, Fix

VESSEL, DEVICE, GW = "perahu-krs-01", "ff-krs", "gw-krs"
T0 = datetime(2026, 3, 1, 4, 0, 5, 123456, tzinfo=timezone.utc)  # a press time within a second


def processor() -> BoatProcessor:
    return BoatProcessor(GW, VESSEL, DEVICE, decoder=None)


def feed(proc: BoatProcessor, *values) -> list:
    for v in values:
        proc.accept(reading_of(DEVICE, v))
    return proc.process()


def press(ts: datetime, n: int = 1, active: bool = True) -> Distress:
    return Distress(ts, n, "sinking", active, -6.85, 112.9)


def status(n: int, word: str, pressed_at: datetime | None = None) -> KindDownlink:
    if pressed_at is not None:  # ingest knows it to the millisecond, from the call's id
        pressed_at = pressed_at.replace(microsecond=pressed_at.microsecond // 1000 * 1000)
    body = SosStatus(vessel=VESSEL, press=n, pressed_at=pressed_at, incident=7, status=word, at=T0)
    return KindDownlink("fishfinder", "sos_status", body.model_dump_json().encode())


def journal_round_trip(proc: BoatProcessor, ts: datetime) -> list[BoatReading]:
    """The state rows the kind journals with a frame, as a restarted gateway reads them back."""
    rows = proc.state_readings(ts)
    return [KIND.from_journal(r.device, r.seq, r.ts, KIND.journal_body(r)) for r in rows]


def test_a_new_trips_press_with_the_same_number_is_a_new_call_with_new_ids() -> None:
    proc = processor()
    first = feed(proc, press(T0))
    proc.on_downlink(status(1, "resolved", first[0].pressed_at))
    second = feed(proc, press(T0 + timedelta(days=2)))
    assert [(c.press, c.repeat, c.active) for c in second] == [(1, 0, True)], "the second SOS is called, not swallowed"
    assert second[0].id != first[0].id
    assert proc.sos_active


def test_resolved_ends_the_sos_on_board_and_a_stale_answer_never_starts_it() -> None:
    proc = processor()
    proc.on_downlink(status(4, "resolved"))  # an answer to a press this gateway never saw
    assert not proc.sos_active
    assert not any(isinstance(i, Track) and i.distress for i in feed(proc, *_fixes(T0, 120)))
    call = feed(proc, press(T0 + timedelta(minutes=3)))[0]
    assert proc.sos_active
    proc.on_downlink(status(1, "resolved", call.pressed_at))
    assert not proc.sos_active
    proc.tick(T0)
    assert proc.tick(T0 + timedelta(hours=1)) == [], "no repeats of a closed incident"


def test_a_restart_resumes_the_sos_exactly_and_never_reuses_a_repeat_id() -> None:
    proc = processor()
    call = feed(proc, press(T0))[0]
    clock = T0 + timedelta(seconds=3)  # the gateway's own clock
    proc.tick(clock)
    sent = [call.id] + [c.id for k in range(1, 4) for c in proc.tick(clock + timedelta(seconds=k * SOS_REPEAT_S))]
    assert len(sent) == 4
    replay = journal_round_trip(proc, T0 + timedelta(minutes=4))

    restarted = processor()
    for r in replay:
        restarted.accept(r)
    assert restarted.process() == []
    inc = next(iter(restarted.incidents.values()))
    assert (inc.pressed_at, inc.last_repeat, inc.acknowledged) == (T0, 3, False)
    after = restarted.tick(clock + timedelta(minutes=10))
    # At most 10 repeats fit in 10 minutes of the gateway clock: the next one is 11, sent at once.
    assert [c.repeat for c in after] == [11] and after[0].id not in sent
    assert after[0].pressed_at == T0


def test_an_acknowledgement_survives_a_restart() -> None:
    proc = processor()
    call = feed(proc, press(T0))[0]
    proc.on_downlink(status(1, "acknowledged", call.pressed_at))
    restarted = processor()
    for r in journal_round_trip(proc, T0 + timedelta(seconds=30)):
        restarted.accept(r)
    restarted.process()
    restarted.tick(T0)
    assert restarted.tick(T0 + timedelta(hours=1)) == [], "help is coming: no repeats after the restart"
    assert restarted.sos_active, "still in distress until resolved: the drift is tracked"


def _fixes(start: datetime, seconds: int) -> list[Fix]:
    return [Fix(start + timedelta(seconds=s), -6.85 + s * 1e-4, 112.9 + (s % 7) * 1e-4, 3.0, 90.0) for s in range(seconds)]


def test_a_gnss_only_boat_trims_its_journal_with_each_windows_track() -> None:
    proc = processor()
    items = feed(proc, *_fixes(T0, int(2.5 * SEA_WINDOW_S)))
    tracks = [i for i in items if isinstance(i, Track)]
    trims = [KIND.stored(t, GW).summarised for t in tracks]
    assert trims and all(t is not None and t[0] == DEVICE for t in trims)
    assert max(t[1] for t in trims if t) >= (T0 + timedelta(seconds=SEA_WINDOW_S)).timestamp() - SEA_WINDOW_S


def test_an_open_press_is_never_trimmed_from_the_journal() -> None:
    proc = processor()
    call = feed(proc, press(T0))[0]
    assert isinstance(call, DistressCall)
    items = feed(proc, *_fixes(T0, int(2.5 * SEA_WINDOW_S)))
    trims = [KIND.stored(t, GW).summarised for t in items if isinstance(t, Track)]
    closing = [t for t in trims if t is not None]  # the distress tracks between windows trim nothing
    assert closing and all(t[1] <= T0.timestamp() for t in closing)


def test_state_rows_passing_through_a_live_gateway_change_no_repeat() -> None:
    proc = processor()
    feed(proc, press(T0))
    clock = T0 + timedelta(hours=5)  # a gateway clock far from GNSS time
    proc.tick(clock)
    for k in range(1, 3):
        feed(proc, *[r.value for r in proc.state_readings(T0 + timedelta(seconds=k))])  # as `edge.kind` journals them
    assert proc.tick(clock + timedelta(seconds=30)) == []
    assert [c.repeat for c in proc.tick(clock + timedelta(seconds=SOS_REPEAT_S + 1))] == [1]


def test_repeats_end_before_their_numbers_would_reach_the_cancels() -> None:
    proc = processor()
    feed(proc, press(T0))
    clock = T0
    proc.tick(clock)
    replay = journal_round_trip(proc, T0)
    restarted = processor()
    for r in replay:
        restarted.accept(r)
    restarted.process()
    much_later = clock + timedelta(days=400)
    sent = restarted.tick(much_later) + restarted.tick(much_later + timedelta(seconds=1)) + restarted.tick(much_later + timedelta(days=1))
    assert all(c.repeat < 100_000 for c in sent) and len({c.id for c in sent}) == len(sent)


class JournalledGateway:
    """A processor behind the gateway's journal, as `gateway.runtime` keeps it: each value is
    journalled with the state rows `edge.kind` adds to its frame, then processed; an item that
    closes a window deletes the rows before its trim time (`Outbox.commit`); `restart` replays
    what is left into a new processor."""

    def __init__(self) -> None:
        self.proc, self.journal, self.calls = processor(), [], []

    def feed(self, *values) -> None:
        for v in values:
            reading = reading_of(DEVICE, v)
            rows = [reading, *self.proc.state_readings(reading.ts)]
            self.journal += [KIND.from_journal(r.device, r.seq, r.ts, KIND.journal_body(r)) for r in rows]
            for r in rows:
                self.proc.accept(r)
            for item in self.proc.process():
                trim = KIND.stored(item, GW).summarised
                if trim is not None:
                    self.journal = [r for r in self.journal if r.ts.timestamp() >= trim[1]]
                if isinstance(item, DistressCall):
                    self.calls.append(item)

    def restart(self) -> None:
        self.proc = processor()
        for r in sorted(self.journal, key=lambda r: (r.ts, r.seq)):
            self.proc.accept(r)
        self.calls += [i for i in self.proc.process() if isinstance(i, DistressCall)]


def test_a_cancel_repeated_after_a_window_closed_and_a_restart_is_no_new_sos() -> None:
    """The button sends its cancel several times (`sim.boat.CANCEL_REPEATS`); a window that
    closes between two of them, then a gateway restart, must not make the next one a cancel of a
    press nobody knows (ingest would open and close a phantom SOS incident for it)."""
    gw = JournalledGateway()
    window_end = datetime.fromtimestamp((T0.timestamp() // SEA_WINDOW_S + 1) * SEA_WINDOW_S, timezone.utc)
    pressed = window_end - timedelta(seconds=8)
    gw.feed(*_fixes(pressed - timedelta(seconds=60), 61), press(pressed), *_fixes(pressed + timedelta(seconds=1), 3))
    gw.feed(press(pressed + timedelta(seconds=3), active=False), *_fixes(pressed + timedelta(seconds=4), 10))  # the window closes
    gw.restart()
    gw.feed(press(pressed + timedelta(seconds=13), active=False))
    # A replay makes the calls again with their ids: the outbox keeps each once.
    assert {(c.press, c.repeat, c.pressed_at) for c in gw.calls} == {(1, 0, pressed), (1, 100_000, pressed)}, "one press, one cancel"


def test_only_fixes_at_or_after_the_press_are_marked_distress() -> None:
    """A press in the middle of a sea window: the fixes kept before it (minutes old) leave as a
    routine track, those from the press on as the distress track, so the rescue's track does
    not say the boat was in distress before the button was pressed."""
    proc = processor()
    window = datetime.fromtimestamp((T0.timestamp() // SEA_WINDOW_S + 1) * SEA_WINDOW_S, timezone.utc)
    at = window + timedelta(seconds=416)  # fixes every second from the window's start
    items = feed(proc, *_fixes(window, 417))  # the fix of the press's second comes first, as on the wire
    assert not [i for i in items if isinstance(i, Track) and i.points[-1][0] >= window.timestamp() * 1e6]
    items = feed(proc, press(at), *_fixes(at + timedelta(seconds=1), 40))
    tracks = [i for i in items if isinstance(i, Track)]
    before = [p for t in tracks for p in t.points if p[0] < at.timestamp() * 1e6]
    assert before, "the fixes kept before the press are sent, not lost"
    assert all(not t.distress for t in tracks if any(p[0] < at.timestamp() * 1e6 for p in t.points))
    distress = [t for t in tracks if t.distress]
    assert distress and all(p[0] >= at.timestamp() * 1e6 for t in distress for p in t.points)
    assert all(t.distress for t in tracks for p in t.points if p[0] == round(at.timestamp() * 1e6)), "at the press: distress"
    assert len({t.id for t in tracks}) == len(tracks)
