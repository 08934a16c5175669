"""SABILULUNGAN's pages, in Bahasa Indonesia; every form works without JavaScript.

One module per area: `public` (home, tracking, transparency, verification), `applicants`
(registration, filing), `proposals` (a file's page, its actions and uploads, the work queue).
"""

from __future__ import annotations

from fastapi import APIRouter

from sabilulungan.models import Account, AuditEvent
from sabilulungan.pages import applicants, proposals, public, receipts, staff
from shared.contact import contact_pages

router = APIRouter(include_in_schema=False)
for _area in (public, applicants, proposals, receipts, staff):
    router.include_router(_area.router)
# e-mail verification, "lupa kata sandi", "Pengaturan notifikasi" (shared.contact)
router.include_router(contact_pages(account_model=Account, event_model=AuditEvent))

__all__ = ["router"]
