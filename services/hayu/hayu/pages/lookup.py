"""Pages: searching KBLI 2020 and the regency's region codes.

`/referensi` is the plain search page (no JavaScript). On the filing form, htmx asks
`/referensi/saran` for suggestions as the owner types a KBLI code or region (a server-rendered
fragment); without JavaScript that address sends the owner to the search page instead, and the
region field keeps its plain datalist.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hayu import reference
from hayu.dependencies import ContextDep
from shared.db import SessionDep
from shared.web import render, root_of

router = APIRouter(include_in_schema=False)

SUGGESTIONS = 8


async def regency_regions(session: SessionDep, ctx: ContextDep) -> list[Any]:
    """The regency's kecamatan for the region field's suggestions (plain HTML datalist)."""
    return await reference.search_regions(session, "", ctx.config.regency.code, 200)


@router.get("/referensi")
async def reference_page(
    request: Request, session: SessionDep, ctx: ContextDep, q: str = ""
) -> HTMLResponse:
    """Search KBLI 2020 and the regency's region codes (works without JavaScript)."""
    q = q.strip()[:100]
    kbli = await reference.search_kbli(session, q, 50) if q else []
    regions = await reference.search_regions(session, q, ctx.config.regency.code, 50) if q else []
    return render(
        request,
        "reference.html",
        {"q": q, "kbli": kbli, "regions": regions, "regency": ctx.config.regency.name},
    )


@router.get("/referensi/saran")
async def suggestions(
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    jenis: Literal["kbli", "wilayah"] = "kbli",
    kbli_codes: str = "",
    region_code: str = "",
) -> Response:
    """Suggestions for the filing form's KBLI or region field, as an HTML fragment for htmx:
    the last of the comma-separated KBLI codes typed so far, or the region typed."""
    typed = kbli_codes.split(",")[-1] if jenis == "kbli" else region_code
    q = typed.strip()[:100]
    if request.headers.get("HX-Request") != "true":  # no JavaScript: the full search page
        return RedirectResponse(f"{root_of(request)}/referensi?q={quote(q)}", status_code=303)
    items: list[Any] = []
    if len(q) >= 2:
        if jenis == "kbli":
            items = await reference.search_kbli(session, q, SUGGESTIONS)
        else:
            items = await reference.search_regions(session, q, ctx.config.regency.code, SUGGESTIONS)
    return render(request, "_suggestions.html", {"kind": jenis, "q": q, "items": items})
