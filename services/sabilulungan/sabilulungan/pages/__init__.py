"""SABILULUNGAN's pages, in Bahasa Indonesia; every form works without JavaScript.

One module per area: `public` (home, tracking, transparency, verification), `applicants`
(registration, filing), `proposals` (a file's page, its actions and uploads, the work queue).
"""

from __future__ import annotations

from fastapi import APIRouter

from sabilulungan.pages import applicants, proposals, public, receipts, staff

router = APIRouter(include_in_schema=False)
for _area in (public, applicants, proposals, receipts, staff):
    router.include_router(_area.router)

__all__ = ["router"]
