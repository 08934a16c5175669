"""Checklist documents: upload and (audited) download."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from fastapi import UploadFile
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from hayu import errors
from hayu.common import (
    PERMIT,
    check_access,
    load,
    permit_type_or_422,
)
from hayu.dependencies import Context
from hayu.models import (
    ApplicationDocument,
    AuditEvent,
)
from hayu.schemas import (
    DocumentRead,
)
from hayu.workflow import INSPECTION_PHOTO
from shared import audit
from shared.auth import Principal
from shared.problems import ForbiddenError
from shared.uploads import (
    UploadProblems,
    check_content,
    is_plain_filename,
    read_stored,
    safe_name,
    write_stored,
)

UPLOAD_OPEN_STATES = frozenset({"submitted", "document_verification", "revision_requested"})


# HAYU's documented problem types for a refused upload (`payload-too-large` is shared).
PROBLEMS = UploadProblems(
    unsupported=errors.UploadTypeError,
    bad_name=errors.UploadNameError,
    too_many_pixels=errors.UploadImageTooLargeError,
)


async def upload_document(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    application_id: int,
    *,
    checklist_item: str,
    filename: str,
    content: bytes,
) -> DocumentRead:
    now = ctx.now
    application, _ = await load(session, application_id)
    check_access(principal, application)
    if not is_plain_filename(filename):  # before anything else, as the API always answered
        raise errors.UploadNameError(
            "The file name must be a plain name without folders or control characters"
        )
    photo = checklist_item == INSPECTION_PHOTO
    if not photo and not principal.has_any("business_owner", "officer"):
        raise ForbiddenError("Inspectors upload site photos only")
    if photo and (application.status != "field_inspection" or not principal.has_any("inspector")):
        raise errors.UploadClosedError(
            "Site photos are uploaded by the inspector during the field inspection"
        )
    if application.kind != PERMIT or (application.status not in UPLOAD_OPEN_STATES and not photo):
        raise errors.UploadClosedError(
            f"Documents can be uploaded only while the file is submitted, under verification or "
            f"waiting for revision; it is '{application.status}'"
        )
    permit_type = permit_type_or_422(ctx, application.permit_type_code)
    if permit_type.document(checklist_item) is None and not photo:
        allowed = ", ".join(d.code for d in permit_type.required_documents)
        raise errors.ChecklistItemError(
            f"'{checklist_item}' is not on the checklist of {permit_type.code}; "
            f"use one of: {allowed}"
        )
    content_type, digest = check_content(
        content, filename=filename, max_bytes=ctx.settings.upload_max_bytes, problems=PROBLEMS
    )
    await run_in_threadpool(write_stored, ctx.settings.upload_dir, digest, content)
    kept_name = safe_name(filename, fallback="dokumen")
    document_id = (
        await session.execute(
            insert(ApplicationDocument)
            .values(
                application_id=application_id,
                checklist_item=checklist_item,
                filename=kept_name,
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
        filename=kept_name,
        content_type=content_type,
        size_bytes=len(content),
        sha256=digest,
        uploaded_at=now,
    )


async def upload_file(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    application_id: int,
    checklist_item: str,
    file: UploadFile,
) -> DocumentRead:
    """`upload_document` of a multipart file (API and page alike), read up to one byte over
    the limit so that a larger file is refused without reading it whole."""
    content = await file.read(ctx.settings.upload_max_bytes + 1)
    return await upload_document(
        session,
        ctx,
        principal,
        application_id,
        checklist_item=checklist_item,
        filename=file.filename or "dokumen",
        content=content,
    )


# Who may open an uploaded document besides its applicant: the officials who act on the file
# and the auditor who checks them. An admin manages accounts, not files.
DOCUMENT_READER_ROLES = frozenset({"officer", "inspector", "approver", "auditor"})


@dataclass(frozen=True)
class StoredDocument:
    filename: str
    content_type: str
    content: bytes


def _read(root: Path, digest: str) -> bytes:
    # files stored before the shared layout sit at <upload_dir>/hayu/<aa>/<sha256>
    return read_stored(root, digest, [root / "hayu" / digest[:2] / digest])


async def open_document(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    application_id: int,
    document_id: int,
) -> StoredDocument:
    """An uploaded document for its applicant or an official of the file; every read is audited.

    Anyone else gets 404, as for the file itself. The content type is the one sniffed at upload
    (PDF, JPEG or PNG), never the one the uploader claimed.
    """
    now = ctx.now
    application, _ = await load(session, application_id)
    own = application.applicant_account_id is not None and (
        application.applicant_account_id == principal.account_id
    )
    if not own and not principal.has_any(*DOCUMENT_READER_ROLES):
        raise errors.DocumentNotFoundError(f"No document {document_id} in file {application_id}")
    document = await session.scalar(
        select(ApplicationDocument).where(
            ApplicationDocument.id == document_id,
            ApplicationDocument.application_id == application_id,
        )
    )
    if document is None:
        raise errors.DocumentNotFoundError(f"No document {document_id} in file {application_id}")
    try:
        content = await run_in_threadpool(_read, ctx.settings.upload_dir, document.sha256)
    except FileNotFoundError:
        raise errors.DocumentNotFoundError(
            f"The stored content of document {document_id} is missing"
        ) from None
    await audit.record_event(
        session,
        AuditEvent,
        actor=principal,
        action="document.read",
        entity_type="application",
        entity_id=application_id,
        after={"document_id": document_id, "checklist_item": document.checklist_item},
        occurred_at=now,
    )
    return StoredDocument(document.filename, document.content_type, content)


def download_headers(document: StoredDocument) -> dict[str, str]:
    """Content-Disposition with the original name (RFC 6266/5987) and no sniffing."""
    ascii_name = "".join(c if c.isalnum() or c in "._-" else "_" for c in document.filename)
    return {
        "Content-Disposition": (
            f'attachment; filename="{ascii_name or "dokumen"}"; '
            f"filename*=UTF-8''{quote(document.filename, safe='')}"
        ),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
