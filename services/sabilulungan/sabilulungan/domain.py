"""The rules of hibah and bansos: functions taking the session, raising typed errors, never
committing.

Hot paths (proposal creation, public tracking, approvals) use Core statements built once: creating a
proposal is ONE statement on PostgreSQL (data-modifying CTEs: proposal, budget lines, board members,
stage entry, audit event and idempotency record) and, on SQLite, one INSERT ... RETURNING plus one
statement per child table (see the README, "Hot paths"); an approval takes the budget with
one conditional UPDATE (`approved + amount <= ceiling`), which PostgreSQL re-evaluates on the
locked row, so concurrent approvals can never push the total over the ceiling.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import Any, cast

from sqlalchemy import Table, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from sabilulungan import errors
from sabilulungan.flags import compute_flags
from sabilulungan.models import (
    Account,
    AuditEvent,
    BoardMember,
    Budget,
    BudgetLine,
    IdempotencyRecord,
    Proposal,
    StageEntry,
)
from sabilulungan.public import issue_document
from sabilulungan.runtime import Runtime, digits_only
from sabilulungan.schemas import (
    ApplicantRead,
    BoardMemberRead,
    BudgetCreate,
    BudgetKindRead,
    BudgetLineRead,
    FlagRead,
    HistoryEntry,
    ProposalCreate,
    ProposalRead,
    ProposalSummary,
    PublicBudgetRead,
    RegisterCreate,
    TransitionCreate,
)
from shared.audit import record_event
from shared.auth import Principal, hash_password_async
from shared.codes import new_tracking_code
from shared.db import utcnow
from shared.idempotency import Idempotency
from shared.observability import request_id_var
from shared.pagination import keyset_page
from shared.workflow import MissingFieldsError, due_at, transition

OFFICERS = frozenset({"clerk", "coordinator", "tapd", "head", "finance", "auditor", "admin"})
REVIEWER_ROLES = frozenset({*OFFICERS, "opd_evaluator"})
PERSONAL_DATA_ROLES = frozenset({"clerk", "opd_evaluator", "finance", "auditor"})
HIDDEN = "(disembunyikan)"
MASKED = "****************"


# --------------------------------------------------------------------------------------------------
# Accounts and budgets
# --------------------------------------------------------------------------------------------------


async def register_applicant(session: AsyncSession, data: RegisterCreate) -> Account:
    taken = await session.scalar(select(Account.id).where(Account.username == data.username))
    if taken is not None:
        raise errors.UsernameTakenError(f"The username '{data.username}' is already registered")
    account = Account(
        username=data.username,
        password_hash=await hash_password_async(data.password),
        full_name=data.full_name,
        roles=["applicant"],
        active=True,
        must_change_password=False,
        failed_logins=0,
    )
    session.add(account)
    await session.flush()
    await record_event(
        session,
        AuditEvent,
        actor=data.username,
        role="applicant",
        action="account.registered",
        entity_type="account",
        entity_id=account.id,
        after={"username": data.username, "roles": ["applicant"]},
    )
    return account


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


async def public_budget(session: AsyncSession, fiscal_year: int) -> PublicBudgetRead:
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
            )
            .where(Proposal.fiscal_year == fiscal_year, Proposal.status != "withdrawn")
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
        )
    return PublicBudgetRead(fiscal_year=fiscal_year, kinds=kinds)


# --------------------------------------------------------------------------------------------------
# Proposals
# --------------------------------------------------------------------------------------------------


def _applicant_key(rt: Runtime, data: ProposalCreate) -> str:
    applicant = data.applicant
    if applicant.type == "individual" and applicant.nik:
        return "nik:" + rt.cipher.blind_index(applicant.nik, purpose="nik")
    if applicant.legal_entity_number:
        return "org:" + re.sub(r"\s+", "", applicant.legal_entity_number).upper()[:70]
    return "name:" + hashlib.sha256(applicant.name.strip().lower().encode()).hexdigest()[:32]


def check_proposal_rules(rt: Runtime, data: ProposalCreate, today: dt.date) -> None:
    """The rules a new proposal must meet; each broken rule is a 422 naming it."""
    applicant = data.applicant
    if data.kind == "hibah":
        if applicant.type != "organization":
            raise errors.IneligibleApplicantError(
                "Hibah may go only to organisations with Indonesian legal-entity status "
                "(UU 23/2014 Pasal 298(5)); individuals may apply for bansos"
            )
        if not applicant.legal_entity_number:
            raise errors.IneligibleApplicantError(
                "Hibah needs the organisation's legal-entity number (SK Kemenkumham), "
                "UU 23/2014 Pasal 298(5)"
            )
    if applicant.type == "individual":
        if not applicant.nik:
            raise errors.IneligibleApplicantError("An individual applicant must give a NIK")
        if applicant.board_members:
            raise errors.IneligibleApplicantError("An individual applicant has no board members")
    total = sum(line.amount_idr for line in data.budget_lines)
    if total != data.requested_amount_idr:
        raise errors.BudgetLinesMismatchError(
            f"The budget lines add up to {total} rupiah but {data.requested_amount_idr} rupiah "
            "is requested",
            lines_total_idr=total,
            requested_amount_idr=data.requested_amount_idr,
        )
    window = rt.config.window_for(data.fiscal_year)
    if window is not None and not (window.opens_on <= today <= window.closes_on):
        raise errors.ProposalWindowClosedError(
            f"Proposals for fiscal year {data.fiscal_year} are accepted from "
            f"{window.opens_on.isoformat()} to {window.closes_on.isoformat()}",
            opens_on=window.opens_on.isoformat(),
            closes_on=window.closes_on.isoformat(),
        )
    if window is None and rt.config.require_window:
        raise errors.ProposalWindowClosedError(
            f"No proposal window is open for fiscal year {data.fiscal_year}"
        )


# The columns a new proposal writes, in one order shared by both write paths below.
_PROPOSAL_COLUMNS = (
    "tracking_code",
    "kind",
    "fiscal_year",
    "title",
    "purpose",
    "status",
    "status_since",
    "workflow_name",
    "owner_id",
    "owner_username",
    "requested_amount_idr",
    "disbursed_idr",
    "tranches",
    "applicant_type",
    "applicant_name",
    "applicant_key",
    "legal_entity_number",
    "region_code",
    "public_address",
    "address_enc",
    "phone_enc",
    "nik_enc",
    "nik_idx",
    "npwp_enc",
    "npwp_idx",
    "bank_account_enc",
    "bank_account_idx",
    "created_at",
    "updated_at",
)
_S = Proposal.__table__.schema

# PostgreSQL: the whole submission in ONE statement (data-modifying CTEs). The children read the
# new id from `p`; budget lines and board members come in as parallel arrays (unnest ... WITH
# ORDINALITY keeps their order); the audit event has exactly the columns `record_event` writes; the
# idempotency record (ON CONFLICT DO NOTHING, as shared.idempotency writes it: a taken key is
# then answered from the store by `Idempotency.respond`) stores the response with the new id set in
# SQL. All of it is one atomic statement inside the request's transaction. Built once at import:
# only the parameters change.
_SUBMIT_PG = text(
    f"""
