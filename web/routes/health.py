"""`/healthz`, `/readyz` and `/metrics` on the dashboard's server (the same answers as `faturas run --metrics-port`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from service.http import health_payload
from service.metrics import CONTENT_TYPE, render_metrics

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz() -> Response:
    """The process answers."""
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
def readyz(request: Request) -> Response:
    """Database, mailboxes, relay and the last mail pass: 200 when all pass, else 503 with the failing checks."""
    code, body = health_payload(request.app.state.readiness)
    return JSONResponse(body, status_code=code)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus text exposition of faturas' figures (counts only: no personal data)."""
    return Response(render_metrics(request.app.state.metrics), media_type=CONTENT_TYPE)
