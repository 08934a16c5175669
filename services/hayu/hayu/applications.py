"""Reading applications: one file, the owner's list, the officers' queue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hayu import errors, sla
from hayu.common import (
    FINISHED,
    PERMIT,
    PERSONAL_DATA_ROLES,
    check_access,
    holder_of,
    is_overdue,
    is_staff,
    load,
    state_label,
    workflow_for,
)
from hayu.dependencies import Context
from hayu.models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    AuditEvent,
    Business,
)
from hayu.schemas import (
    ApplicationRead,
    ApplicationSummary,
    BusinessRead,
    ChecklistItemRead,
    DocumentRead,
    HistoryRead,
    OwnerRead,
)
from shared import audit
from shared.auth import Principal
from shared.pagination import keyset_page
from shared.rows import read_model
from shared.validators import mask


async def read_application(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    application_id: int,
    *,
    reveal_personal_data: bool = False,
) -> ApplicationRead:
    application, business = await load(session, application_id)
    check_access(principal, application)
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
            occurred_at=ctx.now,
        )
    else:
        nik, phone = mask(nik), mask(phone)
    history = await history_of(session, application_id)
    return application_read(
        ctx, principal, application, business, documents, history, reveal, nik, phone
    )


async def history_of(session: AsyncSession, application_id: int) -> list[HistoryRead]:
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
    return [HistoryRead.model_validate(r, from_attributes=True) for r in rows]


def application_read(
    ctx: Context,
    principal: Principal,
    application: Application,
    business: Business,
    documents: Sequence[ApplicationDocument],
    history: list[HistoryRead],
    revealed: bool,
    nik: str,
    phone: str,
) -> ApplicationRead:
    now = ctx.now
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
    clock = sla.NO_CLOCK
    if application.kind == PERMIT and permit_type is not None:
        clock = sla.clock_of(
            ctx.calendar,
            started_at=application.sla_started_at,
            paused_since=application.sla_paused_since,
            paused_days=application.sla_paused_days,
            stored_due=application.sla_due_date,
            complete_at=sla.complete_at_from(
                permit_type,
                application.submitted_at,
                ((d.checklist_item, d.uploaded_at) for d in documents),
            ),
            status=application.status,
            status_since=application.status_since,
            sla_working_days=permit_type.sla_working_days,
        )
    clock_end = application.status_since if application.status in FINISHED else now
    return read_model(
        ApplicationRead,
        application,
        status_label=state_label(workflow, application.status),
        overdue=is_overdue(application, ctx.calendar.local_date(now)),
        holder=holder_of(workflow, application.status),
        sla_working_days=permit_type.sla_working_days if permit_type and clock.started_at else None,
        sla_started_at=clock.started_at,
        sla_due_date=clock.due_date,
        sla_paused=clock.paused_since is not None,
        sla_working_days_used=sla.working_days_used(ctx.calendar, clock, clock_end),
        business=read_model(
            BusinessRead,
            business,
            owner=OwnerRead(nik=nik, name=business.owner_name, phone=phone, masked=not revealed),
            kbli_codes=list(business.kbli_codes),
        ),
        checklist=checklist,
        documents=[DocumentRead.model_validate(d, from_attributes=True) for d in documents],
        available_actions=actions,
        history=history,
    )


SUMMARY_COLUMNS = (
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
"""What a list row of files shows (`summary_of`)."""


def summary_of(ctx: Context, row: Any, today: dt.date) -> ApplicationSummary:
    return read_model(
        ApplicationSummary,
        row,
        status_label=state_label(workflow_for(ctx, row.kind), row.status),
        overdue=row.stage_due_date is not None and row.stage_due_date < today,
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
) -> tuple[list[ApplicationSummary], str | None]:
    now = ctx.now
    today = ctx.calendar.local_date(now)
    stmt = select(*SUMMARY_COLUMNS).join(Business, Business.id == Application.business_id)
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
    items = [summary_of(ctx, r, today) for r in rows]
    return items, next_cursor


async def queue_for(
    session: AsyncSession, ctx: Context, principal: Principal, limit: int = 100
) -> list[ApplicationSummary]:
    """Open files whose current stage a role of `principal` holds, overdue (earliest due) first."""
    now = ctx.now
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
            select(*SUMMARY_COLUMNS)
            .join(Business, Business.id == Application.business_id)
            .where(Application.kind == PERMIT, Application.status.in_(states))
            .order_by(Application.stage_due_date.asc(), Application.id.asc())
            .limit(limit)
        )
    ).all()
    return [summary_of(ctx, r, today) for r in rows]
