"""e-RK's JSON API under /api/v1: thin routes, one domain call each, one module per resource."""

from __future__ import annotations

from fastapi import APIRouter

from erk.routes import activities, ekinerja, months, people

# Each resource's router carries the full prefix and the tag (shared.routing serves the leaf
# routes themselves and refuses a prefix added by an inclusion).
router = APIRouter()
for resource in (people, activities, months, ekinerja):
    router.include_router(resource.router)
