"""What every HAYU resource module shares: kinds, access, loading, numbering, the history step."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hayu import errors, writes
from hayu.config import PermitTypeDef
from hayu.dependencies import Context
from hayu.models import (
    Application,
    ApplicationEvent,
    AuditEvent,
    Business,
)
from hayu.workflow import SELF_REPORT_WORKFLOW, STAFF_ROLES
from shared.auth import Principal
from shared.codes import render_number_template
from shared.workflow import WorkflowDef, record_transition

SELF_REPORT = "self_report"
PERMIT = "permit"
PERSONAL_DATA_ROLES = frozenset({"officer", "approver", "auditor", "admin"})
CERTIFICATE_ROLES = frozenset({"officer", "approver", "auditor", "admin"})
FINISHED = frozenset({"issued", "registered", "rejected", "revoked"})


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


def workflow_for(ctx: Context, kind: str) -> WorkflowDef:
    return SELF_REPORT_WORKFLOW if kind == SELF_REPORT else ctx.hayu.workflow


def state_label(workflow: WorkflowDef, state: str) -> str:
    try:
        return workflow.state(state).label
    except KeyError:
        return state


def holder_of(workflow: WorkflowDef, state: str) -> str | None:
    try:
        return workflow.state(state).holder
    except KeyError:
        return None


def mask_name(name: str) -> str:
    """`Siti Rahmawati` → `S*** R*******`: enough to recognise, not enough to learn."""
    return " ".join(w[0] + "*" * (len(w) - 1) for w in name.split() if w)


def is_staff(principal: Principal) -> bool:
    return principal.has_any(*STAFF_ROLES)


def permit_type_or_422(ctx: Context, code: str) -> PermitTypeDef:
    found = ctx.hayu.permit_type(code)
    if found is None:
        known = ", ".join(p.code for p in ctx.hayu.permit_types)
        raise errors.PermitTypeNotFoundError(
            f"Permit type '{code}' is not in this regency's catalogue; known: {known}",
            permit_type_code=code,
        )
    return found


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


async def next_sequence(session: AsyncSession, scope: str) -> int:
    """Bump and return the counter of `scope` in one statement (an upsert with RETURNING)."""
    stmt = writes.BUMP_SEQUENCE[session.get_bind().dialect.name]
    return int((await session.execute(stmt, {"seq_scope": scope})).scalar_one())


async def number_for(
    ctx: Context, session: AsyncSession, kind: str, type_code: str, day: dt.date
) -> str:
    scope = f"{kind}:{day.year}"
    seq = await next_sequence(session, scope)
    code = ctx.config.regency.code.replace(".", "")
    if kind == SELF_REPORT:
        return render_number_template(
            ctx.hayu.registration_number_template, seq=seq, when=day, code=code, type=type_code
        )
    return render_number_template(
        ctx.hayu.permit_number_template, seq=seq, when=day, code=code, type=type_code
    )


async def record_step(
    session: AsyncSession,
    *,
    application_id: int,
    action: str,
    from_state: str | None,
    to_state: str,
    actor: Principal | None,
    now: dt.datetime,
    note: str | None = None,
    details: dict[str, Any] | None = None,
    audit_after: dict[str, Any] | None = None,
) -> None:
    """The history row and the audit event of one step, in the caller's transaction."""
    await record_transition(
        session,
        ApplicationEvent,
        AuditEvent,
        entity_type="application",
        entity_id=application_id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        occurred_at=now,
        note=note,
        details=details,
        after=audit_after,
    )


ROMAN_MONTHS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


def valid_until(permit_type: PermitTypeDef, day: dt.date) -> dt.date | None:
    if permit_type.validity_months is None:
        return None
    return add_months(day, permit_type.validity_months)


async def load(
    session: AsyncSession, application_id: int, *, lock: bool = False
) -> tuple[Application, Business]:
    stmt = (
        select(Application, Business)
        .join(Business, Business.id == Application.business_id)
        .where(Application.id == application_id)
    )
    if lock:
        # Two officers acting at once: the second waits, then sees the new state (409).
        stmt = stmt.with_for_update(of=Application)
    row = (await session.execute(stmt)).first()
    if row is None:
        raise errors.ApplicationNotFoundError(f"No application with id {application_id}")
    return row[0], row[1]


def check_access(principal: Principal, application: Application) -> None:
    if is_staff(principal):
        return
    if application.applicant_account_id != principal.account_id:
        # Not found rather than forbidden: an owner must not learn which ids exist.
        raise errors.ApplicationNotFoundError(f"No application with id {application.id}")


def is_overdue(application: Application, today: dt.date) -> bool:
    return application.stage_due_date is not None and application.stage_due_date < today
