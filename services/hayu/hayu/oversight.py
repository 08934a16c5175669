"""Oversight: the random post-audit sample of self-reports and the public statistics."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hayu import errors, sla
from hayu.common import (
    PERMIT,
    SELF_REPORT,
)
from hayu.dependencies import Context
from hayu.models import (
    Application,
    AuditCheckpoint,
    AuditEvent,
    AuditFinding,
    AuditSample,
)
from hayu.schemas import (
    AuditFindingCreate,
    AuditFindingRead,
    AuditSampleRead,
    PostAuditMonth,
    SampledRegistration,
    StatsRead,
    StatsRow,
)
from shared import audit
from shared.auth import Principal

# --------------------------------------------------------------------------------------------------
# Post-audit sample
# --------------------------------------------------------------------------------------------------


async def draw_seed(
    session: AsyncSession,
    ctx: Context,
    percent: int,
) -> tuple[str, int | None]:
    """The draw's seed, which anyone can recompute: sha256 over the latest audit checkpoint
    sealed before today (local) began — published at /api/v1/public/audit/checkpoint — the date
    and the percent. No checkpoint yet: the date and the percent alone."""
    now = ctx.now
    today = ctx.calendar.local_date(now)
    checkpoint = (
        await session.execute(
            select(AuditCheckpoint.position, AuditCheckpoint.chain_hash)
            .where(AuditCheckpoint.sealed_at < ctx.calendar.local_midnight_utc(today))
            .order_by(AuditCheckpoint.position.desc())
            .limit(1)
        )
    ).first()
    material = (
        f"hayu-post-audit|{checkpoint.position}|{checkpoint.chain_hash}|{today}|{percent}"
        if checkpoint
        else f"hayu-post-audit|-|-|{today}|{percent}"
    )
    return hashlib.sha256(
        material.encode()
    ).hexdigest(), checkpoint.position if checkpoint else None


def rank(seed: str, number: str) -> str:
    """A registration's place in the draw: lowest first. Depends only on the seed and the number."""
    return hashlib.sha256(f"{seed}|{number}".encode()).hexdigest()


async def record_finding(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    sample_id: int,
    data: AuditFindingCreate,
) -> AuditFindingRead:
    """The post-audit result for a registration of the sample (once per registration)."""
    now = ctx.now
    sample = await session.get(AuditSample, sample_id)
    if sample is None or data.application_id not in (sample.application_ids or []):
        raise errors.AuditSampleError(
            f"Registration {data.application_id} is not in audit sample {sample_id}"
        )
    taken = await session.scalar(
        select(AuditFinding.id).where(AuditFinding.application_id == data.application_id)
    )
    if taken is not None:
        raise errors.AuditFindingExistsError("This registration's finding is already recorded")
    finding = AuditFinding(
        sample_id=sample_id,
        application_id=data.application_id,
        outcome=data.outcome,
        findings=data.findings,
        follow_up=data.follow_up,
        recorded_by=principal.username,
        recorded_at=now,
    )
    session.add(finding)
    await session.flush()
    await audit.record_event(
        session,
        AuditEvent,
        actor=principal,
        action="audit_finding.recorded",
        entity_type="application",
        entity_id=data.application_id,
        after={"sample_id": sample_id, "outcome": data.outcome, "follow_up": data.follow_up},
        occurred_at=now,
    )
    return AuditFindingRead.model_validate(finding)


async def draw_audit_sample(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    percent: int,
) -> AuditSampleRead:
    """A random share of self-reports not sampled before, drawn and recorded for post-audit."""
    now = ctx.now
    if percent > ctx.hayu.audit_sample_max_percent:
        raise errors.AuditSampleError(
            f"At most {ctx.hayu.audit_sample_max_percent}% may be drawn in one sample"
        )
    population = (
        await session.execute(
            select(Application.id, Application.number, Application.permit_type_code).where(
                Application.kind == SELF_REPORT,
                Application.status == "registered",
                Application.audit_sample_id.is_(None),
            )
        )
    ).all()
    if not population:
        raise errors.AuditSampleError("There are no registered self-reports left to sample")
    size = max(1, math.ceil(len(population) * percent / 100))
    seed, position = await draw_seed(session, ctx, percent)
    ranked = sorted(population, key=lambda r: rank(seed, r.number or str(r.id)))
    chosen = sorted(ranked[:size], key=lambda r: r.id)
    ids = [r.id for r in chosen]
    sample_id = (
        await session.execute(
            insert(AuditSample)
            .values(
                percent=percent,
                population=len(population),
                application_ids=ids,
                drawn_by=principal.username,
                drawn_at=now,
                seed=seed,
                seed_checkpoint_position=position,
            )
            .returning(AuditSample.id)
        )
    ).scalar_one()
    await session.execute(
        update(Application)
        .where(Application.id.in_(ids))
        .values(audit_sample_id=sample_id)
        .execution_options(synchronize_session=False)
    )
    await audit.record_event(
        session,
        AuditEvent,
        actor=principal,
        action="audit_sample.drawn",
        entity_type="audit_sample",
        entity_id=sample_id,
        after={
            "percent": percent,
            "population": len(population),
            "application_ids": ids,
            "seed": seed,
            "seed_checkpoint_position": position,
        },
        occurred_at=now,
    )
    return AuditSampleRead(
        id=sample_id,
        percent=percent,
        population=len(population),
        drawn_at=now,
        drawn_by=principal.username,
        seed=seed,
        seed_checkpoint_position=position,
        selected=[
            SampledRegistration(id=r.id, number=r.number, permit_type_code=r.permit_type_code)
            for r in chosen
        ],
    )


