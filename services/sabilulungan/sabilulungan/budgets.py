"""Budget ceilings per fiscal year and kind, and the running totals kept against them.

An approval takes from the ceiling with ONE conditional UPDATE (`approved + amount <= ceiling`),
which PostgreSQL re-evaluates on the locked row, so concurrent approvals never pass the ceiling;
releases and refunds give back with one UPDATE each.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sabilulungan import errors
from sabilulungan.dependencies import Context
from sabilulungan.models import AuditEvent, Budget, Proposal
from sabilulungan.schemas import BudgetCreate, BudgetKindRead, PublicBudgetRead
from shared.audit import record_event
from shared.auth import Principal


async def create_budget(session: AsyncSession, principal: Principal, data: BudgetCreate) -> Budget:
    exists = await session.scalar(
        select(Budget.id).where(Budget.fiscal_year == data.fiscal_year, Budget.kind == data.kind)
    )
    if exists is not None:
        raise errors.BudgetExistsError(
            f"A {data.kind} ceiling for fiscal year {data.fiscal_year} is already set"
        )
    budget = Budget(
        fiscal_year=data.fiscal_year,
        kind=data.kind,
        ceiling_idr=data.ceiling_idr,
        approved_idr=0,
        disbursed_idr=0,
    )
    session.add(budget)
    await session.flush()
    await record_event(
        session,
        AuditEvent,
        actor=principal,
        action="budget.created",
        entity_type="budget",
        entity_id=budget.id,
        after=data.model_dump(),
    )
    return budget


async def change_ceiling(
    session: AsyncSession, principal: Principal, fiscal_year: int, kind: str, ceiling: int
) -> Budget:
    """Change a ceiling (APBD Perubahan); never below what is already approved."""
    budget = (
        await session.execute(
            select(Budget)
            .where(Budget.fiscal_year == fiscal_year, Budget.kind == kind)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if budget is None:
        raise errors.BudgetNotFoundError(f"No {kind} ceiling is set for fiscal year {fiscal_year}")
    if ceiling < budget.approved_idr:
        raise errors.CeilingBelowApprovedError(
            f"{budget.approved_idr} rupiah is already approved; the ceiling cannot go below it",
            approved_idr=budget.approved_idr,
        )
    before = {"ceiling_idr": budget.ceiling_idr}
    budget.ceiling_idr = ceiling
    await session.flush()
    await record_event(
        session,
        AuditEvent,
        actor=principal,
        action="budget.ceiling_changed",
        entity_type="budget",
        entity_id=budget.id,
        before=before,
        after={"ceiling_idr": ceiling},
    )
    return budget


async def public_budget(session: AsyncSession, ctx: Context, fiscal_year: int) -> PublicBudgetRead:
    budgets = (
        (await session.execute(select(Budget).where(Budget.fiscal_year == fiscal_year)))
        .scalars()
        .all()
    )
    totals = (
        await session.execute(
            select(
                Proposal.kind,
                func.count(),
                func.coalesce(func.sum(Proposal.requested_amount_idr), 0),
                func.coalesce(func.sum(Proposal.recommended_amount_idr), 0),
                func.coalesce(
                    func.sum(Proposal.disbursed_idr).filter(Proposal.reported_at.is_not(None)), 0
                ),
                func.coalesce(func.sum(Proposal.refunded_idr), 0),
                func.coalesce(func.sum(Proposal.released_idr), 0),
            )
            .where(
                Proposal.fiscal_year == fiscal_year,
                Proposal.status.not_in(ctx.withdrawn_states),
            )
            .group_by(Proposal.kind)
        )
    ).all()
    by_kind = {row[0]: row for row in totals}
    kinds: dict[str, BudgetKindRead] = {}
    for kind in ("hibah", "bansos"):
        budget = next((b for b in budgets if b.kind == kind), None)
        row = by_kind.get(kind)
        ceiling = budget.ceiling_idr if budget else 0
        approved = budget.approved_idr if budget else 0
        kinds[kind] = BudgetKindRead(
            kind=kind,
            ceiling_idr=ceiling,
            approved_idr=approved,
            disbursed_idr=budget.disbursed_idr if budget else 0,
            remaining_idr=ceiling - approved,
            proposals=int(row[1] or 0) if row else 0,
            proposed_idr=int(row[2] or 0) if row else 0,
            recommended_idr=int(row[3] or 0) if row else 0,
            reported_idr=int(row[4] or 0) if row else 0,
            refunded_idr=int(row[5] or 0) if row else 0,
            released_idr=int(row[6] or 0) if row else 0,
        )
    return PublicBudgetRead(fiscal_year=fiscal_year, kinds=kinds)


async def remaining_ceiling(session: AsyncSession, fiscal_year: int, kind: str) -> int | None:
    """What is left of a year's ceiling for a kind (None when no ceiling is set)."""
    row = (
        await session.execute(
            select(Budget.ceiling_idr, Budget.approved_idr).where(
                Budget.fiscal_year == fiscal_year, Budget.kind == kind
            )
        )
    ).first()
    return None if row is None else int(row.ceiling_idr - row.approved_idr)


async def take_from_ceiling(session: AsyncSession, p: Proposal, amount: int) -> None:
    """Add `amount` to the approved total in one conditional UPDATE, or refuse."""
    result = await session.execute(
        update(Budget)
        .where(
            Budget.fiscal_year == p.fiscal_year,
            Budget.kind == p.kind,
            Budget.approved_idr + amount <= Budget.ceiling_idr,
        )
        .values(approved_idr=Budget.approved_idr + amount)
        .returning(Budget.id)
    )
    if result.first() is not None:
        return
    budget = (
        await session.execute(
            select(Budget.ceiling_idr, Budget.approved_idr).where(
                Budget.fiscal_year == p.fiscal_year, Budget.kind == p.kind
            )
        )
    ).first()
    if budget is None:
        raise errors.BudgetNotSetError(
            f"No {p.kind} ceiling is set for fiscal year {p.fiscal_year}; set it first"
        )
    remaining = budget.ceiling_idr - budget.approved_idr
    raise errors.CeilingExceededError(
        f"Approving {amount} rupiah would exceed the {p.kind} ceiling of fiscal year "
        f"{p.fiscal_year}: {remaining} rupiah remain",
        remaining_idr=remaining,
        ceiling_idr=budget.ceiling_idr,
    )
