"""The auditor's audit-event browser: one page every service mounts in its page router.

`GET /audit/peristiwa` lists audit events newest first with filters (action, actor, entity type
and id, a date range), keyset pagination (`cursor`) and the result of the chain verification
(`shared.audit_integrity.verify_chain`, what `audit-verify` runs). Only auditors and admins see
it; it shows the same fields the auditor API (`GET /api/v1/audit/events`) returns. Filters come
from the query string as text and are checked here, so a bad value gets an Indonesian message,
never a framework's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from shared import audit_integrity
from shared.auth import OptionalPrincipal
from shared.pagination import InvalidCursorError, keyset_page
from shared.web import render, root_of

AUDIT_BROWSER_ROLES = frozenset({"auditor", "admin"})
PAGE_SIZE = 25  # a first visit stays under 50 KB with the changes of each event inline
TEXT_FILTERS = {
    "aksi": ("action", "Jenis peristiwa"),
    "pelaku": ("actor", "Pelaku"),
    "entitas": ("entity_type", "Jenis data"),
    "id_entitas": ("entity_id", "Nomor data"),
}


def _date(raw: str, label: str, errors: list[tuple[str, str]]) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors.append(("error", f"{label}: tulis tanggal sebagai TTTT-BB-HH, misalnya 2026-12-31."))
        return None


def read_filters(query: dict[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The filters of the page's query string, and the Indonesian messages for the bad ones."""
    errors: list[tuple[str, str]] = []
    values: dict[str, Any] = {}
    for name, (_, label) in TEXT_FILTERS.items():
        text = query.get(name, "").strip()
        if len(text) > 64:
            errors.append(("error", f"{label}: paling banyak 64 karakter."))
            text = ""
        values[name] = text
    values["dari"] = _date(query.get("dari", "").strip(), "Dari tanggal", errors)
    values["sampai"] = _date(query.get("sampai", "").strip(), "Sampai tanggal", errors)
    if values["dari"] and values["sampai"] and values["dari"] > values["sampai"]:
        errors.append(("error", "Dari tanggal harus sebelum atau sama dengan sampai tanggal."))
    return values, errors


def _statement(model: Any, values: dict[str, Any], zone: ZoneInfo) -> Any:
    stmt = select(model)
    for name, (column, _) in TEXT_FILTERS.items():
        if values[name]:
            stmt = stmt.where(getattr(model, column) == values[name])
    if values["dari"]:
        start = dt.datetime.combine(values["dari"], dt.time(), zone)
        stmt = stmt.where(model.occurred_at >= start)
    if values["sampai"]:
        end = dt.datetime.combine(values["sampai"] + dt.timedelta(days=1), dt.time(), zone)
        stmt = stmt.where(model.occurred_at < end)
    return stmt


def audit_browser_router(service: str) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/audit/peristiwa")
    async def audit_events_page(request: Request, principal: OptionalPrincipal) -> Response:
        if principal is None:
            return RedirectResponse(
                f"{root_of(request)}/login?next={request.url.path}", status_code=303
            )
        if not principal.roles & AUDIT_BROWSER_ROLES:
            detail = "Halaman ini hanya untuk auditor."
            ctx = {"title": "Tidak diizinkan", "detail": detail, "status": 403}
            return render(request, "error.html", ctx, status_code=403)
        query = dict(request.query_params)
        values, errors = read_filters(query)
        cursor = query.get("cursor") or None
        state = request.app.state
        model = state.models.audit_event
        zone = ZoneInfo(str(getattr(state.config.regency, "timezone", "Asia/Jakarta")))
        rows: list[Any] = []
        next_cursor = None
        async with state.db.sessionmaker() as session:
            if not errors:
                try:
                    rows, next_cursor = await keyset_page(
                        session,
                        _statement(model, values, zone),
                        keys=[model.id],
                        limit=PAGE_SIZE,
                        cursor=cursor if cursor and len(cursor) <= 500 else None,
                    )
                except InvalidCursorError:
                    errors.append(("error", "Tautan halaman berikutnya tidak sah; mulai lagi."))
            verified = await audit_integrity.verify_chain(
                session,
                model,
                state.models.audit_checkpoint,
                public_key=state.signer.public_key_b64(),
                service=service,
            )
        kept = {k: ("" if v is None else str(v)) for k, v in values.items()}
        next_url = None
        if next_cursor:
            shown = {k: v for k, v in kept.items() if v}
            next_url = f"{root_of(request)}/audit/peristiwa?" + urlencode(
                {**shown, "cursor": next_cursor}
            )
        return render(
            request,
            "audit_events.html",
            {"rows": rows, "form": kept, "verified": verified, "next_url": next_url},
            principal=principal,
            messages=errors,
            status_code=422 if errors else 200,
        )

    return router
