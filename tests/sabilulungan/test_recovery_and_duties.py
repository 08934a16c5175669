"""Money paid on a cancelled file comes back, the NPHD signatory as a configured duty, and the
registration-age rule of a recipient category: each with its refusals."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from sabilulungan.config import SEGREGATION
from sabilulungan.models import AuditEvent, Budget
from shared.testing import add_account, assert_problem, bearer

from .conftest import NOW
from .test_rules import Unchanged


async def _ledger_row(world: Any) -> dict[str, Any]:
    r = await world.client.get("/api/v1/public/proposals", params={"fiscal_year": world.year})
    row: dict[str, Any] = r.json()["items"][0]
    return row


async def _budget(world: Any) -> tuple[int, int]:
    budget = await world.row(Budget, fiscal_year=world.year, kind="hibah")
    return budget.approved_idr, budget.disbursed_idr


# -- cancellation after a payment: recovery, refunds, release -----------------------------------


async def test_a_paid_file_cancelled_waits_until_the_money_is_back(world: Any) -> None:
    await world.budget("hibah", 100_000_000)
    pid = (await world.submit(world.hibah()))["id"]
    await world.to_approval(pid, 40_000_000)
    await world.ok(pid, "head", "approve", decree_number="400/KEP.1/2027")
    await world.ok(
        pid, "head", "sign_agreement", agreement_number="NPHD/1/2027",
        tranches=[10_000_000, 30_000_000],
    )  # fmt: skip
    await world.ok(pid, "finance", "disburse", amount_idr=10_000_000)  # first tranche
    async with Unchanged(world):
        r = await world.act(pid, "head", "cancel", note="Kegiatan fiktif")
        assert_problem(r, 409, "invalid-transition")  # a paid file is not simply cancelled
        r = await world.act(pid, "finance", "cancel_paid", note="Kegiatan fiktif")
        assert_problem(r, 403, "action-forbidden")
        assert_problem(await world.act(pid, "head", "cancel_paid"), 422, "missing-fields")
    body = await world.ok(pid, "head", "cancel_paid", note="Hasil monev: kegiatan fiktif")
    # the 30 juta never paid goes back to the ceiling at once; the 10 juta paid must come back
    assert (body["status"], body["released_idr"]) == ("recovery", 30_000_000)
    assert await _budget(world) == (10_000_000, 10_000_000)
    async with Unchanged(world):
        r = await world.act(pid, "finance", "close_recovery")
        problem = assert_problem(r, 409, "unspent-not-returned")
        assert (problem["unspent_idr"], problem["refunded_idr"]) == (10_000_000, 0)
        r = await world.act(pid, "finance", "refund_recovery", amount_idr=6_000_000)
        assert assert_problem(r, 422, "missing-documents")["missing"] == ["refund_receipt"]
        # only the deposit slip may be uploaded now
        assert_problem(await world.upload(pid, "lpj_receipts"), 409, "uploads-locked")
    detail = (await world.client.get(f"/api/v1/proposals/{pid}", headers=world.h("clerk"))).json()
    assert detail["missing_documents"] == ["refund_receipt"]
    assert (await world.upload(pid, "refund_receipt")).status_code == 201
    async with Unchanged(world):
        r = await world.act(pid, "finance", "refund_recovery", amount_idr=10_000_001)
        assert assert_problem(r, 422, "invalid-refund")["returnable_idr"] == 10_000_000
    await world.ok(pid, "finance", "refund_recovery", amount_idr=6_000_000)
    async with Unchanged(world):
        r = await world.act(pid, "finance", "close_recovery")
        assert assert_problem(r, 409, "unspent-not-returned")["refunded_idr"] == 6_000_000
    await world.ok(pid, "finance", "refund_recovery", amount_idr=4_000_000)
    closed = await world.ok(pid, "finance", "close_recovery")
    assert (closed["status"], closed["refunded_idr"]) == ("cancelled", 10_000_000)
    assert await _budget(world) == (0, 0)  # the whole approval is free again
    row = await _ledger_row(world)
    assert (row["status"], row["disbursed_idr"]) == ("cancelled", 10_000_000)
    assert (row["refunded_idr"], row["released_idr"]) == (10_000_000, 30_000_000)
    async with world.app.state.db.sessionmaker() as session:
        events = (
            await session.execute(
                select(
                    AuditEvent.action, AuditEvent.actor, AuditEvent.before, AuditEvent.after
                ).where(AuditEvent.entity_id == str(pid), AuditEvent.action.like("proposal.%"))
            )
        ).all()
    assert [(e.action, e.actor) for e in events[-4:]] == [
        ("proposal.cancel_paid", "head"),
        ("proposal.refund_recovery", "finance"),
        ("proposal.refund_recovery", "finance"),
        ("proposal.close_recovery", "finance"),
    ]
    # the log alone says how much was released, returned each time and in all
    cancelled, first, second, _ = events[-4:]
    assert cancelled.after["released_idr"] == 30_000_000
    assert (cancelled.before["released_idr"], cancelled.after["disbursed_idr"]) == (0, 10_000_000)
    assert (first.before["refunded_idr"], first.after["refunded_idr"]) == (0, 6_000_000)
    assert first.after["refund_idr"] == 6_000_000
    assert (second.before["refunded_idr"], second.after["refunded_idr"]) == (6_000_000, 10_000_000)
    assert second.after["refund_idr"] == 4_000_000
    assert_problem(await world.upload(pid, "refund_receipt"), 409, "uploads-locked")


# -- the NPHD signatory ---------------------------------------------------------------------------


async def _approved_hibah(world: Any, approver: str = "head") -> int:
    await world.budget("hibah", 100_000_000)
    pid: int = (await world.submit(world.hibah()))["id"]
    await world.to_approval(pid, 20_000_000)
    await world.ok(pid, approver, "approve", decree_number="400/KEP.2/2027")
    return pid


async def test_by_default_the_head_who_approved_may_sign_the_nphd(world: Any) -> None:
    # Permendagri 32/2011 Pasal 13: the kepala daerah (or the official he appoints) signs the NPHD
    # with the recipient; approving the decree and signing the agreement is not a conflict.
    pid = await _approved_hibah(world)
    body = await world.ok(pid, "head", "sign_agreement", agreement_number="NPHD/2/2027")
    assert body["status"] == "agreement_signed"
    # ... but the signatory never pays: one account holding head and finance signs, then is refused
    await add_account(world.app, "kepkeu", ["head", "finance"])
    world.headers["kepkeu"] = await bearer(world.client, "kepkeu")
    other = (await world.submit(world.hibah(title="Sarana ibadah"), who="applicant2"))["id"]
    await world.to_approval(other, 10_000_000)
    await world.ok(other, "head", "approve", decree_number="400/KEP.3/2027")
    await world.ok(other, "kepkeu", "sign_agreement", agreement_number="NPHD/3/2027")
    async with Unchanged(world):
        r = await world.act(other, "kepkeu", "disburse", amount_idr=10_000_000)
        problem = assert_problem(r, 403, "segregation-of-duties")
    assert problem["rule"] == "treasurer!=signatory"
    assert "Permendagri 32/2011" in problem["basis"]


async def test_a_regency_may_require_another_signatory(world_factory: Any) -> None:
    pairs = [*SEGREGATION, ("head", "signatory")]
    toml = (
        "[sabilulungan]\nsegregation = ["
        + ", ".join(f'["{a}", "{b}"]' for a, b in pairs)
        + ']\nsegregation_basis = "Perwal Kota Contoh 12/2026 Pasal 9 (NPHD oleh Sekda)"\n'
    )
    async with world_factory(toml) as world:
        pid = await _approved_hibah(world)
        async with Unchanged(world):
            r = await world.act(pid, "head", "sign_agreement", agreement_number="NPHD/2/2027")
            problem = assert_problem(r, 403, "segregation-of-duties")
        assert problem["rule"] == "head!=signatory"
        assert problem["basis"] == "Perwal Kota Contoh 12/2026 Pasal 9 (NPHD oleh Sekda)"
        await add_account(world.app, "sekda", ["head"], name="Sekretaris Daerah")
        world.headers["sekda"] = await bearer(world.client, "sekda")
        body = await world.ok(pid, "sekda", "sign_agreement", agreement_number="NPHD/2/2027")
        assert body["status"] == "agreement_signed"


# -- registration age of a recipient category -------------------------------------------------


REGISTERED_3_YEARS = """
[[sabilulungan.rule_sets]]
version = "perwal-registrasi"
effective_from = 2018-01-01
basis = "Perwal Kota Contoh 5/2025 Pasal 7 (terdaftar paling singkat 3 tahun)"

