"""Issue 13's last gaps: tranches as data (NPHD schedule, order, amount, report condition), the
LPJ per RAB line, and the bansos criteria (selective, temporary) as configuration."""

from __future__ import annotations

from typing import Any

from sabilulungan.config import LPJ_DOCUMENTS
from sabilulungan.models import BudgetLine, Proposal
from shared.testing import assert_problem

from .conftest import EVALUATION
from .test_rules import Unchanged

TRANCHES = """
[[sabilulungan.rule_sets]]
version = "perwal-tahap"
effective_from = 2018-01-01
max_tranches = 3
tranche_percentages = [40, 60]
tranche_report_documents = ["progress_report"]
"""


async def _signed_hibah(world: Any, approved: int = 40_000_000, **sign: Any) -> int:
    await world.budget("hibah", 100_000_000)
    pid: int = (await world.submit(world.hibah()))["id"]
    await world.to_approval(pid, approved)
    await world.ok(pid, "head", "approve", decree_number="5/2027")
    await world.ok(pid, "head", "sign_agreement", agreement_number="NPHD/5/2027", **sign)
    return pid


async def test_the_nphd_schedule_must_add_up_to_the_approved_amount(world: Any) -> None:
    await world.budget("hibah", 100_000_000)
    pid = (await world.submit(world.hibah()))["id"]
    await world.to_approval(pid, 40_000_000)
    await world.ok(pid, "head", "approve", decree_number="5/2027")
    async with Unchanged(world):
        for wrong in ([30_000_000, 9_999_999], [10_000_000] * 4):  # sum; more than max_tranches
            r = await world.act(
                pid, "head", "sign_agreement", agreement_number="NPHD/5/2027", tranches=wrong
            )
            assert assert_problem(r, 422, "invalid-tranche-schedule")["rule"] == "tranche_schedule"
    body = await world.ok(
        pid, "head", "sign_agreement", agreement_number="NPHD/5/2027",
        tranches=[25_000_000, 15_000_000],
    )  # fmt: skip
    assert body["tranche_plan"] == [25_000_000, 15_000_000]


async def test_disbursement_pays_the_next_tranche_only(world: Any) -> None:
    pid = await _signed_hibah(world, tranches=[25_000_000, 15_000_000])
    async with Unchanged(world):
        # out of order: the second tranche's amount first
        r = await world.act(pid, "finance", "disburse", amount_idr=15_000_000)
        problem = assert_problem(r, 422, "wrong-tranche-amount")
        assert (problem["tranche"], problem["expected_idr"]) == (1, 25_000_000)
        r = await world.act(pid, "finance", "disburse", amount_idr=20_000_000)  # wrong amount
        assert_problem(r, 422, "wrong-tranche-amount")
    await world.ok(pid, "finance", "disburse", amount_idr=25_000_000)
    async with Unchanged(world):
        r = await world.act(pid, "finance", "disburse", amount_idr=10_000_000)
        assert assert_problem(r, 422, "wrong-tranche-amount")["tranche"] == 2
    body = await world.ok(pid, "finance", "disburse", amount_idr=15_000_000)
    assert (body["disbursed_idr"], body["tranche_plan"]) == (40_000_000, [25_000_000, 15_000_000])
    # more than scheduled: refused even for an amount that would fit nothing
    async with Unchanged(world):
        r = await world.act(pid, "finance", "disburse", amount_idr=1)
        assert_problem(r, 409, "too-many-tranches")


