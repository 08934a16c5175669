"""Evidence of an activity: stored by content type and hash, read back by those who may."""

from __future__ import annotations

from pathlib import Path

from fastapi import UploadFile
from sqlalchemy import (
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from erk import errors, schemas, workflow
from erk.access import (
    ensure_may_read,
)
from erk.activities import activity_read, own_open_activity
from erk.dependencies import Context
from erk.models import (
    Activity,
    AuditEvent,
    Employee,
    Unit,
)
from shared.audit import record_event
from shared.auth import Principal
from shared.uploads import store_upload, stored_path


async def attach_evidence(
    session: AsyncSession,
    activity_id: int,
    upload: UploadFile,
    *,
    actor: Principal,
    ctx: Context,
    upload_dir: Path,
    max_bytes: int,
) -> schemas.ActivityRead:
    """Store a PDF, JPEG or PNG (checked by content) as the evidence of one's own activity."""
    activity = await own_open_activity(
        session, activity_id, actor=actor, ctx=ctx, action="attach_evidence"
    )
    stored = await store_upload(upload, upload_dir=upload_dir, max_bytes=max_bytes)
    before = {"evidence_sha256": activity.evidence_sha256}
    activity.evidence_sha256 = stored.sha256
    activity.evidence_type = stored.content_type
    activity.evidence_name = stored.filename
    activity.updated_at = ctx.now
    await session.flush()
    await record_event(
        session,
        AuditEvent,
        actor=actor,
        action=workflow.ACTIONS["attach_evidence"].event,
        entity_type="activity",
        entity_id=activity.id,
        before=before,
        after={"evidence_sha256": stored.sha256, "content_type": stored.content_type},
    )
    return activity_read(activity, actor.username)


async def evidence_of(
    session: AsyncSession, activity_id: int, *, actor: Principal, ctx: Context, upload_dir: Path
) -> tuple[Path, str, str]:
    """The stored evidence file of an activity the caller may read: (path, type, name)."""
    row = (
        await session.execute(
            select(Activity, Employee, Unit)
            .join(Employee, Employee.id == Activity.employee_id)
            .join(Unit, Unit.id == Employee.unit_id)
            .where(Activity.id == activity_id)
        )
    ).first()
    if row is None:
        raise errors.ActivityNotFoundError(f"No activity {activity_id}")
    activity, employee, unit = row[0], row[1], row[2]
    await ensure_may_read(session, actor, employee, unit, today=ctx.today)
    if activity.evidence_sha256 is None:
        raise errors.EvidenceNotFoundError("This activity has no evidence attached")
    path = stored_path(upload_dir, activity.evidence_sha256)
    if not path.exists():
        raise errors.EvidenceNotFoundError("The evidence file is missing from storage")
    return path, activity.evidence_type or "application/octet-stream", activity.evidence_name or ""
