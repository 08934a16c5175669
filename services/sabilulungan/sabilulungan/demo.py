"""Demo accounts and data for the embedded mode and for trying the service.

One fiscal year (next year) with ceilings for hibah and bansos, and proposals in every stage of the
default workflow, all made through the same domain functions the API uses.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sabilulungan import (
    budgets,
    documents,
    evidence,
    payments,
    proposals,
    submission,
    transitions,
)
from sabilulungan.config import EVALUATION_CHECKLIST, ProposalWindow, SabilulunganConfig
from sabilulungan.dependencies import Context, context_of
from sabilulungan.models import Budget, Proposal
from sabilulungan.schemas import BudgetCreate, ProposalCreate, TransitionCreate
from shared.app import ServiceSpec, build_calendar
from shared.auth import Principal
from shared.cli import seed_demo_accounts, signer_of

DEMO_PASSWORD = "demo-sabilulungan-2026"
DEMO_ACCOUNTS: list[tuple[str, list[str], str, str | None]] = [
    ("pemohon", ["applicant"], "Yayasan Harapan Bangsa", None),
    ("warga", ["applicant"], "Siti Aminah", None),
    ("tatausaha", ["clerk"], "Tata Usaha Kesra", None),
    ("koordinator", ["coordinator"], "Tim Pertimbangan", None),
    ("opd", ["opd_evaluator"], "Evaluator Dinas Sosial", "DINSOS"),
    ("opd2", ["opd_evaluator"], "Pemeriksa LPJ Dinas Sosial", "DINSOS"),
    ("tapd", ["tapd"], "Sekretariat TAPD", None),
    ("kepala", ["head"], "Wali Kota", None),
    ("keuangan", ["finance"], "Bendahara BPKAD", None),
    ("auditor", ["auditor"], "Auditor Inspektorat", None),
    ("admin", ["admin"], "Admin Sabilulungan", None),
]

# (title, kind, steps to take from "submitted"); each step is (actor, action, fields). The steps
# obey the rules they demonstrate: "@docs" uploads the category's required documents before
# "Berkas lengkap", "@lpj" the LPJ evidence, "@refund" the deposit slip of a refund; each duty on a
# file is held by a different person; files that are paid belong to the current fiscal year (paid
# within it), the others to the next one.
Step = tuple[str, str, dict[str, Any]]
_EVALUATION = dict.fromkeys(EVALUATION_CHECKLIST, True)
_TO_APPROVAL: list[Step] = [
    ("owner", "@docs", {}),
    ("tatausaha", "verify_completeness", {}),
    ("koordinator", "assign_opd", {"opd_code": "DINSOS"}),
    ("opd", "recommend", {"amount_idr": 20_000_000, "checklist": _EVALUATION}),
    ("tapd", "consider", {"amount_idr": 18_000_000}),
]
_APPROVE: Step = ("kepala", "approve", {"decree_number": "400.3/KEP.100-KESRA/{year}"})
_SIGN: Step = ("kepala", "sign_agreement", {"agreement_number": "NPHD/{n}/KESRA/{year}"})
_PAY: Step = ("keuangan", "disburse", {"amount_idr": 18_000_000})
_REPORT: list[Step] = [("owner", "@lpj", {}), ("owner", "submit_report", {"spent_idr": 18_000_000})]
_PAID = [*_TO_APPROVAL, _APPROVE, _SIGN, _PAY]
SCENARIOS: list[tuple[str, str, list[Step]]] = [
    ("Pengadaan alat musik sanggar", "hibah", []),
    ("Renovasi madrasah diniyah", "hibah", [("tatausaha", "return_for_revision",
                                            {"note": "Akta pendirian belum dilampirkan"})]),
    ("Pelatihan kader posyandu", "hibah", _TO_APPROVAL[:2]),
    ("Sarana olahraga karang taruna", "hibah", _TO_APPROVAL[:3]),
    ("Perpustakaan warga", "hibah", _TO_APPROVAL[:4]),
    ("Ambulans desa", "hibah", _TO_APPROVAL),
    ("Rehabilitasi sekretariat PMI", "hibah", [*_TO_APPROVAL, _APPROVE]),
    ("Festival budaya", "hibah", [*_TO_APPROVAL, _APPROVE, _SIGN]),
    ("Lomba seni pelajar", "hibah", [*_TO_APPROVAL, _APPROVE, ("kepala", "cancel",
                                     {"note": "Kegiatan dibatalkan penerima"})]),
    ("Bank sampah", "hibah", _PAID),
    ("Pentas seni keliling", "hibah", [*_PAID, ("kepala", "cancel_paid",
                                       {"note": "Hasil monev: kegiatan tidak dilaksanakan"})]),
    ("Pelatihan menjahit", "hibah", [*_PAID, *_REPORT]),
    ("Pembangunan MCK umum", "hibah", [*_PAID, ("owner", "@lpj", {}),
                                       ("owner", "submit_report", {"spent_idr": 17_000_000}),
                                       ("owner", "@refund", {}),
                                       ("keuangan", "refund", {"amount_idr": 1_000_000}),
                                       ("opd2", "accept_report", {})]),
    ("Bantuan modal warung", "bansos", [*_TO_APPROVAL[:3], ("opd", "recommend",
                                        {"amount_idr": 5_000_000, "checklist": _EVALUATION})]),
    ("Bantuan kursi roda", "bansos", [("tatausaha", "reject",
                                       {"note": "Sudah menerima bantuan serupa dari Dinsos"})]),
    ("Bantuan seragam sekolah", "bansos", [("owner", "withdraw", {})]),
]  # fmt: skip
PURPOSES = {"Bantuan modal warung": "pemberdayaan_sosial", "Bantuan kursi roda":
            "rehabilitasi_sosial", "Bantuan seragam sekolah": "perlindungan_sosial"}  # fmt: skip
RISKS = {"Bantuan modal warung": "kemiskinan", "Bantuan kursi roda": "disabilitas",
         "Bantuan seragam sekolah": "kemiskinan"}  # fmt: skip
DEMO_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def fiscal_year_of(steps: list[Step], this_year: int) -> int:
    """Files that are paid belong to the current fiscal year; the others to the next one."""
    return this_year if _PAY in steps else this_year + 1


def _fill(value: Any, year: int, n: int) -> Any:
    return value.format(year=year, n=n) if isinstance(value, str) else value


def _proposal(title: str, kind: str, year: int, n: int) -> ProposalCreate:
    amount = 25_000_000 if kind == "hibah" else 5_000_000
    if kind == "hibah":
        applicant: dict[str, Any] = {
            "type": "organization",
            "name": f"Yayasan {title.split()[-1].title()} Sejahtera",
            "legal_entity_number": f"AHU-00{n:05d}.AH.01.04.2020",
            "npwp": f"01.234.567.8-901.{n:03d}",
            "address": f"Jl. Asia Afrika No. {n + 1}, Bandung",
            "region_code": "32.73.01.1001",
            "phone": "0224201234",
            "bank_account": f"00{n:02d}12345678",
            "board_members": [
                {"name": f"Ketua {n}", "nik": f"32730101019{n:05d}", "position": "Ketua"},
            ],
        }
    else:
        applicant = {
            "type": "individual",
            "name": f"Warga Penerima {n}",
            "nik": f"32730152038{n:05d}",
            "address": f"Gang Mawar No. {n}, RT 01 RW 02",
            "region_code": "32.73.01.1001",
            "phone": f"08129876{n:04d}",
            "bank_account": f"77{n:02d}00011122",
        }
    return ProposalCreate.model_validate(
        {
            "kind": kind,
            "fiscal_year": year,
            "title": title,
            "purpose": f"{title} untuk masyarakat sekitar",
            "purpose_code": PURPOSES.get(title),
            "social_risk": RISKS.get(title),
            "requested_amount_idr": amount,
            "budget_lines": [
                {"description": "Belanja barang", "amount_idr": amount * 3 // 5},
                {"description": "Belanja jasa", "amount_idr": amount - amount * 3 // 5},
            ],
            "applicant": applicant,
        }
    )


async def _upload(
    session: AsyncSession, ctx: Context, who: Principal, proposal_id: int, what: str
) -> None:
    rule = ctx.config.rule_set_on(ctx.today)
    if what == "@docs":
        p = await proposals.get_proposal(session, who, proposal_id)
        items = evidence.required_documents(rule, p)
    elif what == "@lpj":
        items = list(rule.lpj_documents)
    else:
        items = [evidence.REFUND_RECEIPT]
    for item in items:
        await documents.upload_document(
            session, ctx, who, proposal_id, checklist_item=item, filename=f"{item}.pdf",
            content=DEMO_PDF,
        )  # fmt: skip


def _demo_windows(ctx: Context, years: tuple[int, ...]) -> Context:
    """Proposal windows are required: the demo files its proposals inside a window. For a year
    whose configured window (if any) does not include today, the demo's own filings use a window
    of today only; the running service keeps the configured windows."""
    today = ctx.today
    windows = [
        w
        for w in ctx.config.proposal_windows
        if w.fiscal_year not in years or w.opens_on <= today <= w.closes_on
    ]
    known = {w.fiscal_year for w in windows}
    windows += [
        ProposalWindow(fiscal_year=y, opens_on=today, closes_on=today)
        for y in years
        if y not in known
    ]
    section = ctx.config.model_copy(update={"proposal_windows": windows})
    return dataclasses.replace(ctx, config=section)


async def _spending(
    session: AsyncSession, ctx: Context, who: Principal, proposal_id: int, values: dict[str, Any]
) -> list[dict[str, Any]]:
    """The LPJ's spending per RAB line: each line up to its share of the approved amount."""
    p = await proposals.get_proposal(session, who, proposal_id, children=True)
    rule = ctx.config.rule_set_on(ctx.today)
    ceilings = payments.line_ceilings(
        rule, list(p.budget_lines), p.requested_amount_idr, p.approved_amount_idr or 0
    )
    amounts = payments.fill_lines(ceilings, values["spent_idr"])
    return [
        {"description": line.description, "spent_idr": amount}
        for line, amount in zip(p.budget_lines, amounts, strict=True)
    ]


