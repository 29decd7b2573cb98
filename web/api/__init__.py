"""The JSON API under /api/v1 (bearer tokens, OpenAPI at /api/v1/openapi.json)."""

from __future__ import annotations

from fastapi import APIRouter

from web.api import invoices, logins, units

api_router = APIRouter()
api_router.include_router(units.router)
api_router.include_router(logins.router)
api_router.include_router(invoices.router)
