"""e-RK's pages, in Bahasa Indonesia: phone-first, plain forms that work without JavaScript."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from erk import access, activities, attendance, dependencies, people, periods, recap, schemas
from erk.dependencies import ContextDep
from erk.models import Activity, Employee
from shared.auth import OptionalPrincipal, Principal
from shared.db import SessionDep
from shared.pesan import problem_id
from shared.problems import AppError
from shared.sessions import reissue_session
from shared.web import MONTHS_ID, render, root_of

router = APIRouter(include_in_schema=False)
T = TypeVar("T")

# What a person reads when a rule refuses their form (the API's details are in English).
MESSAGES_ID = {
    "activity-date-in-future": "Tanggal aktivitas tidak boleh melewati hari ini.",
    "entry-cutoff-passed": "Batas waktu pengisian aktivitas bulan itu sudah lewat.",
    "daily-cap-exceeded": "Jumlah menit hari itu melebihi batas harian.",
    "absent-on-date": "Pada tanggal itu Anda tercatat cuti, sakit, atau tidak hadir.",
    "period-closed": "Bulan itu sudah ditutup.",
    "period-not-over": "Bulan itu belum dapat ditutup: batas verifikasi atasan belum lewat.",
    "period-not-ready": "Masih ada aktivitas yang menunggu verifikasi atau kehadiran yang belum "
    "dicatat. Centang persetujuan untuk tetap menutup bulan.",
    "non-working-day": "Tanggal itu bukan hari kerja.",
    "lateness-not-at-work": "Terlambat atau pulang cepat hanya dicatat untuk pegawai yang hadir.",
    "own-record": "Anda tidak dapat mengubah kehadiran atau data penghasilan Anda sendiri.",
    "pay-input-forbidden": "Hanya BKPSDM yang menetapkan TPP dasar dan gaji.",
    "account-outranked": "Kata sandi hanya dapat diatur ulang untuk akun dengan hak lebih rendah.",
    "self-delegation": "Anda tidak dapat menunjuk diri sendiri sebagai pelaksana tugas.",
    "not-delegator": "Pelaksana tugas ditunjuk oleh atasan dari atasan itu atau BKPSDM.",
    "self-verification": "Anda tidak dapat memverifikasi aktivitas Anda sendiri.",
    "not-verifier": "Anda bukan verifikator aktivitas ini.",
    "activity-not-pending": "Aktivitas itu sudah diverifikasi.",
    "activity-locked": "Aktivitas yang sudah disetujui tidak dapat diubah.",
    "rejection-note-required": "Tuliskan alasan penolakan.",
    "import-rejected": "Berkas ditolak; tidak ada data yang diimpor. Perbaiki baris berikut.",
    "not-an-employee": "Akun ini tidak terdaftar sebagai pegawai aktif.",
    "target-not-found": "Sasaran kinerja itu bukan milik Anda.",
    "password-not-changed": "Kata sandi lama salah, atau kata sandi baru kurang dari 8 karakter "
    "atau sama dengan yang lama.",
    "out-of-unit-scope": "Data itu di luar unit yang Anda kelola.",
    "activity-not-found": "Aktivitas tidak ditemukan.",
    "evidence-missing": "Aktivitas belum dilengkapi bukti; pemerintah daerah mewajibkan bukti.",
    "unsupported-media-type": "Bukti harus berupa berkas PDF, JPEG, atau PNG.",
    "payload-too-large": "Berkas bukti terlalu besar.",
}
STATUS_ID = {"submitted": "Menunggu", "approved": "Disetujui", "rejected": "Ditolak"}


def message_of(exc: AppError) -> str:
    return problem_id(exc, MESSAGES_ID)


async def attempt(session: AsyncSession, action: Callable[[], Awaitable[T]]) -> T | AppError:
    """Run a domain call in a savepoint: a refused form leaves nothing half-written."""
    try:
        async with session.begin_nested():
            return await action()
    except AppError as exc:
        return exc


async def signed_in(
    request: Request, session: AsyncSession, principal: Principal | None
) -> Principal | Response:
    """The caller, or a redirect: to the login page, or to change a first-time password."""
    if principal is None:
        return RedirectResponse(
            f"{root_of(request)}/login?next={quote(request.url.path)}", status_code=303
        )
    if request.url.path != f"{root_of(request)}/ganti-sandi" and await people.must_change_password(
        session, principal.username
    ):
        return RedirectResponse(f"{root_of(request)}/ganti-sandi", status_code=303)
    return principal


def month_label(first: dt.date) -> str:
    return f"{MONTHS_ID[first.month - 1]} {first.year}"


def _month_param(value: str | None, today: dt.date) -> dt.date:
    if value:
        try:
            return periods.parse_period(value)
        except AppError:
            pass
    return periods.month_start(today)


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
    targets = await attempt(
        session, lambda: activities.list_targets(session, principal.username, principal, ctx)
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
            "total": sum(e.minutes for e in entries if e.status != "rejected"),
            "cap": ctx.erk.daily_cap_minutes,
            "previous": await _day_entries(session, principal.username, yesterday),
            "previous_day": yesterday,
            "form": form or {},
            "error": error,
            "status_id": STATUS_ID,
            "targets": [] if isinstance(targets, AppError) else targets,
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
    principal: OptionalPrincipal,
    ctx: ContextDep,
    tanggal: str | None = None,
) -> Response:
    who = await signed_in(request, session, principal)
    if isinstance(who, Response):
        return who
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
    principal: OptionalPrincipal,
    ctx: ContextDep,
    tanggal: Annotated[str, Form()],
    uraian: Annotated[str, Form()],
    menit: Annotated[str, Form()],
    hasil_jumlah: Annotated[str, Form()] = "",
    hasil_satuan: Annotated[str, Form()] = "",
    sasaran: Annotated[str, Form()] = "",
    bukti: Annotated[UploadFile | None, File()] = None,
) -> Response:
    who = await signed_in(request, session, principal)
    if isinstance(who, Response):
        return who
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
            created = await activities.attach_evidence(
                session,
                created.id,
                bukti,
                actor=who,
                ctx=ctx,
                upload_dir=settings.upload_dir,
                max_bytes=settings.upload_max_bytes,
            )
        return created

    result = await attempt(session, submit)
    if isinstance(result, AppError):
        return await _entry_page(
            request,
            session,
            who,
            ctx,
            day,
            form=form,
            error=message_of(result),
            status_code=result.status,
        )
    return await _entry_page(
        request,
        session,
        who,
        ctx,
        day,
        messages=[("success", f"Aktivitas tersimpan ({data.minutes} menit), menunggu verifikasi.")],
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
    result = await attempt(session, action)
    if isinstance(result, AppError):
        return await _entry_page(
            request,
            session,
            who,
            ctx,
            day or ctx.today,
            error=message_of(result),
            status_code=result.status,
        )
    return await _entry_page(
        request, session, who, ctx, day or ctx.today, messages=[("success", done)]
    )


@router.post("/aktivitas/{activity_id}/hapus")
async def entry_delete(
    request: Request,
    activity_id: int,
    session: SessionDep,
    principal: OptionalPrincipal,
    ctx: ContextDep,
) -> Response:
    """Withdraw one's own pending or rejected entry."""
    who = await signed_in(request, session, principal)
    if isinstance(who, Response):
        return who
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
    principal: OptionalPrincipal,
    ctx: ContextDep,
    uraian: Annotated[str, Form()],
    menit: Annotated[str, Form()],
) -> Response:
    """Edit a pending entry or correct a rejected one (it goes back for verification)."""
    who = await signed_in(request, session, principal)
    if isinstance(who, Response):
        return who
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
    principal: OptionalPrincipal,
    ctx: ContextDep,
    dari: Annotated[str, Form()],
    ke: Annotated[str, Form()],
) -> Response:
    """ "Sama seperti kemarin": every entry of an earlier day, entered again at once (all or
    none)."""
    who = await signed_in(request, session, principal)
    if isinstance(who, Response):
        return who
    try:
        source, target = dt.date.fromisoformat(dari), dt.date.fromisoformat(ke)
    except ValueError:
        source = target = ctx.today
    entries = [
        e for e in await _day_entries(session, who.username, source) if e.status != "rejected"
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

    result = await attempt(session, copy_all)
    if isinstance(result, AppError):
        return await _entry_page(
            request,
            session,
            who,
            ctx,
            target,
            error=message_of(result),
            status_code=result.status,
        )
    return await _entry_page(
        request,
        session,
        who,
        ctx,
        target,
        messages=[("success", f"{result} aktivitas disalin, menunggu verifikasi.")],
    )


@router.get("/bulan-saya")
async def my_month(
    request: Request,
    session: SessionDep,
    principal: OptionalPrincipal,
    ctx: ContextDep,
    bulan: str | None = None,
) -> Response:
    who = await signed_in(request, session, principal)
    if isinstance(who, Response):
        return who
    first = _month_param(bulan, ctx.today)
    after = periods.next_month(first)
    sums = (
        await session.execute(
            select(Activity.activity_date, Activity.status, func.sum(Activity.minutes))
            .join(Employee, Employee.id == Activity.employee_id)
            .where(
                Employee.nip == who.username,
                Activity.activity_date >= first,
                Activity.activity_date < after,
            )
            .group_by(Activity.activity_date, Activity.status)
        )
    ).all()
    per_day: dict[dt.date, dict[str, int]] = {}
    for day, status, minutes in sums:
        per_day.setdefault(day, {})[status] = int(minutes)
    weeks: list[list[dict[str, Any] | None]] = []
    week: list[dict[str, Any] | None] = [None] * first.weekday()
    day = first
    while day < after:
        counts = per_day.get(day, {})
        verified = counts.get("approved", 0)
        working = ctx.calendar.is_working_day(day)
        if not working:
            tone = "libur"
        elif verified >= 300:
            tone = "penuh"
        elif verified > 0:
            tone = "sebagian"
        elif counts.get("submitted"):
            tone = "menunggu"
        else:
            tone = "kosong"
        week.append(
            {
                "day": day,
                "verified": verified,
                "pending": counts.get("submitted", 0),
                "rejected": counts.get("rejected", 0),
                "tone": tone,
            }
        )
        if len(week) == 7:
            weeks.append(week)
            week = []
        day += dt.timedelta(days=1)
    if week:
        weeks.append(week + [None] * (7 - len(week)))
    result = await recap.recap_rows(session, ctx, periods.period_of(first), nip=who.username)
    row = recap.to_read(result.rows[0], result.rule) if result.rows else None
    return render(
        request,
        "month.html",
        {
            "weeks": weeks,
            "label": month_label(first),
            "period": periods.period_of(first),
            "previous": periods.period_of(periods.previous_month(first)),
            "next": periods.period_of(after),
            "row": row,
            "closed": result.closed,
            "totals": {
                s: sum(v.get(s, 0) for v in per_day.values())
                for s in ("approved", "submitted", "rejected")
            },
        },
        principal=who,
    )


async def _inbox(
    request: Request,
    session: AsyncSession,
    who: Principal,
    ctx: dependencies.Context,
    *,
    messages: list[tuple[str, str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    params = request.query_params
    nip = params.get("pegawai") or None
    try:
        day = dt.date.fromisoformat(params["tanggal"]) if params.get("tanggal") else None
    except ValueError:
        day = None
    everyone = await activities.pending_for(session, actor=who, ctx=ctx)
    items = [
        (a, name)
        for a, name in everyone
        if (nip is None or a.nip == nip) and (day is None or a.date == day)
    ]
    people = sorted({(a.nip, name) for a, name in everyone}, key=lambda p: p[1])
    targets = await activities.targets_to_approve(session, actor=who, ctx=ctx)
    return render(
        request,
        "inbox.html",
        {
            "items": items,
            "targets": targets,
            "people": people,
            "pegawai": nip or "",
            "tanggal": day.isoformat() if day else "",
            "all_ticked": params.get("pilih") == "semua",
            "acting_for": await activities.acting_for_names(session, actor=who, ctx=ctx),
        },
        principal=who,
        messages=messages or [],
        status_code=status_code,
    )


@router.get("/verifikasi")
async def inbox(
    request: Request, session: SessionDep, principal: OptionalPrincipal, ctx: ContextDep
) -> Response:
    who = await signed_in(request, session, principal)
    if isinstance(who, Response):
        return who
    return await _inbox(request, session, who, ctx)


@router.post("/verifikasi")
async def inbox_decide(
    request: Request,
    session: SessionDep,
    principal: OptionalPrincipal,
    ctx: ContextDep,
    keputusan: Annotated[str, Form()],
    aktivitas: Annotated[list[int] | None, Form()] = None,
    alasan: Annotated[str, Form()] = "",
) -> Response:
    who = await signed_in(request, session, principal)
    if isinstance(who, Response):
        return who
    if not aktivitas:
        return await _inbox(
            request,
            session,
            who,
            ctx,
            messages=[("error", "Pilih paling sedikit satu aktivitas.")],
            status_code=422,
        )
    decision = schemas.Decision.rejected if keputusan == "rejected" else schemas.Decision.approved
    ids = list(aktivitas)
    result = await attempt(
        session,
        lambda: activities.verify_activities(session, ids, decision, alasan, actor=who, ctx=ctx),
    )
    if isinstance(result, AppError):
        return await _inbox(
            request,
            session,
            who,
            ctx,
            messages=[("error", message_of(result))],
            status_code=result.status,
        )
    done = "disetujui" if decision == schemas.Decision.approved else "ditolak"
    return await _inbox(
        request, session, who, ctx, messages=[("success", f"{len(ids)} aktivitas {done}.")]
    )


async def _targets_page(
    request: Request,
    session: AsyncSession,
    who: Principal,
    ctx: dependencies.Context,
    *,
    form: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
    messages: list[tuple[str, str]] | None = None,
) -> HTMLResponse:
    mine = await attempt(session, lambda: activities.list_targets(session, who.username, who, ctx))
    return render(
        request,
        "targets.html",
        {
            "targets": [] if isinstance(mine, AppError) else mine,
            "year": ctx.today.year,
            "form": form or {},
            "error": error,
        },
        principal=who,
        status_code=status_code,
        messages=messages or [],
    )


@router.get("/sasaran")
async def targets_page(
    request: Request, session: SessionDep, principal: OptionalPrincipal, ctx: ContextDep
) -> Response:
    who = await signed_in(request, session, principal)
    if isinstance(who, Response):
        return who
    return await _targets_page(request, session, who, ctx)


@router.post("/sasaran")
async def targets_propose(
    request: Request,
    session: SessionDep,
    principal: OptionalPrincipal,
    ctx: ContextDep,
    tahun: Annotated[str, Form()],
    judul: Annotated[str, Form()],
    jumlah: Annotated[str, Form()] = "",
    satuan: Annotated[str, Form()] = "",
) -> Response:
    who = await signed_in(request, session, principal)
    if isinstance(who, Response):
        return who
    form = {"tahun": tahun, "judul": judul, "jumlah": jumlah, "satuan": satuan}
    try:
        data = schemas.TargetCreate(
            year=int(tahun),
            title=judul.strip(),
            quantity=int(jumlah) if jumlah.strip() else None,
            output_unit=satuan.strip() or None,
        )
    except ValueError:
        return await _targets_page(
            request,
            session,
            who,
            ctx,
            form=form,
            error="Isi tahun, uraian sasaran (paling sedikit 3 huruf), dan jumlah berupa angka.",
            status_code=422,
        )
    result = await attempt(
        session, lambda: activities.create_target(session, data, actor=who, ctx=ctx)
    )
    if isinstance(result, AppError):
        return await _targets_page(
            request,
            session,
            who,
            ctx,
            form=form,
            error=message_of(result),
            status_code=result.status,
        )
    return await _targets_page(
        request,
        session,
        who,
        ctx,
        messages=[("success", "Sasaran diusulkan; menunggu persetujuan atasan.")],
    )


@router.post("/sasaran/{target_id}/setujui")
async def targets_approve(
    request: Request,
    target_id: int,
    session: SessionDep,
    principal: OptionalPrincipal,
    ctx: ContextDep,
) -> Response:
    who = await signed_in(request, session, principal)
    if isinstance(who, Response):
        return who
    result = await attempt(
        session, lambda: activities.approve_target(session, target_id, actor=who, ctx=ctx)
    )
    if isinstance(result, AppError):
        return await _inbox(
            request,
            session,
            who,
            ctx,
            messages=[("error", message_of(result))],
            status_code=result.status,
        )
    return await _inbox(
        request, session, who, ctx, messages=[("success", "Sasaran kinerja disetujui.")]
    )


@router.get("/rekap")
async def unit_recap(
    request: Request,
    session: SessionDep,
    principal: OptionalPrincipal,
    ctx: ContextDep,
    bulan: str | None = None,
    unit: str | None = None,
) -> Response:
    who = await signed_in(request, session, principal)
    if isinstance(who, Response):
        return who
    if not who.has_any("unit_admin", "hr_admin", "auditor", "admin"):
        return render(
            request,
            "error.html",
            {
                "title": "Tidak diizinkan",
                "detail": "Rekap unit hanya untuk admin unit, BKPSDM, dan auditor.",
                "status": 403,
            },
            status_code=403,
            principal=who,
        )
    first = _month_param(bulan, periods.previous_month(ctx.today))
    period = periods.period_of(first)
    scope = await access.scope_path(session, who)
    units = await people.list_units(session)
    path = scope
    chosen = next((u for u in units if u.code == unit), None)
    if chosen is not None and (scope is None or chosen.path.startswith(scope)):
        path = chosen.path
    result = await recap.recap_rows(session, ctx, period, unit_path=path)
    rows = [recap.to_read(r, result.rule) for r in result.rows]
    by_unit: dict[str, list[float]] = {}
    for r in rows:
        by_unit.setdefault(r.unit_code, []).append(r.performance_pct)
    unit_bars = sorted(
        ((code, round(sum(v) / len(v), 2), len(v)) for code, v in by_unit.items()),
        key=lambda item: -item[1],
    )
    return render(
        request,
        "recap.html",
        {
            "rows": sorted(rows, key=lambda r: -r.performance_pct),
            "unit_bars": unit_bars,
            "period": period,
            "label": month_label(first),
            "closed": result.closed,
            "rule_version": result.rule.version,
            "units": [u for u in units if scope is None or u.path.startswith(scope)],
            "unit": unit or "",
            "total": sum(r.tpp_total_idr for r in rows),
        },
        principal=who,
    )


def _admin_only(request: Request, who: Principal) -> HTMLResponse | None:
    if who.has_any("unit_admin", "hr_admin", "admin"):
        return None
    return render(
        request,
        "error.html",
        {"title": "Tidak diizinkan", "detail": "Halaman ini untuk admin.", "status": 403},
        status_code=403,
        principal=who,
    )


@router.get("/impor")
async def imports_form(
    request: Request, session: SessionDep, principal: OptionalPrincipal
) -> Response:
    who = await signed_in(request, session, principal)
    if isinstance(who, Response):
        return who
    return _admin_only(request, who) or render(request, "imports.html", {}, principal=who)


@router.post("/impor/{kind}")
async def imports_upload(
    request: Request,
    kind: str,
    session: SessionDep,
    principal: OptionalPrincipal,
    ctx: ContextDep,
    berkas: Annotated[UploadFile, File()],
) -> Response:
    who = await signed_in(request, session, principal)
    if isinstance(who, Response):
        return who
    refused = _admin_only(request, who)
    if refused is not None:
        return refused
    content = await berkas.read(20 * 1024 * 1024 + 1)
    importer = attendance.import_attendance if kind == "kehadiran" else people.import_employees
    result = await attempt(session, lambda: importer(session, content, actor=who, ctx=ctx))
    if isinstance(result, AppError):
        return render(
            request,
            "imports.html",
            {
                "kind": kind,
                "error": message_of(result),
                "detail": result.detail,
                "rows": result.extensions.get("rows", []),
            },
            principal=who,
            status_code=result.status,
        )
    return render(
        request,
        "imports.html",
        {"kind": kind, "report": result},
        principal=who,
        messages=[("success", f"{result.imported} baris diimpor.")],
    )


@router.get("/ganti-sandi")
async def password_form(
    request: Request, session: SessionDep, principal: OptionalPrincipal
) -> Response:
    who = await signed_in(request, session, principal)
    if isinstance(who, Response):
        return who
    forced = await people.must_change_password(session, who.username)
    return render(request, "password.html", {"forced": forced}, principal=who)


@router.post("/ganti-sandi")
async def password_change(
    request: Request,
    session: SessionDep,
    principal: OptionalPrincipal,
    sandi_lama: Annotated[str, Form(max_length=256)],
    sandi_baru: Annotated[str, Form(max_length=256)],
    sandi_ulang: Annotated[str, Form(max_length=256)],
) -> Response:
    who = await signed_in(request, session, principal)
    if isinstance(who, Response):
        return who
    if sandi_baru != sandi_ulang:
        return render(
            request,
            "password.html",
            {"forced": True, "error": "Ulangan kata sandi baru tidak sama."},
            principal=who,
            status_code=422,
        )
    result = await attempt(
        session, lambda: people.change_password(session, who, sandi_lama, sandi_baru)
    )
    if isinstance(result, AppError):
        return render(
            request,
            "password.html",
            {"forced": True, "error": message_of(result)},
            principal=who,
            status_code=result.status,
        )
    response = RedirectResponse(f"{root_of(request)}/aktivitas", status_code=303)
    # The new password ended every earlier session, this one included: give it a new one.
    await reissue_session(request, response, session, who)
    return response


def _hr_only(request: Request, who: Principal) -> HTMLResponse | None:
    if who.has_any("hr_admin", "admin"):
        return None
    return render(
        request,
        "error.html",
        {"title": "Tidak diizinkan", "detail": "Halaman ini untuk BKPSDM.", "status": 403},
        status_code=403,
        principal=who,
    )


async def _closing_page(
    request: Request,
    session: AsyncSession,
    who: Principal,
    ctx: dependencies.Context,
    period: str,
    *,
    error: str | None = None,
    status_code: int = 200,
    messages: list[tuple[str, str]] | None = None,
) -> HTMLResponse:
    ready = await recap.readiness(session, ctx, period)
    return render(
        request,
        "closing.html",
        {
            "period": period,
            "label": month_label(ready.month.start),
            "ready": ready,
            "pending_text": f"{len(ready.pending_ids):,}".replace(",", "."),
            "missing_text": f"{ready.missing_attendance_days:,}".replace(",", "."),
            "error": error,
        },
        principal=who,
        status_code=status_code,
        messages=messages or [],
    )


@router.get("/tutup-bulan")
async def closing_form(
    request: Request,
    session: SessionDep,
    principal: OptionalPrincipal,
    ctx: ContextDep,
    bulan: str | None = None,
) -> Response:
    """HR sees what stands between a month and its closing, then closes it."""
    who = await signed_in(request, session, principal)
    if isinstance(who, Response):
        return who
    refused = _hr_only(request, who)
    if refused is not None:
        return refused
    first = _month_param(bulan, periods.previous_month(ctx.today))
    return await _closing_page(request, session, who, ctx, periods.period_of(first))


@router.post("/tutup-bulan")
async def closing_submit(
    request: Request,
    session: SessionDep,
    principal: OptionalPrincipal,
    ctx: ContextDep,
    bulan: Annotated[str, Form()],
    tetap_tutup: Annotated[str | None, Form()] = None,
) -> Response:
    who = await signed_in(request, session, principal)
    if isinstance(who, Response):
        return who
    refused = _hr_only(request, who)
    if refused is not None:
        return refused
    period = periods.period_of(_month_param(bulan, periods.previous_month(ctx.today)))
    result = await attempt(
        session,
        lambda: recap.close_period(session, period, actor=who, ctx=ctx, anyway=tetap_tutup == "1"),
    )
    if isinstance(result, AppError):
        return await _closing_page(
            request,
            session,
            who,
            ctx,
            period,
            error=message_of(result),
            status_code=result.status,
        )
    left_out = result.not_counted_activities
    note = f"; {left_out} aktivitas tertunda tidak dihitung" if left_out else ""
    return await _closing_page(
        request,
        session,
        who,
        ctx,
        period,
        messages=[("success", f"Bulan {month_label(periods.parse_period(period))} ditutup{note}.")],
    )
