"""Who the API tests act as: users of two tenants with every role, and the test app settings.

A plain module (not conftest) so tests can import its names, as with `river_story`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

from api.settings import Settings
from api.testing import TEST_PEPPER, TEST_PUBLIC_BASE_URL

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's notice about httpx vs httpx2
    from fastapi.testclient import TestClient

DKI = "dki-jakarta"
BADUNG_TENANT = "kab-badung"
#: The disaster office's duty officer: who the default client is, and who acknowledges.
OFFICER = "Petugas Pusdalops"
#: Their head, a second disaster_office user of the same tenant.
HEAD = "Kepala Pusdalops"
METRICS_TOKEN = "metrics-token-for-tests-only-0123456789abcdef"

#: (tenant, role, name) of the users every API test has.
PEOPLE = [
    (DKI, "disaster_office", OFFICER),
    (DKI, "disaster_office", HEAD),
    (DKI, "admin", "Admin DKI"),
    (DKI, "viewer", "Viewer DKI"),
    (DKI, "fisher", "Fisher DKI"),
    (DKI, "staff_admin", "Staff DKI"),
    (BADUNG_TENANT, "disaster_office", "Petugas BPBD Badung"),
    (BADUNG_TENANT, "admin", "Admin Badung"),
]

ClientFactory = Callable[..., TestClient]


def app_settings(database_url: str, **settings: object) -> Settings:
    """Production settings (the default mode) over the test database; tests of the demo say mode="demo"."""
    base: dict[str, object] = {
        "database_url": database_url,
        "auth_pepper": TEST_PEPPER,
        "public_base_url": TEST_PUBLIC_BASE_URL,
        "metrics_token": METRICS_TOKEN,
        "public_cache_s": 0,
        "public_burst": 10_000,
    }
    return Settings(**{**base, **settings})  # type: ignore[arg-type]
