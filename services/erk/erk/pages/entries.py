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
    batch,
    dependencies,
    errors,
    evidence,
    schemas,
    targets,
    workflow,
)
from erk.dependencies import ContextDep
from erk.models import Activity, Employee
from erk.pages.common import MESSAGES_ID, Viewer, attempt, message_of, outcome, page_router
from shared.auth import Principal
from shared.db import SessionDep
from shared.problems import AppError
from shared.web import bilangan, render

router = page_router()


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


BATCH_ROWS, BATCH_MORE, BATCH_MAX = 5, 3, batch.MAX_ROWS
_BATCH_FIELDS = ("tanggal", "uraian", "menit", "hasil_jumlah", "hasil_satuan", "sasaran")
_ROW_FORMAT_ID = (
    "Isi tanggal (TTTT-BB-HH), uraian (paling sedikit 3 huruf), dan menit (bilangan bulat "
    "lebih dari 0); hasil berupa bilangan bulat."
)


def _blank_row(day: dt.date) -> dict[str, str]:
    return {"tanggal": day.isoformat()} | dict.fromkeys(_BATCH_FIELDS[1:], "")


def _parse_row(row: dict[str, str]) -> schemas.ActivityCreate:
    """One form row as an entry (ValueError, which pydantic's errors are, when malformed)."""
    return schemas.ActivityCreate(
        date=dt.date.fromisoformat(row["tanggal"].strip()),
        description=row["uraian"].strip(),
        minutes=int(row["menit"]),
        output_quantity=int(row["hasil_jumlah"]) if row["hasil_jumlah"].strip() else None,
        output_unit=row["hasil_satuan"].strip() or None,
        target_id=int(row["sasaran"]) if row["sasaran"].strip() else None,
    )


async def _batch_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    ctx: dependencies.Context,
    rows: list[dict[str, str]],
    *,
    row_errors: dict[int, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
    messages: list[tuple[str, str]] | None = None,
) -> HTMLResponse:
    mine = await attempt(
        session, lambda: targets.list_targets(session, principal.username, principal, ctx)
    )
    return render(
        request,
        "entry_batch.html",
        {
            "rows": rows,
            "row_errors": row_errors or {},
            "error": error,
            "today": ctx.today,
            "cap": ctx.erk.daily_cap_minutes,
            "max_rows": BATCH_MAX,
            "more": BATCH_MORE,
            "targets": [] if isinstance(mine, AppError) else mine,
        },
        status_code=status_code,
        principal=principal,
        messages=messages or [],
    )


@router.get("/aktivitas/banyak")
async def batch_form(
    request: Request,
    session: SessionDep,
    who: Viewer,
    ctx: ContextDep,
    tanggal: str | None = None,
    baris: int = BATCH_ROWS,
) -> Response:
    """Several activities at once: N blank rows (more with "Tambah baris", no JavaScript)."""
    try:
        day = dt.date.fromisoformat(tanggal) if tanggal else ctx.today
    except ValueError:
        day = ctx.today
    count = min(max(baris, 1), BATCH_MAX)
    return await _batch_page(request, session, who, ctx, [_blank_row(day) for _ in range(count)])


@router.post("/aktivitas/banyak")
async def batch_submit(
    request: Request,
    session: SessionDep,
    who: Viewer,
    ctx: ContextDep,
    tanggal: Annotated[list[str], Form()],
    uraian: Annotated[list[str], Form()],
    menit: Annotated[list[str], Form()],
    hasil_jumlah: Annotated[list[str], Form()],
    hasil_satuan: Annotated[list[str], Form()],
    sasaran: Annotated[list[str], Form()],
    aksi: Annotated[str, Form()] = "simpan",
) -> Response:
    """Save every filled row (all or none; blank rows are ignored), or add blank rows."""
    columns = (tanggal, uraian, menit, hasil_jumlah, hasil_satuan, sasaran)
    rows = [
        dict(zip(_BATCH_FIELDS, values, strict=True)) for values in zip(*columns, strict=False)
    ][:BATCH_MAX]
    show = partial(_batch_page, request, session, who, ctx, rows)
    if aksi == "tambah":
        last = rows[-1]["tanggal"] if rows else ctx.today.isoformat()
        rows += [_blank_row(ctx.today) | {"tanggal": last} for _ in range(BATCH_MORE)]
        del rows[BATCH_MAX:]
        return await show()
    filled = [i for i, r in enumerate(rows) if r["uraian"].strip() or r["menit"].strip()]
    if not filled:
        return await show(error="Isi paling sedikit satu baris.", status_code=422)
    items: list[schemas.ActivityCreate] = []
    row_errors: dict[int, str] = {}
    for i in filled:
        try:
            items.append(_parse_row(rows[i]))
        except ValueError:
            row_errors[i] = _ROW_FORMAT_ID
    if row_errors:
        return await show(
            row_errors=row_errors, error="Perbaiki baris yang ditandai.", status_code=422
        )
    result = await attempt(session, lambda: batch.submit_batch(session, items, actor=who, ctx=ctx))
    if isinstance(result, errors.BatchRejectedError):
        for problem in result.extensions["rows"]:
            row_errors[filled[problem["row"] - 1]] = MESSAGES_ID.get(
                problem["type"], problem["detail"]
            )
        return await show(
            row_errors=row_errors,
            error="Tidak ada yang disimpan: perbaiki baris yang ditandai.",
            status_code=422,
        )
    if isinstance(result, AppError):
        return await show(error=message_of(result), status_code=result.status)
    total = sum(item.minutes for item in items)
    return await _batch_page(
        request,
        session,
        who,
        ctx,
        [_blank_row(items[0].date) for _ in range(BATCH_ROWS)],
        messages=[
            (
                "success",
                f"{bilangan(len(items))} aktivitas tersimpan ({bilangan(total)} menit), "
                "menunggu verifikasi.",
            )
        ],
    )
