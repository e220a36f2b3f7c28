"""The console's basemap: which region a tenant's maps show, its land clipped and simplified to
that region, and the two endpoints that serve it (the public one without credentials)."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
import shapely
from api_people import BADUNG_TENANT, DKI, ClientFactory
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.console.land import (
    INDONESIA,
    MARGIN_DEG,
    Region,
    UnknownTenant,
    basemap_json,
    clip_land,
    land_collection,
    land_parts,
    tenant_region,
)
from central.accounts import create_tenant
from central.db import writer
from core.config import TenantConfig, TepiConfig

#: What `config/tepi.yaml` declares: Badung's sea box, DKI Jakarta's three Ciliwung stations.
BADUNG_SEA = Region(114.4, -9.2, 115.8, -8.0)
CILIWUNG = [(-6.6336, 106.8375), (-6.3967, 106.8317), (-6.2089, 106.8497)]
#: Indian Ocean south-west of Sumatra: no land at all.
OPEN_SEA = Region(95.0, -12.0, 96.0, -11.0)


def with_tenant(config: TepiConfig, tenant_id: str) -> TepiConfig:
    """The configuration with one more tenant that places nothing (its vessels are registered centrally)."""
    return config.model_copy(update={"tenants": [*config.tenants, TenantConfig(id=tenant_id, name="Kabupaten Sumedang")]})


def test_a_tenant_with_stations_only_gets_them_with_a_margin(default_config: TepiConfig) -> None:
    region = tenant_region(default_config, DKI)
    lats, lons = [p[0] for p in CILIWUNG], [p[1] for p in CILIWUNG]
    assert region.bbox == pytest.approx(
        [min(lons) - MARGIN_DEG, min(lats) - MARGIN_DEG, max(lons) + MARGIN_DEG, max(lats) + MARGIN_DEG]
    )


def test_a_coastal_tenant_gets_its_sea_region_and_its_stations(default_config: TepiConfig) -> None:
    region = tenant_region(default_config, BADUNG_TENANT)
    assert region.union(BADUNG_SEA) == region  # the whole sea box
    kuta = (-8.7008, 115.1806)  # Tukad Mati at Kuta, half a degree around it reaches below the box
    assert region.south == pytest.approx(kuta[0] - MARGIN_DEG) and region.west == BADUNG_SEA.west


def test_a_tenant_that_places_nothing_gets_indonesia_and_an_unknown_one_an_error(default_config: TepiConfig) -> None:
    config = with_tenant(default_config, "kab-sumedang")
    assert tenant_region(config, "kab-sumedang") == INDONESIA
    with pytest.raises(UnknownTenant):
        tenant_region(default_config, "kab-sumedang")


def test_a_region_must_be_a_box() -> None:
    with pytest.raises(ValueError, match="west < east"):
        Region(107.0, -6.0, 106.0, -5.0)


@pytest.mark.parametrize("region", [Region(106.3, -7.1, 107.4, -5.7), BADUNG_SEA, INDONESIA])
def test_the_land_is_clipped_to_the_region_and_smaller_than_the_source(region: Region) -> None:
    parts = land_parts()
    clipped = clip_land(parts, region)
    assert len(clipped) > 0 and all(shapely.get_type_id(clipped) == shapely.GeometryType.POLYGON)
    west, south, east, north = shapely.total_bounds(clipped)
    assert region.west <= west and east <= region.east and region.south <= south and north <= region.north
    assert shapely.get_num_coordinates(clipped).sum() < shapely.get_num_coordinates(parts).sum()
    # Still the land it was: most of the source's land area within the region is kept.
    source_area = shapely.area(shapely.clip_by_rect(parts, *region.bbox)).sum()
    assert shapely.area(clipped).sum() == pytest.approx(source_area, rel=0.05)


def test_a_regencys_answer_is_small_and_indonesias_still_far_below_the_source() -> None:
    regency = basemap_json(BADUNG_SEA)
    indonesia = basemap_json(INDONESIA)
    assert len(gzip.compress(regency)) < 10_000
    assert len(gzip.compress(indonesia)) < 150_000
    collection = json.loads(indonesia)
    assert collection["type"] == "FeatureCollection" and collection["bbox"] == INDONESIA.bbox
    assert collection["features"][0]["geometry"]["type"] == "MultiPolygon"


def test_open_sea_has_no_land() -> None:
    collection = land_collection(clip_land(land_parts(), OPEN_SEA), OPEN_SEA)
    assert collection["features"] == [] and collection["bbox"] == OPEN_SEA.bbox


def test_coordinates_are_rounded_to_the_regions_scale() -> None:
    for region, decimals in [(BADUNG_SEA, 5), (INDONESIA, 3)]:
        coords = shapely.get_coordinates(clip_land(land_parts(), region))
        assert np.allclose(coords, np.round(coords, decimals), atol=1e-9)


def test_the_public_basemap_needs_no_key_and_names_the_tenants_region(make_client: ClientFactory) -> None:
    anonymous = make_client(as_user=None)
    r = anonymous.get("/api/v1/public/basemap", params={"tenant": BADUNG_TENANT})
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    assert r.headers["cache-control"].startswith("public, max-age=")
    assert r.json()["bbox"] == pytest.approx(json.loads(basemap_json(tenant_region(anonymous.app.state.config, BADUNG_TENANT)))["bbox"])
    assert anonymous.get("/api/v1/public/basemap", params={"tenant": BADUNG_TENANT}, headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    assert anonymous.get("/api/v1/public/basemap").json()["bbox"] == INDONESIA.bbox


def test_the_public_basemap_of_an_unknown_tenant_is_404(make_client: ClientFactory) -> None:
    anonymous = make_client(as_user=None)
    r = anonymous.get("/api/v1/public/basemap", params={"tenant": "kab-atlantis"})
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    assert anonymous.get("/api/v1/public/basemap", params={"tenant": "../etc"}).status_code == 422


def test_the_signed_in_basemap_is_the_callers_tenants(make_client: ClientFactory, default_config: TepiConfig) -> None:
    assert make_client(as_user=None).get("/api/v1/basemap").status_code == 401
    r = make_client(as_user=(DKI, "Viewer DKI")).get("/api/v1/basemap", params={"tenant": BADUNG_TENANT})
    assert r.status_code == 200 and r.headers["cache-control"] == "private, no-cache"
    assert r.json()["bbox"] == pytest.approx(tenant_region(default_config, DKI).bbox)


def test_a_tenant_only_the_database_knows_gets_all_of_indonesia(make_client: ClientFactory, engine: Engine) -> None:
    """Made with `tepi admin tenant create`, not in the configuration file: it places nothing."""
    with Session(writer(engine)) as s, s.begin():
        create_tenant(s, "kab-sumedang", "Kabupaten Sumedang")
    r = make_client(as_user=None).get("/api/v1/public/basemap", params={"tenant": "kab-sumedang"})
    assert r.status_code == 200 and r.json()["bbox"] == INDONESIA.bbox