WITH p AS (
    INSERT INTO {_S}.proposals ({", ".join(_PROPOSAL_COLUMNS)})
    VALUES ({", ".join(":" + c for c in _PROPOSAL_COLUMNS)})
    RETURNING id
), bl AS (
    INSERT INTO {_S}.budget_lines (proposal_id, position, description, amount_idr)
    SELECT p.id, CAST(l.n AS integer) - 1, l.description, l.amount_idr
    FROM p, unnest(CAST(:line_descriptions AS text[]), CAST(:line_amounts AS bigint[]))
        WITH ORDINALITY AS l(description, amount_idr, n)
), bm AS (
    INSERT INTO {_S}.board_members (proposal_id, position, name, role, nik_enc, nik_idx)
    SELECT p.id, CAST(m.n AS integer) - 1, m.name, m.role, m.nik_enc, m.nik_idx
    FROM p, unnest(
        CAST(:board_names AS text[]), CAST(:board_roles AS text[]),
        CAST(:board_nik_enc AS text[]), CAST(:board_nik_idx AS text[])
    ) WITH ORDINALITY AS m(name, role, nik_enc, nik_idx, n)
), se AS (
    INSERT INTO {_S}.stage_entries
        (proposal_id, state, entered_at, action, actor, actor_role, rule_version)
    SELECT p.id, :status, CAST(:created_at AS timestamptz), 'submit', :owner_username,
        'applicant', :rule_version
    FROM p
), ae AS (
    INSERT INTO {_S}.audit_events (occurred_at, actor, actor_role, action, entity_type,
        entity_id, before, after, request_id)
    SELECT CAST(:created_at AS timestamptz), :owner_username, :audit_role, 'proposal.submitted',
        'proposal', CAST(p.id AS text), CAST(:audit_before AS jsonb), CAST(:audit_after AS jsonb),
        :request_id
    FROM p
), ir AS (
    INSERT INTO {_S}.idempotency_records
        (scope, key, request_hash, status_code, response_body, created_at)
    SELECT :idem_scope, :idem_key, :idem_hash, 201,
        jsonb_set(CAST(:idem_body AS jsonb), '{{id}}', to_jsonb(p.id)),
        CAST(:created_at AS timestamptz)
    FROM p
    WHERE CAST(:idem_store AS boolean)
    ON CONFLICT (scope, key) DO NOTHING
    RETURNING id
)
SELECT p.id, (SELECT count(*) FROM ir) AS stored FROM p
"""
)


# The portable path (SQLite): Core statements on the tables, built once; one INSERT ... RETURNING
# and one executemany per child table.
def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


_INSERT_PROPOSAL = insert(_table(Proposal)).returning(_table(Proposal).c.id)
_INSERT_LINES = insert(_table(BudgetLine))
_INSERT_BOARD = insert(_table(BoardMember))
_INSERT_STAGE = insert(_table(StageEntry))
_INSERT_AUDIT = insert(_table(AuditEvent))


async def create_proposal(
    session: AsyncSession, rt: Runtime, principal: Principal, data: ProposalCreate
) -> ProposalRead:
    """File a proposal (pages, demo seeder); the API uses `submit_proposal`."""
    read, _ = await _write_proposal(session, rt, principal, data, None)
    return read


async def submit_proposal(
    session: AsyncSession,
    rt: Runtime,
    principal: Principal,
    data: ProposalCreate,
    idem: Idempotency,
) -> dict[str, Any]:
    """File a proposal and store the idempotency record in the same write; returns the JSON
    body of the 201 answer."""
    _, body = await _write_proposal(session, rt, principal, data, idem)
    return body


async def _write_proposal(
    session: AsyncSession,
    rt: Runtime,
    principal: Principal,
    data: ProposalCreate,
    idem: Idempotency | None,
) -> tuple[ProposalRead, dict[str, Any]]:
    now = utcnow()
    today = rt.calendar.local_date(now)
    check_proposal_rules(rt, data, today)
    applicant = data.applicant
    enc = rt.cipher.encrypt
    idx = rt.cipher.blind_index
    individual = applicant.type == "individual"
    bank = digits_only(applicant.bank_account) if applicant.bank_account else None
    nik_idx = idx(applicant.nik, purpose="nik") if applicant.nik else None
    if individual and nik_idx is not None:
        applicant_key = "nik:" + nik_idx
    else:
        applicant_key = _applicant_key(rt, data)
    initial = rt.workflow.initial_state
    rule = rt.config.rule_set_on(today)
    values: dict[str, Any] = {
        "tracking_code": new_tracking_code(rt.config.tracking_prefix),
        "kind": data.kind,
        "fiscal_year": data.fiscal_year,
        "title": data.title,
        "purpose": data.purpose,
        "status": initial,
        "status_since": now,
        "workflow_name": rt.workflow.name,
        "owner_id": principal.account_id or None,
        "owner_username": principal.username,
        "requested_amount_idr": data.requested_amount_idr,
        "disbursed_idr": 0,
        "tranches": 0,
        "applicant_type": applicant.type,
        "applicant_name": applicant.name,
        "applicant_key": applicant_key,
        "legal_entity_number": applicant.legal_entity_number,
        "region_code": applicant.region_code,
        "public_address": None if individual else applicant.address,
        "address_enc": enc(applicant.address, context="address"),
        "phone_enc": enc(applicant.phone, context="phone"),
        "nik_enc": enc(applicant.nik, context="nik") if applicant.nik else None,
        "nik_idx": nik_idx,
        "npwp_enc": enc(applicant.npwp, context="npwp") if applicant.npwp else None,
        "npwp_idx": idx(applicant.npwp, purpose="npwp") if applicant.npwp else None,
        "bank_account_enc": enc(bank, context="bank") if bank else None,
        "bank_account_idx": idx(bank, purpose="bank-account") if bank else None,
        "created_at": now,
        "updated_at": now,
    }
    board = [
        (m.name, m.position, enc(m.nik, context="board-nik"), idx(m.nik, purpose="nik"))
        for m in applicant.board_members
    ]
    audit_role = principal.primary_role
    audit_after = {
        "tracking_code": values["tracking_code"],
        "kind": data.kind,
        "fiscal_year": data.fiscal_year,
        "requested_amount_idr": data.requested_amount_idr,
        "status": initial,
        "rule_version": rule.version,
    }
    # The answer is built before the write (id 0, set below), so that PostgreSQL can store it
    # with the idempotency record in the same statement.
    read = _new_proposal_read(rt, principal, data, values, rule.version)
    body = read.model_dump(mode="json")
    record = idem if idem is not None and idem.key is not None and idem.model is not None else None
    conn = await session.connection()
    if conn.dialect.name == "postgresql" and (record is None or record.model is IdempotencyRecord):
        params = dict(values)
        params.update(
            line_descriptions=[x.description for x in data.budget_lines],
            line_amounts=[x.amount_idr for x in data.budget_lines],
            board_names=[b[0] for b in board],
            board_roles=[b[1] for b in board],
            board_nik_enc=[b[2] for b in board],
            board_nik_idx=[b[3] for b in board],
            rule_version=rule.version,
            audit_role=audit_role,
            # record_event passes before=None, which the JSON type stores as JSON null
            audit_before="null",
            audit_after=json.dumps(audit_after),
            request_id=request_id_var.get(),
            idem_scope=record.scope if record else None,
            idem_key=record.key if record else None,
            idem_hash=record.request_hash if record else None,
            idem_body=json.dumps(body) if record else None,
            idem_store=record is not None,
        )
        written = (await conn.execute(_SUBMIT_PG, params)).one()
        proposal_id = written.id
        if record is not None and not written.stored:
            # The key is taken (a retry, or a twin that committed meanwhile): the shared handler
            # finds it taken again and raises the stored answer's replay (or the 422 for another
            # body), which rolls this request's writes back.
            body["id"] = proposal_id
            await record.respond(body, 201)
    else:
        proposal_id = (await conn.execute(_INSERT_PROPOSAL, values)).scalar_one()
        await conn.execute(
            _INSERT_LINES,
            [
                {
                    "proposal_id": proposal_id,
                    "position": i,
                    "description": line.description,
                    "amount_idr": line.amount_idr,
                }
                for i, line in enumerate(data.budget_lines)
            ],
        )
        if board:
            await conn.execute(
                _INSERT_BOARD,
                [
                    {
                        "proposal_id": proposal_id,
                        "position": i,
                        "name": name,
                        "role": role,
                        "nik_enc": nik_enc,
                        "nik_idx": nik_index,
                    }
                    for i, (name, role, nik_enc, nik_index) in enumerate(board)
                ],
            )
        await conn.execute(
            _INSERT_STAGE,
            {
                "proposal_id": proposal_id,
                "state": initial,
                "entered_at": now,
                "action": "submit",
                "actor": principal.username,
                "actor_role": "applicant",
                "note": None,
                "amount_idr": None,
                "rule_version": rule.version,
            },
        )
        await conn.execute(
            _INSERT_AUDIT,
            {
                "occurred_at": now,
                "actor": principal.username,
                "actor_role": audit_role,
                "action": "proposal.submitted",
                "entity_type": "proposal",
                "entity_id": str(proposal_id),
                "before": None,
                "after": audit_after,
                "request_id": request_id_var.get(),
            },
        )
        body["id"] = proposal_id
        if record is not None:
            await record.respond(body, 201)  # INSERT ... ON CONFLICT DO NOTHING, or the replay
    body["id"] = proposal_id
    read.id = proposal_id
    return read, body


def _new_proposal_read(
    rt: Runtime,
    principal: Principal,
    data: ProposalCreate,
    values: dict[str, Any],
    rule_version: str,
) -> ProposalRead:
    """The answer to a submission, from what was written (no ORM object, no read back)."""
    applicant = data.applicant
    status = values["status"]
    now = values["created_at"]
    return ProposalRead(
        id=0,
        tracking_code=values["tracking_code"],
        kind=data.kind,
        fiscal_year=data.fiscal_year,
        title=data.title,
        purpose=data.purpose,
        status=status,
        status_label=rt.state_label(status),
        status_since=now,
        holder=rt.holder(status),
        opd_code=None,
        requested_amount_idr=data.requested_amount_idr,
        recommended_amount_idr=None,
        final_amount_idr=None,
        approved_amount_idr=None,
        disbursed_idr=0,
        decree_number=None,
        agreement_number=None,
        lpj_due_date=None,
        reported_at=None,
        available_actions=[a.name for a in rt.workflow.available_actions(status, principal.roles)],
        budget_lines=[
            BudgetLineRead(description=x.description, amount_idr=x.amount_idr)
            for x in data.budget_lines
        ],
        applicant=ApplicantRead(
            type=applicant.type,
            name=applicant.name,
            legal_entity_number=applicant.legal_entity_number,
            region_code=applicant.region_code,
            address=values["public_address"] if values["public_address"] is not None else HIDDEN,
            phone=HIDDEN,
            nik=MASKED if values["nik_enc"] else None,
            npwp=MASKED if values["npwp_enc"] else None,
            bank_account=MASKED if values["bank_account_enc"] else None,
            board_members=[
                BoardMemberRead(name=m.name, position=m.position, nik=MASKED)
                for m in applicant.board_members
            ],
        ),
        history=[
            HistoryEntry(
                state=status,
                label=rt.state_label(status),
                action="submit",
                actor_role="applicant",
                entered_at=now,
                note=None,
                amount_idr=None,
                rule_version=rule_version,
            )
        ],
    )


def _masked_applicant(
    rt: Runtime, p: Proposal, board: list[BoardMemberRead], unmasked: dict[str, Any] | None
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
    rt: Runtime,
    p: Proposal,
    principal: Principal,
    *,
    lines: list[BudgetLineRead],
    board: list[BoardMemberRead],
    unmasked: dict[str, Any] | None,
) -> ProposalRead:
    actions = [a.name for a in rt.workflow.available_actions(p.status, principal.roles)]
    return ProposalRead(
        id=p.id,
        tracking_code=p.tracking_code,
        kind=p.kind,
        fiscal_year=p.fiscal_year,
        title=p.title,
        purpose=p.purpose,
        status=p.status,
        status_label=rt.state_label(p.status),
        status_since=p.status_since,
        holder=rt.holder(p.status),
        opd_code=p.opd_code,
        requested_amount_idr=p.requested_amount_idr,
        recommended_amount_idr=p.recommended_amount_idr,
        final_amount_idr=p.final_amount_idr,
        approved_amount_idr=p.approved_amount_idr,
        disbursed_idr=p.disbursed_idr,
        decree_number=p.decree_number,
        agreement_number=p.agreement_number,
        lpj_due_date=p.lpj_due_date,
        reported_at=p.reported_at,
        available_actions=actions,
        budget_lines=lines,
        applicant=_masked_applicant(rt, p, board, unmasked),
    )


def can_see(p: Proposal, principal: Principal) -> bool:
    if principal.roles & OFFICERS:
        return True
    if "opd_evaluator" in principal.roles and p.opd_code and p.opd_code == principal.unit:
        return True
    return "applicant" in principal.roles and p.owner_id == principal.account_id


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
    session: AsyncSession, rt: Runtime, principal: Principal, proposal_id: int
) -> ProposalRead:
    p = await get_proposal(session, principal, proposal_id, children=True)
    read = _proposal_read(
        rt,
        p,
        principal,
        lines=[
            BudgetLineRead(description=x.description, amount_idr=x.amount_idr)
            for x in p.budget_lines
        ],
        board=[BoardMemberRead(name=m.name, position=m.role, nik=MASKED) for m in p.board_members],
        unmasked=None,
    )
    entries = await session.execute(
        select(StageEntry).where(StageEntry.proposal_id == p.id).order_by(StageEntry.id)
    )
    read.history = [
        HistoryEntry(
            state=e.state,
            label=rt.state_label(e.state),
            action=e.action,
            actor_role=e.actor_role,
            entered_at=e.entered_at,
            note=e.note,
            amount_idr=e.amount_idr,
            rule_version=e.rule_version,
        )
        for e in entries.scalars()
    ]
    return read


async def reveal_personal_data(
    session: AsyncSession, rt: Runtime, principal: Principal, proposal_id: int
) -> ApplicantRead:
    """The applicant's personal data in clear, for the roles that need it; reading is audited."""
    if not principal.roles & PERSONAL_DATA_ROLES:
        raise errors.PersonalDataForbiddenError(
            "Reading personal data needs one of the roles: "
            + ", ".join(sorted(PERSONAL_DATA_ROLES))
        )
    p = await get_proposal(session, principal, proposal_id, children=True)
    dec = rt.cipher.decrypt
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
    await record_event(
        session,
        AuditEvent,
        actor=principal,
        action="personal_data.read",
        entity_type="proposal",
        entity_id=p.id,
        after={"fields": sorted(k for k, v in unmasked.items() if v is not None)},
    )
    return _masked_applicant(rt, p, board, unmasked)