[sabilulungan.rule_sets.recipient_categories.legal_entity]
label = "Badan, lembaga atau ormas berbadan hukum Indonesia"
kind = "hibah"
applicant_type = "organization"
legal_document = "ahu"
required_documents = ["proposal_letter", "rab"]
min_registered_years = 3
"""


async def test_registration_age_when_the_category_asks_for_it(world_factory: Any) -> None:
    today = NOW.date()  # the tests' clock: 2 March, 13:00 WIB
    exactly = today.replace(year=today.year - 3)
    async with world_factory(REGISTERED_3_YEARS) as world:
        for registered in (None, exactly + dt.timedelta(days=1), today):
            body = world.hibah()
            body["applicant"] = {
                **body["applicant"],
                "registered_on": registered.isoformat() if registered else None,
            }
            async with Unchanged(world):
                r = await world.client.post(
                    "/api/v1/proposals", json=body, headers=world.h("applicant")
                )
                problem = assert_problem(r, 422, "ineligible-applicant")
            assert problem["rule"] == "registration_age"
            assert "Perwal Kota Contoh 5/2025" in problem["detail"]
        body = world.hibah()
        body["applicant"] = {**body["applicant"], "registered_on": exactly.isoformat()}
        assert (await world.submit(body))["recipient_category"] == "legal_entity"
    # The national default asks no registration age (a regency option, domain brief section 6).
    async with world_factory() as world:
        assert (await world.submit(world.hibah()))["recipient_category"] == "legal_entity"
