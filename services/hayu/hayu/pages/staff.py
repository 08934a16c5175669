"""Staff screens: the start page after login, the queue's search and filters, and the auditor's
audit-event browser (shared)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from hayu import common
from hayu.dependencies import Context
from hayu.schemas import ApplicationSummary
from shared.audit_browser import AUDIT_BROWSER_ROLES, audit_browser_router
from shared.auth import OptionalPrincipal, Principal
from shared.queue_filters import OVERDUE_CHOICES, read_queue_filter
from shared.web import root_of

router = APIRouter(include_in_schema=False)
router.include_router(audit_browser_router("hayu"))


def start_path(principal: Principal) -> str:
    """What waits for me: the queue (staff), the audit events (auditors only), my files."""
    if principal.roles & AUDIT_BROWSER_ROLES and not principal.roles - AUDIT_BROWSER_ROLES:
        return "/audit/peristiwa"
    return "/antrean" if common.is_staff(principal) else "/berkas"


@router.get("/mulai")
async def start_page(request: Request, principal: OptionalPrincipal) -> Response:
    if principal is None:
        return RedirectResponse(f"{root_of(request)}/login?next=/mulai", status_code=303)
    return RedirectResponse(root_of(request) + start_path(principal), status_code=303)


def filter_queue(
    ctx: Context, items: list[ApplicationSummary], query: Mapping[str, str]
) -> tuple[list[ApplicationSummary], dict[str, Any], list[tuple[str, str]]]:
    """The queue's rows that match `?q=&tahap=&batas=`, the filter form, and the messages for
    bad values (HAYU has no fiscal year)."""
    stages = {s.name: s.label for s in ctx.hayu.workflow.states if not s.final}
    wanted, errors, typed = read_queue_filter(query, stages=stages, with_year=False)
    shown = [
        item
        for item in items
        if wanted.matches(
            tracking_code=item.tracking_code,
            name=item.business_name,
            status=item.status,
            overdue=item.overdue,
        )
    ]
    form = {"filter": typed, "stages": stages, "overdue_choices": OVERDUE_CHOICES}
    return shown, {**form, "total": len(items)}, errors
