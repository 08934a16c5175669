"""The Sabilulungan volume seeder: proposals of one fiscal year across every stage, with history.

Consistent with what the service writes itself:

* hibah goes to organisations (legal-entity number, NPWP, one board member, public address),
  bansos to individuals (NIK); address, phone, NIK, NPWP, bank account and board NIKs are
  `FieldCipher` tokens under the benchmark server's data key, with the service's contexts and
  blind-index purposes (`nik`, `npwp`, `bank-account`); every distinct identifier is encrypted
  once, addresses and phones come from small pools of encrypted values;
* `applicant_key` as `domain._applicant_key` builds it; tracking codes from
  `shared.codes.new_tracking_code`; budget lines add up to the requested amount;
* every proposal has its `stage_entries` (submit, then one per action, with the amount and the
  rule version), and the amounts, OPD, decree and agreement numbers, LPJ due date and report time
  its stage implies; a signed hibah has its verifiable NPHD row in `issued_documents`;
* one budget per kind for the fiscal year whose `approved_idr` and `disbursed_idr` are exactly the
  sums over the seeded proposals (checked after loading), under a ceiling with room to spare.

No audit events are written for the seeded rows.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.seeding import SeedContext

SEED = 20261129
POOL = 997
OPDS = ("DINSOS", "DISDIK", "DISPORA", "DISBUDPAR", "DINKES")
# (weight, kind, action codes from "submitted"). Codes: rv return_for_revision, vc
# verify_completeness, ao assign_opd, rc recommend, cs consider, ap approve, sg sign_agreement,
# db disburse, sr submit_report, ar accept_report, rj reject, wd withdraw.
_REVIEW = "vc ao rc cs"
PROFILES: tuple[tuple[int, str, str], ...] = (
    (10, "hibah", ""),
    (6, "bansos", ""),
    (3, "hibah", "rv"),
    (6, "hibah", "vc"),
    (3, "bansos", "vc"),
    (6, "hibah", "vc ao"),
    (3, "bansos", "vc ao"),
    (5, "hibah", "vc ao rc"),
    (3, "bansos", "vc ao rc"),
    (5, "hibah", _REVIEW),
    (3, "bansos", _REVIEW),
    (4, "hibah", f"{_REVIEW} ap"),
    (3, "bansos", f"{_REVIEW} ap"),
    (4, "hibah", f"{_REVIEW} ap sg"),
    (5, "hibah", f"{_REVIEW} ap sg db"),
    (4, "bansos", f"{_REVIEW} ap db"),
    (4, "hibah", f"{_REVIEW} ap sg db sr"),
    (2, "bansos", f"{_REVIEW} ap db sr"),
    (6, "hibah", f"{_REVIEW} ap sg db sr ar"),
    (4, "bansos", f"{_REVIEW} ap db sr ar"),
    (3, "hibah", "rj"),
    (2, "bansos", "vc ao rj"),
    (2, "hibah", "wd"),
)
ACTIONS = {
    "rv": "return_for_revision",
    "vc": "verify_completeness",
    "ao": "assign_opd",
    "rc": "recommend",
    "cs": "consider",
    "ap": "approve",
    "sg": "sign_agreement",
    "db": "disburse",
    "sr": "submit_report",
    "ar": "accept_report",
    "rj": "reject",
    "wd": "withdraw",
}
NOTES = {
    "return_for_revision": "Akta pendirian belum dilampirkan",
    "reject": "Sudah menerima bantuan serupa dari Dinsos",
}
TITLES = (
    "Renovasi madrasah diniyah",
    "Sarana olahraga karang taruna",
    "Pelatihan kader posyandu",
    "Perpustakaan warga",
    "Bank sampah",
    "Bantuan modal warung",
    "Bantuan kursi roda",
    "Pelatihan menjahit",
)


def _round(amount: float, step: int = 100_000) -> int:
    return max(step, int(amount) // step * step)


def bench_nik(index: int, *, offset: int) -> str:
    """A valid, unique NIK for person `index` (distinct ranges per `offset` 0-9)."""
    block, sequence = divmod(index, 9000)
    born = dt.date(1950 + offset * 4, 1, 1) + dt.timedelta(days=block)
    return f"3273{1 + block % 30:02d}{born:%d%m%y}{sequence + 1:04d}"


async def seed_sabilulungan(ctx: SeedContext, proposals: int, fiscal_year: int) -> None:
    from bench.seeding import bench_data_key
    from sabilulungan.config import EVALUATION_CHECKLIST, SabilulunganConfig
    from sabilulungan.workflow import DEFAULT_WORKFLOW
    from shared.app import build_calendar
    from shared.codes import new_tracking_code
    from shared.config import load_regency_config
    from shared.crypto import FieldCipher

    config = load_regency_config(None, SabilulunganConfig)
    section = config.sabilulungan
    flow = section.workflow or DEFAULT_WORKFLOW
    calendar = build_calendar(config)
    cipher = FieldCipher(bench_data_key("sabilulungan"))
    enc, idx = cipher.encrypt, cipher.blind_index
    rng = random.Random(SEED)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    rule = section.rule_set_on(calendar.local_date(now))
    weights = [p[0] for p in PROFILES]
    checklist = json.dumps(dict.fromkeys(EVALUATION_CHECKLIST, True))
    actors = {
        "clerk": "bench-clerk-00001",
        "coordinator": "bench-coordinator",
        "opd_evaluator": "bench-opd",
        "tapd": "bench-tapd",
        "head": "bench-head",
        "finance": "bench-finance",
    }

    applicants = await ctx.conn.fetch(
        f'SELECT id, username FROM "{ctx.schema}".accounts '
        "WHERE username LIKE 'bench-applicant-%' ORDER BY id"
    )
    if not applicants:
        raise RuntimeError("no sabilulungan.applicant accounts to own the proposals")
    addresses = [
        (
            f"Jl. Bench No. {n + 1}, Bandung",
            enc(f"Jl. Bench No. {n + 1}, Bandung", context="address"),
        )
        for n in range(POOL)
    ]
    phones = [enc(f"+6222{4200000 + n:07d}", context="phone") for n in range(POOL)]

    proposal_rows: list[dict[str, Any]] = []
    lines: list[tuple[Any, ...]] = []
    board: list[tuple[Any, ...]] = []
    entries: list[tuple[Any, ...]] = []
    nphd: list[tuple[Any, ...]] = []
    totals = {"hibah": [0, 0], "bansos": [0, 0]}  # approved, disbursed

    for i in range(proposals):
        pid = i + 1
        owner = applicants[i % len(applicants)]
        _, kind, codes = rng.choices(PROFILES, weights)[0]
        steps = [ACTIONS[c] for c in codes.split()]
        requested = _round(
            rng.uniform(10_000_000, 300_000_000)
            if kind == "hibah"
            else rng.uniform(1_000_000, 20_000_000)
        )
        submitted = now - dt.timedelta(
            days=rng.uniform(6 * len(steps) + 1, 330), seconds=rng.randrange(86_400)
        )
        address, address_enc = addresses[i % POOL]
        bank = f"{8_000_000_000 + i:010d}"
        p: dict[str, Any] = {
            "id": pid,
            "tracking_code": new_tracking_code(section.tracking_prefix),
            "kind": kind,
            "fiscal_year": fiscal_year,
            "title": f"{TITLES[i % len(TITLES)]} {i + 1}",
            "purpose": f"{TITLES[i % len(TITLES)]} untuk masyarakat sekitar",
            "workflow_name": flow.name,
            "owner_id": owner["id"],
            "owner_username": owner["username"],
            "opd_code": None,
            "requested_amount_idr": requested,
            "recommended_amount_idr": None,
            "final_amount_idr": None,
            "approved_amount_idr": None,
            "disbursed_idr": 0,
            "tranches": 0,
            "recommended_by": None,
            "considered_by": None,
            "approved_by": None,
            "decree_number": None,
            "agreement_number": None,
            "approved_at": None,
            "lpj_due_date": None,
            "reported_at": None,
            "evaluation_checklist": None,
            "region_code": f"32.73.{1 + i % 30:02d}.{1001 + i % 9}",
            "address_enc": address_enc,
            "phone_enc": phones[i % POOL],
            "bank_account_enc": enc(bank, context="bank"),
            "bank_account_idx": idx(bank, purpose="bank-account"),
            "created_at": submitted,
        }
        if kind == "hibah":
            legal = f"AHU-{i + 1:07d}.AH.01.04.2020"
            npwp = f"0{1_000_000_000 + i:014d}"[-15:]
            board_nik = bench_nik(i, offset=1)
            p.update(
                applicant_type="organization",
                applicant_name=f"Yayasan Bench {i + 1}",
                applicant_key="org:" + legal.upper()[:70],
                legal_entity_number=legal,
                public_address=address,
                nik_enc=None,
                nik_idx=None,
                npwp_enc=enc(npwp, context="npwp"),
                npwp_idx=idx(npwp, purpose="npwp"),
            )
            board.append(
                (
                    pid,
                    0,
                    f"Ketua Yayasan {i + 1}",
                    "Ketua",
                    enc(board_nik, context="board-nik"),
                    idx(board_nik, purpose="nik"),
                )
            )
        else:
            nik = bench_nik(i, offset=0)
            nik_idx = idx(nik, purpose="nik")
            p.update(
                applicant_type="individual",
                applicant_name=f"Warga Bench {i + 1}",
                applicant_key="nik:" + nik_idx,
                legal_entity_number=None,
                public_address=None,
                nik_enc=enc(nik, context="nik"),
                nik_idx=nik_idx,
                npwp_enc=None,
                npwp_idx=None,
            )
        goods = requested * 3 // 5
        lines.append((pid, 0, "Belanja barang", goods))
        lines.append((pid, 1, "Belanja jasa", requested - goods))

        state = flow.initial_state
        entries.append(
            (
                pid,
                state,
                submitted,
                "submit",
                owner["username"],
                "applicant",
                None,
                None,
                rule.version,
            )
        )
        moment = submitted
        for step in steps:
            moment += dt.timedelta(days=1 + rng.random() * 5)
            action = flow.action(step)
            role = action.roles[0]
            actor = owner["username"] if role == "applicant" else actors[role]
            amount: int | None = None
            if step == "assign_opd":
                p["opd_code"] = OPDS[i % len(OPDS)]
            elif step == "recommend":
                amount = _round(requested * rng.uniform(0.6, 1.0))
                p["recommended_amount_idr"] = amount
                p["recommended_by"] = actor
                p["evaluation_checklist"] = checklist
            elif step == "consider":
                amount = _round(p["recommended_amount_idr"] * rng.uniform(0.8, 1.0))
                p["final_amount_idr"] = amount
                p["considered_by"] = actor
            elif step == "approve":
                amount = p["final_amount_idr"]
                p["approved_amount_idr"] = amount
                p["decree_number"] = f"400.3/KEP.{moment.month:02d}-KESRA/{fiscal_year}"
                p["approved_by"] = actor
                p["approved_at"] = moment
                totals[kind][0] += amount
            elif step == "sign_agreement":
                p["agreement_number"] = f"NPHD/{i + 1:06d}/KESRA/{fiscal_year}"
                nphd.append(
                    (
                        f"NPHD-{p['tracking_code']}",
                        "nphd",
                        pid,
                        fiscal_year,
                        kind,
                        p["agreement_number"],
                        p["approved_amount_idr"],
                        moment,
                        False,
                    )
                )
            elif step == "disburse":
                approved = p["approved_amount_idr"]
                # A file still waiting for its report got a first tranche of half, or all of it.
                amount = approved if codes.endswith(("sr", "ar")) or i % 2 else approved // 2
                p["disbursed_idr"] = amount
                p["tranches"] = 1
                p["lpj_due_date"] = dt.date(fiscal_year + 1, rule.lpj_due_month, rule.lpj_due_day)
                totals[kind][1] += amount
            elif step == "submit_report":
                p["reported_at"] = moment
            entries.append(
                (
                    pid,
                    action.to_state,
                    moment,
                    step,
                    actor,
                    role,
                    NOTES.get(step),
                    amount,
                    rule.version,
                )
            )
            state = action.to_state
        p["status"] = state
        p["status_since"] = moment
        p["updated_at"] = moment
        proposal_rows.append(p)

    budgets = []
    for n, (kind, (approved, disbursed)) in enumerate(totals.items(), start=1):
        ceiling = max(_round(approved * 1.5, 1_000_000_000), 10_000_000_000)
        budgets.append((n, fiscal_year, kind, ceiling, approved, disbursed, now))
    await ctx.copy(
        "budgets",
        ("id", "fiscal_year", "kind", "ceiling_idr", "approved_idr", "disbursed_idr", "created_at"),
        budgets,
    )
    columns = tuple(proposal_rows[0])
    await ctx.copy("proposals", columns, [tuple(p[c] for c in columns) for p in proposal_rows])
    await ctx.copy("budget_lines", ("proposal_id", "position", "description", "amount_idr"), lines)
    await ctx.copy(
        "board_members", ("proposal_id", "position", "name", "role", "nik_enc", "nik_idx"), board
    )
    await ctx.copy(
        "stage_entries",
        (
            "proposal_id",
            "state",
            "entered_at",
            "action",
            "actor",
            "actor_role",
            "note",
            "amount_idr",
            "rule_version",
        ),
        entries,
    )
    await ctx.copy(
        "issued_documents",
        (
            "number",
            "doc_type",
            "proposal_id",
            "fiscal_year",
            "kind",
            "official_number",
            "amount_idr",
            "issued_at",
            "revoked",
        ),
        nphd,
    )
    for table in ("budgets", "proposals"):
        await ctx.conn.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{ctx.schema}\".{table}', 'id'), "
            f'(SELECT max(id) FROM "{ctx.schema}".{table}))'
        )
    mismatch = await ctx.conn.fetch(
        f"""SELECT b.kind, b.approved_idr, b.disbursed_idr, s.approved, s.disbursed
            FROM "{ctx.schema}".budgets b
            LEFT JOIN (SELECT kind, fiscal_year, coalesce(sum(approved_amount_idr), 0) AS approved,
                              coalesce(sum(disbursed_idr), 0) AS disbursed
                       FROM "{ctx.schema}".proposals GROUP BY kind, fiscal_year) s
              ON s.kind = b.kind AND s.fiscal_year = b.fiscal_year
            WHERE b.approved_idr <> coalesce(s.approved, 0)
               OR b.disbursed_idr <> coalesce(s.disbursed, 0)"""
    )
    if mismatch:
        raise RuntimeError(
            f"budget totals differ from the proposals: {[dict(r) for r in mismatch]}"
        )