# --------------------------------------------------------------------------------------------------
# Public statistics
# --------------------------------------------------------------------------------------------------


def _percentile(values: Sequence[int], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    if q == 0.5:
        mid = len(ordered) // 2
        return float(ordered[mid]) if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    rank = max(1, math.ceil(q * len(ordered)))  # nearest-rank
    return float(ordered[rank - 1])


async def public_stats(session: AsyncSession, ctx: Context) -> StatsRead:
    now = ctx.now
    counts = (
        await session.execute(
            select(
                Application.permit_type_code,
                Application.kind,
                Application.status,
                Application.deemed_approved,
                func.count(),
            ).group_by(
                Application.permit_type_code,
                Application.kind,
                Application.status,
                Application.deemed_approved,
            )
        )
    ).all()
    durations = (
        await session.execute(
            select(
                Application.id,
                Application.permit_type_code,
                Application.sla_started_at,
                Application.issued_at,
                Application.sla_paused_days,
            ).where(and_(Application.kind == PERMIT, Application.issued_at.is_not(None)))
        )
    ).all()
    # a file issued before its clock was stored: the clock from when its uploads made it complete
    unclocked = [row.id for row in durations if row.sla_started_at is None]
    derived: dict[int, dt.datetime | None] = {}
    if unclocked:
        files = (
            (await session.execute(select(Application).where(Application.id.in_(unclocked))))
            .scalars()
            .all()
        )
        complete = await sla.completed_at(session, ctx, files)
        derived = {f.id: complete[f.id] or f.submitted_at for f in files}
    tally: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for code, kind, status, deemed, n in counts:
        bucket = tally[code]
        if kind == SELF_REPORT:
            bucket["registered"] += n
            if status == "revoked":
                bucket["revoked"] += n
            continue
        if status in ("issued", "revoked"):
            bucket["issued"] += n
            if deemed:
                bucket["deemed_approved"] += n
            if status == "revoked":
                bucket["revoked"] += n
        elif status == "rejected":
            bucket["rejected"] += n
        else:
            bucket["in_progress"] += n
    days: dict[str, list[int]] = defaultdict(list)
    calendar = ctx.calendar
    for app_id, code, started_at, issued_at, paused_days in durations:
        start = started_at or derived.get(app_id)
        if issued_at is None or start is None:
            continue
        # the SLA clock's own count (`hayu.sla`): time waiting for the applicant excluded
        clock = sla.Clock(started_at=start, paused_days=paused_days or 0)
        days[code].append(sla.working_days_used(calendar, clock, issued_at) or 0)
    items = []
    for permit_type in ctx.hayu.permit_types:
        bucket = tally.get(permit_type.code, {})
        spent = days.get(permit_type.code, [])
        within = sum(1 for d in spent if d <= permit_type.sla_working_days)
        items.append(
            StatsRow(
                permit_type_code=permit_type.code,
                permit_type_name=permit_type.name,
                sla_working_days=permit_type.sla_working_days,
                registered=bucket.get("registered", 0),
                issued=bucket.get("issued", 0),
                deemed_approved=bucket.get("deemed_approved", 0),
                rejected=bucket.get("rejected", 0),
                revoked=bucket.get("revoked", 0),
                in_progress=bucket.get("in_progress", 0),
                median_working_days=_percentile(spent, 0.5),
                p90_working_days=_percentile(spent, 0.9),
                within_sla_share=round(within / len(spent), 4) if spent else None,
            )
        )
    return StatsRead(
        generated_at=now, items=items, post_audit=await post_audit_months(session, ctx)
    )


async def post_audit_months(session: AsyncSession, ctx: Context) -> list[PostAuditMonth]:
    """Per month: registrations drawn for post-audit and the outcomes recorded so far."""
    calendar = ctx.calendar
    months: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    samples = (
        await session.execute(select(AuditSample.drawn_at, AuditSample.application_ids))
    ).all()
    for drawn_at, ids in samples:
        months[calendar.local_date(drawn_at).strftime("%Y-%m")]["sampled"] += len(ids or [])
    findings = (
        await session.execute(
            select(AuditSample.drawn_at, AuditFinding.outcome).join(
                AuditSample, AuditSample.id == AuditFinding.sample_id
            )
        )
    ).all()
    for drawn_at, outcome in findings:
        bucket = months[calendar.local_date(drawn_at).strftime("%Y-%m")]
        bucket["checked"] += 1
        bucket[outcome] += 1
    return [
        PostAuditMonth(
            month=month,
            sampled=b["sampled"],
            checked=b["checked"],
            compliant=b["sesuai"],
            not_compliant=b["tidak_sesuai"],
            not_found=b["tidak_ditemukan"],
        )
        for month, b in sorted(months.items(), reverse=True)[:12]
    ]
