"""Uploaded documents: checked by content, stored content-addressed, every reading audited."""

from __future__ import annotations

import hashlib
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
from shared.problems import PayloadTooLargeError
from shared.uploads import (
    MAX_PIXELS,
    image_pixels,
    is_plain_filename,
    read_stored,
    sniff,
    write_stored,
)


def media_type_of(content: bytes) -> str:
    media_type = sniff(content)
    if media_type is not None:
        return media_type
    raise errors.UnsupportedFileError(
        "Only PDF, JPEG and PNG files are accepted (checked by content)"
    )


def _store(upload_dir: Path, digest: str, content: bytes) -> None:
    write_stored(upload_dir, digest, content)


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
    check_upload_open(ctx, ctx.config.rule_set_on(ctx.today()), proposal, checklist_item)
    if len(content) > ctx.upload_max_bytes:
        raise PayloadTooLargeError(
            f"The file is larger than the limit of {ctx.upload_max_bytes} bytes"
        )
    if not content:
        raise errors.UnsupportedFileError("The file is empty")
    if filename and not is_plain_filename(filename):
        raise errors.UploadNameError(
            "The file name must be a plain name without folders or control characters"
        )
    media_type = media_type_of(content)
    pixels = image_pixels(content, media_type)
    if pixels is not None and pixels > MAX_PIXELS:
        raise errors.UploadImageTooLargeError(
            f"The image has {pixels:,} pixels; at most {MAX_PIXELS:,} are accepted"
        )
    digest = hashlib.sha256(content).hexdigest()
    await run_in_threadpool(_store, ctx.upload_dir, digest, content)
    now = ctx.now()
    safe_name = Path(filename or "berkas").name[:200]
    doc_id = (
        await session.execute(
            insert(Document)
            .values(
                proposal_id=proposal.id,
                checklist_item=checklist_item,
                filename=safe_name,
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
        filename=safe_name,
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
    return DocumentRead(
        id=d.id,
        proposal_id=d.proposal_id,
        checklist_item=d.checklist_item,
        filename=d.filename,
        content_type=d.content_type,
        size_bytes=d.size_bytes,
        sha256=d.sha256,
        uploaded_at=d.uploaded_at,
    )


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
