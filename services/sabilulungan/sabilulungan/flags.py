"""Integrity flags for reviewers and auditors: not blocking unless the regency configures it."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from sabilulungan.dependencies import Context
from sabilulungan.models import BoardMember, Proposal
from sabilulungan.schemas import FlagRead


def _exempt(ctx: Context, legal_entity_number: str | None) -> bool:
    """Bodies funded yearly by law are listed by identifier (never matched on their name)."""
    return bool(legal_entity_number) and legal_entity_number in ctx.config.continuity_exempt


async def compute_flags(session: AsyncSession, ctx: Context, p: Proposal) -> list[FlagRead]:
    blocking = set(ctx.config.blocking_flags)
    flags: list[FlagRead] = []

    def add(code: str, message: str, related: list[str]) -> None:
        if related:
            flags.append(
                FlagRead(
                    code=code,
                    message=message,
                    blocking=code in blocking,
                    related=sorted(set(related)),
                )
            )

    funded = ("approved", "agreement_signed", "disbursed", "reported", "closed")
    if p.applicant_type == "organization" and not _exempt(ctx, p.legal_entity_number):
        rows = await session.scalars(
            select(Proposal.tracking_code).where(
                Proposal.applicant_key == p.applicant_key,
                Proposal.fiscal_year == p.fiscal_year - 1,
                or_(Proposal.approved_amount_idr.is_not(None), Proposal.status.in_(funded)),
            )
        )
        add(
            "funded_previous_year",
            f"Organisasi ini menerima dana pada tahun anggaran {p.fiscal_year - 1}; hibah tidak "
            "diberikan terus-menerus setiap tahun",
            list(rows),
        )
    others = Proposal.applicant_key != p.applicant_key
    if p.nik_idx:
        direct = await session.scalars(
            select(Proposal.tracking_code).where(others, Proposal.nik_idx == p.nik_idx)
        )
        via_board = await session.scalars(
            select(Proposal.tracking_code)
            .join(BoardMember, BoardMember.proposal_id == Proposal.id)
            .where(others, BoardMember.nik_idx == p.nik_idx)
        )
        add("shared_nik", "NIK pemohon juga dipakai pemohon lain", [*direct, *via_board])
    board_idx = list(
        await session.scalars(select(BoardMember.nik_idx).where(BoardMember.proposal_id == p.id))
    )
    if board_idx:
        via_board = await session.scalars(
            select(Proposal.tracking_code)
            .join(BoardMember, BoardMember.proposal_id == Proposal.id)
            .where(others, BoardMember.nik_idx.in_(board_idx))
        )
        direct = await session.scalars(
            select(Proposal.tracking_code).where(others, Proposal.nik_idx.in_(board_idx))
        )
        add(
            "shared_board_member",
            "Pengurus organisasi ini juga tercatat pada pemohon lain",
            [*via_board, *direct],
        )
    if p.bank_account_idx:
        rows = await session.scalars(
            select(Proposal.tracking_code).where(
                others, Proposal.bank_account_idx == p.bank_account_idx
            )
        )
        add("shared_bank_account", "Rekening bank yang sama dipakai pemohon lain", list(rows))
    rows = await session.scalars(
        select(Proposal.tracking_code).where(
            Proposal.applicant_key == p.applicant_key,
            Proposal.id != p.id,
            Proposal.disbursed_idr > 0,
            or_(
                and_(Proposal.lpj_due_date < ctx.today, Proposal.reported_at.is_(None)),
                Proposal.report_late.is_(True),
            ),
        )
    )
    add(
        "overdue_report",
        "Pemohon belum menyerahkan, atau terlambat menyerahkan, LPJ hibah/bansos sebelumnya",
        list(rows),
    )
    return flags
