"""A state database upgraded by a build with a kind, opened by a build without it: refused with an
error that names the kind and its revisions and says what to do, never "a newer Tepi upgraded it"
(which would send the operator to look for a release that does not exist).

The build without the kind is this one with the kind's line removed from `kinds.KINDS`; with its
folder removed too, nothing names the kind, and the error says both possible causes.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

import central.schema
import kinds
from central.db import check_schema, create_engine, prepare_database, upgrade_database
from central.errors import SchemaUnrecognised
from core.config import TepiConfig


@pytest.fixture
def fishfinder_unregistered(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """This build without the fishfinder's line in `KINDS` (its folder stays)."""
    with monkeypatch.context() as patch:
        patch.delitem(kinds.KINDS, "fishfinder")
        central.schema.kind_branches.cache_clear()  # the registered kinds' migration folders
        yield patch
    central.schema.kind_branches.cache_clear()


@pytest.fixture
def state(database_url: str, default_config: TepiConfig) -> Iterator[sa.Engine]:
    """A state database prepared by the build with the fishfinder kind (this one, as registered)."""
    engine = create_engine(database_url)
    prepare_database(engine, default_config)
    yield engine
    engine.dispose()


def _stamp(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.scalars(sa.text("SELECT version_num FROM alembic_version")))


def test_a_database_with_revisions_of_an_unregistered_kind_is_refused_naming_the_kind(
    state: sa.Engine, default_config: TepiConfig, request: pytest.FixtureRequest
) -> None:
    stamped = _stamp(state)
    assert any(r.startswith("ff") for r in stamped), stamped

    request.getfixturevalue("fishfinder_unregistered")
    assert central.schema.heads() == "0007,bg0001,wb0001"  # this build knows none of the kind's revisions
    for step in (
        lambda: prepare_database(state, default_config),
        lambda: upgrade_database(state),
        lambda: check_schema(state),
    ):
        with pytest.raises(SchemaUnrecognised) as refused:
            step()
        message = str(refused.value)
        ff_head = next(r for r in stamped if r.startswith("ff"))
        assert f"revision '{ff_head}' is of the device kind 'fishfinder'" in message
        assert "does not register (its kinds: awlr, badge, wavebuoy)" in message
        assert "Register the kind again" in message and "downgrade its branch" in message
        assert "newer Tepi" not in message
    assert _stamp(state) == stamped  # refused before anything changed


def test_once_the_kind_is_registered_again_the_same_database_is_current(
    state: sa.Engine, default_config: TepiConfig, fishfinder_unregistered: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SchemaUnrecognised, match="device kind 'fishfinder'"):
        check_schema(state)
    fishfinder_unregistered.undo()  # the remedy the error names
    central.schema.kind_branches.cache_clear()
    assert check_schema(state).up_to_date
    assert not prepare_database(state, default_config).changed


def test_without_the_kinds_folder_the_error_gives_both_causes(
    state: sa.Engine, fishfinder_unregistered: pytest.MonkeyPatch
) -> None:
    fishfinder_unregistered.setattr(central.schema, "unregistered_kinds", dict)  # the folder is gone as well
    with pytest.raises(SchemaUnrecognised) as refused:
        upgrade_database(state)
    message = str(refused.value)
    ff_head = next(r for r in _stamp(state) if r.startswith("ff"))
    assert f"revision '{ff_head}', which this version of Tepi does not know (its newest is '0007,bg0001,wb0001')" in message
    assert "a newer Tepi or of a device kind this build does not register (its kinds: awlr, badge, wavebuoy)" in message
    assert "register the kind again" in message
