"""The office of `tepi demo`: BKPSDM Kabupaten Indramayu, whose staff carry Eddystone-EID badges
heard by four scanners, its own office gateway deciding presence and spoofing, and the centre
storing it (ingest) and judging the day (the API's daily board).

What runs is what a deployment runs: employees registered and badges issued by the state
functions `tepi admin employee add` and `tepi admin badge issue` call (`kinds.badge.staff`,
`kinds.badge.issuing`: keys sealed under the demo secret), the office gateway (`EdgeGateway`
with its own outbox) on the demo's broker, which receives the roster from ingest as any office
gateway does (its first health summary reports version 0, ingest answers with the tenant's
roster), and scanners publishing Tepi's batch format (`kinds.badge.sim.runner`), each as itself.

Time: the scanners replay the morning of the most recent working day whose 08:15 has passed
(07:00-08:00 WIB) `speed` times faster than real time, as the boats replay their trips, so
that the centre can judge lateness against the 07:30 start. The badges were issued a week
before that day. Thirteen of the fourteen come in (one at 07:44: late); the fourteenth stays at
home while a recorder plays back the EIDs it captured from that badge the day before
(`eid_replayed`: caught, no presence). The story (`OfficeStory`) prints, once ingest holds the
morning: "office bkpsdm: 12 present, 1 late, 1 spoofing attempt (EID replayed) caught".
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
import yaml

from core.config import BrokerConfig, DeviceConfig, GatewayConfig, OutboxConfig, TepiConfig

if TYPE_CHECKING:
    from rich.console import Console

    from gateway.runtime import EdgeGateway
    from kinds.badge.config import OfficeConfig, TenantAttendance
    from kinds.badge.sim.office import OfficeWorld

log = logging.getLogger("tepi.demo")

TENANT = "kab-indramayu"
OFFICE = "bkpsdm"
GATEWAY = "gw-bkpsdm"
SCANNERS = tuple(f"scn-bkpsdm-{k:02d}" for k in range(4))
SAMPLE = Path(__file__).resolve().parent.parent / "kinds" / "badge" / "sample.yaml"
#: The staff: NIP (birth date, appointment month, sex, number), name, arrival (local) or None
#: for the one who stays at home (and whose recorded EIDs are played back at the office).
STAFF: tuple[tuple[str, str, str | None], ...] = (
    ("198503122010011004", "Agus Setiawan", "07:04"),
    ("198807242014022001", "Rina Marlina", "07:06"),
    ("199001152015031002", "Eko Prasetyo", "07:09"),
    ("198611302011012003", "Nur Aini", "07:11"),
    ("199204092019031005", "Yusuf Hidayat", "07:13"),
    ("198402282009022002", "Sri Wahyuni", "07:15"),
    ("199105192017011001", "Teguh Wibowo", "07:17"),
    ("198712062012022004", "Ratna Sari", "07:19"),
    ("199307222020121003", "Fajar Nugroho", "07:21"),
    ("198909012014032005", "Wulan Dari", "07:23"),
    ("198306172008011006", "Hendra Gunawan", "07:25"),
    ("199412302022032006", "Maya Puspita", "07:27"),
    ("198905112013031007", "Iwan Kurniawan", "07:44"),
    ("199010102016042007", "Dina Anggraini", None),
)
#: Whom the demo's `demo-staff_admin` and `demo-employee` users of the tenant are (`link_demo_users`).
DEMO_LOGINS = {"staff_admin": STAFF[0][0], "employee": STAFF[1][0]}
REPLAY = (clock(7, 35), clock(7, 52))  # when the recorder plays yesterday's EIDs at the office
MORNING = (clock(7, 0), clock(8, 0))
READY_AFTER = clock(8, 15)
#: How long the story waits for the gateway's roster before the scanners start anyway.
ROSTER_WAIT_S = 60.0
#: How long the story waits, after the replay, for the centre to hold all of the morning.
STORED_WAIT_S = 60.0
REASONS = {"eid_replayed": "EID replayed", "eid_ahead": "EID ahead", "two_offices": "two offices at once",
           "static_id_where_eid_required": "static id where EID is required"}


def demo_office_config() -> OfficeConfig:
    from kinds.badge.config import OfficeConfig

    return OfficeConfig(
        id=OFFICE, tenant=TENANT, name="BKPSDM Kabupaten Indramayu", lat=-6.3273, lon=108.3235, require_eid=True,
        # The simulated floor (16 x 12 m, 4 scanners): every desk reads -75 dBm or more from its
        # nearest scanner (`kinds.badge.sim.world`). A health summary every 10 s: the roster comes fast.
        enter_dbm=-80.0, exit_dbm=-90.0, summary_every_s=10,
    )


def sample_attendance() -> TenantAttendance:
    """Indramayu's attendance rules as the kind's sample configuration states them (hours, 2026 holidays)."""
    from kinds.badge.config import TenantAttendance

    entries = yaml.safe_load(SAMPLE.read_text(encoding="utf-8")).get("attendance", [])
    entry = next((a for a in entries if a.get("tenant") == TENANT), {"tenant": TENANT})
    return TenantAttendance.model_validate(entry)


def with_demo_office(config: TepiConfig) -> TepiConfig:
    """`config` with the demo office and Indramayu's attendance rules, where the file declares
    the tenant and neither (ingest and the API must know the office; the rivers' gateway is
    another tenant's and ignores it)."""
    if TENANT not in {t.id for t in config.tenants} or any(o.id == OFFICE for o in getattr(config, "offices", [])):
        return config
    attendance = [a for a in getattr(config, "attendance", []) if a.tenant != TENANT]
    return config.model_copy(update={"offices": [*getattr(config, "offices", []), demo_office_config()],
                                     "attendance": [*attendance, sample_attendance()]})


def office_gateway_config(base: TepiConfig, broker_port: int, outbox: Path) -> TepiConfig:
    """The office gateway's deployment: its scanners on the demo's broker, uplink to the same."""
    broker = BrokerConfig(host="127.0.0.1", port=broker_port)
    gateway = GatewayConfig(
        id=GATEWAY, tenant=TENANT, local_broker=broker, uplink_broker=broker, outbox=OutboxConfig(path=outbox),
        summary_linger_s=base.gateway.summary_linger_s, health_every_s=base.gateway.health_every_s,
        device_rate_per_s=1000.0,  # the replay sends `speed` scan intervals a second per scanner
    )
    return TepiConfig.model_validate({
        **{k: getattr(base, k) for k in ("tenants", "ingest", "api", "retention")},
        "stations": [],
        "devices": [DeviceConfig(id=s, kind="badge", platform=OFFICE, transport="mqtt") for s in SCANNERS],
        "gateway": gateway,
        "offices": [o for o in base.offices if o.id == OFFICE],  # type: ignore[attr-defined]
        "attendance": base.attendance,  # type: ignore[attr-defined]
    })


def demo_day(now: datetime, attendance: TenantAttendance) -> date:
    """The most recent local working day (the tenant's default schedule, not a holiday) whose
    08:15 has passed: its morning is in the past, so the scanners can replay it."""
    zone = ZoneInfo(attendance.timezone)
    local = now.astimezone(zone)
    day = local.date() if local.time() >= READY_AFTER else local.date() - timedelta(days=1)
    schedule = attendance.schedule(None)
    holidays = set(attendance.holidays)
    while schedule.hours(day.weekday()) is None or day in holidays:
        day -= timedelta(days=1)
    return day


def office_world(day: date, zone: ZoneInfo, badges: list[Any]) -> OfficeWorld:
    """The floor, the staff's morning and the replay, for the badges in `STAFF` order."""
    from kinds.badge.sim.office import OfficeWorld
    from kinds.badge.sim.radio import Site, office_floor
    from kinds.badge.sim.truth import Spoof, Stay

    floor = office_floor(OFFICE, list(SCANNERS), width=16.0, depth=12.0, desks=None)
    at = lambda t: datetime.combine(day, t, tzinfo=zone)  # noqa: E731
    stays, home = [], None
    for (_, _, arrival), b in zip(STAFF, badges):
        if arrival is None:
            home = b.badge
        else:
            stays.append(Stay(b.badge, OFFICE, at(clock.fromisoformat(arrival)), at(clock(16, 5))))
    assert home is not None
    replay = Spoof("eid_replay", home, OFFICE, at(REPLAY[0]), at(REPLAY[1]), shift_s=86_400, source_office=OFFICE)
    desks = {b.badge: (OFFICE, 2 * k + 3) for k, b in enumerate(badges)}
    return OfficeWorld([Site("bkpsdm", (floor,))], {b.badge: b for b in badges}, desks, stays, [replay])


def link_demo_users(session: Any, now: datetime) -> None:
    """The tenant's `demo-<role>` users (`central.accounts.demo_key`) of the roles that act as a
    person, linked to the staff of `DEMO_LOGINS`, as `tepi admin employee link` links them: the
    demo's printed staff_admin and employee keys then answer for BKPSDM and for one person. A
    user not made yet (keys come later) is made here; `demo_key` finds it."""
    import sqlalchemy as sa

    from central.accounts import create_user
    from central.models import User
    from kinds.badge.staff import link_user

    for role, nip in DEMO_LOGINS.items():
        name = f"demo-{role}"
        user = session.scalar(sa.select(User).where(User.tenant_id == TENANT, User.name == name))
        if user is None:
            user = create_user(session, TENANT, name, role, now)
        link_user(session, TENANT, user, nip)


@dataclass
class DemoOffice:
    """The office's staff registered, its gateway and scanners: `register`, `start`, `stop`."""

    cfg: TepiConfig
    workdir: Path
    broker_port: int
    speed: float = 60.0
    day: date | None = None
    badges: list[Any] = field(default_factory=list)
    gateway: EdgeGateway | None = None
    replay_done: threading.Event = field(default_factory=threading.Event)
    error: str | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        # Identity keys are sealed under the public demo secret, which only demo mode accepts
        # (`kinds.badge.keys`): ingest opens them to send the office gateway its roster.
        os.environ.setdefault("TEPI_MODE", "demo")

    @property
    def attendance(self) -> TenantAttendance:
        return self.cfg.tenant_attendance(TENANT)  # type: ignore[attr-defined, no-any-return]

    def register(self, database_url: str, now: datetime) -> None:
        """The staff and their badges, as `tepi admin employee add` and `tepi admin badge issue`
        make them, registered two weeks and issued one week before the demo's day."""
        from sqlalchemy.orm import Session

        from central.db import create_engine, writer
        from kinds.badge.issuing import issue_badge
        from kinds.badge.items import RosterBadge
        from kinds.badge.keys import KeySeal
        from kinds.badge.sim.office import SimBadge
        from kinds.badge.staff import NewEmployee, add_employee

        self.day = demo_day(now, self.attendance)
        zone = ZoneInfo(self.attendance.timezone)
        hired = datetime.combine(self.day - timedelta(days=14), clock(8), tzinfo=zone)
        issued_at = datetime.combine(self.day - timedelta(days=7), clock(9), tzinfo=zone)
        seal = KeySeal.from_environment()
        schedules = [s.id for s in self.attendance.schedules]
        engine = create_engine(database_url)
        try:
            with Session(writer(engine)) as s, s.begin():
                for nip, name, _ in STAFF:
                    add_employee(s, TENANT, NewEmployee(nip=nip, name=name, office=OFFICE, schedule=None), hired, schedules)
                for nip, _, _ in STAFF:
                    got = issue_badge(s, TENANT, nip, issued_at, seal, fmt="eid", k=10)
                    b = got.badge
                    assert got.identity_key is not None and b.k is not None and b.epoch is not None
                    entry = RosterBadge(badge=b.id, format="eid", identity_key=got.identity_key.hex(), k=b.k, epoch=b.epoch)
                    self.badges.append(SimBadge.from_roster(entry))
                link_demo_users(s, hired)
        finally:
            engine.dispose()

    def start(self) -> None:
        from gateway.runtime import EdgeGateway

        cfg = office_gateway_config(self.cfg, self.broker_port, self.workdir / "office" / "outbox.db")
        self.gateway = EdgeGateway(cfg)
        self.gateway.start()
        self.gateway.wait_ready()
        self._thread = threading.Thread(target=self._run, name="demo-office", daemon=True)
        self._thread.start()

    def intro(self) -> str:
        return (f"office {OFFICE} ({TENANT}): gateway {GATEWAY}, {len(SCANNERS)} scanners replaying the morning of {self.day} "
                f"({MORNING[0]:%H:%M}-{MORNING[1]:%H:%M} {self.attendance.timezone}) at {self.speed:g}x")

    def roster_version(self) -> float:
        assert self.gateway is not None
        return self.gateway.registry.get_sample_value("tepi_gateway_badge_roster_version") or 0.0

    def _run(self) -> None:
        """Wait for the roster (ingest answers the gateway's first health summary), then replay."""
        from kinds.badge.sim.office import ScanStream
        from kinds.badge.sim.runner import ScannerPublisher, play

        try:
            deadline = time.monotonic() + ROSTER_WAIT_S
            while self.roster_version() < 1 and time.monotonic() < deadline and not self._stop.wait(0.2):
                pass
            assert self.day is not None
            zone = ZoneInfo(self.attendance.timezone)
            stream = ScanStream(office_world(self.day, zone, self.badges), seed=21)
            start, end = (datetime.combine(self.day, t, tzinfo=zone) for t in MORNING)
            publisher = ScannerPublisher("127.0.0.1", self.broker_port, TENANT, SCANNERS, qos=1).connect()
            try:
                play(stream.reports(start, end), publisher, interval_s=1.0 / self.speed, stop=self._stop)
                publisher.flush(STORED_WAIT_S)
            finally:
                publisher.close()
        except Exception as exc:  # the demo goes on; the story says the office did not run
            log.exception("demo office failed")
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.replay_done.set()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        if self.gateway is not None:
            self.gateway.stop(flush_timeout=5)


@dataclass
class OfficeStory:
    """Once the morning is replayed and ingest has it: the centre's judgement, one line."""

    office: DemoOffice
    line: str = ""
    log: list[str] = field(default_factory=list)
    _since: float | None = None

    @property
    def done(self) -> bool:
        return bool(self.line)

    def advance(self, http: httpx.Client, base: str, keys: dict[str, str], console: Console) -> None:
        if self.done or not self.office.replay_done.is_set():
            return
        if self.office.error is not None:
            self._say(console, f"office {OFFICE}: did not run ({self.office.error})")
            return
        if self._since is None:
            self._since = time.monotonic()
        # The office's staff_admin asks, as BKPSDM would: the printed key works (`link_demo_users`).
        auth = {"Authorization": f"Bearer {keys.get(f'{TENANT}/staff_admin', '')}"}
        try:
            board = http.get(f"{base}/attendance/daily", params={"date": str(self.office.day), "office": OFFICE}, headers=auth).json()
            since = datetime.combine(self.office.day or date.today(), clock(0), tzinfo=ZoneInfo(self.office.attendance.timezone))
            events = http.get(f"{base}/security-events", params={"office": OFFICE, "since": since.isoformat(), "limit": 100}, headers=auth).json()
        except (httpx.HTTPError, ValueError):
            return
        totals = board.get("totals") or {}
        attempts = {(e.get("badge"), e.get("reason")) for e in events.get("data") or []}
        came = sum(1 for _, _, arrival in STAFF if arrival is not None)
        if (totals.get("present", 0) + totals.get("late", 0) < came or not attempts) and time.monotonic() - self._since < STORED_WAIT_S:
            return  # the gateway and ingest still at it (a loaded machine, a slow broker)
        self._say(console, office_line(OFFICE, totals, sorted(r for _, r in attempts)))

    def _say(self, console: Console, text: str) -> None:
        self.line = text
        self.log.append(text)
        console.print(f"[cyan]{text}[/cyan]", soft_wrap=True)  # once, as it happens (not again in the closing table)


def office_line(office: str, totals: dict[str, int], reasons: list[str]) -> str:
    """`office bkpsdm: 12 present, 1 late, 1 spoofing attempt (EID replayed) caught`."""
    n = len(reasons)
    what = ", ".join(sorted({REASONS.get(r, r) for r in reasons}))
    caught = f"{n} spoofing attempt{'s' if n != 1 else ''}" + (f" ({what})" if what else "") + " caught"
    return f"office {office}: {totals.get('present', 0)} present, {totals.get('late', 0)} late, {caught}"
