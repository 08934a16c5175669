"""e-RK's JSON API under /api/v1: thin routes, one domain call each, one module per resource."""

from __future__ import annotations

from fastapi import APIRouter

from erk.routes import activities, ekinerja, months, people

router = APIRouter(prefix="/api/v1", tags=["erk"])
for resource in (people, activities, months, ekinerja):
    router.include_router(resource.router)
