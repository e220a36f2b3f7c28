"""Demo keys with the API's settings: the account rules themselves are `central.accounts`'.

What is left here needs the serving settings (the mode, which allows demo keys only in the
demo, and the pepper); everything else about tenants, users and keys is central state that
`tepi admin` uses without the API.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.settings import Settings
from central.accounts import demo_key, demo_keys
from core.config import TepiConfig


def _demo_settings(settings: Settings | None) -> Settings:
    settings = settings if settings is not None else Settings()
    if settings.mode != "demo":
        raise RuntimeError("demo keys are made only in demo mode (TEPI_MODE=demo)")
    return settings


def create_demo_keys(session: Session, config: TepiConfig, settings: Settings | None = None) -> dict[str, str]:
    """One fresh key per role per configured tenant, for the demo to print: {"<tenant>/<role>": key}.

    Demo mode only (`RuntimeError` otherwise: no default keys in production). Users are named
    `demo-<role>`; their earlier keys are revoked, since a key cannot be shown again. Runs in
    the caller's transaction on a prepared database (ingest or the API in demo mode creates
    the schema), e.g.::

        with Session(writer(engine)) as s, s.begin():
            keys = create_demo_keys(s, cfg)
    """
    return demo_keys(session, config, _demo_settings(settings).pepper())


def create_demo_key(session: Session, tenant: str, role: str, settings: Settings | None = None) -> str:
    """A fresh key of the tenant's `demo-<role>` user (made if missing); its earlier keys are revoked.

    Demo mode only, like `create_demo_keys`; the tenant must exist.
    """
    return demo_key(session, tenant, role, _demo_settings(settings).pepper())
