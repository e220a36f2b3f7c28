"""The badge kind's central state on SQLite and PostgreSQL: offices and retention from the
configuration, employees registered and imported (nothing half-imported), users linked, badges
issued (one in use per employee, keys only sealed) and revoked, and retention."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from badge_central_world import (
    BADUNG, GW_KANTOR, INDRAMAYU, KANTOR, MANGUPURA, NIP_DINI, SEAL, T0, issued_before_eid_required, prepared, presence,
    security, send, staff, world_config,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.accounts import create_user
from central.db import create_engine, writer
from central.retention import enforce_retention
from core.config import RetentionConfig
from kinds.badge.issuing import badges_of, build_roster, issue_badge, revoke_badge, roster_version
from kinds.badge.state import AttendanceTenant, Badge, Employee, Office, PresenceEvent, RecordView, SecurityEventRecord
from kinds.badge.staff import ADDED, UNCHANGED, NewEmployee, add_employee, import_staff, link_user

SCHEDULES = ["pns-5-hari", "shift-pagi"]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = create_engine(database_url)
    prepared(eng)
    yield eng
    eng.dispose()


def test_offices_and_each_tenant_s_retention_come_from_the_configuration(engine: Engine) -> None:
    with Session(engine) as s:
        offices = {o.id: (o.tenant_id, o.require_eid, o.gateway) for o in s.scalars(sa.select(Office))}
        retention = {t.tenant_id: (t.retention_days, t.roster_version) for t in s.scalars(sa.select(AttendanceTenant))}
    assert offices[KANTOR] == (INDRAMAYU, True, None) and offices[MANGUPURA] == (BADUNG, False, None)
    assert retention == {INDRAMAYU: (30, 0), BADUNG: (730, 0)}, "Badung names no attendance rules: the default"
    config = world_config()
    changed = config.model_copy(update={"attendance": [a.model_copy(update={"retention_days": 90}) for a in config.attendance]})
    prepared(engine, changed)
    with Session(engine) as s:
        assert s.get(AttendanceTenant, INDRAMAYU).retention_days == 90  # type: ignore[union-attr]


def test_an_employee_is_registered_once_and_a_nip_registered_otherwise_is_refused(engine: Engine) -> None:
    dini = NewEmployee(nip=NIP_DINI, name="  Dini Kartika ", office=KANTOR, schedule="shift-pagi")
    with Session(writer(engine)) as s, s.begin():
        assert add_employee(s, INDRAMAYU, dini, T0, SCHEDULES)[1] == ADDED
        assert add_employee(s, INDRAMAYU, dini, T0, SCHEDULES)[1] == UNCHANGED
        with pytest.raises(ValueError, match="registered with office 'bkpsdm-indramayu', not 'kec-haurgeulis'"):
            add_employee(s, INDRAMAYU, NewEmployee(nip=NIP_DINI, name="Dini Kartika", office="kec-haurgeulis", schedule="shift-pagi"), T0, SCHEDULES)
        with pytest.raises(ValueError, match="office 'bpbd-badung' is none of kab-indramayu's \\(bkpsdm-indramayu, kec-haurgeulis\\)"):
            add_employee(s, INDRAMAYU, NewEmployee(nip="199001012015031002", name="Eko", office=MANGUPURA), T0, SCHEDULES)
        with pytest.raises(ValueError, match="schedule 'malam' is none of"):
            add_employee(s, INDRAMAYU, NewEmployee(nip="199001012015031002", name="Eko", office=KANTOR, schedule="malam"), T0, SCHEDULES)
        # Another tenant may have its own employee with the same NIP (a transfer between regencies).
        assert add_employee(s, BADUNG, NewEmployee(nip=NIP_DINI, name="Dini Kartika", office=MANGUPURA), T0, [])[1] == ADDED
        assert s.scalar(sa.select(Employee.name).where(Employee.tenant_id == INDRAMAYU)) == "Dini Kartika"
    for bad in ("19850312201001100", "19850312201001100x", ""):
        with pytest.raises(ValueError, match="not 18 digits"):
            NewEmployee(nip=bad, name="X", office=KANTOR)
    with pytest.raises(IntegrityError), Session(writer(engine)) as s, s.begin():  # the database says so too
        s.add(Employee(tenant_id=INDRAMAYU, nip="123", name="X", office_id=KANTOR, created_at=T0))


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pegawai.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_staff_csv_with_a_bad_row_imports_nothing_and_names_every_bad_line(engine: Engine, tmp_path: Path) -> None:
    path = _csv(tmp_path, (
        "nip,name,office,schedule\n"
        "198503122010011004,Dini Kartika,bkpsdm-indramayu,\n"
        "199001012015031002,Eko Prasetyo,bkpsdm-indramayu,shift-pagi\n"
        "19900101201503100,Fajar,bkpsdm-indramayu,\n"  # 17 digits
        "199202022016041003,Gita,kantor-fiktif,\n"
        "198503122010011004,Dini lagi,bkpsdm-indramayu,\n"
        "199303032017051004,,bkpsdm-indramayu,\n"
        "199404042018061005,Hadi,bkpsdm-indramayu,malam\n"
    ))  # fmt: skip
    with Session(writer(engine)) as s, s.begin():
        done, rejected = import_staff(s, INDRAMAYU, path, T0, SCHEDULES)
        s.rollback()  # what the CLI does on any rejection
    assert len(done) == 2
    assert [r.split(": ", 1)[0].rsplit(":", 1)[1] for r in rejected] == ["4", "5", "6", "7", "8"]
    assert "not 18 digits" in rejected[0] and "is none of kab-indramayu's (bkpsdm-indramayu, kec-haurgeulis)" in rejected[1]
    assert "again (first on line 2)" in rejected[2] and "no name" in rejected[3] and "schedule 'malam'" in rejected[4]
    with Session(engine) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Employee)) == 0


def test_a_good_staff_csv_imports_and_importing_it_again_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    path = _csv(tmp_path, "\ufeffnip,name,office\n198503122010011004,Dini Kartika,bkpsdm-indramayu\n199001012015031002,Eko,kec-haurgeulis\n")
    for expected in (ADDED, UNCHANGED):
        with Session(writer(engine)) as s, s.begin():
            done, rejected = import_staff(s, INDRAMAYU, path, T0, SCHEDULES)
        assert rejected == [] and [status for _, status in done] == [expected, expected]
    for text, why in (("nip,nama,office\n", "unknown columns nama; missing columns name"), ("nip,name,office\n", "no employees")):
        with Session(writer(engine)) as s, s.begin():
            assert why in import_staff(s, INDRAMAYU, _csv(tmp_path, text), T0, SCHEDULES)[1][0]


def test_users_of_role_employee_or_staff_admin_are_linked_to_one_employee_each(engine: Engine) -> None:
    with Session(writer(engine)) as s, s.begin():
        for nip in (NIP_DINI, "199001012015031002"):
            add_employee(s, INDRAMAYU, NewEmployee(nip=nip, name=f"Pegawai {nip[-4:]}", office=KANTOR), T0, [])
        dini = create_user(s, INDRAMAYU, "Dini Kartika", "employee", T0)
        kasubag = create_user(s, INDRAMAYU, "Kasubag Umum", "staff_admin", T0)
        viewer = create_user(s, INDRAMAYU, "Pemantau", "viewer", T0)
        other = create_user(s, BADUNG, "Orang Badung", "employee", T0)
        assert link_user(s, INDRAMAYU, dini, NIP_DINI).user_id == dini.id
        assert link_user(s, INDRAMAYU, dini, NIP_DINI).user_id == dini.id, "again: nothing changes"
        for user, nip, why in (
            (viewer, "199001012015031002", "a viewer; only an employee or a staff_admin"),
            (kasubag, NIP_DINI, "linked to user"),
            (dini, "199001012015031002", "linked to employee 198503122010011004 already"),
            (other, "199001012015031002", "not a user of kab-indramayu"),
        ):
            with pytest.raises(ValueError, match=why):
                link_user(s, INDRAMAYU, user, nip)
        assert link_user(s, INDRAMAYU, kasubag, "199001012015031002").user_id == kasubag.id


def test_one_badge_in_use_per_employee_keys_only_sealed_and_every_change_a_roster_version(engine: Engine) -> None:
    with Session(writer(engine)) as s, s.begin():
        add_employee(s, INDRAMAYU, NewEmployee(nip=NIP_DINI, name="Dini", office=KANTOR), T0, [])
        issued = issue_badge(s, INDRAMAYU, NIP_DINI, T0, SEAL)
        first = issued.badge.id
        assert issued.identity_key is not None and issued.identity_key.hex() not in repr(issued)
        with pytest.raises(ValueError, match=f"has badge {first} in use: revoke it first"):
            issue_badge(s, INDRAMAYU, NIP_DINI, T0, SEAL, fmt="ibeacon")
        for kwargs, why in (({"fmt": "nfc"}, "none of eid, ibeacon, uid"), ({"k": 16}, "outside 8..12")):
            with pytest.raises(ValueError, match=why):
                issue_badge(s, INDRAMAYU, NIP_DINI, T0, SEAL, **kwargs)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="no employee with NIP"):
            issue_badge(s, BADUNG, NIP_DINI, T0, SEAL)
        revoke_badge(s, INDRAMAYU, first, T0 + timedelta(days=1))
        with pytest.raises(ValueError, match="revoked on"):
            revoke_badge(s, INDRAMAYU, first, T0 + timedelta(days=1))
        with pytest.raises(ValueError, match="no badge"):
            revoke_badge(s, BADUNG, first, T0)
        with pytest.raises(ValueError, match=f"office {KANTOR} requires EID badges"):
            issue_badge(s, INDRAMAYU, NIP_DINI, T0 + timedelta(days=1), SEAL, fmt="ibeacon")
        second = issued_before_eid_required(s, KANTOR, lambda: issue_badge(s, INDRAMAYU, NIP_DINI, T0 + timedelta(days=1), SEAL, fmt="ibeacon"))
        assert roster_version(s, INDRAMAYU) == 3 and roster_version(s, BADUNG) == 0
        assert [b.id for b, _ in badges_of(s, INDRAMAYU)] == [second]
        assert [b.id for b, _ in badges_of(s, INDRAMAYU, include_revoked=True)] == [first, second]
        built = build_roster(s, INDRAMAYU, SEAL)
        assert built is not None and built.unopened == {}
        assert [(b.badge, b.format) for b in built.roster.badges] == [(second, "ibeacon")]
        stored = s.get(Badge, first)
        assert stored is not None and stored.identity_key_enc is not None
        assert issued.identity_key not in stored.identity_key_enc and SEAL.open(stored.identity_key_enc, first) == issued.identity_key
    with pytest.raises(IntegrityError), Session(writer(engine)) as s, s.begin():  # the database holds one in use too
        employee = s.scalar(sa.select(Employee.id).where(Employee.nip == NIP_DINI))
        s.add(Badge(id="b0000000000ff", tenant_id=INDRAMAYU, employee_id=employee, format="uid", issued_at=T0))


def test_retention_deletes_each_tenant_s_events_and_views_past_its_days_and_keeps_the_rest(engine: Engine) -> None:
    badges = staff(engine)
    dini, wayan = badges[NIP_DINI].badge, badges["198807072012122001"].badge
    old, recent = T0, T0 + timedelta(days=40)
    send(engine, [presence(KANTOR, GW_KANTOR, dini.id, "check_in", old), security(KANTOR, GW_KANTOR, dini.id, "eid_ahead", old),
                  presence(KANTOR, GW_KANTOR, dini.id, "check_in", recent)], now=recent)  # fmt: skip
    send(engine, [presence(MANGUPURA, "gw-bpbd-badung", wayan.id, "check_in", old)], tenant=BADUNG, gateway="gw-bpbd-badung", now=recent)
    with Session(writer(engine)) as s, s.begin():
        viewer = create_user(s, INDRAMAYU, "Kasubag", "staff_admin", T0)
        s.add_all([RecordView(tenant_id=INDRAMAYU, viewer_user=viewer.id, subject_office=KANTOR, what="daily", at=at) for at in (old, recent)])

    with Session(writer(engine)) as s, s.begin():
        counts = enforce_retention(s, recent + timedelta(days=1), RetentionConfig())
    assert {k: counts.get(k) for k in ("presence_events", "security_events", "record_views")} == {
        "presence_events": 1, "security_events": 1, "record_views": 1,
    }  # fmt: skip
    with Session(engine) as s:
        kept = [(r.tenant_id, r.at) for r in s.scalars(sa.select(PresenceEvent).order_by(PresenceEvent.tenant_id))]
        assert kept == [(BADUNG, old), (INDRAMAYU, recent)], "Badung keeps 730 days, Indramayu 30"
        assert s.scalar(sa.select(sa.func.count()).select_from(SecurityEventRecord)) == 0
        assert [v.at for v in s.scalars(sa.select(RecordView))] == [recent]
    with Session(writer(engine)) as s, s.begin():
        assert not any(enforce_retention(s, recent + timedelta(days=1), RetentionConfig()).values()), "twice: nothing more"
