"""Reading proposals: who may see which, masked views, the audited reveal, lists and desks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from sabilulungan import errors, evidence
from sabilulungan.dependencies import Context
from sabilulungan.flags import compute_flags
from sabilulungan.models import AuditEvent, Proposal, StageEntry
from sabilulungan.schemas import (
    ApplicantRead,
    BoardMemberRead,
    BudgetLineRead,
    FlagRead,
    HistoryEntry,
    ProposalRead,
    ProposalSummary,
)
from sabilulungan.workflow import OFFICERS
from shared.audit import record_event
from shared.auth import Principal
from shared.pagination import keyset_page
from shared.rows import read_model
from shared.workflow import due_at

PERSONAL_DATA_ROLES = frozenset({"clerk", "opd_evaluator", "finance", "auditor"})
HIDDEN = "(disembunyikan)"
MASKED = "****************"


def _masked_applicant(
    ctx: Context, p: Proposal, board: list[BoardMemberRead], unmasked: dict[str, Any] | None
) -> ApplicantRead:
    if unmasked is not None:
        return ApplicantRead(
            type=p.applicant_type,
            name=p.applicant_name,
            legal_entity_number=p.legal_entity_number,
            region_code=p.region_code,
            board_members=board,
            **unmasked,
        )
    return ApplicantRead(
        type=p.applicant_type,
        name=p.applicant_name,
        legal_entity_number=p.legal_entity_number,
        region_code=p.region_code,
        address=p.public_address if p.public_address is not None else HIDDEN,
        phone=HIDDEN,
        nik=MASKED if p.nik_enc else None,
        npwp=MASKED if p.npwp_enc else None,
        bank_account=MASKED if p.bank_account_enc else None,
        board_members=board,
    )


def _proposal_read(
    ctx: Context,
    p: Proposal,
    principal: Principal,
    *,
    lines: list[BudgetLineRead],
    board: list[BoardMemberRead],
    unmasked: dict[str, Any] | None,
) -> ProposalRead:
    actions = [a.name for a in ctx.workflow.available_actions(p.status, principal.roles)]
    if p.kind == "hibah" and not p.agreement_number:
        actions = [a for a in actions if ctx.effect(a) != "disburse"]  # no "Cairkan" before NPHD
    return read_model(
        ProposalRead,
        p,
        status_label=ctx.state_label(p.status),
        holder=ctx.holder(p.status),
        available_actions=actions,
        budget_lines=lines,
        applicant=_masked_applicant(ctx, p, board, unmasked),
    )


def can_see(p: Proposal, principal: Principal) -> bool:
    if principal.roles & OFFICERS:
        return True
    if "opd_evaluator" in principal.roles and p.opd_code and p.opd_code == principal.unit:
        return True
    return "applicant" in principal.roles and p.owner_id == principal.account_id


def visible_to(principal: Principal) -> ColumnElement[bool] | None:
    """`can_see` as a SQL condition for lists: None for officers (every file), no row at all for
    someone who holds neither an OPD desk nor files of their own."""
    if principal.roles & OFFICERS:
        return None
    allowed: list[ColumnElement[bool]] = []
    if "opd_evaluator" in principal.roles and principal.unit:
        allowed.append(Proposal.opd_code == principal.unit)
    if "applicant" in principal.roles:
        allowed.append(Proposal.owner_id == principal.account_id)
    return or_(*allowed) if allowed else false()


async def get_proposal(
    session: AsyncSession, principal: Principal, proposal_id: int, *, children: bool = False
) -> Proposal:
    stmt = select(Proposal).where(Proposal.id == proposal_id)
    if children:
        stmt = stmt.options(
            selectinload(Proposal.budget_lines), selectinload(Proposal.board_members)
        )
    proposal = (await session.execute(stmt)).scalar_one_or_none()
    if proposal is None or not can_see(proposal, principal):
        raise errors.ProposalNotFoundError(f"There is no proposal {proposal_id} you may see")
    return proposal


async def read_proposal(
    session: AsyncSession, ctx: Context, principal: Principal, proposal_id: int
) -> ProposalRead:
    p = await get_proposal(session, principal, proposal_id, children=True)
    read = _proposal_read(
        ctx,
        p,
        principal,
        lines=[
            BudgetLineRead(
                description=x.description, amount_idr=x.amount_idr, spent_idr=x.spent_idr
            )
            for x in p.budget_lines
        ],
        board=[BoardMemberRead(name=m.name, position=m.role, nik=MASKED) for m in p.board_members],
        unmasked=None,
    )
    rule = ctx.config.rule_set_on(ctx.today)
    read.missing_documents = await evidence.missing(
        session, p, evidence.next_step_documents(ctx, rule, p)
    )
    entries = await session.execute(
        select(StageEntry).where(StageEntry.proposal_id == p.id).order_by(StageEntry.id)
    )
    read.history = [
        read_model(HistoryEntry, e, label=ctx.state_label(e.state)) for e in entries.scalars()
    ]
    return read


def _may_read_personal_data(principal: Principal) -> None:
    if not principal.roles & PERSONAL_DATA_ROLES:
        raise errors.PersonalDataForbiddenError(
            "Reading personal data needs one of the roles: "
            + ", ".join(sorted(PERSONAL_DATA_ROLES))
        )


async def _audit_reading(
    session: AsyncSession, principal: Principal, p: Proposal, fields: list[str]
) -> None:
    """Who read which personal data of a file, and when (the event's time)."""
    await record_event(
        session,
        AuditEvent,
        actor=principal,
        action="personal_data.read",
        entity_type="proposal",
        entity_id=p.id,
        after={"fields": fields},
    )


async def reveal_bank_account(
    session: AsyncSession, ctx: Context, principal: Principal, proposal_id: int
) -> str | None:
    """The recipient's bank account in clear, asked for explicitly (the treasurer's page, before
    paying); who read it and when is an audit event. Everything else stays masked."""
    _may_read_personal_data(principal)
    p = await get_proposal(session, principal, proposal_id)
    if not p.bank_account_enc:
        return None
    await _audit_reading(session, principal, p, ["bank_account"])
    return ctx.cipher.decrypt(p.bank_account_enc, context="bank")


async def reveal_personal_data(
    session: AsyncSession, ctx: Context, principal: Principal, proposal_id: int
) -> ApplicantRead:
    """The applicant's personal data in clear, for the roles that need it; reading is audited."""
    _may_read_personal_data(principal)
    p = await get_proposal(session, principal, proposal_id, children=True)
    dec = ctx.cipher.decrypt
    unmasked = {
        "address": dec(p.address_enc, context="address"),
        "phone": dec(p.phone_enc, context="phone"),
        "nik": dec(p.nik_enc, context="nik") if p.nik_enc else None,
        "npwp": dec(p.npwp_enc, context="npwp") if p.npwp_enc else None,
        "bank_account": dec(p.bank_account_enc, context="bank") if p.bank_account_enc else None,
    }
    board = [
        BoardMemberRead(name=m.name, position=m.role, nik=dec(m.nik_enc, context="board-nik"))
        for m in p.board_members
    ]
    await _audit_reading(
        session, principal, p, sorted(k for k, v in unmasked.items() if v is not None)
    )
    return _masked_applicant(ctx, p, board, unmasked)


async def list_proposals(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    *,
    fiscal_year: int | None,
    kind: str | None,
    status: str | None,
    opd_code: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[ProposalSummary], str | None]:
    stmt = select(Proposal)
    visible = visible_to(principal)
    if visible is not None:
        stmt = stmt.where(visible)
    if fiscal_year is not None:
        stmt = stmt.where(Proposal.fiscal_year == fiscal_year)
    if kind is not None:
        stmt = stmt.where(Proposal.kind == kind)
    if status is not None:
        stmt = stmt.where(Proposal.status == status)
    if opd_code is not None:
        stmt = stmt.where(Proposal.opd_code == opd_code)
    rows, next_cursor = await keyset_page(
        session, stmt, keys=[Proposal.id], limit=limit, cursor=cursor
    )
    return [summarize(ctx, p) for p in rows], next_cursor


def summarize(ctx: Context, p: Proposal) -> ProposalSummary:
    due = due_at(ctx.workflow, p.status, p.status_since, ctx.calendar)
    return read_model(
        ProposalSummary,
        p,
        status_label=ctx.state_label(p.status),
        overdue=due is not None and ctx.today > due,
        due_date=due,
    )


async def work_queue(
    session: AsyncSession, ctx: Context, principal: Principal, *, limit: int = 200
) -> list[ProposalSummary]:
    """Files waiting on the caller's desk, overdue first, then oldest first."""
    # Only the stages the caller holds: a clerk may also reject a file under evaluation, but it
    # waits on the OPD's desk, not the clerk's. Admins hold no desk and see every open stage.
    states = [
        s.name
        for s in ctx.workflow.states
        if not s.final
        and ctx.workflow.available_actions(s.name, principal.roles)
        and (s.holder in principal.roles or "admin" in principal.roles)
    ]
    if not states:
        return []
    stmt = select(Proposal).where(Proposal.status.in_(states))
    visible = visible_to(principal)
    if visible is not None:
        stmt = stmt.where(visible)
    rows = (
        (await session.execute(stmt.order_by(Proposal.status_since).limit(limit))).scalars().all()
    )
    items = [summarize(ctx, p) for p in rows]
    return sorted(items, key=lambda s: (not s.overdue, s.status_since))


async def proposal_flags(
    session: AsyncSession, ctx: Context, principal: Principal, proposal_id: int
) -> list[FlagRead]:
    p = await get_proposal(session, principal, proposal_id)
    return await compute_flags(session, ctx, p)
