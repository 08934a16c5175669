"""The month of an employee and a supervisor, from logging to the payroll spreadsheet."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import load_workbook

from erk.tasks import escalate
from shared.testing import assert_problem

from .conftest import CHIEF, DEPUTY, HEAD, STAFF, STAFF2, Erk, month_with_working_days


async def test_log_reject_correct_approve_delegate_escalate_close_export(erk: Erk) -> None:
    await erk.tree()
    first = month_with_working_days(erk.app, 20)
    days = erk.app.state.calendar.working_days_in_month(first.year, first.month)
    period = f"{first.year:04d}-{first.month:02d}"
    next_month = (first + dt.timedelta(days=32)).replace(day=1)
    chief = await erk.login(CHIEF)

    # The employee logs four days; a colleague logs one.
    erk.at(days[5])
    ids = []
    for day in days[:4]:
        r = await erk.log(STAFF, day, 300)
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "submitted"
        ids.append(r.json()["id"])
    r = await erk.log(STAFF2, days[0], 200)
    assert r.status_code == 201, r.text
    late_item = r.json()["id"]

    pending = await erk.client.get("/api/v1/verifications/pending", headers=chief)
    assert sorted(a["id"] for a in pending.json()) == sorted([*ids, late_item])

    # The supervisor rejects one, with a reason; without one it is refused.
    r = await erk.client.post(
        f"/api/v1/activities/{ids[0]}/verify", json={"decision": "rejected"}, headers=chief
    )
    assert_problem(r, 422, "rejection-note-required")
    r = await erk.client.post(
        f"/api/v1/activities/{ids[0]}/verify",
        json={"decision": "rejected", "note": "Uraian kurang jelas"},
        headers=chief,
    )
    assert r.status_code == 200, r.text

    # The employee corrects it and it goes back for verification.
    r = await erk.client.patch(
        f"/api/v1/activities/{ids[0]}",
        json={"description": "Menyusun laporan bulanan bidang", "minutes": 240},
        headers=await erk.login(STAFF),
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["minutes"], r.json()["note"]) == ("submitted", 240, None)

    # Bulk approval of three.
    r = await erk.client.post(
        "/api/v1/verifications",
        json={"activity_ids": ids[:3], "decision": "approved"},
        headers=chief,
    )
    assert r.status_code == 200, r.text
    r = await erk.client.patch(
        f"/api/v1/activities/{ids[1]}", json={"minutes": 10}, headers=await erk.login(STAFF)
    )
    assert_problem(r, 409, "activity-locked")

    # The deputy cannot verify before the delegation, and can during the chief's leave.
    deputy = await erk.login(DEPUTY)
    r = await erk.client.post(
        f"/api/v1/activities/{ids[3]}/verify", json={"decision": "approved"}, headers=deputy
    )
    assert_problem(r, 403, "not-verifier")
    r = await erk.client.post(
        "/api/v1/delegations",
        json={
            "supervisor_nip": CHIEF,
            "delegate_nip": DEPUTY,
            "start_date": days[6].isoformat(),
            "end_date": days[8].isoformat(),
        },
        headers=erk.hr,
    )
    assert r.status_code == 201, r.text
    erk.at(days[7])
    r = await erk.client.post(
        f"/api/v1/activities/{ids[3]}/verify", json={"decision": "approved"}, headers=deputy
    )
    assert r.status_code == 200, r.text

    # After the deadline (the 10th of the next month) the pending item escalates to the head.
    erk.at(next_month.replace(day=11))
    r = await erk.client.post(
        f"/api/v1/activities/{late_item}/verify", json={"decision": "approved"}, headers=chief
    )
    assert_problem(r, 403, "not-verifier")
    await escalate(erk.app)
    head = await erk.login(HEAD)
    pending = (await erk.client.get("/api/v1/verifications/pending", headers=head)).json()
    assert [a["id"] for a in pending] == [late_item]
    assert pending[0]["escalated_to_nip"] == HEAD
    r = await erk.client.post(
        f"/api/v1/activities/{late_item}/verify", json={"decision": "approved"}, headers=head
    )
    assert r.status_code == 200, r.text

    # The month closes (nobody recorded attendance: refused, then closed knowingly) and the
    # spreadsheet carries the same totals as the API.
    r = await erk.client.post(f"/api/v1/periods/{period}/close", headers=erk.hr)
    assert_problem(r, 409, "period-not-ready")
    r = await erk.client.post(
        f"/api/v1/periods/{period}/close", params={"anyway": "true"}, headers=erk.hr
    )
    assert r.status_code == 200, r.text
    recap = (await erk.client.get(f"/api/v1/recaps/{period}", headers=erk.hr)).json()
    by_nip = {row["nip"]: row for row in recap["items"]}
    assert by_nip[STAFF]["verified_minutes"] == 240 + 300 * 3
    assert by_nip[STAFF2]["verified_minutes"] == 200
    r = await erk.client.get(f"/api/v1/recaps/{period}.xlsx", headers=erk.hr)
    assert r.status_code == 200, r.text
    sheet = load_workbook(io.BytesIO(r.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[2]
    assert header[0] == "NIP"
    data = {row[0]: row for row in rows[3:] if row[0] and str(row[0]).isdigit()}
    assert set(data) == set(by_nip)
    for nip, row in by_nip.items():
        assert data[nip][5] == row["verified_minutes"]
        assert data[nip][11] == row["tpp_total_idr"]
    totals = rows[-1]
    assert totals[0] == "JUMLAH (nilai)"
    assert totals[11] == sum(row["tpp_total_idr"] for row in by_nip.values())
    csv_export = await erk.client.get(f"/api/v1/recaps/{period}.csv", headers=erk.hr)
    assert csv_export.status_code == 200
    assert STAFF in csv_export.text
