"""Whole default workflow over HTTP, checking tracking and the public ledger at each stage."""

from __future__ import annotations

from typing import Any

from sabilulungan.config import LPJ_DOCUMENTS
from sabilulungan.models import IssuedDocument

from .conftest import EVALUATION


async def _track(world: Any, code: str) -> dict[str, Any]:
    r = await world.client.get(f"/api/v1/public/track/{code}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _ledger(world: Any, code: str) -> dict[str, Any]:
    r = await world.client.get("/api/v1/public/proposals", params={"fiscal_year": world.year})
    assert r.status_code == 200, r.text
    rows = [row for row in r.json()["items"] if row["tracking_code"] == code]
    assert len(rows) == 1
    row: dict[str, Any] = rows[0]
    return row


async def _check(
    world: Any, code: str, status: str, stages: list[str], holder: str | None
) -> dict[str, Any]:
    track = await _track(world, code)
    assert track["status"] == status
    assert [t["stage"] for t in track["timeline"]] == stages
    assert track["holder"] == holder
    assert all(t["left_at"] is not None for t in track["timeline"][:-1])
    assert track["timeline"][-1]["left_at"] is None
    row = await _ledger(world, code)
    assert row["status"] == status
    return row


async def test_hibah_walks_the_whole_default_workflow(world: Any) -> None:
    await world.budget("hibah", 100_000_000)
    created = await world.submit(world.hibah())
    pid, code = created["id"], created["tracking_code"]
    assert created["status"] == "submitted"
    stages = ["submitted"]
    await _check(world, code, "submitted", stages, "clerk")

    steps: list[tuple[str, str, dict[str, Any], str, str | None]] = [
        ("clerk", "return_for_revision", {"note": "Lampirkan akta"}, "revision", "applicant"),
        ("applicant", "resubmit", {}, "submitted", "clerk"),
        ("clerk", "verify_completeness", {}, "awaiting_assignment", "coordinator"),
        ("coordinator", "assign_opd", {"opd_code": "DINSOS"}, "evaluation", "opd_evaluator"),
        ("opd", "recommend", {"amount_idr": 45_000_000, "checklist": EVALUATION},
         "consideration", "tapd"),
        ("tapd", "consider", {"amount_idr": 40_000_000}, "awaiting_approval", "head"),
        ("head", "approve", {"decree_number": "400/KEP.12-KESRA/2026"}, "approved", "head"),
        ("head", "sign_agreement", {"agreement_number": "NPHD/001/2026",
                                    "tranches": [25_000_000, 15_000_000]}, "agreement_signed",
         "finance"),
        ("finance", "disburse", {"amount_idr": 25_000_000}, "disbursed", "applicant"),
        ("finance", "disburse", {"amount_idr": 15_000_000}, "disbursed", "applicant"),
        ("applicant", "submit_report", {"spent_idr": 40_000_000}, "reported", "opd_evaluator"),
        ("opd2", "accept_report", {}, "closed", None),
    ]  # fmt: skip
    for who, action, fields, status, holder in steps:
        if action == "verify_completeness":
            await world.complete(pid, "applicant")
        if action == "submit_report":
            await world.docs(pid, LPJ_DOCUMENTS)
            fields = await world.spend(pid, fields["spent_idr"])
        body = await world.ok(pid, who, action, **fields)
        assert body["status"] == status, action
        stages.append(status)
        row = await _check(world, code, status, stages, holder)
        if action == "recommend":
            assert row["recommended_idr"] == 45_000_000
        if action == "approve":
            assert row["approved_idr"] == 40_000_000
            assert row["decree_number"] == "400/KEP.12-KESRA/2026"
            budget = (await world.client.get(f"/api/v1/public/budgets/{world.year}")).json()
            assert budget["kinds"]["hibah"]["approved_idr"] == 40_000_000
            assert budget["kinds"]["hibah"]["remaining_idr"] == 60_000_000
    row = await _ledger(world, code)
    assert row["disbursed_idr"] == 40_000_000
    assert row["reported"] is True
    assert row["recipient_address"] == "Jl. Merdeka No. 10, Bandung"
    budget = (await world.client.get(f"/api/v1/public/budgets/{world.year}")).json()
    hibah = budget["kinds"]["hibah"]
    assert (hibah["ceiling_idr"], hibah["approved_idr"], hibah["disbursed_idr"]) == (
        100_000_000,
        40_000_000,
        40_000_000,
    )
    assert hibah["reported_idr"] == 40_000_000
    track = await _track(world, code)
    assert track["final"] is True
    assert track["timeline"][0]["sla_working_days"] == 5
    detail = (await world.client.get(f"/api/v1/proposals/{pid}", headers=world.h("auditor"))).json()
    assert detail["lpj_due_date"] == f"{world.year + 1}-01-10"

    # The NPHD PDF opens and its QR leads to the verification page.
    pdf = await world.client.get(f"/api/v1/proposals/{pid}/nphd.pdf", headers=world.h("applicant"))
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")
    doc = await world.row(IssuedDocument, doc_type="nphd")
    verify = await world.client.get(f"/verify/{doc.number}", headers={"accept": "text/html"})
    assert verify.status_code == 200
    assert "NPHD/001/2026" in verify.text
    api = (await world.client.get(f"/api/v1/public/verify/{doc.number}")).json()
    assert api["valid"] is True
    assert api["amount_idr"] == 40_000_000
    assert api["tracking_code"] == code


async def test_bansos_walks_the_whole_default_workflow(world: Any) -> None:
    await world.budget("bansos", 20_000_000)
    created = await world.submit(world.bansos(), who="applicant2")
    pid, code = created["id"], created["tracking_code"]
    stages = ["submitted"]
    steps: list[tuple[str, str, dict[str, Any], str]] = [
        ("clerk", "verify_completeness", {}, "awaiting_assignment"),
        ("coordinator", "assign_opd", {"opd_code": "DINSOS"}, "evaluation"),
        ("opd", "return_for_revision", {"note": "Foto usaha kurang jelas"}, "revision"),
        ("applicant2", "resubmit", {}, "submitted"),
        ("clerk", "verify_completeness", {}, "awaiting_assignment"),
        ("coordinator", "assign_opd", {"opd_code": "DINSOS"}, "evaluation"),
        ("opd", "recommend", {"amount_idr": 5_000_000, "checklist": EVALUATION}, "consideration"),
        ("tapd", "consider", {"amount_idr": 4_000_000}, "awaiting_approval"),
        ("head", "approve", {"decree_number": "400/KEP.13-KESRA/2026"}, "approved"),
        ("finance", "disburse", {"amount_idr": 4_000_000}, "disbursed"),
        ("applicant2", "submit_report", {"spent_idr": 4_000_000}, "reported"),
        ("opd2", "accept_report", {}, "closed"),
    ]
    for who, action, fields, status in steps:
        if action == "verify_completeness" and len(stages) == 1:
            await world.complete(pid, "applicant2")
        if action == "submit_report":
            await world.docs(pid, LPJ_DOCUMENTS, "applicant2")
            fields = await world.spend(pid, fields["spent_idr"])
        await world.ok(pid, who, action, **fields)
        stages.append(status)
        row = await _check(
            world,
            code,
            status,
            stages,
            None if status == "closed" else (await _track(world, code))["holder"],
        )
        assert row["recipient_address"] is None
        assert row["region_code"] == "32.73.01"
    detail = await world.client.get(f"/api/v1/proposals/{pid}", headers=world.h("applicant2"))
    history = detail.json()["history"]
    assert [h["state"] for h in history] == stages
    assert history[3]["note"] == "Foto usaha kurang jelas"
    assert history[3]["actor_role"] == "opd_evaluator"
    assert {h["rule_version"] for h in history} == {"permendagri-32-2011-123-2018"}
    budget = (await world.client.get(f"/api/v1/public/budgets/{world.year}")).json()["kinds"]
    assert budget["bansos"]["approved_idr"] == 4_000_000
    assert budget["bansos"]["disbursed_idr"] == 4_000_000
    assert budget["hibah"]["approved_idr"] == 0
