"""Every rule of the issue's point 2: a clear 4xx problem, and nothing written."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from sabilulungan.models import AuditEvent, Budget, Proposal, StageEntry
from shared.testing import add_account, assert_problem, bearer

from .conftest import EVALUATION, NOW

TODAY = NOW.date()  # the service's fixed clock (conftest)


async def _state(world: Any) -> tuple[Any, ...]:
    budgets = []
    async with world.app.state.db.sessionmaker() as session:
        from sqlalchemy import select

        for b in (await session.execute(select(Budget).order_by(Budget.id))).scalars():
            budgets.append((b.kind, b.ceiling_idr, b.approved_idr, b.disbursed_idr))
        proposals = [
            (p.id, p.status, p.recommended_amount_idr, p.final_amount_idr,
             p.approved_amount_idr, p.disbursed_idr, p.agreement_number)
            for p in (await session.execute(select(Proposal).order_by(Proposal.id))).scalars()
        ]  # fmt: skip
    return (
        await world.count(Proposal),
        await world.count(StageEntry),
        await world.count(AuditEvent),
        tuple(budgets),
        tuple(proposals),
    )


class Unchanged:
    def __init__(self, world: Any) -> None:
        self.world = world

    async def __aenter__(self) -> None:
        self.before = await _state(self.world)

    async def __aexit__(self, *exc: object) -> None:
        if exc[0] is None:
            assert await _state(self.world) == self.before


async def _refused_create(
    world: Any, body: dict[str, Any], status: int, slug: str
) -> dict[str, Any]:
    async with Unchanged(world):
        r = await world.client.post("/api/v1/proposals", json=body, headers=world.h("applicant"))
        return assert_problem(r, status, slug)


async def test_hibah_only_to_organisations_with_legal_entity(world: Any) -> None:
    person = world.bansos(kind="hibah")
    await _refused_create(world, person, 422, "ineligible-applicant")
    org = world.hibah()
    org["applicant"] = {**org["applicant"], "legal_entity_number": None}
    body = await _refused_create(world, org, 422, "ineligible-applicant")
    assert "298" in body["detail"]


async def test_bansos_individual_needs_a_nik(world: Any) -> None:
    body = world.bansos()
    body["applicant"] = {**body["applicant"], "nik": None}
    await _refused_create(world, body, 422, "ineligible-applicant")


async def test_amounts_are_whole_positive_rupiah(world: Any) -> None:
    for amount in (1.5, 0, -5_000_000, "lima juta"):
        await _refused_create(
            world, world.bansos(requested_amount_idr=amount), 422, "validation-error"
        )
    lines = [{"description": "Modal", "amount_idr": 2_500_000.5}]
    await _refused_create(world, world.bansos(budget_lines=lines), 422, "validation-error")


async def test_budget_lines_must_sum_to_requested(world: Any) -> None:
    body = world.bansos(requested_amount_idr=6_000_000)
    problem = await _refused_create(world, body, 422, "budget-lines-mismatch")
    assert problem["lines_total_idr"] == 5_000_000


async def test_proposal_window_from_configuration(world_factory: Any) -> None:
    """Windows are required by default: before, after and without a window the proposal is
    refused with the rule and its basis; inside it is accepted."""
    toml = f"""
[[sabilulungan.proposal_windows]]
fiscal_year = {TODAY.year}
opens_on = {TODAY - dt.timedelta(days=60)}
closes_on = {TODAY - dt.timedelta(days=1)}

[[sabilulungan.proposal_windows]]
fiscal_year = {TODAY.year + 1}
opens_on = {TODAY + dt.timedelta(days=1)}
closes_on = {TODAY + dt.timedelta(days=90)}

[[sabilulungan.proposal_windows]]
fiscal_year = {TODAY.year + 3}
opens_on = {TODAY}
closes_on = {TODAY}

