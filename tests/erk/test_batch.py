"""Several activities at once (API and page): all or none, every row through the single entry's
rules, per-row refusals (in Indonesian on the page, next to the row, the form kept), and one bulk
write."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import func, select, update

from erk.models import Account, Activity, AuditEvent
from shared.testing import assert_problem, client_for

from .conftest import STAFF, Erk
from .test_round_trips import _work, statements

TODAY = dt.date(2025, 3, 12)  # a Wednesday
MON, TUE = dt.date(2025, 3, 10), dt.date(2025, 3, 11)
SUNDAY = dt.date(2025, 3, 9)


def _row(day: dt.date, minutes: int, description: str = "Menyusun laporan") -> dict[str, Any]:
    return {"date": day.isoformat(), "description": description, "minutes": minutes}


async def _count(erk: Erk) -> int:
    async with erk.app.state.db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Activity)) or 0)


async def _sick_on(erk: Erk, day: dt.date) -> None:
    files = {"file": ("absen.csv", f"nip,date,status\n{STAFF},{day},sick".encode(), "text/csv")}
    r = await erk.client.post("/api/v1/attendance/import", files=files, headers=erk.hr)
    assert r.status_code == 201, r.text


async def test_a_batch_is_logged_at_once_in_one_bulk_write(erk: Erk, backend: str) -> None:
    await erk.tree()
    erk.at(TODAY)
    headers = await erk.login(STAFF)
    body = {"items": [_row(MON, 240), _row(MON, 180, "Rapat"), _row(TUE, 300)]}
    with statements(erk) as seen:
        r = await erk.client.post("/api/v1/activities/batch", json=body, headers=headers)
    assert r.status_code == 201, r.text
    items = r.json()["items"]
    assert [(i["date"], i["minutes"], i["status"]) for i in items] == [
        ("2025-03-10", 240, "submitted"),
        ("2025-03-10", 180, "submitted"),
        ("2025-03-11", 300, "submitted"),
    ]
    # PostgreSQL: the employee's lock, one SELECT for every day's state, then the rows and their
    # audit events in one statement; SQLite: the SELECT, one INSERT of all rows, the events.
    expected = (
        ["SELECT", "SELECT", "WITH"]
        if backend == "postgres"
        else [
            "SELECT",
            "INSERT",
            "INSERT",
        ]
    )
    assert _work(seen) == expected, seen
    async with erk.app.state.db.sessionmaker() as session:
        events = list(
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "activity.submitted")
            )
        )
    assert sorted((e.entity_id, e.after["minutes"]) for e in events) == sorted(  # type: ignore[index]
        (str(i["id"]), i["minutes"]) for i in items
    )


async def test_a_refused_row_refuses_the_whole_batch_and_names_every_row(erk: Erk) -> None:
    await erk.tree()
    erk.at(TODAY)
    await _sick_on(erk, TUE)
    assert (await erk.log(STAFF, MON, 300)).status_code == 201
    body = {
        "items": [
            _row(dt.date(2025, 3, 7), 60),  # fine (Friday)
            _row(SUNDAY, 60),  # weekend
            _row(MON, 100),  # fine: 300 + 100 = 400
            _row(MON, 100),  # the batch's own rows count: 500 > 450
            _row(TUE, 60),  # sick leave
            _row(dt.date(2025, 3, 13), 60),  # tomorrow
            _row(dt.date(2025, 1, 15), 60),  # January: the entry cut-off (5 February) passed
            _row(dt.date(2025, 3, 3), 60) | {"target_id": 999},  # not one's own target
        ]
    }
    before = await _count(erk)
    r = await erk.client.post("/api/v1/activities/batch", json=body, headers=await erk.login(STAFF))
    problem = assert_problem(r, 422, "batch-rejected")
    assert [(p["row"], p["type"]) for p in problem["rows"]] == [
        (2, "non-working-day"),
        (4, "daily-cap-exceeded"),
        (5, "absent-on-date"),
        (6, "activity-date-in-future"),
        (7, "entry-cutoff-passed"),
        (8, "target-not-found"),
    ]
    assert await _count(erk) == before  # nothing logged, not even the good rows


async def test_a_batch_is_refused_to_non_employees_and_malformed_bodies(erk: Erk) -> None:
    await erk.tree()
    erk.at(TODAY)
    url = "/api/v1/activities/batch"
    assert_problem(await erk.client.post(url, json={"items": [_row(MON, 60)]}), 401)
    # HR's account is not an employee.
    r = await erk.client.post(url, json={"items": [_row(MON, 60)]}, headers=erk.hr)
    assert r.status_code == 403, r.text
    staff = await erk.login(STAFF)
    assert_problem(await erk.client.post(url, json={"items": []}, headers=staff), 422)
    too_many = {"items": [_row(MON, 10)] * 21}
    assert_problem(await erk.client.post(url, json=too_many, headers=staff), 422)
    zero = {"items": [_row(MON, 0)]}
    assert_problem(await erk.client.post(url, json=zero, headers=staff), 422)
    assert await _count(erk) == 0


@asynccontextmanager
async def _browser(erk: Erk, nip: str) -> AsyncIterator[httpx.AsyncClient]:
    await erk.login(nip)
    async with erk.app.state.db.sessionmaker.begin() as session:
        await session.execute(
            update(Account).where(Account.username == nip).values(must_change_password=False)
        )
    async with client_for(erk.app) as browser:
        r = await browser.post(
            "/login", data={"username": nip, "password": "sandi-awal-123", "next": "/"}
        )
        assert r.status_code == 303, r.text
        yield browser


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def _form(token: str, rows: list[tuple[str, str, str]], aksi: str = "simpan") -> dict[str, Any]:
    return {
        "csrf_token": token,
        "aksi": aksi,
        "tanggal": [r[0] for r in rows],
        "uraian": [r[1] for r in rows],
        "menit": [r[2] for r in rows],
        "hasil_jumlah": [""] * len(rows),
        "hasil_satuan": [""] * len(rows),
        "sasaran": [""] * len(rows),
    }


async def test_the_page_adds_rows_without_javascript_and_keeps_the_form(erk: Erk) -> None:
    await erk.tree()
    erk.at(TODAY)
    await _sick_on(erk, TUE)
    async with _browser(erk, STAFF) as browser:
        page = await browser.get("/aktivitas/banyak", params={"tanggal": MON.isoformat()})
        assert page.status_code == 200, page.text
        assert page.text.count('<fieldset class="card batch-row"') == 5
        token = _csrf(page)
        # "Tambah baris" draws the same rows, as typed, and three more; nothing is saved.
        typed = [(MON.isoformat(), "Rapat koordinasi", "120")] + [(MON.isoformat(), "", "")] * 4
        more = await browser.post("/aktivitas/banyak", data=_form(token, typed, "tambah"))
        assert more.status_code == 200, more.text
        assert more.text.count('<fieldset class="card batch-row"') == 8
        assert "Rapat koordinasi" in more.text
        assert await _count(erk) == 0
        # A refused row: every row stays as typed, the Indonesian reason next to that row.
        rows = [
            (MON.isoformat(), "Rapat koordinasi", "120"),
            (SUNDAY.isoformat(), "Kerja bakti", "60"),
            (TUE.isoformat(), "Menyusun laporan", "60"),
            (MON.isoformat(), "", ""),  # blank: skipped
            (MON.isoformat(), "Menelaah surat", "banyak"),
        ]
        r = await browser.post("/aktivitas/banyak", data=_form(token, rows))
        assert r.status_code == 422
        assert 'id="galat-5"' in r.text
        assert "menit (bilangan bulat" in r.text
        rows[4] = (MON.isoformat(), "Menelaah surat", "90")
        r = await browser.post("/aktivitas/banyak", data=_form(token, rows))
        assert r.status_code == 422, r.text
        assert re.search(r'id="galat-2"[^>]*><strong>Tanggal itu bukan hari kerja', r.text)
        assert re.search(r'id="galat-3"[^>]*><strong>Pada tanggal itu Anda tercatat cuti', r.text)
        assert 'id="galat-1"' not in r.text
        assert "Kerja bakti" in r.text
        assert "Menelaah surat" in r.text
        assert "Tidak ada yang disimpan" in r.text
        assert await _count(erk) == 0
        # Corrected, all rows are saved at once.
        rows[1] = (dt.date(2025, 3, 7).isoformat(), "Kerja bakti", "60")
        rows[2] = (dt.date(2025, 3, 6).isoformat(), "Menyusun laporan", "60")
        r = await browser.post("/aktivitas/banyak", data=_form(token, rows))
        assert r.status_code == 200, r.text
        assert "4 aktivitas tersimpan (330 menit)" in r.text
        assert await _count(erk) == 4


async def test_the_page_refuses_an_empty_form_and_other_peoples_targets(erk: Erk) -> None:
    await erk.tree()
    erk.at(TODAY)
    async with _browser(erk, STAFF) as browser:
        token = _csrf(await browser.get("/aktivitas/banyak"))
        r = await browser.post("/aktivitas/banyak", data=_form(token, [("", "", "")]))
        assert r.status_code == 422
        assert "Isi paling sedikit satu baris" in r.text
        data = _form(token, [(MON.isoformat(), "Rapat", "60")])
        data["sasaran"] = ["999"]
        r = await browser.post("/aktivitas/banyak", data=data)
        assert r.status_code == 422
        assert "Sasaran kinerja itu bukan milik Anda" in r.text
    assert await _count(erk) == 0
