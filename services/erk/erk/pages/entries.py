"""The employee's day: entering, editing, deleting, correcting and copying activities."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from erk import (
    activities,
    dependencies,
    evidence,
    schemas,
    targets,
    workflow,
)
from erk.dependencies import ContextDep
from erk.models import Activity, Employee
from erk.pages.common import Viewer, attempt, outcome, page_router
from shared.auth import Principal
from shared.db import SessionDep
from shared.problems import AppError
from shared.web import render

router = page_router()


@router.get("/")
async def home(request: Request) -> HTMLResponse:
    return render(request, "index.html")


async def _day_entries(session: AsyncSession, nip: str, day: dt.date) -> list[Any]:
    stmt = (
        select(Activity)
        .join(Employee, Employee.id == Activity.employee_id)
        .where(Employee.nip == nip, Activity.activity_date == day)
        .order_by(Activity.id)
    )
    return list((await session.scalars(stmt)).all())


async def _entry_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    ctx: dependencies.Context,
    day: dt.date,
    *,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    status_code: int = 200,
    messages: list[tuple[str, str]] | None = None,
) -> HTMLResponse:
    entries = await _day_entries(session, principal.username, day)
    mine = await attempt(
        session, lambda: targets.list_targets(session, principal.username, principal, ctx)
    )
    yesterday = day - dt.timedelta(days=1)
    while not ctx.calendar.is_working_day(yesterday) and (day - yesterday).days < 7:
        yesterday -= dt.timedelta(days=1)
    return render(
        request,
        "entry.html",
        {
            "day": day,
            "today": ctx.today,
            "entries": entries,
            "total": sum(e.minutes for e in entries if e.status != workflow.REJECTED),
            "cap": ctx.erk.daily_cap_minutes,
            "previous": await _day_entries(session, principal.username, yesterday),
            "previous_day": yesterday,
            "form": form or {},
            "error": error,
            "status_id": workflow.LABELS_ID,
            "targets": [] if isinstance(mine, AppError) else mine,
            "evidence_required": ctx.erk.evidence_required,
        },
        status_code=status_code,
        principal=principal,
        messages=messages or [],
    )


@router.get("/aktivitas")
async def entry_form(
    request: Request,
    session: SessionDep,
    who: Viewer,
    ctx: ContextDep,
    tanggal: str | None = None,
) -> Response:
    day = ctx.today
    if tanggal:
        try:
            day = dt.date.fromisoformat(tanggal)
        except ValueError:
            day = ctx.today
    return await _entry_page(request, session, who, ctx, day)


@router.post("/aktivitas")
async def entry_submit(
    request: Request,
    session: SessionDep,
    who: Viewer,
    ctx: ContextDep,
    tanggal: Annotated[str, Form()],
    uraian: Annotated[str, Form()],
    menit: Annotated[str, Form()],
    hasil_jumlah: Annotated[str, Form()] = "",
    hasil_satuan: Annotated[str, Form()] = "",
    sasaran: Annotated[str, Form()] = "",
    bukti: Annotated[UploadFile | None, File()] = None,
) -> Response:
    form = {
        "uraian": uraian,
        "menit": menit,
        "hasil_jumlah": hasil_jumlah,
        "hasil_satuan": hasil_satuan,
        "sasaran": sasaran,
    }
    try:
        day = dt.date.fromisoformat(tanggal)
        data = schemas.ActivityCreate(
            date=day,
            description=uraian.strip(),
            minutes=int(menit),
            output_quantity=int(hasil_jumlah) if hasil_jumlah.strip() else None,
            output_unit=hasil_satuan.strip() or None,
            target_id=int(sasaran) if sasaran.strip() else None,
        )
    except ValueError:
        return await _entry_page(
            request,
            session,
            who,
            ctx,
            ctx.today,
            form=form,
            error="Isi tanggal, uraian (paling sedikit 3 huruf), dan menit (bilangan bulat "
            "lebih dari 0).",
            status_code=422,
        )
    settings = request.app.state.settings

    async def submit() -> schemas.ActivityRead:
        created = await activities.submit_activity(session, data, actor=who, ctx=ctx)
        if bukti is not None and bukti.filename:
            created = await evidence.attach_evidence(
                session,
                created.id,
                bukti,
                actor=who,
                ctx=ctx,
                upload_dir=settings.upload_dir,
                max_bytes=settings.upload_max_bytes,
            )
        return created

    return await outcome(
        await attempt(session, submit),
        partial(_entry_page, request, session, who, ctx, day, form=form),
        lambda _: f"Aktivitas tersimpan ({data.minutes} menit), menunggu verifikasi.",
    )


async def _entry_action(
    request: Request,
    session: AsyncSession,
    who: Principal,
    ctx: dependencies.Context,
    activity_id: int,
    action: Callable[[], Awaitable[Any]],
    done: str,
) -> Response:
    day = await session.scalar(select(Activity.activity_date).where(Activity.id == activity_id))
    return await outcome(
        await attempt(session, action),
        partial(_entry_page, request, session, who, ctx, day or ctx.today),
        lambda _: done,
    )


@router.post("/aktivitas/{activity_id}/hapus")
async def entry_delete(
    request: Request,
    activity_id: int,
    session: SessionDep,
    who: Viewer,
    ctx: ContextDep,
) -> Response:
    """Withdraw one's own pending or rejected entry."""
    return await _entry_action(
        request,
        session,
        who,
        ctx,
        activity_id,
        lambda: activities.delete_activity(session, activity_id, actor=who, ctx=ctx),
        "Aktivitas dihapus.",
    )