async def seed(session: AsyncSession, spec: ServiceSpec) -> list[tuple[str, str, list[str]]]:
    logins, accounts = await seed_demo_accounts(session, spec.models, DEMO_ACCOUNTS, DEMO_PASSWORD)
    config = spec.config
    assert isinstance(config, SabilulunganConfig)
    ctx = context_of(
        SimpleNamespace(
            config=config,
            settings=spec.settings,
            calendar=build_calendar(config),
            signer=signer_of(spec),
        )
    )
    this_year = ctx.today.year
    ctx = _demo_windows(ctx, (this_year, this_year + 1))
    admin = accounts["admin"]
    for year in (this_year, this_year + 1):
        for kind, ceiling in (("hibah", 150_000_000), ("bansos", 50_000_000)):
            exists = await session.scalar(
                select(Budget.id).where(Budget.fiscal_year == year, Budget.kind == kind)
            )
            if exists is None:
                await budgets.create_budget(
                    session, admin, BudgetCreate(fiscal_year=year, kind=kind, ceiling_idr=ceiling)
                )
    if await session.scalar(select(func.count()).select_from(Proposal)):
        return logins  # proposals already seeded: seeding twice does not duplicate them
    for n, (title, kind, steps) in enumerate(SCENARIOS, start=1):
        year = fiscal_year_of(steps, this_year)
        owner = accounts["pemohon" if kind == "hibah" else "warga"]
        created = await submission.create_proposal(
            session, ctx, owner, _proposal(title, kind, year, n)
        )
        for actor, action, fields in steps:
            who = owner if actor == "owner" else accounts[actor]
            if action.startswith("@"):
                await _upload(session, ctx, who, created.id, action)
                continue
            values = {k: _fill(v, year, n) for k, v in fields.items()}
            if action == "submit_report":
                values["spending"] = await _spending(session, ctx, who, created.id, values)
            data = TransitionCreate.model_validate({"action": action, **values})
            await transitions.apply_transition(session, ctx, who, created.id, data)
    return logins
