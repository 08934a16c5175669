"""Back-office screens: accounts and roles, temporary passwords, units (HR), and acting officials
(the supervisor's own superiors or HR). Each screen applies the same rules as the API."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from erk import accounts, people, schemas
from erk.dependencies import Context, ContextDep
from erk.models import Employee
from erk.pages.common import HrViewer, Viewer, attempt, outcome, page_router
from shared.auth import Principal
from shared.db import SessionDep
from shared.web import render

router = page_router()

ROLES_ID = {
    "employee": "Pegawai",
    "unit_admin": "Admin unit",
    "auditor": "Auditor",
    "hr_admin": "BKPSDM",
    "admin": "Admin sistem",
}
ACCOUNTS_PER_PAGE = 50  # a search narrows the rest
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes (l/1, o/0)


def temporary_password() -> str:
    return "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(12))


# A screen is its template and what it shows; `_screen` adds the form kept after a refusal, the
# refusal itself (`error`) and the messages, so every back-office form answers the same way.
Screen = Callable[[Request, AsyncSession, Principal], Awaitable[tuple[str, dict[str, Any]]]]


async def _screen(
    screen: Screen,
    request: Request,
    session: AsyncSession,
    who: Principal,
    *,
    form: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
    messages: list[tuple[str, str]] | None = None,
) -> HTMLResponse:
    template, context = await screen(request, session, who)
    return render(
        request,
        template,
        {**context, "form": form or {}, "error": error},
        principal=who,
        status_code=status_code,
        messages=messages or [],
    )


async def _accounts(
    request: Request, session: AsyncSession, who: Principal
) -> tuple[str, dict[str, Any]]:
    """The list: one line per account HR may manage, each leading to its own page (`_account`)."""
    query = request.query_params.get("q", "").strip()[:64]
    after = request.query_params.get("setelah", "").strip()[:64] or None
    shown, more = await accounts.accounts_below(
        session, who, search=query, after=after, limit=ACCOUNTS_PER_PAGE
    )
    return "accounts.html", {
        "accounts": shown,
        "more": more,
        "q": query,
        "after": after,
        "roles_id": ROLES_ID,
    }


def _account(username: str) -> Screen:
    """One account's page: its roles and unit, and a temporary password."""

    async def screen(
        request: Request, session: AsyncSession, who: Principal
    ) -> tuple[str, dict[str, Any]]:
        found = await accounts.account_below(session, who, username)
        return "account.html", {
            "a": found,
            "roles_id": ROLES_ID,
            "grantable": accounts.grantable_by(who),
            "units": await people.list_units(session) if found is not None else [],
        }

    return screen


@router.get("/akun")
async def accounts_page(request: Request, session: SessionDep, who: HrViewer) -> Response:
    """HR finds an account (by NIP or name) and opens it."""
    return await _screen(_accounts, request, session, who)


@router.get("/akun/{username}")
async def account_page(
    request: Request, username: str, session: SessionDep, who: HrViewer
) -> Response:
    """One account HR may manage; any other (unknown, or with as many rights as HR) is 404."""
    manageable = await accounts.account_below(session, who, username) is not None
    return await _screen(
        _account(username), request, session, who, status_code=200 if manageable else 404
    )


