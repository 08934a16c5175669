"""Uploaded documents: checked by content, stored content-addressed, every reading audited."""

from __future__ import annotations

from pathlib import Path

from fastapi import UploadFile
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from sabilulungan import errors
from sabilulungan.dependencies import Context
from sabilulungan.evidence import check_upload_open
from sabilulungan.models import AuditEvent, Document
from sabilulungan.proposals import get_proposal
from sabilulungan.schemas import DocumentRead
from shared.audit import record_event
from shared.auth import Principal
from shared.uploads import (
    UploadProblems,
    check_content,
    read_stored,
    safe_name,
    write_stored,
)

# Sabilulungan's documented problem types for a refused upload (`payload-too-large` is shared).
PROBLEMS = UploadProblems(
    unsupported=errors.UnsupportedFileError,
    bad_name=errors.UploadNameError,
    too_many_pixels=errors.UploadImageTooLargeError,
)


def _read(upload_dir: Path, digest: str) -> bytes:
    # files stored before the shared layout sit at <upload_dir>/<aa>/<sha256>
    return read_stored(upload_dir, digest, [upload_dir / digest[:2] / digest])


async def upload_document(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    proposal_id: int,
    *,
    checklist_item: str,
    filename: str,
    content: bytes,
) -> DocumentRead:
    proposal = await get_proposal(session, principal, proposal_id)
    officer = bool(principal.roles & {"clerk", "admin"})
    if not officer and proposal.owner_id != principal.account_id:
        raise errors.NotYourProposalError("Only the applicant or Tata Usaha may upload documents")
    if checklist_item not in ctx.config.checklist_items:
        raise errors.UnknownChecklistItemError(
            f"'{checklist_item}' is not a checklist item; use one of: "
            + ", ".join(ctx.config.checklist_items),
            allowed=list(ctx.config.checklist_items),
        )
    check_upload_open(ctx, ctx.config.rule_set_on(ctx.today), proposal, checklist_item)
    media_type, digest = check_content(
        content, filename=filename, max_bytes=ctx.upload_max_bytes, problems=PROBLEMS
    )
    await run_in_threadpool(write_stored, ctx.upload_dir, digest, content)
    now = ctx.now
    kept_name = safe_name(filename)
    doc_id = (
        await session.execute(
            insert(Document)
            .values(
                proposal_id=proposal.id,
                checklist_item=checklist_item,
                filename=kept_name,
                content_type=media_type,
                size_bytes=len(content),
                sha256=digest,
                uploaded_by=principal.username,
                uploaded_at=now,
            )
            .returning(Document.id)
        )
    ).scalar_one()
    await record_event(
        session,
        AuditEvent,
        actor=principal,
        action="document.uploaded",
        entity_type="proposal",
        entity_id=proposal.id,
        after={"document_id": doc_id, "item": checklist_item, "sha256": digest},
    )
    return DocumentRead(
        id=doc_id,
        proposal_id=proposal.id,
        checklist_item=checklist_item,
        filename=kept_name,
        content_type=media_type,
        size_bytes=len(content),
        sha256=digest,
        uploaded_at=now,
    )


async def upload_file(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    proposal_id: int,
    *,
    checklist_item: str,
    file: UploadFile,
) -> DocumentRead:
    """An upload from a form (API or page): read up to one byte past the limit, then store it."""
    content = await file.read(ctx.upload_max_bytes + 1)
    return await upload_document(
        session,
        ctx,
        principal,
        proposal_id,
        checklist_item=checklist_item,
        filename=file.filename or "berkas",
        content=content,
    )


async def list_documents(
    session: AsyncSession, principal: Principal, proposal_id: int
) -> list[DocumentRead]:
    proposal = await get_proposal(session, principal, proposal_id)
    rows = (
        await session.execute(
            select(Document).where(Document.proposal_id == proposal.id).order_by(Document.id)
        )
    ).scalars()
    return [_document_read(d) for d in rows]


def _document_read(d: Document) -> DocumentRead:
    return DocumentRead.model_validate(d, from_attributes=True)


async def read_document(
    session: AsyncSession, ctx: Context, principal: Principal, proposal_id: int, document_id: int
) -> tuple[DocumentRead, bytes]:
    """An uploaded file; documents hold KTPs and bank statements, so every reading is audited."""
    proposal = await get_proposal(session, principal, proposal_id)
    doc = (
        await session.execute(
            select(Document).where(Document.id == document_id, Document.proposal_id == proposal.id)
        )
    ).scalar_one_or_none()
    if doc is None:
        raise errors.DocumentNotFoundError(f"Proposal {proposal_id} has no document {document_id}")
    try:
        content = await run_in_threadpool(_read, ctx.upload_dir, doc.sha256)
    except FileNotFoundError:
        raise errors.DocumentNotFoundError(
            "The stored file is missing from the upload volume; ask the administrator"
        ) from None
    await record_event(
        session,
        AuditEvent,
        actor=principal,
        action="document.read",
        entity_type="proposal",
        entity_id=proposal.id,
        after={"document_id": doc.id, "item": doc.checklist_item},
    )
    return _document_read(doc), content
