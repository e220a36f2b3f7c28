"""Runtime settings of the API process, from `TEPI_*` environment variables.

The deployment file (`core.config`) says what exists (tenants, stations, the ingest database
and TSDB); these settings say how this API process runs, and may point it elsewhere (a read
replica, a separate PromQL endpoint) without editing the shared file.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import Field, IPvAnyNetwork, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.config import TepiConfig

#: The pepper of demo mode: public (it is in the source), so production refuses it.
DEMO_PEPPER = "tepi-demo-pepper-public-never-use-in-production"
MIN_SECRET_CHARS = 32
_GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


_PUBLIC_BASE_URL_REQUIRED = (
    "TEPI_PUBLIC_BASE_URL is required in production mode: the absolute URL the public reaches this "
    "API at (e.g. https://banjir.example.go.id); CAP and Atom links start with it"
)


class SettingsError(RuntimeError):
    """The API settings are invalid or insecure; the message says what to set."""


class DatabaseSettings(BaseSettings):
    """Where the state database is: all that schema commands (`tepi admin db`) need, so they run
    before, and apart from, the secrets of the API's environment."""

    model_config = SettingsConfigDict(env_prefix="TEPI_", extra="ignore", frozen=True, allow_inf_nan=False)

    database_url: str | None = Field(default=None, description="Default: ingest.database_url of the config.")

    def effective_database_url(self, config: TepiConfig) -> str:
        return self.database_url or config.ingest.database_url


