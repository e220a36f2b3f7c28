"""`/healthz` for load balancers and `/metrics` for Prometheus."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError

from api.deps import MetricsToken, SessionDep
from api.models import ErrorPublic, HealthPublic

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=HealthPublic, responses={503: {"model": HealthPublic}})
def healthz(session: SessionDep) -> HealthPublic | JSONResponse:
    """Healthy when the state database answers; the TSDB is optional for most endpoints."""
    try:
        session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        body = HealthPublic(status="unavailable", database="unavailable")
        return JSONResponse(status_code=503, content=body.model_dump())
    return HealthPublic(status="ok", database="ok")


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics (the platform's metrics token)",
    description="Metrics span every tenant, so they take `TEPI_METRICS_TOKEN` as a bearer token, not an API key.",
    responses={
        200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {}}},
        401: {"model": ErrorPublic, "description": "No or a wrong metrics token."},
        403: {"model": ErrorPublic, "description": "An API key, which metrics do not take."},
    },
)
def metrics(request: Request, _token: MetricsToken) -> Response:
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)
