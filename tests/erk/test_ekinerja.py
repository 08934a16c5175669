"""Enter once, report twice: Rencana Aksi from e-Kinerja, activities linked to them, and a month
exported in exactly the columns of BKN e-Kinerja's daily-progress form (example file in data/)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select

from erk.ekinerja import EKINERJA_COLUMNS
from erk.models import Activity
from shared.testing import assert_problem, user_headers

from .conftest import CHIEF, OTHER, STAFF, STAFF2, Erk

EXAMPLE = Path(__file__).parent / "data" / f"ekinerja-{STAFF}-2025-03.csv"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PLANS = (
    "nip,periode,rencana_aksi,kode\n"
    f"{STAFF},2025-Q1,Menyusun laporan kinerja triwulan I,RA-01\n"
    f"{STAFF},2025-Q2,Menyusun laporan kinerja triwulan II,RA-02\n"
)


async def _entry(erk: Erk, day: str, text: str, minutes: int, **output: object) -> int:
    r = await erk.client.post(
        "/api/v1/activities",
        json={"date": day, "description": text, "minutes": minutes, **output},
        headers=await erk.login(STAFF),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def test_a_month_exports_in_the_shape_of_the_ekinerja_form(erk: Erk) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 12))
    staff = await erk.login(STAFF)
    files = {"file": ("rencana-aksi.csv", PLANS.encode(), "text/csv")}
    r = await erk.client.post("/api/v1/rencana-aksi/import", files=files, headers=staff)
    assert r.status_code == 201, r.text
    plans = (await erk.client.get(f"/api/v1/employees/{STAFF}/rencana-aksi", headers=staff)).json()
    q1 = next(p["id"] for p in plans if p["period"] == "2025-Q1")
    q2 = next(p["id"] for p in plans if p["period"] == "2025-Q2")

    draft = await _entry(
        erk, "2025-03-10", "Menyusun draf laporan kinerja", 120, output_quantity=1,
        output_unit="dokumen",
    )  # fmt: skip
    meeting = await _entry(erk, "2025-03-10", "Rapat koordinasi bidang", 45)
    check = await _entry(
        erk, "2025-03-11", "Memeriksa data capaian", 240, output_quantity=12, output_unit="lembar"
    )
    refused = await _entry(erk, "2025-03-11", "Kegiatan yang ditolak", 30)
    r = await erk.client.put(
        f"/api/v1/activities/{check}/evidence",
        files={"file": ("notulen.pdf", PDF, "application/pdf")},
        headers=staff,
    )
    assert r.status_code == 200, r.text
    for activity in (draft, check):
        r = await erk.client.put(
            f"/api/v1/activities/{activity}/rencana-aksi",
            json={"action_plan_id": q1},
            headers=staff,
        )
        assert r.status_code == 204, r.text
    # A plan of another quarter, or someone else linking, is refused.
    r = await erk.client.put(
        f"/api/v1/activities/{meeting}/rencana-aksi", json={"action_plan_id": q2}, headers=staff
    )
    assert_problem(r, 404, "action-plan-not-found")
    r = await erk.client.put(
        f"/api/v1/activities/{meeting}/rencana-aksi",
        json={"action_plan_id": q1},
        headers=await erk.login(STAFF2),
    )
    assert_problem(r, 403, "not-your-activity")

    chief = await erk.login(CHIEF)
    r = await erk.client.post(
        "/api/v1/verifications",
        json={"activity_ids": [draft, meeting, check], "decision": "approved"},
        headers=chief,
    )
    assert r.status_code == 200, r.text
    r = await erk.client.post(
        f"/api/v1/activities/{refused}/verify",
        json={"decision": "rejected", "note": "Bukan tugas"},
        headers=chief,
    )
    assert r.status_code == 200, r.text

    r = await erk.client.get(f"/api/v1/ekinerja/{STAFF}/2025-03.csv", headers=staff)
    assert r.status_code == 200, r.text
    assert r.text == EXAMPLE.read_text(encoding="utf-8")
    header = next(csv.reader(io.StringIO(r.text)))
    assert tuple(header) == EKINERJA_COLUMNS
    # The supervisor may export it too; a colleague may not.
    r = await erk.client.get(f"/api/v1/ekinerja/{STAFF}/2025-03.xlsx", headers=chief)
    assert r.status_code == 200, r.text
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    values = [[c or "" for c in row] for row in sheet.iter_rows(values_only=True)]
    expected = list(csv.reader(io.StringIO(EXAMPLE.read_text(encoding="utf-8"))))
    assert values == expected
    r = await erk.client.get(
        f"/api/v1/ekinerja/{STAFF}/2025-03.csv", headers=await erk.login(STAFF2)
    )
    assert_problem(r, 403, "not-your-subordinate")


async def test_an_approved_activity_or_a_closed_month_keeps_its_rencana_aksi(erk: Erk) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 12))
    staff = await erk.login(STAFF)
    files = {"file": ("rencana-aksi.csv", PLANS.encode(), "text/csv")}
    r = await erk.client.post("/api/v1/rencana-aksi/import", files=files, headers=staff)
    assert r.status_code == 201, r.text
    plans = (await erk.client.get(f"/api/v1/employees/{STAFF}/rencana-aksi", headers=staff)).json()
    q1 = next(p["id"] for p in plans if p["period"] == "2025-Q1")
    approved = await _entry(erk, "2025-03-10", "Menyusun draf laporan kinerja", 120)
    pending = await _entry(erk, "2025-03-11", "Memeriksa data capaian", 60)
    r = await erk.client.post(
        f"/api/v1/activities/{approved}/verify",
        json={"decision": "approved"},
        headers=await erk.login(CHIEF),
    )
    assert r.status_code == 200, r.text

    def link(activity: int, plan: int | None) -> object:
        return erk.client.put(
            f"/api/v1/activities/{activity}/rencana-aksi",
            json={"action_plan_id": plan},
            headers=staff,
        )

    # The supervisor approved the activity as it was: neither linking nor unlinking changes it.
    assert_problem(await link(approved, q1), 409, "activity-locked")
    assert_problem(await link(approved, None), 409, "activity-locked")
    # A month HR has closed is frozen, pending items included.
    erk.at(dt.date(2025, 4, 11))
    r = await erk.client.post(
        "/api/v1/periods/2025-03/close", params={"anyway": "true"}, headers=erk.hr
    )
    assert r.status_code == 200, r.text
    assert_problem(await link(pending, q1), 409, "period-closed")
    async with erk.app.state.db.sessionmaker() as session:
        linked = await session.scalars(select(Activity.action_plan_id).order_by(Activity.id))
        assert list(linked) == [None, None]


async def test_a_unit_admin_imports_the_rencana_aksi_of_its_units_current_employees(
    erk: Erk,
) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 12))
    # An administrative clerk's account: unit admin of BIDANG, not an employee itself.
    clerk = await user_headers(erk.app, erk.client, "admin.bidang", ["unit_admin"], unit="BIDANG")
    files = {"file": ("ra.csv", PLANS.encode(), "text/csv")}
    r = await erk.client.post("/api/v1/rencana-aksi/import", files=files, headers=clerk)
    assert r.status_code == 201, r.text
    assert r.json()["imported"] == 2
    # An employee of another unit is not the clerk's to manage: the whole file is refused.
    other = PLANS + f"{OTHER},2025-Q1,Rencana aksi unit lain\n"
    files = {"file": ("ra.csv", other.encode(), "text/csv")}
    r = await erk.client.post("/api/v1/rencana-aksi/import", files=files, headers=clerk)
    body = assert_problem(r, 422, "import-rejected")
    assert [row["row"] for row in body["rows"]] == [4]
    r = await erk.client.get(f"/api/v1/employees/{OTHER}/rencana-aksi", headers=erk.hr)
    assert r.json() == []


async def test_action_plan_import_is_all_or_nothing_and_scoped(erk: Erk) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 12))
    bad = PLANS + f"{STAFF},2025-5,Periode salah\n{STAFF2},2025-Q1,Bukan milik saya\n"
    files = {"file": ("ra.csv", bad.encode(), "text/csv")}
    r = await erk.client.post(
        "/api/v1/rencana-aksi/import", files=files, headers=await erk.login(STAFF)
    )
    # A colleague's plans need an admin's scope: the employee has none.
    assert_problem(r, 403, "out-of-unit-scope")
    files = {"file": ("ra.csv", (PLANS + f"{STAFF},2025-5,Periode salah\n").encode(), "text/csv")}
    r = await erk.client.post(
        "/api/v1/rencana-aksi/import", files=files, headers=await erk.login(STAFF)
    )
    body = assert_problem(r, 422, "import-rejected")
    assert [row["row"] for row in body["rows"]] == [4]
    r = await erk.client.get(
        f"/api/v1/employees/{STAFF}/rencana-aksi", headers=await erk.login(STAFF)
    )
    assert r.json() == []
