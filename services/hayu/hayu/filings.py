"""Filing a business: a self-report registered at once or a permit application (hot path)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hayu import oss, sla, writes
from hayu.common import (
    ROMAN_MONTHS,
    SELF_REPORT,
    number_for,
    record_step,
    valid_until,
)
from hayu.decisions import assess_filing
from hayu.dependencies import Context
from hayu.models import (
    IdempotencyRecord,
)
from hayu.schemas import (
    ApplicationCreate,
    ApplicationCreated,
)
from hayu.workflow import SELF_REPORT_WORKFLOW
from shared.audit import audit_params
from shared.auth import Principal
from shared.codes import new_tracking_code, render_number_template
from shared.db import StatementRunner
from shared.idempotency import Idempotency, record_params
from shared.workflow import due_at

logger = logging.getLogger(__name__)


async def file_application(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    data: ApplicationCreate,
) -> ApplicationCreated:
    """Self-report registered at once, or a permit application entering the workflow."""
    created, _ = await file_and_record(session, ctx, principal, data, None)
    return created


async def file_and_record(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    data: ApplicationCreate,
    idempotency: Idempotency | None,
    *,
    standalone: StatementRunner | None = None,
) -> tuple[ApplicationCreated, bool]:
    """`file_application`, also writing `idempotency`'s record when it can do so in the same
    statement; the flag tells whether it did (then the caller must not store it again).

    On PostgreSQL the whole write is one statement (`hayu.writes`): business, application,
    history, audit event, idempotency record and, for a self-report, the registration number.
    The yearly counter's row lock orders a year's self-reports (numbers stay gapless) until the
    transaction that bumped it ends. With `standalone` — given by a caller that writes nothing
    after (the API route, `shared.db.standalone_runner`) — the statement runs as a transaction of
    its own (autocommit) if the request has not used the database before it (the usual case: the
    permit types and rules are cached): the server releases the lock as the statement commits,
    without waiting for this process to send a COMMIT, which under load waits its turn in the
    event loop. Otherwise the caller's COMMIT releases it.
    """
    now = ctx.now
    permit_type, decision = await assess_filing(session, ctx, data)
    biz = data.business
    today = ctx.calendar.local_date(now)
    self_report = decision.kind == SELF_REPORT
    cipher = ctx.cipher
    account_id = principal.account_id or None
    tracking_code = new_tracking_code(ctx.hayu.tracking_prefix)
    workflow = SELF_REPORT_WORKFLOW if self_report else ctx.hayu.workflow
    status = workflow.initial_state
    business: dict[str, Any] = {
        "owner_account_id": account_id,
        "owner_nik_encrypted": cipher.encrypt(biz.owner.nik, context="owner-nik"),
        "owner_nik_index": cipher.blind_index(biz.owner.nik, purpose="nik"),
        "owner_name": biz.owner.name,
        "owner_phone_encrypted": cipher.encrypt(biz.owner.phone, context="owner-phone"),
        "name": biz.name,
        "kbli_codes": list(biz.kbli_codes),
        "address": biz.address,
        "region_code": biz.region_code,
        "capital_idr": biz.capital_idr,
        "workforce": biz.workforce,
        "nib": biz.nib,
        "annual_sales_idr": biz.annual_sales_idr,
        "created_at": now,
    }
    clock_now = not self_report and not permit_type.required_documents
    application: dict[str, Any] = {
        "kind": decision.kind,
        "permit_type_code": permit_type.code,
        "applicant_account_id": account_id,
        "status": status,
        "status_since": now,
        "stage_due_date": None if self_report else due_at(workflow, status, now, ctx.calendar),
        "tracking_code": tracking_code,
        "rule_version": decision.rule_version,
        "decision_reason": decision.reason,
        "workflow_name": workflow.name,
        "submitted_at": now,
        "issued_at": now if self_report else None,
        "valid_until": valid_until(permit_type, today) if self_report else None,
        "deemed_approved": False,
        # the whole-SLA clock starts when the file is complete (`hayu.sla`): at filing only for
        # a type without a checklist; a self-report has none
        "sla_started_at": now if clock_now else None,
        "sla_due_date": sla.due_date(ctx.calendar, today, permit_type.sla_working_days, 0)
        if clock_now
        else None,
    }
    action = "register" if self_report else "submit"
    details = {
        "rule_version": decision.rule_version,
        "threshold_idr": decision.threshold_idr,
        "size_class": decision.size_class,
        "risk_level": decision.risk_level,
        "rule_versions": list(decision.rule_versions),
    }
    audit_after: dict[str, Any] = {
        "status": status,
        "kind": decision.kind,
        "permit_type_code": permit_type.code,
        "number": None,
        "rule_version": decision.rule_version,
        "rule_versions": list(decision.rule_versions),
        "size_class": decision.size_class,
        "risk_level": decision.risk_level,
        "capital_idr": biz.capital_idr,
    }
    template = ctx.hayu.registration_number_template
    number_fields: dict[str, object] = {
        "code": ctx.config.regency.code.replace(".", ""),
        "type": permit_type.code,
    }
    seq_sql = writes.seq_format(template) if self_report else None
    # A permit the OSS link must hear about also writes its outbox message: portable steps.
    to_oss = not self_report and oss.enabled(ctx) and permit_type.oss_permit
    one_statement = not self_report or seq_sql
    if session.get_bind().dialect.name == "postgresql" and one_statement and not to_oss:
        record = idempotency if _foldable(idempotency) else None
        # nothing may be left for the caller's transaction to write after the statement
        nothing_after = record is not None or idempotency is None or idempotency.key is None
        application_id, number, seq = await _file_in_one_statement(
            session,
            principal,
            business,
            application,
            (action, details, audit_after),
            today,
            seq_sql,
            number_fields,
            record,
            standalone if nothing_after else None,
        )
        if self_report:
            expected = render_number_template(template, seq=seq, when=today, **number_fields)
            if number != expected:  # cannot happen for the specs `writes.seq_format` accepts
                logger.error("number %s rendered in SQL, %s expected", number, expected)
        stored = record is not None
    else:
        business_id = (await session.execute(writes.INSERT_BUSINESS, business)).scalar_one()
        oss_id = (
            await oss.application_id_for(session, ctx, biz.nib, biz.owner.nik) if to_oss else None
        )
        if oss_id:
            application = {**application, "oss_application_id": oss_id}
        number = None
        if self_report:
            number = await number_for(ctx, session, SELF_REPORT, permit_type.code, today)
        application_id = (
            await session.execute(
                writes.INSERT_APPLICATION,
                {**application, "business_id": business_id, "number": number},
            )
        ).scalar_one()
        await record_step(
            session,
            application_id=application_id,
            action=action,
            from_state=None,
            to_state=status,
            actor=principal,
            now=now,
            details=details,
            audit_after={**audit_after, "number": number},
        )
        if to_oss:
            await oss.enqueue(
                session,
                ctx,
                application_id=application_id,
                permit_type_code=permit_type.code,
                kind=decision.kind,
                action=action,
                nib=biz.nib,
                oss_application_id=oss_id,
                number=None,
                note=None,
            )
        stored = False
    created = ApplicationCreated(
        id=application_id,
        kind=decision.kind,
        status=status,
        tracking_code=tracking_code,
        registration_number=number,
        decision_reason=decision.reason,
        rule_version=decision.rule_version,
    )
    return created, stored


def _foldable(idempotency: Idempotency | None) -> bool:
    """Whether the idempotency record can be written by the filing statement itself."""
    return (
        idempotency is not None
        and idempotency.key is not None
        and idempotency.model is IdempotencyRecord
    )


async def _file_in_one_statement(
    session: AsyncSession,
    principal: Principal,
    business: dict[str, Any],
    application: dict[str, Any],
    step: tuple[str, dict[str, Any], dict[str, Any]],
    today: dt.date,
    seq_sql: writes.SeqFormat | None,
    number_fields: dict[str, object],
    idempotency: Idempotency | None,
    standalone: StatementRunner | None,
) -> tuple[int, str | None, int]:
    """PostgreSQL: every row of a filing in one statement; returns (id, number, seq)."""
    now = application["submitted_at"]
    action, details, audit_after = step
    params: dict[str, Any] = {
        **{k: v for k, v in application.items() if k not in ("submitted_at", "status_since")},
        **{k: v for k, v in business.items() if k not in ("created_at", "name")},
        "business_name": business["name"],
        "now": now,
        "action": action,
        "details": details,
        "actor": principal.username,
        "actor_role": principal.primary_role,
        **audit_params(principal, after=audit_after, occurred_at=now),
    }
    if seq_sql is not None:
        prefix, suffix = seq_sql.affixes(
            {
                "year": today.year,
                "month": today.month,
                "roman_month": ROMAN_MONTHS[today.month - 1],
                "day": today.day,
                **number_fields,
            }
        )
        params.update(
            seq_scope=f"{SELF_REPORT}:{today.year}",
            number_prefix=prefix,
            number_suffix=suffix,
            number_width=seq_sql.width,
            fill=seq_sql.fill,
        )
    if idempotency is not None:
        answer = {  # id and registration_number are set in SQL
            "kind": application["kind"],
            "status": application["status"],
            "tracking_code": application["tracking_code"],
            "decision_reason": application["decision_reason"],
            "rule_version": application["rule_version"],
        }
        params.update(record_params(idempotency, answer, 201), idem_at=now)
    stmt = writes.FILING[(seq_sql is not None, idempotency is not None)]
    if standalone is not None:
        row = await standalone(stmt, params)
    else:
        # Core on the session's connection: no ORM execution layer for a plain statement.
        row = (await (await session.connection()).execute(stmt, params)).one()
    return int(row.id), row.number, int(row.seq)
