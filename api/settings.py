"""Runtime settings of the API process, from `TEPI_*` environment variables.

The deployment file (`tepi.config`) says what exists (tenants, stations, the ingest database
and TSDB); these settings say how this API process runs, and may point it elsewhere (a read
replica, a separate PromQL endpoint) without editing the shared file.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tepi.config import TepiConfig

#: The pepper of demo mode: public (it is in the source), so production refuses it.
DEMO_PEPPER = "tepi-demo-pepper-public-never-use-in-production"
MIN_SECRET_CHARS = 32
_GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


class SettingsError(RuntimeError):
    """The API settings are invalid or insecure; the message says what to set."""


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
    auth_pepper: SecretStr | None = Field(
        default=None,
        description="Server secret of the API key hashes (HMAC-SHA256), at least 32 characters. Required in "
        "production; demo mode falls back to a public one. Changing it invalidates every key.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token of /metrics for the platform's Prometheus (at least 32 characters); "
        "unset: /metrics answers 401 to everyone.",
    )
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024, description="Larger bodies: 413.")
    public_rate_per_s: float = Field(
        default=1.0, gt=0, le=10_000, description="Requests per second one client IP may make to public endpoints."
    )
    public_burst: int = Field(default=30, ge=1, le=100_000, description="Requests a client may make at once.")
    public_max_age_s: int = Field(default=60, ge=0, le=86400, description="Cache-Control max-age of public answers.")
    public_cache_s: float = Field(
        default=10.0, ge=0, le=3600, description="How long the server reuses a computed public station list (0: never)."
    )

    @model_validator(mode="after")
    def _secrets(self) -> "Settings":
        pepper = self.auth_pepper.get_secret_value() if self.auth_pepper is not None else None
        if self.mode == "production":
            if not pepper:
                raise ValueError(
                    "TEPI_AUTH_PEPPER is required in production mode (the secret that API key hashes are keyed "
                    f"with); generate one with {_GENERATE} and keep it out of the database and the repository"
                )
            if pepper == DEMO_PEPPER:
                raise ValueError("TEPI_AUTH_PEPPER is the public demo value; production needs its own secret")
        if pepper is not None and len(pepper) < MIN_SECRET_CHARS:
            raise ValueError(f"TEPI_AUTH_PEPPER must be at least {MIN_SECRET_CHARS} characters")
        token = self.metrics_token.get_secret_value() if self.metrics_token is not None else None
        if token is not None and len(token) < MIN_SECRET_CHARS:
            raise ValueError(f"TEPI_METRICS_TOKEN must be at least {MIN_SECRET_CHARS} characters")
        return self

    def pepper(self) -> bytes:
        """The key-hash secret: the configured one, or in demo mode the public demo pepper."""
        if self.auth_pepper is not None:
            return self.auth_pepper.get_secret_value().encode()
        if self.mode != "demo":  # unreachable: the validator refuses it
            raise SettingsError("no TEPI_AUTH_PEPPER outside demo mode")
        return DEMO_PEPPER.encode()

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


def load_settings() -> Settings:
    """Settings from the environment; `SettingsError` with one line per problem if invalid."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"])
            msg = str(e["msg"]).removeprefix("Value error, ")
            lines.append(f"  TEPI_{where.upper()}: {msg}" if where else f"  {msg}")
        raise SettingsError("refusing to run with these API settings:\n" + "\n".join(lines)) from None