[sabilulungan.yearly_window]
enabled = false
"""
    async with world_factory(toml) as world:
        after = await _refused_create(world, world.bansos(), 422, "proposal-window-closed")
        assert str(TODAY - dt.timedelta(days=1)) in after["detail"]
        assert after["rule"] == "proposal_window"
        assert "Permendagri 32/2011" in after["basis"]
        before = await _refused_create(
            world, world.bansos(fiscal_year=TODAY.year + 1), 422, "proposal-window-closed"
        )
        assert before["opens_on"] == str(TODAY + dt.timedelta(days=1))
        # A fiscal year without a window is closed by default (require_window = true).
        none = await _refused_create(
            world, world.bansos(fiscal_year=TODAY.year + 2), 422, "proposal-window-closed"
        )
        assert "No proposal window" in none["detail"]
        assert none["basis"]
        await world.submit(world.bansos(fiscal_year=TODAY.year + 3))


async def test_the_default_yearly_window_is_the_year_before(world_factory: Any) -> None:
    """Unlisted fiscal years get the national default: proposals during year N-1 for year N."""
    toml = f"""
[[sabilulungan.proposal_windows]]
fiscal_year = {TODAY.year + 9}
opens_on = {TODAY}
closes_on = {TODAY}
"""
    async with world_factory(toml) as world:
        await world.submit(world.bansos(fiscal_year=TODAY.year + 1))
        after = await _refused_create(world, world.bansos(), 422, "proposal-window-closed")
        assert after["closes_on"] == f"{TODAY.year - 1}-12-31"
        before = await _refused_create(
            world, world.bansos(fiscal_year=TODAY.year + 2), 422, "proposal-window-closed"
        )
        assert before["opens_on"] == f"{TODAY.year + 1}-01-01"


async def test_no_window_open_only_when_turned_off_with_a_basis(world_factory: Any) -> None:
    from pydantic import ValidationError

    from sabilulungan.config import SabilulunganSection

    with pytest.raises(ValidationError, match="no_window_basis"):
        SabilulunganSection(require_window=False)
    assert SabilulunganSection().require_window is True
    toml = """
[sabilulungan]
require_window = false
no_window_basis = "Perwal Contoh No. 7 Tahun 2026 Pasal 3"

[sabilulungan.yearly_window]
enabled = false
"""
    async with world_factory(toml) as world:
        pid = (await world.submit(world.bansos(fiscal_year=TODAY.year + 2)))["id"]
        event = await world.row(AuditEvent, action="proposal.submitted", entity_id=str(pid))
        if event is None:
            event = await world.row(AuditEvent, action="proposal.submitted", entity_id=pid)
        assert "Perwal Contoh No. 7" in str(event.after)


async def test_the_apply_page_shows_the_window_refusal_in_indonesian(world_factory: Any) -> None:
    from shared.testing import client_for

    from .test_pages import HTML, _csrf, _login

    toml = f"""
[[sabilulungan.proposal_windows]]
fiscal_year = {TODAY.year + 5}
opens_on = {TODAY}
closes_on = {TODAY}

