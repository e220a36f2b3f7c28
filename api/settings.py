"""Runtime settings of the API process, from `TEPI_*` environment variables.

The deployment file (`tepi.config`) says what exists (tenants, stations, the ingest database
and TSDB); these settings say how this API process runs, and may point it elsewhere (a read
replica, a separate PromQL endpoint) without editing the shared file.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tepi.config import TepiConfig


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TEPI_", extra="ignore", frozen=True)

    mode: Literal["demo", "production"] = Field(
        default="demo",
        description="demo creates the schema and loads the registry at start-up; production expects "
        "ingest (or a migration) to have done it and refuses to start without it.",
    )
    database_url: str | None = Field(default=None, description="Default: ingest.database_url of the config.")
    tsdb_url: str | None = Field(default=None, description="Default: ingest.tsdb.url of the config.")
    tsdb_query_url: str | None = Field(default=None, description="PromQL base URL; default: the TSDB's.")
    level_store: Literal["auto", "sql", "tsdb"] = Field(
        default="auto", description="auto uses the TSDB when one is configured, else the state database."
    )
    tsdb_timeout_s: float = Field(default=10.0, gt=0, le=120)
    max_points: int = Field(default=10_000, ge=10, le=100_000, description="Most buckets one level query may ask for.")
    stream_poll_s: float = Field(
        default=0.05,
        gt=0,
        le=10,
        description="How often the alert stream polls the event log while anyone streams (latency vs load).",
    )
    stream_heartbeat_s: float = Field(default=15.0, gt=0, le=300, description="SSE comment sent when idle this long.")
    stream_max_s: float = Field(
        default=300.0,
        ge=0,
        description="A stream ends after this long (the client resumes with Last-Event-ID), so a graceful "
        "shutdown is not held up indefinitely; 0: never.",
    )
    cap_sender_domain: str = Field(
        default="tepi.local",
        pattern=r"^[A-Za-z0-9.-]+$",
        description="CAP sender is <tenant>@<this>; use a domain the publishing agency controls.",
    )
    cap_area_radius_km: float = Field(default=2.0, gt=0, le=100, description="Radius of a CAP area around a gauge.")

    def effective_database_url(self, config: TepiConfig) -> str:
        return self.database_url or config.ingest.database_url

    def effective_query_url(self, config: TepiConfig) -> str | None:
        """Where PromQL queries go: explicit settings first, then the ingest TSDB of the config."""
        if self.tsdb_query_url or self.tsdb_url:
            return self.tsdb_query_url or self.tsdb_url
        tsdb = config.ingest.tsdb
        if tsdb is None:
            return None
        return tsdb.query_url or tsdb.url
