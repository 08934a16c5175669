"""Filing a proposal: the rules a new proposal must meet and its write path.

Creating a proposal is ONE statement on PostgreSQL (data-modifying CTEs: proposal, budget lines,
board members, stage entry, audit event and idempotency record) and, on SQLite, one INSERT ...
RETURNING plus one statement per child table (see the README, "Hot paths").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    Table,
    bindparam,
    func,
    insert,
    literal,
    select,
    true,
)
from sqlalchemy import (
    cast as sql_cast,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from sabilulungan import errors
from sabilulungan.config import RecipientCategory
from sabilulungan.dependencies import Context
from sabilulungan.eligibility import check_eligibility
from sabilulungan.models import (
    AuditEvent,
    BoardMember,
    BudgetLine,
    IdempotencyRecord,
    Proposal,
    StageEntry,
)
from sabilulungan.proposals import HIDDEN, MASKED
from sabilulungan.schemas import (
    ApplicantRead,
    BoardMemberRead,
    BudgetLineRead,
    HistoryEntry,
    ProposalCreate,
    ProposalRead,
)
from shared.audit import audit_params, events_from, record_event
from shared.auth import Principal
from shared.codes import new_tracking_code
from shared.db import StatementRunner, UTCDateTime
from shared.idempotency import Idempotency, record_from, record_params


def _applicant_key(ctx: Context, data: ProposalCreate) -> str:
    applicant = data.applicant
    if applicant.type == "individual" and applicant.nik:
        return "nik:" + ctx.cipher.blind_index(applicant.nik, purpose="nik")
    if applicant.legal_entity_number:
        return "org:" + re.sub(r"\s+", "", applicant.legal_entity_number).upper()[:70]
    return "name:" + hashlib.sha256(applicant.name.strip().lower().encode()).hexdigest()[:32]


def check_proposal_rules(
    ctx: Context, data: ProposalCreate, today: dt.date
) -> tuple[str, RecipientCategory]:
    """The rules a new proposal must meet; each broken rule is a 422 naming it."""
    applicant = data.applicant
    category = check_eligibility(ctx, ctx.config.rule_set_on(today), data, today)
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
    check_window(ctx, data.fiscal_year, today)
    return category


def check_window(ctx: Context, fiscal_year: int, today: dt.date) -> None:
    """Proposals only inside the fiscal year's window; a year without one is closed unless the
    regency turned `require_window` off (with its basis)."""
    config = ctx.config
    window = config.window_for(fiscal_year)
    if window is not None and not (window.opens_on <= today <= window.closes_on):
        raise errors.ProposalWindowClosedError(
            f"Proposals for fiscal year {fiscal_year} are accepted from "
            f"{window.opens_on.isoformat()} to {window.closes_on.isoformat()} "
            f"({config.window_basis})",
            rule="proposal_window",
            basis=config.window_basis,
            opens_on=window.opens_on.isoformat(),
            closes_on=window.closes_on.isoformat(),
        )
    if window is None and config.require_window:
        raise errors.ProposalWindowClosedError(
            f"No proposal window is configured for fiscal year {fiscal_year}; proposals are "
            f"accepted only inside a window ({config.window_basis})",
            rule="proposal_window",
            basis=config.window_basis,
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
    "recipient_category",
    "purpose_code",
    "social_risk",
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


# The portable path (SQLite): Core statements on the tables, built once; one INSERT ... RETURNING
# and one executemany per child table.
def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


_INSERT_PROPOSAL = insert(_table(Proposal)).returning(_table(Proposal).c.id)
_INSERT_LINES = insert(_table(BudgetLine))
_INSERT_BOARD = insert(_table(BoardMember))
_INSERT_STAGE = insert(_table(StageEntry))


# PostgreSQL: the whole submission in ONE statement (data-modifying CTEs). The children read the
# new id from `p`; budget lines and board members come in as parallel arrays (unnest ... WITH
# ORDINALITY keeps their order); the audit event (`shared.audit.events_from`, the columns
# `record_event` writes) and the idempotency record (`shared.idempotency.record_from`) store the
# response with the new id set in SQL. All of it is one atomic statement, which the API route runs
# as a transaction of its own (`shared.db.standalone_runner`: no BEGIN and no COMMIT round trip);
# so a taken key fails the whole statement (`taken_key_fails`: nothing of the retry stands) and
# the request's failure handler answers with the stored response. Built once at import: only the
# parameters change.
def _submit_statement() -> Any:
    proposals, lines = _table(Proposal), _table(BudgetLine)
    board, stages = _table(BoardMember), _table(StageEntry)
    # An INSERT inside a CTE gets no Python-side defaults: the other columns' scalar defaults
    # are written as literals (NULL for most, 0 / false for the running totals and flags).
    values: dict[str, Any] = {
        c.name: literal(cast(ScalarElementColumnDefault, c.default).arg, c.type)
        for c in proposals.c
        if c.default is not None and c.default.is_scalar and c.name not in _PROPOSAL_COLUMNS
    }
    values |= {c: bindparam(c, type_=proposals.c[c].type) for c in _PROPOSAL_COLUMNS}
    p = insert(proposals).values(values).returning(proposals.c.id).cte("p")
    line_rows = (
        func.unnest(
            bindparam("line_descriptions", type_=ARRAY(String())),
            bindparam("line_amounts", type_=ARRAY(BigInteger())),
        )
        .table_valued("description", "amount_idr", with_ordinality="n")
        .render_derived()
    )
    bl = insert(lines).from_select(
        ["proposal_id", "position", "description", "amount_idr"],
        select(
            p.c.id,
            sql_cast(line_rows.c.n, Integer()) - 1,
            line_rows.c.description,
            line_rows.c.amount_idr,
        ).select_from(p.join(line_rows, true())),  # p is one row: a deliberate cross join
    )
    member_rows = (
        func.unnest(
            bindparam("board_names", type_=ARRAY(String())),
            bindparam("board_roles", type_=ARRAY(String())),
            bindparam("board_nik_enc", type_=ARRAY(String())),
            bindparam("board_nik_idx", type_=ARRAY(String())),
        )
        .table_valued("name", "role", "nik_enc", "nik_idx", with_ordinality="n")
        .render_derived()
    )
    bm = insert(board).from_select(
        ["proposal_id", "position", "name", "role", "nik_enc", "nik_idx"],
        select(
            p.c.id,
            sql_cast(member_rows.c.n, Integer()) - 1,
            member_rows.c.name,
            member_rows.c.role,
            member_rows.c.nik_enc,
            member_rows.c.nik_idx,
        ).select_from(p.join(member_rows, true())),
    )
    se = insert(stages).from_select(
        ["proposal_id", "state", "entered_at", "action", "actor", "actor_role", "rule_version"],
        select(
            p.c.id,
            bindparam("status", type_=String()),
            bindparam("created_at", type_=UTCDateTime()),
            literal("submit", String()),
            bindparam("owner_username", type_=String()),
            literal("applicant", String()),
            bindparam("rule_version", type_=String()),
        ).select_from(p),
    )
    ae = events_from(p, AuditEvent, action="proposal.submitted", entity_type="proposal")
    ir = record_from(p, IdempotencyRecord, taken_key_fails=True).cte("ir")
    stored = select(func.count()).select_from(ir).scalar_subquery()
    return select(p.c.id, stored.label("stored")).add_cte(
        bl.cte("bl"), bm.cte("bm"), se.cte("se"), ae.cte("ae")
    )


_SUBMIT_PG = _submit_statement()


async def create_proposal(
    session: AsyncSession, ctx: Context, principal: Principal, data: ProposalCreate
) -> ProposalRead:
    """File a proposal (pages, demo seeder); the API uses `submit_proposal`."""
    read, _ = await _write_proposal(session, ctx, principal, data, None)
    return read


async def submit_proposal(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    data: ProposalCreate,
    idem: Idempotency,
    *,
    standalone: StatementRunner | None = None,
) -> dict[str, Any]:
    """File a proposal and store the idempotency record in the same write; returns the JSON
    body of the 201 answer. With `standalone` (the API route, whose transaction has done nothing
    yet and does nothing after), PostgreSQL runs that write as a transaction of its own."""
    _, body = await _write_proposal(session, ctx, principal, data, idem, standalone)
    return body


async def _write_proposal(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    data: ProposalCreate,
    idem: Idempotency | None,
    standalone: StatementRunner | None = None,
) -> tuple[ProposalRead, dict[str, Any]]:
    now = ctx.now
    today = ctx.calendar.local_date(now)
    category_name, category = check_proposal_rules(ctx, data, today)
    applicant = data.applicant
    enc = ctx.cipher.encrypt
    idx = ctx.cipher.blind_index
    individual = applicant.type == "individual"
    bank = re.sub(r"\D", "", applicant.bank_account) if applicant.bank_account else None
    nik_idx = idx(applicant.nik, purpose="nik") if applicant.nik else None
    if individual and nik_idx is not None:
        applicant_key = "nik:" + nik_idx
    else:
        applicant_key = _applicant_key(ctx, data)
    initial = ctx.workflow.initial_state
    rule = ctx.config.rule_set_on(today)
    values: dict[str, Any] = {
        "tracking_code": new_tracking_code(ctx.config.tracking_prefix),
        "kind": data.kind,
        "fiscal_year": data.fiscal_year,
        "title": data.title,
        "purpose": data.purpose,
        "status": initial,
        "status_since": now,
        "workflow_name": ctx.workflow.name,
        "owner_id": principal.account_id or None,
        "owner_username": principal.username,
        "requested_amount_idr": data.requested_amount_idr,
        "disbursed_idr": 0,
        "tranches": 0,
        "applicant_type": applicant.type,
        "applicant_name": applicant.name,
        "applicant_key": applicant_key,
        "legal_entity_number": applicant.legal_entity_number,
        "recipient_category": category_name,
        "purpose_code": data.purpose_code,
        "social_risk": data.social_risk,
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
    if ctx.config.window_for(data.fiscal_year) is None:
        audit_after["no_window_basis"] = ctx.config.no_window_basis
    # The answer is built before the write (id 0, set below), so that PostgreSQL can store it
    # with the idempotency record in the same statement.
    read = _new_proposal_read(ctx, principal, data, values, rule.version, category)
    body = read.model_dump(mode="json")
    record = idem if idem is not None and idem.key is not None and idem.model is not None else None
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres and (record is None or record.model is IdempotencyRecord):
        params = dict(values)
        params.update(
            line_descriptions=[x.description for x in data.budget_lines],
            line_amounts=[x.amount_idr for x in data.budget_lines],
            board_names=[b[0] for b in board],
            board_roles=[b[1] for b in board],
            board_nik_enc=[b[2] for b in board],
            board_nik_idx=[b[3] for b in board],
            rule_version=rule.version,
        )
        params |= audit_params(principal, after=audit_after, role=audit_role, occurred_at=now)
        params |= record_params(record, body, 201)
        if standalone is not None:
            written = await standalone(_SUBMIT_PG, params)
        else:
            written = (await (await session.connection()).execute(_SUBMIT_PG, params)).one()
        # A taken key (a retry, or a twin that committed meanwhile) failed the statement above;
        # the failure handler answers with the stored response (or the 422 for another body).
        proposal_id = written.id
        if record is not None:
            body["id"] = proposal_id
            await record.settle(bool(written.stored))
    else:
        conn = await session.connection()
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
        await record_event(
            session,
            AuditEvent,
            actor=principal,
            role=audit_role,
            action="proposal.submitted",
            entity_type="proposal",
            entity_id=proposal_id,
            after=audit_after,
            occurred_at=now,
        )
        body["id"] = proposal_id
        if record is not None:
            await record.respond(body, 201)  # INSERT ... ON CONFLICT DO NOTHING, or the replay
    body["id"] = proposal_id
    read.id = proposal_id
    return read, body


def _new_proposal_read(
    ctx: Context,
    principal: Principal,
    data: ProposalCreate,
    values: dict[str, Any],
    rule_version: str,
    category: RecipientCategory,
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
        status_label=ctx.state_label(status),
        status_since=now,
        holder=ctx.holder(status),
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
        recipient_category=values["recipient_category"],
        missing_documents=list(category.required_documents),
        available_actions=[a.name for a in ctx.workflow.available_actions(status, principal.roles)],
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
                label=ctx.state_label(status),
                action="submit",
                actor_role="applicant",
                entered_at=now,
                note=None,
                amount_idr=None,
                rule_version=rule_version,
            )
        ],
    )