[sabilulungan.yearly_window]
enabled = false
"""
    async with world_factory(toml) as world, client_for(world.app, headers=HTML) as browser:
        await _login(browser, "applicant")
        form_page = await browser.get("/ajukan")
        fields = {
            "csrf_token": _csrf(form_page.text), "kind": "bansos",
            "fiscal_year": str(TODAY.year + 1), "title": "Bantuan modal warung",
            "purpose": "Modal usaha", "purpose_code": "pemberdayaan_sosial",
            "social_risk": "kemiskinan", "requested_amount_idr": "3.000.000",
            "line_description_0": "Barang dagangan", "line_amount_0": "3.000.000",
            "applicant_type": "individual", "applicant_name": "Pak Darto",
            "nik": "3273010101900001", "address": "Jl. Kenanga No. 3",
            "region_code": "32.73.01.1001", "phone": "081234567890",
        }  # fmt: skip
        r = await browser.post("/ajukan", data=fields)
        assert r.status_code == 422
        assert "Belum ada masa pengajuan usulan" in r.text
        assert "Permendagri 32/2011" in r.text
        assert "Bantuan modal warung" in r.text  # the form is kept
        assert await world.count(Proposal) == 0


async def test_recommended_and_final_amounts_never_above_requested(world: Any) -> None:
    pid = (await world.submit(world.bansos()))["id"]
    await world.complete(pid, "clerk")
    await world.ok(pid, "clerk", "verify_completeness")
    await world.ok(pid, "coordinator", "assign_opd", opd_code="DINSOS")
    async with Unchanged(world):
        r = await world.act(pid, "opd", "recommend", amount_idr=5_000_001, checklist=EVALUATION)
        assert_problem(r, 422, "amount-above-requested")
    await world.ok(pid, "opd", "recommend", amount_idr=5_000_000, checklist=EVALUATION)
    async with Unchanged(world):
        r = await world.act(pid, "tapd", "consider", amount_idr=7_000_000)
        assert_problem(r, 422, "amount-above-requested")


async def test_ceiling_refuses_an_approval_that_does_not_fit(world: Any) -> None:
    await world.budget("bansos", 4_000_000)
    pid = (await world.submit(world.bansos()))["id"]
    await world.to_approval(pid, 5_000_000)
    async with Unchanged(world):
        r = await world.act(pid, "head", "approve", decree_number="1/2027")
        problem = assert_problem(r, 409, "budget-ceiling-exceeded")
    assert problem["remaining_idr"] == 4_000_000


async def test_approval_without_a_budget_is_refused(world: Any) -> None:
    pid = (await world.submit(world.bansos()))["id"]
    await world.to_approval(pid, 5_000_000)
    async with Unchanged(world):
        r = await world.act(pid, "head", "approve", decree_number="1/2027")
        assert_problem(r, 409, "budget-not-set")


async def test_recommender_cannot_approve(world: Any) -> None:
    await world.budget("bansos", 50_000_000)
    await add_account(world.app, "dualrole", ["opd_evaluator", "head"], unit="DINSOS")
    dual = await bearer(world.client, "dualrole")
    world.headers["dual"] = dual
    pid = (await world.submit(world.bansos()))["id"]
    await world.complete(pid, "clerk")
    await world.ok(pid, "clerk", "verify_completeness")
    await world.ok(pid, "coordinator", "assign_opd", opd_code="DINSOS")
    await world.ok(pid, "dual", "recommend", amount_idr=5_000_000, checklist=EVALUATION)
    await world.ok(pid, "tapd", "consider", amount_idr=5_000_000)
    async with Unchanged(world):
        r = await world.act(pid, "dual", "approve", decree_number="1/2027")
        assert_problem(r, 403, "segregation-of-duties")
    await world.ok(pid, "head", "approve", decree_number="1/2027")


async def test_approval_needs_a_decree_number(world: Any) -> None:
    await world.budget("bansos", 50_000_000)
    pid = (await world.submit(world.bansos()))["id"]
    await world.to_approval(pid, 5_000_000)
    async with Unchanged(world):
        r = await world.act(pid, "head", "approve")
        problem = assert_problem(r, 422, "missing-fields")
        assert problem["fields"] == ["decree_number"]
        r = await world.act(pid, "head", "approve", decree_number="   ")
        assert_problem(r, 422, "missing-fields")


async def test_hibah_not_disbursed_before_nphd_nor_above_approved(world: Any) -> None:
    await world.budget("hibah", 100_000_000)
    pid = (await world.submit(world.hibah()))["id"]
    await world.to_approval(pid, 40_000_000)
    await world.ok(pid, "head", "approve", decree_number="2/2027")
    async with Unchanged(world):
        r = await world.act(pid, "finance", "disburse", amount_idr=10_000_000)
        assert_problem(r, 409, "agreement-required")
    await world.ok(
        pid, "head", "sign_agreement", agreement_number="NPHD/9/2027",
        tranches=[30_000_000, 10_000_000],
    )  # fmt: skip
    async with Unchanged(world):
        r = await world.act(pid, "finance", "disburse", amount_idr=40_000_001)
        assert_problem(r, 422, "wrong-tranche-amount")  # not the NPHD's first tranche
    await world.ok(pid, "finance", "disburse", amount_idr=30_000_000)
    async with Unchanged(world):
        r = await world.act(pid, "finance", "disburse", amount_idr=10_000_001)
        assert_problem(r, 422, "wrong-tranche-amount")


async def test_freeze_period_refuses_approval_and_disbursement(world_factory: Any) -> None:
    toml = f"""
