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
from hayu.config import RISK_LABELS, SIZE_LABELS, PermitTypeDef
from hayu.dependencies import Context
from hayu.schemas import (
    ApplicationCreate,
    FilingDecisionRead,
    FilingFacts,
)
from shared.money import format_rupiah


@dataclass(frozen=True)
class Decision:
    kind: str
    reason: str
    rule_version: str
    threshold_idr: int
    size_class: str = ""
    risk_level: str | None = None
    rule_versions: tuple[str, ...] = ()
    """Every rule the decision used, with its date (kept out of citizen documents)."""


def decide_filing(
    ctx: Context,
    permit_type: PermitTypeDef,
    capital_idr: int,
    day: dt.date,
    *,
    annual_sales_idr: int | None = None,
    kbli_risk: str | None = None,
    kbli_risk_version: str | None = None,
) -> Decision:
    """Self-report or permit, with every rule version it used.

    The size class (PP 7/2021 Pasal 35) comes from capital, or the larger class of capital and
    annual sales when sales are given. A KBLI whose risk level the regency sends to the permit
    path (`permit_required_risk_levels`) is never a self-report; otherwise the regency's
    self-report line decides (a capital line, or a set of size classes).
    """
    rule = ctx.hayu.threshold_on(day)
    classes = ctx.hayu.size_classes_on(day)
    size = classes.classify(capital_idr, annual_sales_idr)
    versions = [rule.version, classes.version]
    if kbli_risk_version:
        versions.append(kbli_risk_version)

    def decided(kind: str, reason: str) -> Decision:
        return Decision(
            kind, reason, rule.version, rule.limit_idr, size, kbli_risk, tuple(versions)
        )

    size_text = f"{SIZE_LABELS[size].lower()} ({classes.basis.split(':')[0]})"
    if not permit_type.self_report_allowed:
        return decided(
            PERMIT,
            f"{permit_type.name} selalu memerlukan pemeriksaan petugas, berapa pun modal "
            "usahanya: ajukan permohonan izin.",
        )
    if kbli_risk is not None and kbli_risk in ctx.hayu.permit_required_risk_levels:
        return decided(
            PERMIT,
            f"Tingkat risiko KBLI usaha ini {RISK_LABELS[kbli_risk].lower()}: perlu "
            "pemeriksaan petugas, ajukan permohonan izin.",
        )
    allowed = rule.allows(capital_idr, size)
    if rule.self_report_classes is not None:
        wording = "termasuk" if allowed else "tidak termasuk"
        tail = (
            "cukup lapor mandiri, nomor pendaftaran dan sertifikat langsung terbit."
            if allowed
            else "ajukan permohonan izin yang diperiksa petugas."
        )
        return decided(
            SELF_REPORT if allowed else PERMIT,
            f"Usaha {size_text} {wording} golongan yang cukup lapor mandiri ({rule.basis}): "
            + tail,
        )
    limit = rule.limit_idr
    if allowed:
        edge = "di bawah" if rule.self_report_below_idr is not None else "tidak melebihi"
        return decided(
            SELF_REPORT,
            f"Modal usaha {format_rupiah(capital_idr)} {edge} batas {format_rupiah(limit)} "
            f"({rule.basis}): cukup lapor mandiri, nomor pendaftaran dan sertifikat "
            "langsung terbit.",
        )
    edge = "mencapai" if rule.self_report_below_idr is not None else "melebihi"
    return decided(
        PERMIT,
        f"Modal usaha {format_rupiah(capital_idr)} {edge} batas {format_rupiah(limit)} "
        f"({rule.basis}): ajukan permohonan izin yang diperiksa petugas.",
    )


def decision_read(permit_type: PermitTypeDef, decision: Decision) -> FilingDecisionRead:
    return FilingDecisionRead(
        kind=decision.kind,
        reason=decision.reason,
        rule_version=decision.rule_version,
        threshold_idr=decision.threshold_idr,
        size_class=decision.size_class,
        risk_level=decision.risk_level,
        rule_versions=list(decision.rule_versions),
        permit_type_name=permit_type.name,
        sla_working_days=permit_type.sla_working_days,
        fee_idr=permit_type.fee_idr,
        required_documents=(
            [d.label for d in permit_type.required_documents] if decision.kind == PERMIT else []
        ),
    )


async def filing_decision(
    session: AsyncSession, ctx: Context, facts: FilingFacts
) -> FilingDecisionRead:
    """The preview before filing: the very checks a filing runs (`assess`) on the facts given so
    far (capital, annual sales, KBLI, region), so a yes here is a yes on submit."""
    permit_type, decision = await assess(session, ctx, facts)
    return decision_read(permit_type, decision)


async def assess_filing(
    session: AsyncSession,
    ctx: Context,
    data: ApplicationCreate,
) -> tuple[PermitTypeDef, Decision]:
    """Every check a filing must pass: "Periksa", the preview and "Ajukan" all run `assess`, so
    a yes on the check is a yes on submit. Raises the same typed errors either way."""
    biz = data.business
    facts = FilingFacts(
        permit_type_code=data.permit_type_code,
        capital_idr=biz.capital_idr,
        annual_sales_idr=biz.annual_sales_idr,
        kbli_codes=biz.kbli_codes,
        region_code=biz.region_code,
    )
    return await assess(session, ctx, facts)


async def assess(
    session: AsyncSession, ctx: Context, facts: FilingFacts
) -> tuple[PermitTypeDef, Decision]:
    """Permit type, jurisdiction, KBLI and region lists, size class (capital or annual sales)
    and KBLI risk, on the context's day. A fact not given is not checked."""
    permit_type = permit_type_or_422(ctx, facts.permit_type_code)
    if facts.region_code is not None:
        check_jurisdiction(ctx, facts.region_code)
    sets = await check_reference_codes(session, facts.kbli_codes, facts.region_code)
    day = ctx.today
    risk, risk_version = sets.risk_of(facts.kbli_codes, day)
    decision = decide_filing(
        ctx,
        permit_type,
        facts.capital_idr,
        day,
        annual_sales_idr=facts.annual_sales_idr,
        kbli_risk=risk,
        kbli_risk_version=risk_version,
    )
    return permit_type, decision


def check_jurisdiction(ctx: Context, region_code: str) -> None:
    """A kabupaten/kota licenses only businesses located in its own territory."""
    prefixes = ctx.hayu.jurisdiction_prefixes or [ctx.config.regency.code]
    if any(region_code == p or region_code.startswith(p + ".") for p in prefixes):
        return
    raise errors.OutsideJurisdictionError(
        f"Region code {region_code} lies outside {ctx.config.regency.name} "
        f"({', '.join(prefixes)}): file with the regency where the business is located",
        errors=[
            {
                "loc": ["body", "business", "region_code"],
                "msg": "outside this regency",
                "type": "outside_jurisdiction",
            }
        ],
    )


async def check_reference_codes(
    session: AsyncSession, kbli_codes: Sequence[str], region_code: str | None
) -> reference.ReferenceSets:
    """KBLI codes and the kecamatan of the address must be in the imported lists, once imported.

    Checked against the process's copy of the lists (`reference.ReferenceCache`): no round trip
    once loaded.
    """
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
    kecamatan = ".".join(region_code.split(".")[:3]) if region_code is not None else None
    if kecamatan is not None and sets.kecamatan and kecamatan not in sets.kecamatan:
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
    return sets
