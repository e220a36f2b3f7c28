"""FastAPI dependencies as `Annotated` aliases, so routes declare what they need by type."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.services.levels import LevelStore
from api.services.stream import EventHub
from api.settings import Settings
from ingest.db import writer
from tepi.config import TepiConfig


def get_session(request: Request) -> Iterator[Session]:
    """A read session per request, closed when the response is sent."""
    with Session(request.app.state.engine) as session:
        yield session


def get_write_session(request: Request) -> Iterator[Session]:
    """A session whose transactions take SQLite's write lock at BEGIN (no upgrade deadlock)."""
    with Session(writer(request.app.state.engine)) as session:
        yield session


def get_level_store(request: Request) -> LevelStore:
    store: LevelStore = request.app.state.level_store
    return store


def get_event_hub(request: Request) -> EventHub:
    hub: EventHub = request.app.state.event_hub
    return hub


def get_config(request: Request) -> TepiConfig:
    config: TepiConfig = request.app.state.config
    return config


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(get_session)]
WriteSessionDep = Annotated[Session, Depends(get_write_session)]
LevelStoreDep = Annotated[LevelStore, Depends(get_level_store)]
ConfigDep = Annotated[TepiConfig, Depends(get_config)]
EventHubDep = Annotated[EventHub, Depends(get_event_hub)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