@router.post("/aktivitas/{activity_id}/ubah")
async def entry_edit(
    request: Request,
    activity_id: int,
    session: SessionDep,
    who: Viewer,
    ctx: ContextDep,
    uraian: Annotated[str, Form()],
    menit: Annotated[str, Form()],
) -> Response:
    """Edit a pending entry or correct a rejected one (it goes back for verification)."""
    try:
        data = schemas.ActivityUpdate(description=uraian.strip(), minutes=int(menit))
    except ValueError:
        data = None
    if data is None:
        day = await session.scalar(select(Activity.activity_date).where(Activity.id == activity_id))
        return await _entry_page(
            request,
            session,
            who,
            ctx,
            day or ctx.today,
            error="Isi uraian (paling sedikit 3 huruf) dan menit (bilangan bulat lebih dari 0).",
            status_code=422,
        )
    return await _entry_action(
        request,
        session,
        who,
        ctx,
        activity_id,
        lambda: activities.update_activity(session, activity_id, data, actor=who, ctx=ctx),
        "Aktivitas diperbarui dan menunggu verifikasi lagi.",
    )


@router.post("/aktivitas/salin-semua")
async def entry_copy_all(
    request: Request,
    session: SessionDep,
    who: Viewer,
    ctx: ContextDep,
    dari: Annotated[str, Form()],
    ke: Annotated[str, Form()],
) -> Response:
    """ "Sama seperti kemarin": every entry of an earlier day, entered again at once (all or
    none)."""
    try:
        source, target = dt.date.fromisoformat(dari), dt.date.fromisoformat(ke)
    except ValueError:
        source = target = ctx.today
    entries = [
        e
        for e in await _day_entries(session, who.username, source)
        if e.status != workflow.REJECTED
    ]

    async def copy_all() -> int:
        for e in entries:
            data = schemas.ActivityCreate(
                date=target,
                description=e.description,
                minutes=e.minutes,
                output_quantity=e.output_quantity,
                output_unit=e.output_unit,
                target_id=e.target_id,
            )
            await activities.submit_activity(session, data, actor=who, ctx=ctx)
        return len(entries)

    return await outcome(
        await attempt(session, copy_all),
        partial(_entry_page, request, session, who, ctx, target),
        lambda copied: f"{copied} aktivitas disalin, menunggu verifikasi.",
    )