@router.post("/akun/{username}/peran")
async def accounts_roles(
    request: Request,
    username: str,
    session: SessionDep,
    who: HrViewer,
    peran: Annotated[list[str] | None, Form()] = None,
    unit: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    return await outcome(
        await attempt(
            session,
            lambda: accounts.set_roles(
                session, username, peran or [], unit.strip() or None, actor=who
            ),
        ),
        partial(_screen, _account(username), request, session, who),
        lambda account: f"Peran akun {account.username} disimpan.",
    )


@router.post("/akun/{username}/sandi")
async def accounts_password(
    request: Request, username: str, session: SessionDep, who: HrViewer
) -> Response:
    """A temporary password, shown once; the owner must change it at the next login."""
    password = temporary_password()
    return await outcome(
        await attempt(
            session, lambda: accounts.reset_password(session, username, password, actor=who)
        ),
        partial(_screen, _account(username), request, session, who),
        lambda _: (
            f"Kata sandi sementara untuk {username}: {password} — sampaikan langsung "
            "kepada pemilik akun; ia wajib menggantinya saat masuk."
        ),
    )


async def _units(
    request: Request, session: AsyncSession, who: Principal
) -> tuple[str, dict[str, Any]]:
    return "units.html", {"units": await people.list_units(session)}


@router.get("/unit")
async def units_page(request: Request, session: SessionDep, who: HrViewer) -> Response:
    return await _screen(_units, request, session, who)


@router.post("/unit")
async def units_create(
    request: Request,
    session: SessionDep,
    who: HrViewer,
    kode: Annotated[str, Form(max_length=64)],
    nama: Annotated[str, Form(max_length=300)],
    induk: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    form = {"kode": kode, "nama": nama, "induk": induk}
    show = partial(_screen, _units, request, session, who, form=form)
    try:
        data = schemas.UnitCreate(
            code=kode.strip(), name=nama.strip(), parent_code=induk.strip() or None
        )
    except ValidationError:
        return await show(
            error="Kode unit: huruf besar, angka, titik atau garis (paling banyak 32); nama unit "
            "paling sedikit 2 huruf.",
            status_code=422,
        )
    return await outcome(
        await attempt(session, lambda: people.create_unit(session, data, actor=who)),
        partial(_screen, _units, request, session, who),
        lambda unit: f"Unit {unit.code} ditambahkan.",
    )


async def _names(session: AsyncSession, nips: set[str]) -> dict[str, str]:
    if not nips:
        return {}
    rows = await session.execute(
        select(Employee.nip, Employee.name).where(Employee.nip.in_(sorted(nips)))
    )
    return {r.nip: r.name for r in rows}


def _delegations(ctx: Context) -> Screen:
    async def screen(
        request: Request, session: AsyncSession, who: Principal
    ) -> tuple[str, dict[str, Any]]:
        shown = await people.delegations_seen_by(session, who, ctx.today)
        names = await _names(
            session, {d.supervisor_nip for d in shown} | {d.delegate_nip for d in shown}
        )
        return "delegations.html", {"delegations": shown, "names": names, "today": ctx.today}

    return screen


@router.get("/pelaksana-tugas")
async def delegations_page(
    request: Request, session: SessionDep, who: Viewer, ctx: ContextDep
) -> Response:
    """Who acts for whom: the acting official verifies the supervisor's queue meanwhile."""
    return await _screen(_delegations(ctx), request, session, who)


@router.post("/pelaksana-tugas")
async def delegations_create(
    request: Request,
    session: SessionDep,
    who: Viewer,
    ctx: ContextDep,
    atasan: Annotated[str, Form(max_length=32)],
    pelaksana: Annotated[str, Form(max_length=32)],
    mulai: Annotated[str, Form(max_length=10)],
    sampai: Annotated[str, Form(max_length=10)],
) -> Response:
    form = {"atasan": atasan, "pelaksana": pelaksana, "mulai": mulai, "sampai": sampai}
    show = partial(_screen, _delegations(ctx), request, session, who, form=form)
    try:
        data = schemas.DelegationCreate.model_validate(
            {
                "supervisor_nip": atasan.strip(),
                "delegate_nip": pelaksana.strip(),
                "start_date": mulai,
                "end_date": sampai,
            }
        )
    except ValidationError:
        return await show(
            error="Isi NIP atasan dan NIP pelaksana (18 angka) serta tanggal mulai dan selesai.",
            status_code=422,
        )
    return await outcome(
        await attempt(session, lambda: people.create_delegation(session, data, actor=who)),
        show,
        lambda d: f"{d.delegate_nip} ditunjuk sebagai pelaksana tugas {d.supervisor_nip}.",
    )
