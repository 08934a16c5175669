"""Officials' and applicants' pages on one file: detail, actions, uploads, work queue, annex."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from sabilulungan import budgets, documents, issued, letters, proposals, transitions
from sabilulungan.dependencies import ContextDep, ProposalId, context_of
from sabilulungan.pages import staff
from sabilulungan.pages.common import KIND_LABELS, problem, validation_messages
from sabilulungan.proposals import PERSONAL_DATA_ROLES
from sabilulungan.schemas import ProposalRead, TransitionCreate
from sabilulungan.workflow import DECREE_ISSUER_ROLES, REVIEWER_ROLES
from shared.auth import Principal
from shared.db import SessionDep
from shared.money import format_rupiah
from shared.pages import Viewer, attempt_alone, outcome, page_router
from shared.problems import AppError
from shared.web import render, root_of

router = page_router()


# Actions that set or approve an amount: the page shows what remains of the ceiling next to them.
AMOUNT_EFFECTS = frozenset({"recommend", "consider", "approve"})


def _ceiling_notes(p: ProposalRead, remaining: int | None) -> list[tuple[str, str]]:
    """A warning when the amount on the file is above what remains of the year's ceiling."""
    kind = KIND_LABELS.get(p.kind, p.kind).lower()
    if remaining is None:
        return [("warn", f"Pagu {kind} tahun anggaran {p.fiscal_year} belum ditetapkan.")]
    on_file = [
        (p.final_amount_idr, "Jumlah akhir TAPD"),
        (p.recommended_amount_idr, "Rekomendasi OPD"),
        (p.requested_amount_idr, "Jumlah yang diusulkan"),
    ]
    amount, label = next((a, label) for a, label in on_file if a is not None)
    if amount <= remaining:
        return []
    return [
        (
            "warn",
            f"Peringatan: {label} {format_rupiah(amount)} melampaui sisa pagu {kind} tahun "
            f"anggaran {p.fiscal_year} sebesar {format_rupiah(remaining)}.",
        )
    ]


async def _detail(
    request: Request,
    principal: Principal,
    proposal_id: ProposalId,
    messages: list[tuple[str, str]] | None = None,
    status_code: int = 200,
    *,
    error: str | None = None,
    check_ceiling: bool = False,
    bank_account: str | None = None,
) -> HTMLResponse:
    """The proposal's page, drawn from a fresh session; `error` is a refusal in Indonesian."""
    ctx = context_of(request.app.state)
    messages = [("error", error)] if error else list(messages or [])
    remaining: int | None = None
    async with request.app.state.db.sessionmaker() as session:
        try:
            p = await proposals.read_proposal(session, ctx, principal, proposal_id)
        except AppError as exc:
            return render(
                request,
                "error.html",
                {"title": "Usulan tidak ditemukan", "detail": problem(exc), "status": 404},
                status_code=404,
            )
        flags = []
        if principal.roles & REVIEWER_ROLES:
            flags = await proposals.proposal_flags(session, ctx, principal, proposal_id)
        files = await documents.list_documents(session, principal, proposal_id)
        actions = [a for a in ctx.workflow.actions if a.name in p.available_actions]
        amount_actions = [a.name for a in actions if ctx.effect(a.name) in AMOUNT_EFFECTS]
        if amount_actions or check_ceiling:
            remaining = await budgets.remaining_ceiling(session, p.fiscal_year, p.kind)
            messages = [*messages, *_ceiling_notes(p, remaining)]
    uploaded: dict[str, int] = {}
    for f in files:
        uploaded[f.checklist_item] = uploaded.get(f.checklist_item, 0) + 1
    return render(
        request,
        "proposal.html",
        {
            "p": p,
            "flags": flags,
            "actions": actions,
            "uploaded": uploaded,
            "files": files,
            "checklist": ctx.config.checklist_items,
            "evaluation": ctx.config.evaluation_checklist,
            "recommend_actions": [a.name for a in actions if ctx.effect(a.name) == "recommend"],
            "approve_actions": [a.name for a in actions if ctx.effect(a.name) == "approve"],
            "amount_actions": amount_actions,
            "remaining": remaining,
            "kinds": KIND_LABELS,
            "desk": ctx.config.desk_labels,
            "opd_units": ctx.config.opd_units,
            "report_actions": [a.name for a in actions if ctx.effect(a.name) == "submit_report"],
            "may_reveal": bool(principal.roles & PERSONAL_DATA_ROLES),
            "bank_account": bank_account,
            "refusal": letters.refusal(ctx, request.app.state.config, p),
            "refusal_pdf_path": f"{root_of(request)}/usulan/{p.id}/surat-penolakan.pdf",
        },
        principal=principal,
        messages=messages,
        status_code=status_code,
    )


