"""HAYU's rules: filing, the permit workflow, certificates, verification, audit samples, statistics.

Functions take the request's session, raise typed errors and flush; they never commit, with one
exception: `file_and_record(..., own_transaction=True)` (see there). Filing, tracking and
verification are hot paths: they use Core statements and count their round trips.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Select, String, bindparam, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.concurrency import run_in_threadpool

from hayu import errors, reference, writes
from hayu.config import PermitTypeDef
from hayu.dependencies import Context
from hayu.models import (
    Account,
    Application,
    ApplicationDocument,
    ApplicationEvent,
    AuditEvent,
    Business,
    IdempotencyRecord,
)
from hayu.schemas import (
    AccountRead,
    ApplicationCreate,
    ApplicationCreated,
    ApplicationRead,
    ApplicationSummary,
    BusinessRead,
    ChecklistItemRead,
    DocumentRead,
    FilingDecisionRead,
    HistoryRead,
    OwnerRead,
    RegisterCreate,
    StageRead,
    TrackRead,
    TransitionCreate,
)
from hayu.workflow import ROLE_LABELS, SELF_REPORT_WORKFLOW, STAFF_ROLES
from shared import audit
from shared.auth import Principal, hash_password_async
from shared.codes import new_tracking_code, normalize_tracking_code, render_number_template
from shared.idempotency import Idempotency
from shared.money import format_rupiah
from shared.observability import request_id_var
from shared.pagination import keyset_page
from shared.uploads import MAX_PIXELS, image_pixels, is_plain_filename, sniff
from shared.validators import mask
from shared.workflow import WorkflowDef, due_at, stage_spans, transition

logger = logging.getLogger(__name__)

SELF_REPORT = "self_report"
PERMIT = "permit"
SYSTEM = "system"
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


def _add_months(day: dt.date, months: int) -> dt.date:
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


async def _number(
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


async def _record_step(
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
    name = actor.username if actor else SYSTEM
    role = actor.primary_role if actor else SYSTEM
    await session.execute(
        insert(ApplicationEvent).values(
            application_id=application_id,
            action=action,
            from_state=from_state,
            to_state=to_state,
            actor=name,
            actor_role=role,
            note=note,
            details=details,
            occurred_at=now,
        )
    )
    await audit.record_event(
        session,
        AuditEvent,
        actor=actor,
        action=f"application.{action}",
        entity_type="application",
        entity_id=application_id,
        before={"status": from_state} if from_state else None,
        after={"status": to_state, **(audit_after or {})},
        occurred_at=now,
    )


# --------------------------------------------------------------------------------------------------
# Accounts
# --------------------------------------------------------------------------------------------------


async def register_owner(session: AsyncSession, data: RegisterCreate) -> AccountRead:
    taken = await session.scalar(select(Account.id).where(Account.username == data.username))
    if taken is not None:
        raise errors.UsernameTakenError(f"The username '{data.username}' is already taken")
    account = Account(
        username=data.username,
        password_hash=await hash_password_async(data.password),
        full_name=data.full_name,
        roles=["business_owner"],
        unit=None,
        active=True,
        must_change_password=False,
        failed_logins=0,
    )
    session.add(account)
    await session.flush()
    await audit.record_event(
        session,
        AuditEvent,
        actor=data.username,
        role="business_owner",
        action="account.registered",
        entity_type="account",
        entity_id=account.id,
        after={"username": data.username, "roles": ["business_owner"]},
    )
    return AccountRead(
        id=account.id, username=account.username, full_name=account.full_name, roles=account.roles
    )


# --------------------------------------------------------------------------------------------------
# Filing
# --------------------------------------------------------------------------------------------------


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


async def file_application(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    data: ApplicationCreate,
    now: dt.datetime,
) -> ApplicationCreated:
    """Self-report registered at once, or a permit application entering the workflow."""
    created, _ = await file_and_record(session, ctx, principal, data, now, None)
    return created


async def file_and_record(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    data: ApplicationCreate,
    now: dt.datetime,
    idempotency: Idempotency | None,
    *,
    own_transaction: bool = False,
) -> tuple[ApplicationCreated, bool]:
    """`file_application`, also writing `idempotency`'s record when it can do so in the same
    statement; the flag tells whether it did (then the caller must not store it again).

    On PostgreSQL the whole write is one statement (`hayu.writes`): business, application,
    history, audit event, idempotency record and, for a self-report, the registration number.
    The yearly counter's row lock orders a year's self-reports (numbers stay gapless) until the
    transaction that bumped it ends. With `own_transaction` — for a caller whose transaction has
    only read so far and will write nothing after (the API route) — that transaction is committed
    here, and the statement runs as a transaction of its own (autocommit): the server releases
    the lock as the statement commits, without waiting for this process to send a COMMIT, which
    under load waits its turn in the event loop. Otherwise the caller's COMMIT releases it.
    """
    permit_type = permit_type_or_422(ctx, data.permit_type_code)
    biz = data.business
    await check_reference_codes(session, biz.kbli_codes, biz.region_code)
    today = ctx.calendar.local_date(now)
    decision = decide_filing(ctx, permit_type, biz.capital_idr, today)
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
        "created_at": now,
    }
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
        "valid_until": _valid_until(permit_type, today) if self_report else None,
        "deemed_approved": False,
    }
    action = "register" if self_report else "submit"
    details = {"rule_version": decision.rule_version, "threshold_idr": decision.threshold_idr}
    audit_after: dict[str, Any] = {
        "status": status,
        "kind": decision.kind,
        "permit_type_code": permit_type.code,
        "number": None,
        "rule_version": decision.rule_version,
        "capital_idr": biz.capital_idr,
    }
    template = ctx.hayu.registration_number_template
    number_fields: dict[str, object] = {
        "code": ctx.config.regency.code.replace(".", ""),
        "type": permit_type.code,
    }
    seq_sql = writes.seq_format(template) if self_report else None
    if session.get_bind().dialect.name == "postgresql" and (not self_report or seq_sql):
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
            own_transaction and nothing_after,
        )
        if self_report:
            expected = render_number_template(template, seq=seq, when=today, **number_fields)
            if number != expected:  # cannot happen for the specs `writes.seq_format` accepts
                logger.error("number %s rendered in SQL, %s expected", number, expected)
        stored = record is not None
    else:
        business_id = (await session.execute(writes.INSERT_BUSINESS, business)).scalar_one()
        number = None
        if self_report:
            number = await _number(ctx, session, SELF_REPORT, permit_type.code, today)
        application_id = (
            await session.execute(
                writes.INSERT_APPLICATION,
                {**application, "business_id": business_id, "number": number},
            )
        ).scalar_one()
        await _record_step(
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


_ROMAN_MONTHS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


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
    own_transaction: bool,
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
        "audit_action": f"application.{action}",
        "entity_type": "application",
        "audit_before": None,
        "audit_after": audit_after,
        "request_id": request_id_var.get(),
    }
    if seq_sql is not None:
        prefix, suffix = seq_sql.affixes(
            {
                "year": today.year,
                "month": today.month,
                "roman_month": _ROMAN_MONTHS[today.month - 1],
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
        params.update(
            idem_scope=idempotency.scope,
            idem_key=idempotency.key,
            idem_hash=idempotency.request_hash,
            idem_status=201,
            response_body={
                "kind": application["kind"],
                "status": application["status"],
                "tracking_code": application["tracking_code"],
                "decision_reason": application["decision_reason"],
                "rule_version": application["rule_version"],
            },
        )
    stmt = writes.FILING[(seq_sql is not None, idempotency is not None)]
    engine = session.bind
    if own_transaction and isinstance(engine, AsyncEngine):
        # End the caller's read-only transaction (its connection goes back to the pool), then
        # run the one statement that writes as its own transaction.
        await session.commit()
        async with engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            row = (await auto.execute(stmt, params)).one()
    else:
        # Core on the session's connection: no ORM execution layer for a plain statement.
        row = (await (await session.connection()).execute(stmt, params)).one()
    return int(row.id), row.number, int(row.seq)


def _valid_until(permit_type: PermitTypeDef, day: dt.date) -> dt.date | None:
    if permit_type.validity_months is None:
        return None
    return _add_months(day, permit_type.validity_months)


# --------------------------------------------------------------------------------------------------
# Reading applications
# --------------------------------------------------------------------------------------------------


async def _load(
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


def _check_access(principal: Principal, application: Application) -> None:
    if is_staff(principal):
        return
    if application.applicant_account_id != principal.account_id:
        # Not found rather than forbidden: an owner must not learn which ids exist.
        raise errors.ApplicationNotFoundError(f"No application with id {application.id}")


def is_overdue(application: Application, today: dt.date) -> bool:
    return application.stage_due_date is not None and application.stage_due_date < today


async def read_application(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    application_id: int,
    *,
    reveal_personal_data: bool = False,
    now: dt.datetime,
) -> ApplicationRead:
    application, business = await _load(session, application_id)
    _check_access(principal, application)
    documents = (
        (
            await session.execute(
                select(ApplicationDocument)
                .where(ApplicationDocument.application_id == application_id)
                .order_by(ApplicationDocument.id)
            )
        )
        .scalars()
        .all()
    )
    reveal = reveal_personal_data and principal.has_any(*PERSONAL_DATA_ROLES)
    if reveal_personal_data and not reveal:
        raise errors.NotYourApplicationError(
            "Only officers, approvers and auditors may read the owner's NIK and phone unmasked"
        )
    nik = ctx.cipher.decrypt(business.owner_nik_encrypted, context="owner-nik")
    phone = ctx.cipher.decrypt(business.owner_phone_encrypted, context="owner-phone")
    if reveal:
        await audit.record_event(
            session,
            AuditEvent,
            actor=principal,
            action="personal_data.read",
            entity_type="business",
            entity_id=business.id,
            after={"fields": ["owner.nik", "owner.phone"], "application_id": application_id},
        )
    else:
        nik, phone = mask(nik), mask(phone)
    history = await _history(session, application_id)
    return _application_read(
        ctx, principal, application, business, documents, history, reveal, nik, phone, now
    )


async def _history(session: AsyncSession, application_id: int) -> list[HistoryRead]:
    rows = (
        (
            await session.execute(
                select(ApplicationEvent)
                .where(ApplicationEvent.application_id == application_id)
                .order_by(ApplicationEvent.occurred_at, ApplicationEvent.id)
            )
        )
        .scalars()
        .all()
    )
    return [
        HistoryRead(
            action=r.action,
            from_state=r.from_state,
            to_state=r.to_state,
            actor_role=r.actor_role,
            note=r.note,
            details=r.details,
            occurred_at=r.occurred_at,
        )
        for r in rows
    ]


def _application_read(
    ctx: Context,
    principal: Principal,
    application: Application,
    business: Business,
    documents: Sequence[ApplicationDocument],
    history: list[HistoryRead],
    revealed: bool,
    nik: str,
    phone: str,
    now: dt.datetime,
) -> ApplicationRead:
    workflow = workflow_for(ctx, application.kind)
    permit_type = ctx.hayu.permit_type(application.permit_type_code)
    uploaded = {d.checklist_item for d in documents}
    checklist = (
        [
            ChecklistItemRead(code=d.code, label=d.label, uploaded=d.code in uploaded)
            for d in permit_type.required_documents
        ]
        if permit_type is not None
        else []
    )
    actions = [a.name for a in workflow.available_actions(application.status, principal.roles)]
    if not is_staff(principal) and application.applicant_account_id != principal.account_id:
        actions = []
    return ApplicationRead(
        id=application.id,
        kind=application.kind,
        permit_type_code=application.permit_type_code,
        status=application.status,
        status_label=state_label(workflow, application.status),
        status_since=application.status_since,
        stage_due_date=application.stage_due_date,
        overdue=is_overdue(application, ctx.calendar.local_date(now)),
        holder=holder_of(workflow, application.status),
        tracking_code=application.tracking_code,
        number=application.number,
        rule_version=application.rule_version,
        decision_reason=application.decision_reason,
        submitted_at=application.submitted_at,
        issued_at=application.issued_at,
        valid_until=application.valid_until,
        deemed_approved=application.deemed_approved,
        revoked_at=application.revoked_at,
        revoke_reason=application.revoke_reason,
        audit_sample_id=application.audit_sample_id,
        business=BusinessRead(
            id=business.id,
            name=business.name,
            owner=OwnerRead(nik=nik, name=business.owner_name, phone=phone, masked=not revealed),
            kbli_codes=list(business.kbli_codes),
            address=business.address,
            region_code=business.region_code,
            capital_idr=business.capital_idr,
            workforce=business.workforce,
        ),
        checklist=checklist,
        documents=[
            DocumentRead(
                id=d.id,
                checklist_item=d.checklist_item,
                filename=d.filename,
                content_type=d.content_type,
                size_bytes=d.size_bytes,
                sha256=d.sha256,
                uploaded_at=d.uploaded_at,
            )
            for d in documents
        ],
        available_actions=actions,
        history=history,
    )


async def list_applications(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    *,
    status: str | None,
    permit_type_code: str | None,
    overdue: bool | None,
    owner_nik: str | None,
    limit: int,
    cursor: str | None,
    now: dt.datetime,
) -> tuple[list[ApplicationSummary], str | None]:
    today = ctx.calendar.local_date(now)
    stmt = select(
        Application.id,
        Application.kind,
        Application.permit_type_code,
        Application.status,
        Application.stage_due_date,
        Application.tracking_code,
        Application.number,
        Application.submitted_at,
        Business.name.label("business_name"),
    ).join(Business, Business.id == Application.business_id)
    if not is_staff(principal):
        stmt = stmt.where(Application.applicant_account_id == principal.account_id)
    if status:
        stmt = stmt.where(Application.status == status)
    if permit_type_code:
        stmt = stmt.where(Application.permit_type_code == permit_type_code)
    if overdue is True:
        stmt = stmt.where(Application.stage_due_date < today)
    elif overdue is False:
        stmt = stmt.where(
            or_(Application.stage_due_date.is_(None), Application.stage_due_date >= today)
        )
    if owner_nik:
        if not principal.has_any(*PERSONAL_DATA_ROLES):
            raise errors.NotYourApplicationError(
                "Searching by NIK needs an officer or auditor role"
            )
        stmt = stmt.where(
            Business.owner_nik_index.in_(
                ctx.cipher.blind_index_candidates(owner_nik, purpose="nik")
            )
        )
    rows, next_cursor = await keyset_page(
        session, cast("Select[Any]", stmt), keys=[Application.id], limit=limit, cursor=cursor
    )
    items = [
        ApplicationSummary(
            id=r.id,
            kind=r.kind,
            permit_type_code=r.permit_type_code,
            status=r.status,
            status_label=state_label(workflow_for(ctx, r.kind), r.status),
            stage_due_date=r.stage_due_date,
            overdue=r.stage_due_date is not None and r.stage_due_date < today,
            tracking_code=r.tracking_code,
            number=r.number,
            business_name=r.business_name,
            submitted_at=r.submitted_at,
        )
        for r in rows
    ]
    return items, next_cursor


async def queue_for(
    session: AsyncSession, ctx: Context, principal: Principal, now: dt.datetime, limit: int = 100
) -> list[ApplicationSummary]:
    """Open files whose current stage a role of `principal` holds, overdue (earliest due) first."""
    today = ctx.calendar.local_date(now)
    workflow = ctx.hayu.workflow
    states = [
        s.name
        for s in workflow.states
        if not s.final
        and (s.holder in principal.roles or principal.has_any("auditor", "admin"))
        and s.name not in FINISHED
    ]
    rows = (
        await session.execute(
            select(
                Application.id,
                Application.kind,
                Application.permit_type_code,
                Application.status,
                Application.stage_due_date,
                Application.tracking_code,
                Application.number,
                Application.submitted_at,
                Business.name.label("business_name"),
            )
            .join(Business, Business.id == Application.business_id)
            .where(Application.kind == PERMIT, Application.status.in_(states))
            .order_by(Application.stage_due_date.asc(), Application.id.asc())
            .limit(limit)
        )
    ).all()
    return [
        ApplicationSummary(
            id=r.id,
            kind=r.kind,
            permit_type_code=r.permit_type_code,
            status=r.status,
            status_label=state_label(workflow, r.status),
            stage_due_date=r.stage_due_date,
            overdue=r.stage_due_date is not None and r.stage_due_date < today,
            tracking_code=r.tracking_code,
            number=r.number,
            business_name=r.business_name,
            submitted_at=r.submitted_at,
        )
        for r in rows
    ]


# --------------------------------------------------------------------------------------------------
# Workflow transitions
# --------------------------------------------------------------------------------------------------


async def apply_transition(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    application_id: int,
    data: TransitionCreate,
    now: dt.datetime,
) -> ApplicationRead:
    application, business = await _load(session, application_id, lock=True)
    _check_access(principal, application)
    workflow = workflow_for(ctx, application.kind)
    payload = data.model_dump(exclude_none=True)
    action = transition(
        workflow,
        current_state=application.status,
        action=data.action,
        roles=principal.roles,
        payload=payload,
    )
    today = ctx.calendar.local_date(now)
    permit_type = permit_type_or_422(ctx, application.permit_type_code)
    documents = (
        (
            await session.execute(
                select(ApplicationDocument).where(
                    ApplicationDocument.application_id == application_id
                )
            )
        )
        .scalars()
        .all()
    )
    if action.name in ("verify_documents", "schedule_inspection"):
        uploaded = {d.checklist_item for d in documents}
        missing = [d.code for d in permit_type.required_documents if d.code not in uploaded]
        if missing:
            raise errors.DocumentsMissingError(
                f"These documents are still missing: {', '.join(missing)}", missing=missing
            )
    if action.name == "verify_documents" and permit_type.needs_inspection:
        raise errors.InspectionRequiredError(
            f"{permit_type.name} needs a field inspection: use schedule_inspection"
        )
    past = data.inspection_date is not None and data.inspection_date < today
    if action.name == "schedule_inspection" and past:
        raise errors.InspectionDateError(
            "The inspection date lies in the past",
            errors=[
                {"loc": ["body", "inspection_date"], "msg": "in the past", "type": "date_past"}
            ],
        )
    before = application.status
    application.status = action.to_state
    application.status_since = now
    application.stage_due_date = due_at(workflow, action.to_state, now, ctx.calendar)
    extra: dict[str, Any] = {}
    if action.to_state == "issued":
        application.number = await _number(ctx, session, PERMIT, permit_type.code, today)
        application.issued_at = now
        application.valid_until = _valid_until(permit_type, today)
        extra = {"number": application.number}
    if action.to_state == "revoked":
        application.revoked_at = now
        application.revoke_reason = data.note
        extra = {"number": application.number, "reason": data.note}
    details = {
        k: v.isoformat() if isinstance(v, dt.date) else v
        for k, v in payload.items()
        if k in ("inspection_date", "findings")
    }
    await session.flush()
    await _record_step(
        session,
        application_id=application.id,
        action=action.name,
        from_state=before,
        to_state=action.to_state,
        actor=principal,
        now=now,
        note=data.note,
        details=details or None,
        audit_after=extra,
    )
    return _application_read(
        ctx,
        principal,
        application,
        business,
        documents,
        await _history(session, application.id),
        False,
        mask(ctx.cipher.decrypt(business.owner_nik_encrypted, context="owner-nik")),
        mask(ctx.cipher.decrypt(business.owner_phone_encrypted, context="owner-phone")),
        now,
    )


async def run_deemed_approvals(session: AsyncSession, ctx: Context, now: dt.datetime) -> list[int]:
    """Fiktif positif (PP 28/2025): issue permits whose approval stage lapsed undecided."""
    types = [p.code for p in ctx.hayu.permit_types if p.deemed_approval]
    if not types:
        return []
    today = ctx.calendar.local_date(now)
    lapsed = (
        (
            await session.execute(
                select(Application)
                .where(
                    Application.kind == PERMIT,
                    Application.status == "approval",
                    Application.stage_due_date < today,
                    Application.permit_type_code.in_(types),
                )
                .order_by(Application.id)
                .limit(500)
            )
        )
        .scalars()
        .all()
    )
    issued: list[int] = []
    for application in lapsed:
        permit_type = permit_type_or_422(ctx, application.permit_type_code)
        due = application.stage_due_date
        application.status = "issued"
        application.status_since = now
        application.stage_due_date = None
        application.deemed_approved = True
        application.number = await _number(ctx, session, PERMIT, permit_type.code, today)
        application.issued_at = now
        application.valid_until = _valid_until(permit_type, today)
        await session.flush()
        await _record_step(
            session,
            application_id=application.id,
            action="deemed_approval",
            from_state="approval",
            to_state="issued",
            actor=None,
            now=now,
            note=(
                "Izin terbit karena batas waktu keputusan terlampaui tanpa keputusan "
                "(fiktif positif, PP 28/2025)."
            ),
            details={"approval_due_date": due.isoformat() if due else None},
            audit_after={"number": application.number, "deemed_approved": True},
        )
        issued.append(application.id)
    return issued


# --------------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------------

UPLOAD_OPEN_STATES = frozenset({"submitted", "document_verification", "revision_requested"})


def _check_filename(filename: str) -> None:
    if not is_plain_filename(filename):
        raise errors.UploadNameError(
            "The file name must be a plain name without folders or control characters"
        )


def _store(root: Path, digest: str, content: bytes) -> None:
    target = root / "hayu" / digest[:2] / digest
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{secrets.token_hex(4)}.tmp")
    tmp.write_bytes(content)
    tmp.replace(target)


async def upload_document(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    application_id: int,
    *,
    checklist_item: str,
    filename: str,
    content: bytes,
    now: dt.datetime,
) -> DocumentRead:
    application, _ = await _load(session, application_id)
    _check_access(principal, application)
    _check_filename(filename)
    if application.kind != PERMIT or application.status not in UPLOAD_OPEN_STATES:
        raise errors.UploadClosedError(
            f"Documents can be uploaded only while the file is submitted, under verification or "
            f"waiting for revision; it is '{application.status}'"
        )
    permit_type = permit_type_or_422(ctx, application.permit_type_code)
    if permit_type.document(checklist_item) is None:
        allowed = ", ".join(d.code for d in permit_type.required_documents)
        raise errors.ChecklistItemError(
            f"'{checklist_item}' is not on the checklist of {permit_type.code}; "
            f"use one of: {allowed}"
        )
    limit = ctx.settings.upload_max_bytes
    if len(content) > limit:
        raise errors.UploadTooLargeError(f"The file is larger than {limit // 1024} KiB")
    if not content:
        raise errors.UploadTypeError("The file is empty")
    content_type = sniff(content)
    if content_type is None:
        raise errors.UploadTypeError("The file content is not PDF, JPEG or PNG")
    pixels = image_pixels(content, content_type)
    if pixels is not None and pixels > MAX_PIXELS:
        raise errors.UploadImageTooLargeError(
            f"The image claims {pixels:,} pixels; at most {MAX_PIXELS:,} are accepted"
        )
    digest = hashlib.sha256(content).hexdigest()
    await run_in_threadpool(_store, ctx.settings.upload_dir, digest, content)
    safe_name = Path(filename or "dokumen").name[:200] or "dokumen"
    document_id = (
        await session.execute(
            insert(ApplicationDocument)
            .values(
                application_id=application_id,
                checklist_item=checklist_item,
                filename=safe_name,
                content_type=content_type,
                size_bytes=len(content),
                sha256=digest,
                uploaded_by=principal.username,
                uploaded_at=now,
            )
            .returning(ApplicationDocument.id)
        )
    ).scalar_one()
    await audit.record_event(
        session,
        AuditEvent,
        actor=principal,
        action="document.uploaded",
        entity_type="application",
        entity_id=application_id,
        after={"checklist_item": checklist_item, "sha256": digest, "size_bytes": len(content)},
        occurred_at=now,
    )
    return DocumentRead(
        id=document_id,
        checklist_item=checklist_item,
        filename=safe_name,
        content_type=content_type,
        size_bytes=len(content),
        sha256=digest,
        uploaded_at=now,
    )


# --------------------------------------------------------------------------------------------------
# Public tracking
# --------------------------------------------------------------------------------------------------


# Built once: a lookup only binds the code (no statement building or cache key per request).
_TRACK = (
    select(
        Application.kind,
        Application.permit_type_code,
        Application.status,
        Application.status_since,
        Application.submitted_at,
        Application.deemed_approved,
        Application.number,
        ApplicationEvent.to_state,
        ApplicationEvent.occurred_at,
    )
    .join(ApplicationEvent, ApplicationEvent.application_id == Application.id)
    .where(Application.tracking_code == bindparam("code", type_=String()))
    .order_by(ApplicationEvent.occurred_at, ApplicationEvent.id)
)


async def track(session: AsyncSession, ctx: Context, code: str, now: dt.datetime) -> TrackRead:
    """Where the file is and how long each step took; no personal data. One round trip."""
    try:
        canonical = normalize_tracking_code(code)
    except ValueError:
        raise errors.TrackingCodeNotFoundError(
            "This is not a valid tracking code; check it for typos"
        ) from None
    rows = (await session.execute(_TRACK, {"code": canonical})).all()
    if not rows:
        raise errors.TrackingCodeNotFoundError(f"No file has the tracking code {canonical}")
    first = rows[0]
    workflow = workflow_for(ctx, first.kind)
    history = [(r.to_state, r.occurred_at) for r in rows]
    spans = stage_spans(workflow, history, now=now, calendar=ctx.calendar)
    timeline = []
    for span in spans:
        done = span.state in FINISHED
        timeline.append(
            StageRead(
                state=span.state,
                label=span.label or span.state,
                holder=span.holder,
                holder_label=ROLE_LABELS.get(span.holder) if span.holder else None,
                entered_at=span.entered_at,
                left_at=span.left_at,
                working_days=0 if done else span.working_days,
                sla_working_days=span.sla_working_days,
                due_date=None
                if done
                else due_at(workflow, span.state, span.entered_at, ctx.calendar),
                overdue=span.overdue,
            )
        )
    permit_type = ctx.hayu.permit_type(first.permit_type_code)
    holder = holder_of(workflow, first.status)
    end = now if first.status not in FINISHED else first.status_since
    return TrackRead(
        tracking_code=canonical,
        kind=first.kind,
        permit_type_code=first.permit_type_code,
        permit_type_name=permit_type.name if permit_type else first.permit_type_code,
        status=first.status,
        status_label=state_label(workflow, first.status),
        holder=holder,
        holder_label=ROLE_LABELS.get(holder, "") if holder else "Selesai",
        status_since=first.status_since,
        submitted_at=first.submitted_at,
        sla_working_days=permit_type.sla_working_days if permit_type else 0,
        working_days_so_far=ctx.calendar.elapsed_working_days(first.submitted_at, end),
        overdue=any(s.overdue for s in timeline),
        deemed_approved=first.deemed_approved,
        number=first.number,
        timeline=timeline,
    )
