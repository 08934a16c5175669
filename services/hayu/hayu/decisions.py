"""The one place HAYU decides how a business files: self-report or permit, and why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from hayu import errors, reference
from hayu.common import (
    PERMIT,
    SELF_REPORT,
    permit_type_or_422,
)
from hayu.config import PermitTypeDef
from hayu.dependencies import Context
from hayu.schemas import (
    FilingDecisionRead,
)
from shared.money import format_rupiah


@dataclass(frozen=True)
class Decision:
    kind: str
    reason: str
    rule_version: str
    threshold_idr: int


def decide_filing(
    ctx: Context, permit_type: PermitTypeDef, capital_idr: int, day: dt.date
) -> Decision:
    """Self-report or permit: the one rule of HAYU, with the rule version it used."""
    rule = ctx.hayu.threshold_on(day)
    limit = rule.self_report_below_idr
    if not permit_type.self_report_allowed:
        reason = (
            f"{permit_type.name} selalu memerlukan pemeriksaan petugas, berapa pun modal usahanya: "
            "ajukan permohonan izin."
        )
        return Decision(PERMIT, reason, rule.version, limit)
    if capital_idr < limit:
        reason = (
            f"Modal usaha {format_rupiah(capital_idr)} di bawah batas {format_rupiah(limit)} "
            f"({rule.basis}): cukup lapor mandiri, nomor pendaftaran dan sertifikat "
            "langsung terbit."
        )
        return Decision(SELF_REPORT, reason, rule.version, limit)
    reason = (
        f"Modal usaha {format_rupiah(capital_idr)} mencapai batas {format_rupiah(limit)} "
        f"({rule.basis}): ajukan permohonan izin yang diperiksa petugas."
    )
    return Decision(PERMIT, reason, rule.version, limit)


def filing_decision(
    ctx: Context, permit_type_code: str, capital_idr: int, now: dt.datetime
) -> FilingDecisionRead:
    permit_type = permit_type_or_422(ctx, permit_type_code)
    decision = decide_filing(ctx, permit_type, capital_idr, ctx.calendar.local_date(now))
    return FilingDecisionRead(
        kind=decision.kind,
        reason=decision.reason,
        rule_version=decision.rule_version,
        threshold_idr=decision.threshold_idr,
        permit_type_name=permit_type.name,
        sla_working_days=permit_type.sla_working_days,
        fee_idr=permit_type.fee_idr,
        required_documents=(
            [d.label for d in permit_type.required_documents] if decision.kind == PERMIT else []
        ),
    )


async def check_reference_codes(
    session: AsyncSession, kbli_codes: Sequence[str], region_code: str
) -> None:
    """KBLI codes and the kecamatan of the address must be in the imported lists, once imported.

    Checked against the process's copy of the lists (`reference.ReferenceCache`): no round trip
    once loaded.
    """
    kecamatan = ".".join(region_code.split(".")[:3])
    sets = await reference.cache_for(session).get(session)
    if sets.kbli:
        missing = [c for c in kbli_codes if c not in sets.kbli]
        if missing:
            raise errors.KbliNotFoundError(
                f"KBLI code(s) {', '.join(missing)} are not in the KBLI 2020 list",
                errors=[
                    {
                        "loc": ["body", "business", "kbli_codes", kbli_codes.index(c)],
                        "msg": "not in the KBLI 2020 list",
                        "type": "kbli_not_found",
                    }
                    for c in missing
                ],
            )
    if sets.kecamatan and kecamatan not in sets.kecamatan:
        raise errors.RegionNotFoundError(
            f"Region code {region_code}: kecamatan {kecamatan} is not in the imported list",
            errors=[
                {
                    "loc": ["body", "business", "region_code"],
                    "msg": "kecamatan not in the kode wilayah list",
                    "type": "region_not_found",
                }
            ],
        )
