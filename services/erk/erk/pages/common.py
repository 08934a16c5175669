"""What every e-RK page shares: the signed-in viewer (who must first change a temporary password)
and refusals in Indonesian; the rest of the page-action preamble is `shared.pages`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from erk import accounts, periods
from shared import pages
from shared.auth import OptionalPrincipal, Principal
from shared.db import SessionDep
from shared.pages import PageExit, attempt, login_redirect, page_router, refusal
from shared.pesan import problem_id
from shared.problems import AppError
from shared.web import MONTHS_ID, root_of

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


async def signed_in(
    request: Request, session: AsyncSession, principal: Principal | None
) -> Principal | Response:
    """The caller, or a redirect: to the login page, or to change a first-time password."""
    if principal is None:
        return login_redirect(request)
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
) -> Response:
    """`shared.pages.outcome` with e-RK's messages: the page again with the refusal next to the
    form, or saying what was done. `show` takes `error`, `status_code` and `messages`."""
    return await pages.outcome(result, show, done, message_of)


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


def viewer_with(*roles: str, detail: str) -> Callable[..., Awaitable[Principal]]:
    """The signed-in person holding one of `roles`; anyone else sees `detail` (403)."""
    return pages.viewer_with(*roles, detail=detail, viewer=viewer)


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


__all__ = ["PageExit", "attempt", "page_router", "refusal"]  # re-exported for the page modules
