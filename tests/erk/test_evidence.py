"""Evidence for activities, when the regency requires it before approval."""

from __future__ import annotations

import datetime as dt
from typing import Any

from shared.testing import assert_problem, client_for

from .conftest import CHIEF, STAFF, STAFF2, Erk

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


async def test_required_evidence_gates_approval(make_app: Any) -> None:
    app = await make_app("erk", config_toml="[erk]\nevidence_required = true\n")
    async with client_for(app) as client:
        erk = Erk(app, client)
        await erk.tree()
        erk.at(dt.date(2025, 3, 12))
        activity = (await erk.log(STAFF, dt.date(2025, 3, 10), 60)).json()
        assert activity["has_evidence"] is False
        chief = await erk.login(CHIEF)
        url = f"/api/v1/activities/{activity['id']}"
        r = await client.post(f"{url}/verify", json={"decision": "approved"}, headers=chief)
        assert_problem(r, 409, "evidence-missing")

        staff = await erk.login(STAFF)
        r = await client.put(
            f"{url}/evidence",
            files={"file": ("foto.jpg", b"not really a picture", "image/jpeg")},
            headers=staff,
        )
        assert_problem(r, 415)
        r = await client.put(
            f"{url}/evidence",
            files={"file": ("notulen.pdf", PDF, "application/pdf")},
            headers=await erk.login(STAFF2),
        )
        assert_problem(r, 403, "not-your-activity")
        r = await client.put(
            f"{url}/evidence",
            files={"file": ("notulen.pdf", PDF, "application/pdf")},
            headers=staff,
        )
        assert r.status_code == 200, r.text
        assert r.json()["has_evidence"] is True

        r = await client.get(f"{url}/evidence", headers=chief)
        assert r.status_code == 200
        assert r.content == PDF
        assert r.headers["content-type"] == "application/pdf"
        r = await client.get(f"{url}/evidence", headers=await erk.login(STAFF2))
        assert_problem(r, 403, "not-your-subordinate")

        r = await client.post(f"{url}/verify", json={"decision": "approved"}, headers=chief)
        assert r.status_code == 200, r.text
        r = await client.put(
            f"{url}/evidence", files={"file": ("lain.pdf", PDF, "application/pdf")}, headers=staff
        )
        assert_problem(r, 409, "activity-locked")


async def test_evidence_is_optional_by_default(erk: Erk) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 12))
    activity = (await erk.log(STAFF, dt.date(2025, 3, 10), 60)).json()
    r = await erk.client.post(
        f"/api/v1/activities/{activity['id']}/verify",
        json={"decision": "approved"},
        headers=await erk.login(CHIEF),
    )
    assert r.status_code == 200, r.text
    r = await erk.client.get(
        f"/api/v1/activities/{activity['id']}/evidence", headers=await erk.login(CHIEF)
    )
    assert_problem(r, 404, "evidence-not-found")
