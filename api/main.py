"""The HTTP API: `create_app(config)` builds a FastAPI app over the state store.

Generic resources (alerts and their CAP messages, users and keys, health, the gateways' health
reports) are the API's own; each registered kind's router (`kinds.api_router`) is mounted beside
them under `/api/v1`, with its lifespan (e.g. the river's level store). Start-up (lifespan)
connects to the database; nothing connects at import or at `create_app`, so building an app is
cheap and side-effect free.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from fastapi.concurrency import run_in_threadpool
from fastapi_offline import FastAPIOffline
from prometheus_client import REGISTRY, CollectorRegistry
from sqlalchemy.orm import sessionmaker
from starlette.middleware.gzip import GZipMiddleware

import kinds
from api.console import mount_console
from api.errors import StartupError, install_error_handlers
from api.json_body import StrictJsonMiddleware
from api.limits import BodySizeLimitMiddleware, RateLimiter, TtlCache
from api.metrics import ApiMetrics, RequestMetricsMiddleware
from api.models import HealthPublic
from api.routes import alerts, basemap, gateways, health, session, subscriptions, users
from api.services.stream import EventHub
from api.settings import ServingSettings, Settings, load_settings
from central.db import check_schema, create_engine, prepare_database
from central.errors import SchemaError
from contract.clock import utcnow
from core.config import TepiConfig

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
#: Where the docs pages' scripts, styles and icon are served.
DOCS_ASSETS = "/docs/assets"


def create_app(
    config: TepiConfig, settings: Settings | None = None, *, registry: CollectorRegistry | None = None
) -> FastAPI:
    """An API app for `config`; `/metrics` exposes `registry` (default: the process-wide one,
    which an in-process ingest worker also uses, so one scrape sees both).

    Settings default to the environment (`TEPI_*`); invalid or insecure ones (production without
    TEPI_AUTH_PEPPER or TEPI_PUBLIC_BASE_URL, or with the demo pepper) raise `SettingsError`
    with what to set.
    """
    settings = settings if settings is not None else load_settings(ServingSettings)
    public_base_url = settings.effective_public_base_url(config)
    registry = registry if registry is not None else REGISTRY
    # Bound parameters (user names among them) stay out of error messages and logs.
    engine = create_engine(settings.effective_database_url(config), hide_parameters=True)
    sessions = sessionmaker(bind=engine)

    def open_database() -> None:
        if settings.mode == "demo":
            prepare_database(engine, config)
        else:  # ingest (or `tepi admin db upgrade`) owns upgrades; the API serves only a current schema
            try:
                check_schema(engine)
            except SchemaError as exc:
                raise StartupError(str(exc)) from exc

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # On the thread pool that runs the requests' handlers: its first use loads anyio's backend
        # (about 20 ms), here rather than in the first request.
        await run_in_threadpool(open_database)
        log.info("api ready", extra={"mode": settings.mode, "kinds": kinds.kind_names()})
        try:
            yield
        finally:
            await app.state.event_hub.close()
            engine.dispose()

    # Swagger UI and ReDoc from the package's own copy of their assets (fastapi-offline, FastAPI's
    # "self-hosting JavaScript and CSS for docs"), not from a CDN: a disaster office's network or
    # a demo laptop without internet still gets working docs.
    app = FastAPIOffline(
        title="Tepi API",
        version="1",
        description="River levels, Siaga alerts and station state of Tepi deployments, one tenant (regency) "
        "per caller: send `Authorization: Bearer <API key>`. The public view, the CAP feed and CAP messages need "
        "no key. Timestamps are ISO 8601 in UTC; query timestamps need an offset (`Z`, `+07:00` written `%2B07:00`).",
        lifespan=lifespan,
        # Starlette's slash redirects build their Location from the request's Host: a path is exact.
        redirect_slashes=False,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url="/docs",
        redoc_url="/redoc",
        static_url=DOCS_ASSETS,
        # Swagger UI would otherwise show a badge image from the public swagger.io validator.
        swagger_ui_parameters={"validatorUrl": None},
    )
    app.state.config = config
    app.state.settings = settings
    app.state.public_base_url = public_base_url
    app.state.engine = engine
    app.state.registry = registry
    app.state.event_hub = EventHub(sessions, poll_s=settings.stream_poll_s)
    app.state.public_limiter = RateLimiter(settings.public_rate_per_s, settings.public_burst)
    app.state.public_cache = TtlCache[bytes](settings.public_cache_s)
    # Innermost: compresses what the routes answer (JSON lists, the basemap); the console's own
    # files come gzipped already, and Server-Sent Events are never buffered (Starlette excludes
    # text/event-stream).
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    app.state.sign_in_guard = session.SignInGuard.from_settings(settings)
    app.state.clock = utcnow  # sessions' idle and absolute limits; tests set their own
    # Added last = outermost: metrics count the 413s of the body limit too, and the 422s of
    # non-finite JSON numbers and fields named twice, checked only in bodies within the size limit.
    app.add_middleware(StrictJsonMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestMetricsMiddleware, metrics=ApiMetrics.for_registry(registry))
    install_error_handlers(app)

    # Each router straight into the app under the prefix, not into one `/api/v1` router without
    # one: FastAPI (0.165) builds every route of a router included without a prefix on the spot,
    # to check that no path is empty, and builds them again for the app at the first request.
    generic = [alerts.router, gateways.router, users.router, session.router, health.router, basemap.router, subscriptions.router]
    for router in [*(kinds.api_router(name) for name in kinds.kind_names()), *generic]:
        app.include_router(router, prefix=API_PREFIX)
    # Probes and scrapers conventionally look at the root; same handlers, not in the schema.
    app.add_api_route("/healthz", health.healthz, response_model=HealthPublic, include_in_schema=False)
    app.add_api_route("/metrics", health.metrics, response_class=Response, include_in_schema=False)
    mount_console(app)  # `/` and `/console/...`: the operator console (api/console)
    return app


def build_routes(app: FastAPI) -> None:
    """Build now what FastAPI (0.165) builds the first time a request is matched against an
    included router: every route's parameter and response models (about 130 ms for this app's
    routes, paid by the first requests), and the OpenAPI schema, which walks all of them (about
    0.3 s more, paid by the first /docs). `tepi api` and the demo call it before they listen;
    tests' apps skip it."""
    app.openapi()