@router.get("/usulan/{proposal_id}")
async def proposal_page(
    request: Request,
    proposal_id: ProposalId,
    principal: Viewer,
    ctx: ContextDep,
    baru: Annotated[int | None, Query()] = None,
    aksi: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    messages = []
    if baru:
        messages.append(("success", "Usulan diterima. Simpan kode pelacakan Anda."))
    if aksi:
        messages.append(("success", "Tindakan tersimpan."))
    # After recommending or setting an amount the file has left the desk: still say whether the
    # amount entered is above what remains of the ceiling.
    after = {"recommend", "consider"}
    check = aksi is not None and ctx.effect(aksi) in after
    return await _detail(request, principal, proposal_id, messages, check_ceiling=check)


@router.post("/usulan/{proposal_id}/rekening")
async def reveal_bank_account(
    request: Request, proposal_id: ProposalId, principal: Viewer, ctx: ContextDep
) -> Response:
    """The treasurer asks to see the account to pay into: shown once, the reading audited."""
    account = await attempt_alone(
        request,
        lambda session: proposals.reveal_bank_account(session, ctx, principal, proposal_id),
    )
    if isinstance(account, AppError):
        return await _detail(
            request, principal, proposal_id, error=problem(account), status_code=account.status
        )
    note = "Nomor rekening ditampilkan; pembukaan ini tercatat dalam jejak audit."
    return await _detail(request, principal, proposal_id, [("info", note)], bank_account=account)


async def _lpj_and_tranches(
    request: Request, proposal_id: int, principal: Any, form: Any
) -> dict[str, Any]:
    """The LPJ's spending per RAB line (`spent_line_N`, paired with the RAB's descriptions) and the
    NPHD's tranches (`tranches`, rupiah separated by ';')."""
    extra: dict[str, Any] = {}
    if str(form.get("tranches", "")).strip():
        extra["tranches"] = [
            t.strip().replace(".", "") for t in str(form["tranches"]).split(";") if t.strip()
        ]
    if "spent_line_0" in form:
        try:
            async with request.app.state.db.sessionmaker() as session:
                p = await proposals.get_proposal(session, principal, proposal_id, children=True)
                lines = [line.description for line in p.budget_lines]
        except AppError:
            return extra  # the action itself answers "not found"
        extra["spending"] = [
            {"description": d, "spent_idr": str(form.get(f"spent_line_{i}", "")).replace(".", "")}
            for i, d in enumerate(lines)
        ]
    return extra


@router.post("/usulan/{proposal_id}/aksi")
async def proposal_action(
    request: Request, proposal_id: ProposalId, principal: Viewer, ctx: ContextDep
) -> Response:
    form = await request.form()
    raw: dict[str, Any] = {
        k: str(v).strip()
        for k, v in form.items()
        if k
        in ("action", "note", "amount_idr", "decree_number", "agreement_number", "opd_code",
            "spent_idr")
        and str(v).strip()
    }  # fmt: skip
    if "check_present" in form:
        checklist = ctx.config.evaluation_checklist
        raw["checklist"] = {key: form.get(f"check_{key}") == "ya" for key in checklist}
    for key in ("amount_idr", "spent_idr"):
        if key in raw:
            raw[key] = raw[key].replace(".", "")
    raw |= await _lpj_and_tranches(request, proposal_id, principal, form)
    try:
        data = TransitionCreate.model_validate(raw)
    except ValidationError as exc:
        return await _detail(request, principal, proposal_id, validation_messages(exc), 422)
    return await outcome(
        await attempt_alone(
            request,
            lambda session: transitions.apply_transition(
                session, ctx, principal, proposal_id, data
            ),
        ),
        partial(_detail, request, principal, proposal_id),
        lambda _: RedirectResponse(
            f"{root_of(request)}/usulan/{proposal_id}?aksi={raw.get('action', '')}",
            status_code=303,
        ),
        problem,
    )


@router.post("/usulan/{proposal_id}/dokumen")
async def proposal_upload(
    request: Request,
    proposal_id: ProposalId,
    principal: Viewer,
    ctx: ContextDep,
    item: Annotated[str, Form(max_length=64)],
    file: Annotated[UploadFile, File()],
) -> Response:
    return await outcome(
        await attempt_alone(
            request,
            lambda session: documents.upload_file(
                session, ctx, principal, proposal_id, checklist_item=item, file=file
            ),
        ),
        partial(_detail, request, principal, proposal_id),
        lambda _: "Berkas diunggah.",
        problem,
    )


async def _queue(
    request: Request,
    principal: Principal,
    session: AsyncSession,
    messages: list[tuple[str, str]],
    status_code: int = 200,
) -> Response:
    ctx = context_of(request.app.state)
    found, bad = await staff.queue_context(session, ctx, principal, request.query_params)
    return render(
        request,
        "queue.html",
        {
            **found,
            "kinds": KIND_LABELS,
            "can_issue": bool(principal.roles & DECREE_ISSUER_ROLES),
            "year": ctx.today.year + 1,
            "head_title": ctx.head_title,
        },
        principal=principal,
        messages=[*bad, *messages],
        status_code=422 if bad and status_code == 200 else status_code,
    )


@router.get("/antrian")
async def work_queue(request: Request, principal: Viewer, session: SessionDep) -> Response:
    return await _queue(request, principal, session, [])


@router.post("/keputusan/lampiran")
async def issue_annex(
    request: Request,
    principal: Viewer,
    ctx: ContextDep,
    decree_number: Annotated[str, Form(min_length=1, max_length=100)],
    fiscal_year: Annotated[int, Form(ge=2000, le=2100)],
) -> Response:
    db = request.app.state.db
    if not principal.roles & DECREE_ISSUER_ROLES:
        messages = [("error", "Hanya kepala daerah, TAPD atau admin yang dapat menerbitkan.")]
        async with db.sessionmaker() as session:
            return await _queue(request, principal, session, messages, 403)
    doc = await attempt_alone(
        request,
        lambda session: issued.issue_decree_annex(
            session,
            ctx,
            principal,
            decree_number=decree_number.strip(),
            fiscal_year=fiscal_year,
        ),
    )
    if isinstance(doc, AppError):
        async with db.sessionmaker() as session:
            messages = [("error", problem(doc))]
            return await _queue(request, principal, session, messages, doc.status)
    return RedirectResponse(f"{root_of(request)}/api/v1/documents/{doc.number}.pdf", 303)
