"""The public side: tracking by code, the ledger, and the documents anyone can verify.

Tracking and the ledger select named, non-personal columns only, so they cannot leak what they
never load; nothing here returns an encrypted column.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from sabilulungan import errors
from sabilulungan.dependencies import Context
from sabilulungan.models import Proposal, StageEntry
from sabilulungan.schemas import LedgerRow, TimelineEntry, TrackRead
from shared.codes import normalize_tracking_code
from shared.db import read_alone
from shared.pagination import keyset_page
from shared.workflow import stage_spans

_P = Proposal.__table__.c
_E = StageEntry.__table__.c
# Public tracking in one statement: the proposal's public columns beside each stage entry (a LEFT
# JOIN, so a proposal is found even without history), in the order the timeline needs. Built once.
_TRACK = (
    select(
        _P.tracking_code,
        _P.kind,
        _P.fiscal_year,
        _P.title,
        _P.applicant_type,
        _P.status,
        _P.status_since,
        _P.opd_code,
        _E.state,
        _E.entered_at,
    )
    .select_from(Proposal.__table__.outerjoin(StageEntry.__table__, _E.proposal_id == _P.id))
    .where(_P.tracking_code == bindparam("code"))
    .order_by(_E.entered_at, _E.id)
)


async def track(session: AsyncSession, ctx: Context, code: str) -> TrackRead:
    try:
        normalized = normalize_tracking_code(code)
    except ValueError:
        raise errors.ProposalNotFoundError(
            "This is not a valid tracking code; check it for typos"
        ) from None
    rows = await read_alone(session, _TRACK, {"code": normalized})
    if not rows:
        raise errors.ProposalNotFoundError(f"No proposal has the tracking code {normalized}")
    row = rows[0]
    history = [(h.state, h.entered_at) for h in rows if h.state is not None]
    spans = stage_spans(ctx.workflow, history, now=ctx.now, calendar=ctx.calendar)
    holder = ctx.holder(row.status)
    holder_label = ctx.config.desk_labels.get(holder, holder) if holder else None
    if holder == "opd_evaluator" and row.opd_code:
        holder_label = f"OPD {row.opd_code}"
    return TrackRead(
        tracking_code=row.tracking_code,
        kind=row.kind,
        fiscal_year=row.fiscal_year,
        # the tracking code is on the public ledger: the page shows what the ledger shows
        title=public_title(ctx, row.applicant_type, row.status, row.title),
        status=row.status,
        status_label=ctx.state_label(row.status),
        holder=holder,
        holder_label=holder_label,
        since=row.status_since,
        final=ctx.is_final(row.status),
        timeline=[
            TimelineEntry(
                stage=s.state,
                label=s.label,
                holder=s.holder,
                entered_at=s.entered_at,
                left_at=s.left_at,
                working_days=s.working_days,
                sla_working_days=s.sla_working_days,
                overdue=s.overdue,
            )
            for s in spans
        ],
    )


INDIVIDUAL_APPLICANT = "Pemohon perorangan"
INDIVIDUAL_AID = "Bantuan sosial perorangan"
# A refused or withdrawn file (`Context.not_recipient_states`: the states its workflow's `reject`
# and `withdraw` effects lead to) never made its applicant a recipient, whatever a decree or an
# earlier step left on it (a regency's workflow may refuse after the decree): the public sees
# neither the applicant nor an amount as a recipient (UU 27/2022; domain brief §6: applicants are
# not public).
NOT_A_RECIPIENT = "Pemohon (tidak ditetapkan sebagai penerima)"
NOT_A_RECIPIENT_TITLE = "Usulan tidak ditetapkan"


def public_title(ctx: Context, applicant_type: str, status: str, title: str) -> str:
    """What the public may read of a file's title (the ledger and public tracking alike)."""
    if applicant_type == "individual":
        return INDIVIDUAL_AID
    return NOT_A_RECIPIENT_TITLE if status in ctx.not_recipient_states else title


def ledger_row(ctx: Context, p: Any) -> LedgerRow:
    individual = p.applicant_type == "individual"
    refused = p.status in ctx.not_recipient_states
    hidden = individual or refused
    # UU 27/2022: an individual is public only once a Keputusan names them as a recipient, and
    # never with the need (a wheelchair is health data, Pasal 4(2)): the title is withheld.
    named = not refused and (not individual or p.decree_number is not None)
    withheld_name = NOT_A_RECIPIENT if refused else INDIVIDUAL_APPLICANT
    return LedgerRow(
        tracking_code=p.tracking_code,
        fiscal_year=p.fiscal_year,
        kind=p.kind,
        recipient_type=p.applicant_type,
        recipient_name=p.applicant_name if named else withheld_name,
        recipient_address=None if hidden else p.public_address,
        # An individual's village code comes close to an address: publish the kecamatan only.
        region_code=p.region_code[:8] if hidden else p.region_code,
        title=public_title(ctx, p.applicant_type, p.status, p.title),
        status=p.status,
        opd_code=p.opd_code,
        requested_idr=p.requested_amount_idr,
        recommended_idr=p.recommended_amount_idr,
        approved_idr=None if refused else p.approved_amount_idr,
        disbursed_idr=p.disbursed_idr,
        reported=p.reported_at is not None,
        decree_number=None if refused else p.decree_number,
        refunded_idr=p.refunded_idr,
        released_idr=p.released_idr,
        report_late=p.report_late,
    )


LEDGER_COLUMNS = (
    Proposal.id,
    Proposal.tracking_code,
    Proposal.fiscal_year,
    Proposal.kind,
    Proposal.applicant_type,
    Proposal.applicant_name,
    Proposal.public_address,
    Proposal.region_code,
    Proposal.title,
    Proposal.status,
    Proposal.opd_code,
    Proposal.requested_amount_idr,
    Proposal.recommended_amount_idr,
    Proposal.approved_amount_idr,
    Proposal.disbursed_idr,
    Proposal.reported_at,
    Proposal.decree_number,
    Proposal.refunded_idr,
    Proposal.released_idr,
    Proposal.report_late,
)


async def ledger_page(
    session: AsyncSession,
    ctx: Context,
    *,
    fiscal_year: int,
    kind: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[LedgerRow], str | None]:
    stmt = select(*LEDGER_COLUMNS).where(Proposal.fiscal_year == fiscal_year)
    if kind is not None:
        stmt = stmt.where(Proposal.kind == kind)
    rows, next_cursor = await keyset_page(
        session,
        stmt,
        keys=[Proposal.id],
        limit=limit,
        cursor=cursor,
        descending=False,
    )
    return [ledger_row(ctx, r) for r in rows], next_cursor


async def ledger_all(
    session: AsyncSession, ctx: Context, *, fiscal_year: int, kind: str | None
) -> list[LedgerRow]:
    stmt = select(*LEDGER_COLUMNS).where(Proposal.fiscal_year == fiscal_year)
    if kind is not None:
        stmt = stmt.where(Proposal.kind == kind)
    rows = (await session.execute(stmt.order_by(Proposal.id))).all()
    return [ledger_row(ctx, r) for r in rows]


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula is neutralised with a leading quote
    (OWASP CSV injection); numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