async def test_the_rule_sets_schedule_and_its_report_condition(world_factory: Any) -> None:
    """Without amounts in the NPHD the rule set's percentages apply; tranche 2 waits for the
    progress report uploaded after tranche 1 was paid."""
    async with world_factory(TRANCHES) as world:
        pid = await _signed_hibah(world)
        row = await world.row(Proposal, id=pid)
        assert row.tranche_plan == [16_000_000, 24_000_000]
        await world.upload(pid, "proposal_letter", "clerk")  # before payment: not a report
        async with Unchanged(world):
            r = await world.act(pid, "finance", "disburse", amount_idr=24_000_000)
            assert_problem(r, 422, "wrong-tranche-amount")
        await world.ok(pid, "finance", "disburse", amount_idr=16_000_000)
        async with Unchanged(world):
            r = await world.act(pid, "finance", "disburse", amount_idr=24_000_000)
            problem = assert_problem(r, 409, "tranche-condition-unmet")
            assert (problem["rule"], problem["missing"]) == ("tranche_report", ["progress_report"])
        assert (await world.upload(pid, "progress_report")).status_code == 201
        body = await world.ok(pid, "finance", "disburse", amount_idr=24_000_000)
        assert body["disbursed_idr"] == 40_000_000


async def test_bansos_follows_the_rule_sets_schedule(world: Any) -> None:
    await world.budget("bansos", 20_000_000)
    pid = (await world.submit(world.bansos()))["id"]
    await world.to_approval(pid, 4_000_000)
    await world.ok(pid, "head", "approve", decree_number="6/2027")
    async with Unchanged(world):
        r = await world.act(pid, "finance", "disburse", amount_idr=1_000_000)
        assert assert_problem(r, 422, "wrong-tranche-amount")["expected_idr"] == 4_000_000
    await world.ok(pid, "finance", "disburse", amount_idr=4_000_000)
    async with Unchanged(world):
        r = await world.act(pid, "finance", "disburse", amount_idr=4_000_000)
        assert_problem(r, 409, "too-many-tranches")


async def _reported_hibah(world: Any) -> int:
    """Requested 50 juta (RAB 30 + 20), approved 40 juta (the head reduced it), fully paid."""
    pid = await _signed_hibah(world)
    await world.ok(pid, "finance", "disburse", amount_idr=40_000_000)
    await world.docs(pid, LPJ_DOCUMENTS)
    return pid


async def test_the_lpj_reports_spending_per_rab_line(world: Any) -> None:
    pid = await _reported_hibah(world)
    lines = [("Material atap", 24_000_000), ("Upah tukang", 15_000_000)]
    spending = [{"description": d, "spent_idr": a} for d, a in lines]
    async with Unchanged(world):
        r = await world.act(pid, "applicant", "submit_report", spent_idr=39_000_000)
        assert_problem(r, 422, "missing-fields")  # no lines at all
        r = await world.act(pid, "applicant", "submit_report", spending=spending[:1])
        assert_problem(r, 422, "lpj-lines-mismatch")  # one line missing
        r = await world.act(pid, "applicant", "submit_report", spending=spending[::-1])
        assert_problem(r, 422, "lpj-lines-mismatch")  # not the RAB's lines in its order
        renamed = [{**spending[0], "description": "Semen"}, spending[1]]
        r = await world.act(pid, "applicant", "submit_report", spending=renamed)
        assert_problem(r, 422, "lpj-lines-mismatch")
        # 40/50 of the 30 juta line is 24 juta: 24 000 001 is above its share
        above = [{**spending[0], "spent_idr": 24_000_001}, spending[1]]
        r = await world.act(pid, "applicant", "submit_report", spending=above)
        problem = assert_problem(r, 422, "lpj-line-above-approved")
        assert (problem["line"], problem["ceiling_idr"]) == (1, 24_000_000)
        # the total must be spent + unspent = paid
        r = await world.act(
            pid, "applicant", "submit_report", spending=spending, unspent_idr=2_000_000
        )
        assert_problem(r, 422, "lpj-total-mismatch")
        r = await world.act(
            pid, "applicant", "submit_report", spending=spending, spent_idr=40_000_000
        )
        assert_problem(r, 422, "lpj-total-mismatch")
    body = await world.ok(
        pid, "applicant", "submit_report", spending=spending, unspent_idr=1_000_000
    )
    assert body["spent_idr"] == 39_000_000
    assert [line["spent_idr"] for line in body["budget_lines"]] == [24_000_000, 15_000_000]
    stored = await world.row(BudgetLine, proposal_id=pid, position=1)
    assert stored.spent_idr == 15_000_000
    # The review page shows the LPJ per RAB line.
    page = await world.client.get(
        f"/usulan/{pid}", headers={**world.h("opd2"), "accept": "text/html"}
    )
    assert page.status_code == 200
    assert "Realisasi LPJ" in page.text
    assert "Rp24.000.000" in page.text


