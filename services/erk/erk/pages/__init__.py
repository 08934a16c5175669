"""e-RK's pages, in Bahasa Indonesia: phone-first, plain forms that work without JavaScript.

One module per area; each has its own `router`, gathered here into the one `router` the app
mounts. What they share (the signed-in viewer, refusals, messages) is in `common`.
"""

from __future__ import annotations

from fastapi import APIRouter

from erk.pages import (
    account,
    admin,
    entries,
    home,
    imports,
    month,
    recap,
    targets,
    verification,
)
from shared.audit_browser import audit_browser_router

router = APIRouter(include_in_schema=False)
for area in (home, entries, month, verification, targets, recap, imports, admin, account):
    router.include_router(area.router)
router.include_router(audit_browser_router("erk"))  # the auditor's audit-event browser
