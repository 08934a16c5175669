"""Demo data: a fiscal year with ceilings, proposals in every stage, an account per role."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from sabilulungan import demo, evidence
from sabilulungan.main import build_spec
from sabilulungan.models import Document, Proposal
from sabilulungan.workflow import DEFAULT_WORKFLOW
from shared.testing import AppFactory, bearer, client_for


async def test_demo_covers_every_stage_and_role(make_app: AppFactory) -> None:
    app = await make_app("sabilulungan")
    spec = build_spec(app.state.settings, app.state.config)
    for _ in range(2):  # seeding twice does not duplicate
        async with app.state.db.sessionmaker.begin() as session:
            logins = await demo.seed(session, spec)
    roles = {role for _, _, rs in logins for role in rs}
    assert roles == {
        "applicant", "clerk", "coordinator", "opd_evaluator", "tapd", "head", "finance",
        "auditor", "admin",
    }  # fmt: skip
    async with app.state.db.sessionmaker() as session:
        rows = (
            await session.execute(select(Proposal.status, func.count()).group_by(Proposal.status))
        ).all()
    by_status: dict[str, Any] = dict(rows)  # type: ignore[arg-type]
    assert set(by_status) == {s.name for s in DEFAULT_WORKFLOW.states}
    assert sum(by_status.values()) == len(demo.SCENARIOS)
    # Every file past the completeness check has its category's documents on file.
    async with app.state.db.sessionmaker() as session:
        checked = (
            (
                await session.execute(
                    select(Proposal).where(
                        Proposal.status.not_in(["submitted", "revision", "rejected", "withdrawn"])
                    )
                )
            )
            .scalars()
            .all()
        )
        for p in checked:
            items = set(
                await session.scalars(
                    select(Document.checklist_item).where(Document.proposal_id == p.id)
                )
            )
            rule = app.state.config.sabilulungan.rule_sets[-1]
            assert set(evidence.required_documents(rule, p)) <= items, p.title
            if p.reported_at is not None:
                assert set(rule.lpj_documents) <= items, p.title
    async with client_for(app) as client:
        headers = await bearer(client, "kepala", demo.DEMO_PASSWORD)
        assert (await client.get("/api/v1/auth/me", headers=headers)).json()["roles"] == ["head"]
        year = dt.date.today().year
        kinds = (await client.get(f"/api/v1/public/budgets/{year}")).json()["kinds"]
        # This year: four hibah paid at 18 juta each, 1 juta of which came back unspent (one of
        # them cancelled after payment, its 18 juta still to come back).
        assert kinds["hibah"]["ceiling_idr"] == 150_000_000
        assert kinds["hibah"]["approved_idr"] == 4 * 18_000_000 - 1_000_000
        assert kinds["hibah"]["disbursed_idr"] == 4 * 18_000_000 - 1_000_000
        # Next year: two approved and not yet paid; the cancelled one went back to the ceiling.
        kinds = (await client.get(f"/api/v1/public/budgets/{year + 1}")).json()["kinds"]
        assert kinds["hibah"]["approved_idr"] == 2 * 18_000_000
        assert kinds["hibah"]["disbursed_idr"] == 0
