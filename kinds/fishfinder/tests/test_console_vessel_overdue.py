"""`/vessels` says which vessels are overdue (the console highlights them): the open overdue
alert's reason and start, to the rescue and to the owner fisher, and nothing once it clears."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from api_people import DKI, ClientFactory
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.testing import TEST_PEPPER, issue_keys
from central.db import writer
from central.models import User
from contract.clock import utcnow
from kinds.fishfinder.ingest.overdue import PAST_RETURN, check_overdue
from kinds.fishfinder.state import Vessel, register_vessel

OWNER = "Nelayan Telat"


def _vessels(client: object) -> dict[str, object]:
    answer = client.get("/api/v1/vessels")  # type: ignore[attr-defined]
    assert answer.status_code == 200, answer.text
    return {v["id"]: v["overdue"] for v in answer.json()["data"]}


def test_an_overdue_vessel_is_marked_until_it_is_back(
    engine: Engine, keys: dict[tuple[str, str], str], make_client: ClientFactory
) -> None:
    keys.update(issue_keys(engine, TEST_PEPPER, [(DKI, "fisher", OWNER)]))
    now = utcnow()
    with Session(writer(engine)) as s, s.begin():
        owner = s.scalar(sa.select(User.id).where(User.name == OWNER))
        for vessel_id in ("km-telat", "km-tepat"):
            v = register_vessel(s, vessel_id=vessel_id, tenant=DKI, name=vessel_id.upper(), home_port="Muara Angke",
                                gateway_id=f"gw-{vessel_id}", now=now, owner_user=owner, home=(-6.10, 106.77))  # fmt: skip
            v.at_sea, v.last_fix_at = True, now - timedelta(minutes=5)
        late = s.get(Vessel, "km-telat")
        assert late is not None
        late.expected_return_at = now - timedelta(hours=1)
    with Session(writer(engine)) as s, s.begin():
        assert check_overdue(s, now, now - timedelta(minutes=10)) == ["km-telat"]

    officer, owner_client = make_client(level_store="sql"), make_client(as_user=(DKI, OWNER), level_store="sql")
    for seen in (_vessels(officer), _vessels(owner_client)):
        assert seen["km-tepat"] is None
        assert seen["km-telat"] == {"reason": PAST_RETURN, "since": now.isoformat().replace("+00:00", "Z")}

    with Session(writer(engine)) as s, s.begin():
        back = s.get(Vessel, "km-telat")
        assert back is not None
        back.at_sea, back.expected_return_at = False, None
        check_overdue(s, now + timedelta(minutes=1), now - timedelta(minutes=10))
    assert _vessels(officer)["km-telat"] is None