async def list_proposals(
    session: AsyncSession,
    rt: Runtime,
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
    if not principal.roles & OFFICERS:
        allowed = []
        if "opd_evaluator" in principal.roles and principal.unit:
            allowed.append(Proposal.opd_code == principal.unit)
        if "applicant" in principal.roles:
            allowed.append(Proposal.owner_id == principal.account_id)
        if not allowed:
            return [], None
        stmt = stmt.where(or_(*allowed))
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
    return [summarize(rt, p) for p in rows], next_cursor


def summarize(rt: Runtime, p: Proposal) -> ProposalSummary:
    due = due_at(rt.workflow, p.status, p.status_since, rt.calendar)
    return ProposalSummary(
        id=p.id,
        tracking_code=p.tracking_code,
        kind=p.kind,
        fiscal_year=p.fiscal_year,
        title=p.title,
        applicant_name=p.applicant_name,
        status=p.status,
        status_label=rt.state_label(p.status),
        status_since=p.status_since,
        opd_code=p.opd_code,
        requested_amount_idr=p.requested_amount_idr,
        overdue=due is not None and rt.today() > due,
        due_date=due,
    )


async def work_queue(
    session: AsyncSession, rt: Runtime, principal: Principal, *, limit: int = 200
) -> list[ProposalSummary]:
    """Files waiting on the caller's desk, overdue first, then oldest first."""
    states = [
        s.name
        for s in rt.workflow.states
        if not s.final and rt.workflow.available_actions(s.name, principal.roles)
    ]
    if not states:
        return []
    stmt = select(Proposal).where(Proposal.status.in_(states))
    if not principal.roles & OFFICERS:
        allowed = []
        if "opd_evaluator" in principal.roles and principal.unit:
            allowed.append(Proposal.opd_code == principal.unit)
        if "applicant" in principal.roles:
            allowed.append(Proposal.owner_id == principal.account_id)
        stmt = stmt.where(or_(*allowed)) if allowed else stmt.where(Proposal.id < 0)
    rows = (
        (await session.execute(stmt.order_by(Proposal.status_since).limit(limit))).scalars().all()
    )
    items = [summarize(rt, p) for p in rows]
    return sorted(items, key=lambda s: (not s.overdue, s.status_since))


# --------------------------------------------------------------------------------------------------
# Transitions
# --------------------------------------------------------------------------------------------------


def _snapshot(p: Proposal) -> dict[str, Any]:
    return {
        "status": p.status,
        "opd_code": p.opd_code,
        "recommended_amount_idr": p.recommended_amount_idr,
        "final_amount_idr": p.final_amount_idr,
        "approved_amount_idr": p.approved_amount_idr,
        "disbursed_idr": p.disbursed_idr,
        "decree_number": p.decree_number,
        "agreement_number": p.agreement_number,
    }


def _check_freeze(rt: Runtime, kind: str, action: str, effect: str, today: dt.date) -> None:
    for period in rt.config.freeze_periods:
        if (
            period.starts_on <= today <= period.ends_on
            and kind in period.kinds
            and (effect in period.actions or action in period.actions)
        ):
            raise errors.FreezePeriodError(
                f"'{action}' of {kind} is frozen during '{period.name}' "
                f"({period.starts_on.isoformat()} to {period.ends_on.isoformat()})",
                period=period.name,
                starts_on=period.starts_on.isoformat(),
                ends_on=period.ends_on.isoformat(),
            )


def _require(action: str, **fields: Any) -> None:
    missing = [name for name, value in fields.items() if value in (None, "")]
    if missing:
        raise MissingFieldsError(action=action, fields=missing)


def _not_above_requested(p: Proposal, amount: int, what: str) -> None:
    if amount > p.requested_amount_idr:
        raise errors.AmountAboveRequestedError(
            f"The {what} amount {amount} is above the requested {p.requested_amount_idr} rupiah",
            requested_amount_idr=p.requested_amount_idr,
        )


async def _take_from_ceiling(session: AsyncSession, p: Proposal, amount: int) -> None:
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


async def apply_transition(
    session: AsyncSession,
    rt: Runtime,
    principal: Principal,
    proposal_id: int,
    data: TransitionCreate,
) -> ProposalRead:
    proposal = (
        await session.execute(select(Proposal).where(Proposal.id == proposal_id).with_for_update())
    ).scalar_one_or_none()
    if proposal is None or not can_see(proposal, principal):
        raise errors.ProposalNotFoundError(f"There is no proposal {proposal_id} you may see")
    p = proposal
    payload = data.model_dump(exclude_none=True)
    action = transition(
        rt.workflow,
        current_state=p.status,
        action=data.action,
        roles=principal.roles,
        payload=payload,
    )
    acting = set(action.roles) & principal.roles
    if acting == {"applicant"} and p.owner_id != principal.account_id:
        raise errors.NotYourProposalError("Only the applicant who filed it may do this")
    if acting == {"opd_evaluator"} and (p.opd_code is None or p.opd_code != principal.unit):
        raise errors.OpdMismatchError(
            f"This proposal is assigned to OPD {p.opd_code or '(none)'}, not {principal.unit}"
        )
    effect = rt.effect(action.name)
    now = utcnow()
    today = rt.calendar.local_date(now)
    rule = rt.config.rule_set_on(today)
    _check_freeze(rt, p.kind, action.name, effect, today)
    before = _snapshot(p)
    amount: int | None = data.amount_idr
    issue_nphd = False

    if effect == "assign_opd":
        _require(action.name, opd_code=data.opd_code)
        p.opd_code = data.opd_code
    elif effect == "recommend":
        _require(action.name, amount_idr=amount)
        assert amount is not None
        _not_above_requested(p, amount, "recommended")
        p.recommended_amount_idr = amount
        p.recommended_by = principal.username
        if data.checklist is not None:
            unknown = sorted(set(data.checklist) - set(rt.config.evaluation_checklist))
            if unknown:
                raise errors.UnknownChecklistItemError(
                    "Not items of the evaluation checklist: " + ", ".join(unknown),
                    allowed=list(rt.config.evaluation_checklist),
                )
            p.evaluation_checklist = data.checklist
    elif effect == "consider":
        _require(action.name, amount_idr=amount)
        assert amount is not None
        _not_above_requested(p, amount, "final")
        p.final_amount_idr = amount
        p.considered_by = principal.username
    elif effect == "approve":
        _require(action.name, decree_number=data.decree_number)
        if principal.username in (p.recommended_by, p.considered_by):
            raise errors.SegregationOfDutiesError(
                "The official who recommended or set the amount cannot also approve it"
            )
        if amount is None:
            amount = p.final_amount_idr or p.recommended_amount_idr or p.requested_amount_idr
        _not_above_requested(p, amount, "approved")
        if rt.config.blocking_flags:
            flags = [f for f in await compute_flags(session, rt, p) if f.blocking]
            if flags:
                raise errors.FlaggedProposalError(
                    "Integrity flags block approval: " + ", ".join(f.code for f in flags),
                    flags=[f.code for f in flags],
                )
        await _take_from_ceiling(session, p, amount)
        p.approved_amount_idr = amount
        p.decree_number = data.decree_number
        p.approved_by = principal.username
        p.approved_at = now
    elif effect == "sign_agreement":
        _require(action.name, agreement_number=data.agreement_number)
        if p.kind != "hibah":
            raise errors.DocumentNotAvailableError("Only a hibah has a grant agreement (NPHD)")
        p.agreement_number = data.agreement_number
        issue_nphd = True
    elif effect == "disburse":
        _require(action.name, amount_idr=amount)
        assert amount is not None
        if p.kind == "hibah" and not p.agreement_number:
            raise errors.AgreementRequiredError(
                "A hibah cannot be disbursed before its grant agreement (NPHD) is signed"
            )
        approved = p.approved_amount_idr or 0
        if p.disbursed_idr + amount > approved:
            raise errors.DisbursementExceedsApprovedError(
                f"Disbursing {amount} rupiah would exceed the approved {approved} rupiah "
                f"({approved - p.disbursed_idr} rupiah left)",
                remaining_idr=approved - p.disbursed_idr,
            )
        if p.tranches >= rule.max_tranches:
            raise errors.TooManyTranchesError(
                f"At most {rule.max_tranches} tranches are allowed (rules {rule.version})"
            )
        await session.execute(
            update(Budget)
            .where(Budget.fiscal_year == p.fiscal_year, Budget.kind == p.kind)
            .values(disbursed_idr=Budget.disbursed_idr + amount)
        )
        p.disbursed_idr += amount
        p.tranches += 1
        if p.lpj_due_date is None:
            p.lpj_due_date = dt.date(p.fiscal_year + 1, rule.lpj_due_month, rule.lpj_due_day)
    elif effect == "submit_report":
        p.reported_at = now
    else:
        amount = None

    p.status = action.to_state
    p.status_since = now
    p.updated_at = now
    await session.flush()
    await session.execute(
        insert(StageEntry).values(
            proposal_id=p.id,
            state=action.to_state,
            entered_at=now,
            action=action.name,
            actor=principal.username,
            actor_role=sorted(acting)[0],
            note=data.note,
            amount_idr=amount,
            rule_version=rule.version,
        )
    )
    if issue_nphd:
        await issue_document(
            session,
            number=f"NPHD-{p.tracking_code}",
            doc_type="nphd",
            proposal=p,
            official_number=p.agreement_number or "",
            amount=p.approved_amount_idr or 0,
            now=now,
        )
    after = _snapshot(p)
    after.update({"action": action.name, "rule_version": rule.version, "note": data.note})
    await record_event(
        session,
        AuditEvent,
        actor=principal,
        role=sorted(acting)[0],
        action=f"proposal.{action.name}",
        entity_type="proposal",
        entity_id=p.id,
        before=before,
        after=after,
    )
    return await read_proposal(session, rt, principal, p.id)


async def proposal_flags(
    session: AsyncSession, rt: Runtime, principal: Principal, proposal_id: int
) -> list[FlagRead]:
    p = await get_proposal(session, principal, proposal_id)
    return await compute_flags(session, rt, p)