async def test_only_the_total_is_capped_when_configured(world_factory: Any) -> None:
    toml = """
[[sabilulungan.rule_sets]]
version = "perwal-total"
effective_from = 2018-01-01
lpj_line_ceiling = "total"
"""
    async with world_factory(toml) as world:
        pid = await _reported_hibah(world)
        spending = [
            {"description": "Material atap", "spent_idr": 30_000_000},
            {"description": "Upah tukang", "spent_idr": 10_000_000},
        ]
        body = await world.ok(pid, "applicant", "submit_report", spending=spending)
        assert body["spent_idr"] == 40_000_000


async def test_bansos_is_selective_a_social_risk_from_the_list(world: Any) -> None:
    for risk in (None, "ingin_liburan"):
        body = world.bansos(social_risk=risk)
        async with Unchanged(world):
            r = await world.client.post(
                "/api/v1/proposals", json=body, headers=world.h("applicant")
            )
            problem = assert_problem(r, 422, "ineligible-applicant")
        assert problem["rule"] == "social_risk"
        assert "Permendagri 32/2011" in problem["basis"]
    await world.submit(world.bansos(social_risk="korban_bencana"))


async def _approved_bansos(world: Any, year: int, risk: str = "kemiskinan") -> int:
    pid: int = (await world.submit(world.bansos(fiscal_year=year, social_risk=risk)))["id"]
    await world.to_approval(pid, 4_000_000)
    await world.ok(pid, "head", "approve", decree_number=f"7/{year}")
    return pid


async def test_bansos_is_temporary_not_in_consecutive_years(world: Any) -> None:
    import datetime as dt

    from .conftest import NOW

    for year in (world.year, world.year + 1, world.year + 2):
        await world.budget("bansos", 50_000_000, year=year)
    await _approved_bansos(world, world.year)
    world.at(NOW.replace(year=world.year + 1))
    nxt = (await world.submit(world.bansos(fiscal_year=world.year + 1)))["id"]
    await world.complete(nxt, "clerk")
    async with Unchanged(world):
        r = await world.act(nxt, "clerk", "verify_completeness")
        problem = assert_problem(r, 422, "ineligible-applicant")
    assert (problem["rule"], problem["max_consecutive_years"]) == ("temporary", 1)
    # A permanent need (disability) is exempt; a year in between also breaks the run.
    await _approved_bansos(world, world.year + 1, risk="disabilitas")
    world.at(NOW.replace(year=world.year + 2) + dt.timedelta(days=1))
    later = (await world.submit(world.bansos(fiscal_year=world.year + 3)))["id"]
    await world.complete(later, "clerk")
    await world.budget("bansos", 50_000_000, year=world.year + 3)
    await world.ok(later, "clerk", "verify_completeness")


async def test_the_heads_approval_checks_temporary_too(world: Any) -> None:
    """Two proposals of consecutive years in flight at once: the second approval is refused."""
    await world.budget("bansos", 50_000_000)
    await world.budget("bansos", 50_000_000, year=world.year + 1)
    first = (await world.submit(world.bansos()))["id"]
    second = (await world.submit(world.bansos(fiscal_year=world.year + 1)))["id"]
    for pid in (first, second):
        await world.to_approval(pid, 4_000_000)
    await world.ok(first, "head", "approve", decree_number="8/2027")
    async with Unchanged(world):
        r = await world.act(second, "head", "approve", decree_number="9/2028")
        assert assert_problem(r, 422, "ineligible-applicant")["rule"] == "temporary"
    _ = EVALUATION