class Settings(DatabaseSettings):
    """The API's settings, as `tepi admin` also reads them to hash keys as the API does.

    Each problem is a field's own error, so one attempt names them all (a model validator
    would run only once every field had passed). What a field's check depends on, `mode`, is
    declared before it.
    """

    mode: Literal["demo", "production"] = Field(
        default="production",
        description="production (the default) needs its own secrets and public base URL, and expects ingest "
        "(or a migration) to have made the schema; demo (only `tepi demo` or an explicit TEPI_MODE=demo) "
        "creates the schema at start-up and falls back to public demo secrets.",
    )
    public_base_url: str | None = Field(
        default=None,
        validate_default=True,
        description="Absolute http(s) URL the public reaches this API at (e.g. https://banjir.example.go.id, "
        "or with a path prefix a proxy strips); CAP and Atom links start with it, never with the request's "
        "Host. Required in production; demo mode uses its own host and port.",
    )
    trusted_proxies: Annotated[tuple[IPvAnyNetwork, ...], NoDecode] = Field(
        default=(),
        description="Comma-separated IPs or CIDRs of the reverse proxies in front of the API. X-Forwarded-For "
        "is honoured only from these (the client is its right-most address that is not one of them); "
        "default none: the client is the connecting address.",
    )
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
        validate_default=True,
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

    # The console's sign-in (api/routes/session.py, central/web_sessions.py).
    session_cookie: str = Field(
        default="tepi_session",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="Name of the console's session cookie (HttpOnly, SameSite=Strict, Path=/; Secure unless the "
        "public base URL is http://). An https deployment may name it __Host-tepi_session.",
    )
    session_idle_s: int = Field(
        default=12 * 3600, ge=60, le=30 * 86400, description="A console session unused this long ends."
    )
    session_max_s: int = Field(
        default=7 * 86400, ge=60, le=90 * 86400, description="A console session ends this long after sign-in, used or not."
    )
    login_ip_burst: int = Field(
        default=20, ge=1, le=100_000, description="Failed sign-ins one client IP may make before it must wait."
    )
    login_ip_per_min: float = Field(
        default=10.0, gt=0, le=100_000, description="Failed sign-ins a minute a client IP regains after its burst."
    )
    login_user_burst: int = Field(
        default=5, ge=1, le=100_000, description="Failed sign-ins as one (tenant, name) from one client IP before it must wait."
    )
    login_user_per_min: float = Field(
        default=1.0, gt=0, le=100_000,
        description="Failed sign-ins a minute one (tenant, name) regains at one client IP after its burst.",
    )
    login_user_total_burst: int = Field(
        default=100, ge=1, le=100_000,
        description="Failed sign-ins as one (tenant, name) from all clients together before every client must wait: "
        "bounds guessing from many addresses, and is high so that a stranger cannot lock the person out from a few.",
    )
    login_user_total_per_min: float = Field(
        default=30.0, gt=0, le=100_000,
        description="Failed sign-ins a minute one (tenant, name) regains, all clients together, after its burst.",
    )
    login_concurrency: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Password verifications at once (each takes 64 MiB and about 0.14 s of a core); more wait.",
    )
    login_waiting: int = Field(
        default=8,
        ge=0,
        le=10_000,
        description="Sign-ins that may wait for a verification; more are answered 503 at once, so a flood "
        "cannot queue real sign-ins behind it for long.",
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_list(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("public_base_url")
    @classmethod
    def _absolute_http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"must be an absolute http(s) URL such as https://banjir.example.go.id, not {value!r}")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("must have no query, fragment or credentials: links are built by appending paths")
        try:
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError as exc:
            raise ValueError(f"has an invalid port: {value!r}") from exc
        return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")

    @field_validator("auth_pepper")
    @classmethod
    def _pepper_of_the_mode(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        pepper = value.get_secret_value() if value is not None else None
        if info.data.get("mode") == "production":  # absent: the mode itself is refused
            if not pepper:
                raise ValueError(
                    "TEPI_AUTH_PEPPER is required in production mode, the default (only `tepi demo` or "
                    "TEPI_MODE=demo run with public demo secrets): the secret that API key hashes are keyed "
                    f"with; generate one with {_GENERATE} and keep it out of the database and the repository"
                )
            if pepper == DEMO_PEPPER:
                raise ValueError("TEPI_AUTH_PEPPER is the public demo value; production needs its own secret")
        if pepper is not None and len(pepper) < MIN_SECRET_CHARS:
            raise ValueError(f"TEPI_AUTH_PEPPER must be at least {MIN_SECRET_CHARS} characters")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _long_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_CHARS:
            raise ValueError(f"TEPI_METRICS_TOKEN must be at least {MIN_SECRET_CHARS} characters")
        return value

    def pepper(self) -> bytes:
        """The key-hash secret: the configured one, or in demo mode the public demo pepper."""
        if self.auth_pepper is not None:
            return self.auth_pepper.get_secret_value().encode()
        if self.mode != "demo":  # unreachable: the validator refuses it
            raise SettingsError("no TEPI_AUTH_PEPPER outside demo mode")
        return DEMO_PEPPER.encode()

    def effective_public_base_url(self, config: TepiConfig) -> str:
        """Where public links point: the configured base URL; in demo mode, the config's API address.

        Never the request's Host or X-Forwarded-Host: those are the client's to choose, and the
        links end up in public, cacheable answers. `SettingsError` in production without one.
        """
        if self.public_base_url is not None:
            return self.public_base_url
        if self.mode != "demo":
            raise SettingsError(_PUBLIC_BASE_URL_REQUIRED)
        return local_base_url(config.api.host, config.api.port)

    def effective_query_url(self, config: TepiConfig) -> str | None:
        """Where PromQL queries go: explicit settings first, then the ingest TSDB of the config."""
        if self.tsdb_query_url or self.tsdb_url:
            return self.tsdb_query_url or self.tsdb_url
        tsdb = config.ingest.tsdb
        if tsdb is None:
            return None
        return tsdb.query_url or tsdb.url


class ServingSettings(Settings):
    """What `tepi api` serves with: in production also the public base URL, checked with the
    rest so that one attempt names everything missing (`tepi admin`, which builds no links,
    does without it)."""

    @field_validator("public_base_url")
    @classmethod
    def _public_base_url_of_the_mode(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("mode") == "production":
            raise ValueError(_PUBLIC_BASE_URL_REQUIRED)
        return value


def local_base_url(host: str, port: int) -> str:
    """The demo's own address as a base URL (a wildcard bind address is reached as localhost)."""
    if host in ("", "0.0.0.0", "::"):
        host = "localhost"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


AnySettings = TypeVar("AnySettings", bound=DatabaseSettings)


def load_settings(kind: type[AnySettings] = Settings) -> AnySettings:  # type: ignore[assignment]
    """Settings of `kind` from the environment; `SettingsError` with one line per problem, all
    of them, if invalid."""
    try:
        return kind()
    except ValidationError as exc:
        lines = []
        for e in exc.errors():
            variable = "TEPI_" + ".".join(str(p) for p in e["loc"]).upper()
            msg = str(e["msg"]).removeprefix("Value error, ")
            lines.append(f"  {msg}" if variable == "TEPI_" or msg.startswith(variable) else f"  {variable}: {msg}")
        raise SettingsError("refusing to run with these API settings:\n" + "\n".join(lines)) from None