[[sabilulungan.freeze_periods]]
name = "Pilkada serentak"
starts_on = {TODAY - dt.timedelta(days=1)}
ends_on = {TODAY + dt.timedelta(days=1)}
kinds = ["bansos"]
"""
    async with world_factory(toml) as world:
        await world.budget("bansos", 50_000_000)
        await world.budget("hibah", 50_000_000)
        pid = (await world.submit(world.bansos()))["id"]
        await world.to_approval(pid, 5_000_000)
        async with Unchanged(world):
            r = await world.act(pid, "head", "approve", decree_number="3/2027")
            problem = assert_problem(r, 409, "freeze-period")
        assert "Pilkada serentak" in problem["detail"]
        assert problem["period"] == "Pilkada serentak"
        # Hibah is not in the configured kinds.
        hid = (await world.submit(world.hibah()))["id"]
        await world.to_approval(hid, 10_000_000)
        await world.ok(hid, "head", "approve", decree_number="3/2027")


async def test_wrong_state_is_409_and_wrong_role_is_403(world: Any) -> None:
    pid = (await world.submit(world.bansos()))["id"]
    async with Unchanged(world):
        r = await world.act(pid, "head", "approve", decree_number="1/2027")
        assert_problem(r, 409, "invalid-transition")
        r = await world.act(pid, "finance", "verify_completeness")
        assert_problem(r, 403, "action-forbidden")
        r = await world.act(pid, "clerk", "fly_to_the_moon")
        assert_problem(r, 422, "unknown-action")
        r = await world.act(pid, "clerk", "reject")
        assert_problem(r, 422, "missing-fields")


async def test_only_the_applicant_withdraws_and_only_before_approval(world: Any) -> None:
    await world.budget("bansos", 50_000_000)
    pid = (await world.submit(world.bansos()))["id"]
    async with Unchanged(world):
        r = await world.act(pid, "applicant2", "withdraw")
        assert_problem(r, 404, "proposal-not-found")
    pid2 = (await world.submit(world.bansos()))["id"]
    await world.to_approval(pid2, 5_000_000)
    await world.ok(pid2, "head", "approve", decree_number="4/2027")
    async with Unchanged(world):
        r = await world.act(pid2, "applicant", "withdraw")
        assert_problem(r, 409, "invalid-transition")
    body = await world.ok(pid, "applicant", "withdraw")
    assert body["status"] == "withdrawn"


async def test_opd_evaluator_sees_only_its_own_opd(world: Any) -> None:
    pid = (await world.submit(world.bansos()))["id"]
    await world.complete(pid, "clerk")
    await world.ok(pid, "clerk", "verify_completeness")
    await world.ok(pid, "coordinator", "assign_opd", opd_code="DINSOS")
    r = await world.client.get(f"/api/v1/proposals/{pid}", headers=world.h("opd_other"))
    assert_problem(r, 404, "proposal-not-found")
    async with Unchanged(world):
        r = await world.act(
            pid, "opd_other", "recommend", amount_idr=1_000_000, checklist=EVALUATION
        )
        assert_problem(r, 404, "proposal-not-found")
    listed = await world.client.get("/api/v1/proposals", headers=world.h("opd_other"))
    assert listed.json()["items"] == []
    listed = await world.client.get("/api/v1/proposals", headers=world.h("opd"))
    assert [p["id"] for p in listed.json()["items"]] == [pid]


async def test_budget_is_set_once_by_tapd(world: Any) -> None:
    await world.budget("hibah", 10_000_000)
    body = {"fiscal_year": world.year, "kind": "hibah", "ceiling_idr": 20_000_000}
    async with Unchanged(world):
        r = await world.client.post("/api/v1/budgets", json=body, headers=world.h("tapd"))
        assert_problem(r, 409, "budget-exists")
        r = await world.client.post("/api/v1/budgets", json=body, headers=world.h("applicant"))
        assert_problem(r, 403, "forbidden")
        r = await world.client.post(
            "/api/v1/budgets", json={**body, "ceiling_idr": 1.5}, headers=world.h("tapd")
        )
        assert_problem(r, 422, "validation-error")


async def test_idempotent_proposal_creation(world: Any) -> None:
    headers = {**world.h("applicant"), "Idempotency-Key": "abc-1"}
    first = await world.client.post("/api/v1/proposals", json=world.bansos(), headers=headers)
    again = await world.client.post("/api/v1/proposals", json=world.bansos(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["tracking_code"] == again.json()["tracking_code"]
    assert await world.count(Proposal) == 1


async def test_ceiling_changes_never_go_below_the_approved_total(world: Any) -> None:
    await world.budget("bansos", 10_000_000)
    pid = (await world.submit(world.bansos()))["id"]
    await world.to_approval(pid, 5_000_000)
    await world.ok(pid, "head", "approve", decree_number="1/2027")
    url = f"/api/v1/budgets/{world.year}/bansos"
    async with Unchanged(world):
        r = await world.client.put(url, json={"ceiling_idr": 4_999_999}, headers=world.h("tapd"))
        assert_problem(r, 409, "ceiling-below-approved")
        r = await world.client.put(url, json={"ceiling_idr": 9}, headers=world.h("head"))
        assert_problem(r, 403)
        r = await world.client.put(
            f"/api/v1/budgets/{world.year}/hibah", json={"ceiling_idr": 9}, headers=world.h("tapd")
        )
        assert_problem(r, 404, "budget-not-found")
    r = await world.client.put(url, json={"ceiling_idr": 5_000_000}, headers=world.h("tapd"))
    assert r.status_code == 200
    assert r.json()["remaining_idr"] == 0


def test_the_readme_lists_every_configurable_rule() -> None:
    """Every key of `[sabilulungan]`, of a rule set and of a recipient category is named in the
    service README's rule table (with its default and legal basis)."""
    from pathlib import Path

    from sabilulungan.config import RecipientCategory, RuleSet, SabilulunganSection

    readme = Path(__file__).parents[2] / "services" / "sabilulungan" / "README.md"
    table = readme.read_text().split("## Controls and the rules behind them", 1)[1]
    keys = [
        f"{model.__name__}.{name}"
        for model in (SabilulunganSection, RuleSet, RecipientCategory)
        for name in model.model_fields
        if not re.search(rf"`([\w\[\]]*\.)?{name}`", table)
    ]
    assert keys == []
    # Every row names its default and its legal basis: a blank or a dash is not an answer.
    rows = [line for line in table.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert rows[1].replace("|", "").replace("-", "").strip() == ""  # the header's rule
    default, basis = header.index("Default"), header.index("Legal basis")
    blank = []
    for row in rows[2:]:
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        assert len(cells) == len(header), row
        blank += [
            f"{cells[0]}: {header[i]}" for i in (default, basis) if cells[i] in ("", "-", "—")
        ]
    assert len(rows) > 20
    assert blank == []


def test_a_yearly_window_is_built_once_per_year_and_follows_its_dates() -> None:
    """Each submission asks for its year's window twice; it was a validated model built anew
    every time. Kept per (year, dates): a copy with other dates gets its own window."""
    from sabilulungan.config import YearlyWindow

    window = YearlyWindow(opens_month=1, opens_day=2, closes_month=4, closes_day=30)
    first = window.for_year(2027)
    assert first is not None
    assert window.for_year(2027) is first
    assert (first.opens_on, first.closes_on) == (dt.date(2026, 1, 2), dt.date(2026, 4, 30))
    moved = window.model_copy(update={"opens_day": 3}).for_year(2027)
    assert moved is not None
    assert moved.opens_on == dt.date(2026, 1, 3)
    assert window == YearlyWindow(opens_month=1, opens_day=2, closes_month=4, closes_day=30)
    assert YearlyWindow(enabled=False).for_year(2027) is None
