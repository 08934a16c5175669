"""What every e-RK page shares: the signed-in viewer, refusals in Indonesian, one savepoint."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from erk import accounts, periods
from shared.auth import OptionalPrincipal, Principal
from shared.db import SessionDep
from shared.pesan import problem_id
from shared.problems import AppError
from shared.web import MONTHS_ID, render, root_of

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
    "batch-rejected": "Tidak ada yang disimpan: perbaiki baris yang ditandai.",
    "import-rejected": "Berkas ditolak; tidak ada data yang diimpor. Perbaiki baris berikut.",
    "not-an-employee": "Akun ini tidak terdaftar sebagai pegawai aktif.",
    "target-not-found": "Sasaran kinerja itu bukan milik Anda.",
    "out-of-unit-scope": "Data itu di luar unit yang Anda kelola.",
    "role-not-grantable": "Peran itu tidak dapat Anda berikan: pilih peran dengan hak lebih rendah "
    "dari hak Anda.",
    "duplicate-unit": "Kode unit itu sudah dipakai.",
    "unit-not-found": "Unit dengan kode itu tidak ada.",
    "employee-not-found": "Pegawai atau akun dengan NIP itu tidak ada.",
    "invalid-delegation": "Tanggal selesai sebelum tanggal mulai, atau atasan menunjuk dirinya "
    "sendiri.",
    "activity-not-found": "Aktivitas tidak ditemukan.",
    "evidence-missing": "Aktivitas belum dilengkapi bukti; pemerintah daerah mewajibkan bukti.",
}


def message_of(exc: AppError) -> str:
    return problem_id(exc, MESSAGES_ID)


async def attempt(session: AsyncSession, action: Callable[[], Awaitable[T]]) -> T | AppError:
    """Run a domain call in a savepoint: a refused form leaves nothing half-written."""
    try:
        async with session.begin_nested():
            return await action()
    except AppError as exc:
        return exc


class PageExit(Exception):  # noqa: N818 - not an error: the page answers with `response`
    """Raised by a page dependency to answer at once (a redirect to log in, a refusal)."""

    def __init__(self, response: Response) -> None:
        self.response = response


class PageRoute(APIRoute):
    """A page route whose dependencies may answer for it by raising `PageExit`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except PageExit as exit_:
                return exit_.response

        return run


def page_router() -> APIRouter:
    return APIRouter(include_in_schema=False, route_class=PageRoute)


async def signed_in(
    request: Request, session: AsyncSession, principal: Principal | None
) -> Principal | Response:
    """The caller, or a redirect: to the login page, or to change a first-time password."""
    if principal is None:
        return RedirectResponse(
            f"{root_of(request)}/login?next={quote(request.url.path)}", status_code=303
        )
    if (
        request.url.path != f"{root_of(request)}/ganti-sandi"
        and await accounts.must_change_password(session, principal.username)
    ):
        return RedirectResponse(f"{root_of(request)}/ganti-sandi", status_code=303)
    return principal


async def outcome(
    result: T | AppError,
    show: Callable[..., Awaitable[HTMLResponse]],
    done: Callable[[T], str],
) -> HTMLResponse:
    """A form's answer: the page again with the refusal next to the form, or saying what was done.

    `show` draws the page (a `functools.partial` of the area's page function); it takes `error`,
    `status_code` and `messages`.
    """
    if isinstance(result, AppError):
        return await show(error=message_of(result), status_code=result.status)
    return await show(messages=[("success", done(result))])


def month_label(first: dt.date) -> str:
    return f"{MONTHS_ID[first.month - 1]} {first.year}"


def month_param(value: str | None, today: dt.date) -> dt.date:
    if value:
        try:
            return periods.parse_period(value)
        except AppError:
            pass
    return periods.month_start(today)


async def viewer(request: Request, session: SessionDep, principal: OptionalPrincipal) -> Principal:
    """The signed-in person; otherwise the page answers with the login or password-change page."""
    who = await signed_in(request, session, principal)
    if isinstance(who, Response):
        raise PageExit(who)
    return who


def refusal(request: Request, who: Principal, detail: str) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {"title": "Tidak diizinkan", "detail": detail, "status": 403},
        status_code=403,
        principal=who,
    )


def viewer_with(*roles: str, detail: str) -> Callable[..., Awaitable[Principal]]:
    """The signed-in person holding one of `roles`; anyone else sees `detail` (403)."""

    async def dependency(request: Request, who: Annotated[Principal, Depends(viewer)]) -> Principal:
        if not who.has_any(*roles):
            raise PageExit(refusal(request, who, detail))
        return who

    return dependency


Viewer = Annotated[Principal, Depends(viewer)]
AdminViewer = Annotated[
    Principal,
    Depends(viewer_with("unit_admin", "hr_admin", "admin", detail="Halaman ini untuk admin.")),
]
HrViewer = Annotated[
    Principal, Depends(viewer_with("hr_admin", "admin", detail="Halaman ini untuk BKPSDM."))
]
RecapViewer = Annotated[
    Principal,
    Depends(
        viewer_with(
            "unit_admin",
            "hr_admin",
            "auditor",
            "admin",
            detail="Rekap unit hanya untuk admin unit, BKPSDM, dan auditor.",
        )
    ),
]
