"""The HAYU volume seeder: businesses and one application each, across every workflow stage.

Everything a request reads is consistent with what the service itself would have written:

* owners' NIK and phone are `FieldCipher` tokens under the data key the benchmark server gets
  (`bench.seeding.bench_data_key`), with the `owner-nik` / `owner-phone` contexts and the `nik`
  blind index; each distinct NIK is encrypted once, phones come from a small pool of encrypted
  values;
* tracking codes come from `shared.codes.new_tracking_code` (check symbol included);
* the decision text and rule version come from `decide_filing` (re-exported by `hayu.demo`, the
  seeding surface), numbers from the regency's templates with per-year sequences, and
  `number_sequences` is left at the highest number handed out, so filings made during the run
  continue the series;
* every application has its history in `application_events` (the timeline tracking reads), permits
  past `submitted` have their checklist documents (rows only: no files on the upload volume), and
  `stage_due_date` is `shared.workflow.due_at` of the current stage, as a transition sets it;
* certificates (rows with a number) carry `issued_at` and `valid_until` as the verification
  endpoint reads them: active, revoked and expired ones.

No audit events are written for the seeded rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from bench.seeding import SeedContext

SEED = 20261128
RNG_DAYS = 700
"""Filings are spread over this many days before now (old enough that some permits expired)."""

# Which path a file took, by weight: (weight, permit type, capital band, action codes).
# Codes: a accept, q request_revision, v verify_documents, s schedule_inspection,
# r record_inspection, p approve, x reject, i issue, d deemed approval (system), k revoke.
# Capital bands: "small" is below the self-report threshold, "large" at or above it.
PROFILES: tuple[tuple[int, str, str, str], ...] = (
    (40, "REG-UMK", "small", ""),
    (14, "SS", "small", ""),
    (1, "REG-UMK", "small", "k"),
    (4, "SS", "large", ""),
    (4, "SS", "large", "a"),
    (2, "SS", "large", "a q"),
    (3, "REKLAME", "large", "a s"),
    (2, "REKLAME", "large", "a s"),
    (4, "SS", "large", "a v"),
    (2, "REKLAME", "small", "a s r"),
    (2, "SS", "large", "a v p"),
    (10, "SS", "large", "a v p i"),
    (3, "REKLAME", "small", "a s r p i"),
    (2, "REKLAME", "large", "a s r p i"),
    (1, "SS", "large", "a v d"),
    (3, "SS", "large", "a v x"),
    (1, "REKLAME", "large", "a s r x"),
    (1, "SS", "large", "a v p i k"),
)
ACTIONS = {
    "a": "accept",
    "q": "request_revision",
    "v": "verify_documents",
    "s": "schedule_inspection",
    "r": "record_inspection",
    "p": "approve",
    "x": "reject",
    "i": "issue",
    "d": "deemed_approval",
    "k": "revoke",
}
NOTES = {
    "request_revision": "Akta pendirian belum ditandatangani notaris.",
    "reject": "Lokasi berada di zona lindung menurut RTRW.",
    "revoke": "Hasil audit: usaha tidak lagi beroperasi di alamat terdaftar.",
    "deemed_approval": (
        "Izin terbit karena batas waktu keputusan terlampaui tanpa keputusan "
        "(fiktif positif, PP 28/2025)."
    ),
}
ACTORS = {
    "officer": "bench-officer-00001",
    "inspector": "bench-inspector",
    "approver": "bench-approver",
}
FIRST_NAMES = ("Siti", "Dedi", "Agus", "Dewi", "Budi", "Rina", "Asep", "Euis", "Ujang", "Neng")
LAST_NAMES = ("Rahmawati", "Kurniawan", "Setiawan", "Lestari", "Santoso", "Marlina", "Hidayat")
BUSINESS_WORDS = ("Warung", "Toko", "Kedai", "Bengkel", "Butik", "Konveksi", "Grosir", "Salon")
PDF = b"%PDF-1.4\n% berkas contoh HAYU (bench)\n%%EOF\n"
PHONE_POOL = 997


def bench_nik(index: int) -> str:
    """A valid, unique 16-digit NIK for owner `index` (kecamatan 01-30 of Kota Bandung)."""
    block, sequence = divmod(index, 9000)
    born = dt.date(1960, 1, 1) + dt.timedelta(days=block)
    day = born.day + (40 if block % 2 else 0)  # women have 40 added to the day
    return f"3273{1 + block % 30:02d}{day:02d}{born:%m%y}{sequence + 1:04d}"


@dataclass
class _Numbering:
    """Numbers handed out per scope (`self_report:2026`), in the order of their issue time."""

    pending: list[tuple[dt.datetime, int, str, str]]

    def assign(
        self, render: Callable[[str, str, int, dt.date], str], to_local: Callable[..., dt.date]
    ) -> tuple[dict[int, str], dict[str, int]]:
        numbers: dict[int, str] = {}
        last: dict[str, int] = {}
        for moment, app_id, kind, type_code in sorted(self.pending):
            day = to_local(moment)
            scope = f"{kind}:{day.year}"
            last[scope] = last.get(scope, 0) + 1
            numbers[app_id] = render(kind, type_code, last[scope], day)
        return numbers, last


async def seed_hayu(ctx: SeedContext, businesses: int) -> None:
    from bench.seeding import bench_data_key
    from hayu.config import HayuConfig
    from hayu.demo import DEMO_KBLI, DEMO_REGIONS, SELF_REPORT, decide_filing, valid_until
    from hayu.workflow import SELF_REPORT_WORKFLOW
    from shared.app import build_calendar
    from shared.codes import new_tracking_code, render_number_template
    from shared.config import load_regency_config
    from shared.crypto import FieldCipher
    from shared.validators import kbli_category
    from shared.workflow import due_at

    config = load_regency_config(None, HayuConfig)
    section = config.hayu
    calendar = build_calendar(config)
    cipher = FieldCipher(bench_data_key("hayu"))
    permit_flow = section.workflow
    rng = random.Random(SEED)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    decide_ctx = cast("Any", SimpleNamespace(hayu=section))
    threshold = section.threshold_on(calendar.local_date(now)).self_report_below_idr
    regency_code = config.regency.code.replace(".", "")

    await ctx.copy(
        "kbli_codes",
        ("code", "title", "category"),
        [(c, t, kbli_category(c)) for c, t in DEMO_KBLI],
    )
    await ctx.copy("regions", ("code", "name", "level"), DEMO_REGIONS)
    kbli = [c for c, _ in DEMO_KBLI]
    kecamatan = [c for c, _, level in DEMO_REGIONS if level == "kecamatan"]

    owners = await ctx.conn.fetch(
        f'SELECT id, username FROM "{ctx.schema}".accounts '
        "WHERE username LIKE 'bench-owner-%' ORDER BY id"
    )
    if not owners:
        raise RuntimeError("no hayu.owner accounts to own the businesses")

    phones = [
        cipher.encrypt(f"+62812{20000000 + i * 7919:08d}", context="owner-phone")
        for i in range(PHONE_POOL)
    ]
    nik_tokens: dict[int, tuple[str, str]] = {}
    weights = [p[0] for p in PROFILES]
    due_cache: dict[tuple[str, dt.date], dt.date | None] = {}

    def due(state: str, moment: dt.datetime) -> dt.date | None:
        key = (state, calendar.local_date(moment))
        if key not in due_cache:
            due_cache[key] = due_at(permit_flow, state, moment, calendar)
        return due_cache[key]

    def render(kind: str, type_code: str, seq: int, day: dt.date) -> str:
        template = (
            section.registration_number_template
            if kind == SELF_REPORT
            else section.permit_number_template
        )
        return render_number_template(
            template, seq=seq, when=day, code=regency_code, type=type_code
        )

    doc_digest = hashlib.sha256(PDF).hexdigest()
    business_rows: list[tuple[Any, ...]] = []
    app_rows: list[dict[str, Any]] = []
    events: list[tuple[Any, ...]] = []
    documents: list[tuple[Any, ...]] = []
    numbering = _Numbering([])

    for i in range(businesses):
        app_id = business_id = i + 1
        owner_index = i % len(owners)
        owner = owners[owner_index]
        if owner_index not in nik_tokens:
            nik = bench_nik(owner_index)
            nik_tokens[owner_index] = (
                cipher.encrypt(nik, context="owner-nik"),
                cipher.blind_index(nik, purpose="nik"),
            )
        nik_enc, nik_idx = nik_tokens[owner_index]
        _, type_code, band, codes = rng.choices(PROFILES, weights)[0]
        permit_type = section.permit_type(type_code)
        assert permit_type is not None
        if band == "small":
            capital = rng.randrange(5_000_000, threshold, 500_000)
        else:
            capital = rng.randrange(threshold, threshold * 10, 1_000_000)
        steps = [ACTIONS[c] for c in codes.split()]
        age = rng.uniform(3 * len(steps) + 1, RNG_DAYS)
        submitted = now - dt.timedelta(days=age, seconds=rng.randrange(86_400))
        decision = decide_filing(decide_ctx, permit_type, capital, calendar.local_date(submitted))
        codes_of_business = rng.sample(kbli, 1 + (i % 5 == 0))
        business_rows.append(
            (
                business_id,
                owner["id"],
                nik_enc,
                nik_idx,
                f"{FIRST_NAMES[owner_index % 10]} {LAST_NAMES[owner_index % 7]}",
                phones[i % PHONE_POOL],
                f"{BUSINESS_WORDS[i % 8]} Bench {i + 1}",
                json.dumps(codes_of_business),
                f"Jl. Bench No. {1 + i % 400}, RT {1 + i % 9:02d} RW {1 + i % 7:02d}",
                f"{kecamatan[i % len(kecamatan)]}.{1001 + i % 9}",
                capital,
                1 + i % 40,
                submitted,
            )
        )
        self_report = decision.kind == SELF_REPORT
        flow = SELF_REPORT_WORKFLOW if self_report else permit_flow
        state = flow.initial_state
        app: dict[str, Any] = {
            "id": app_id,
            "kind": decision.kind,
            "permit_type_code": type_code,
            "business_id": business_id,
            "applicant_account_id": owner["id"],
            "tracking_code": new_tracking_code(section.tracking_prefix),
            "number": None,
            "rule_version": decision.rule_version,
            "decision_reason": decision.reason,
            "workflow_name": flow.name,
            "submitted_at": submitted,
            "issued_at": None,
            "valid_until": None,
            "deemed_approved": False,
            "revoked_at": None,
            "revoke_reason": None,
            "stage_due_date": None if self_report else due(state, submitted),
        }
        events.append(
            (
                app_id,
                "register" if self_report else "submit",
                None,
                state,
                owner["username"],
                "business_owner",
                None,
                json.dumps(
                    {"rule_version": decision.rule_version, "threshold_idr": decision.threshold_idr}
                ),
                submitted,
            )
        )
        if self_report:
            app["issued_at"] = submitted
            app["valid_until"] = valid_until(permit_type, calendar.local_date(submitted))
            numbering.pending.append((submitted, app_id, decision.kind, type_code))
        elif steps:
            for document in permit_type.required_documents:
                if steps[-1] == "request_revision" and document.code == "akta":
                    continue
                documents.append(
                    (
                        app_id,
                        document.code,
                        f"{document.code}.pdf",
                        "application/pdf",
                        len(PDF),
                        doc_digest,
                        owner["username"],
                        submitted + dt.timedelta(minutes=5),
                    )
                )
        moment = submitted
        for step in steps:
            moment += dt.timedelta(days=1 + rng.random() * 2)
            details: dict[str, Any] | None = None
            if step == "deemed_approval":
                to_state, actor, role = "issued", "system", "system"
                details = {"approval_due_date": (due("approval", moment) or now).isoformat()}
                app["deemed_approved"] = True
            else:
                action = flow.action(step)
                to_state, role = action.to_state, action.roles[0]
                actor = ACTORS.get(role, owner["username"])
            if step == "schedule_inspection":
                when = calendar.local_date(moment) + dt.timedelta(days=2)
                details = {"inspection_date": when.isoformat()}
            elif step == "record_inspection":
                details = {"findings": "Lokasi sesuai denah; alat pemadam api tersedia."}
            note = NOTES.get(step)
            events.append(
                (app_id, step, state, to_state, actor, role, note, _json(details), moment)
            )
            state = to_state
            if to_state == "issued":
                app["issued_at"] = moment
                app["valid_until"] = valid_until(permit_type, calendar.local_date(moment))
                numbering.pending.append((moment, app_id, decision.kind, type_code))
            if to_state == "revoked":
                app["revoked_at"] = moment
                app["revoke_reason"] = note
            if not self_report:
                app["stage_due_date"] = None if step == "deemed_approval" else due(state, moment)
        app["status"] = state
        app["status_since"] = moment
        app_rows.append(app)

    numbers, last_values = numbering.assign(render, calendar.local_date)
    for app in app_rows:
        app["number"] = numbers.get(app["id"])

    await ctx.copy(
        "businesses",
        (
            "id",
            "owner_account_id",
            "owner_nik_encrypted",
            "owner_nik_index",
            "owner_name",
            "owner_phone_encrypted",
            "name",
            "kbli_codes",
            "address",
            "region_code",
            "capital_idr",
            "workforce",
            "created_at",
        ),
        business_rows,
    )
    columns = (
        "id",
        "kind",
        "permit_type_code",
        "business_id",
        "applicant_account_id",
        "status",
        "status_since",
        "stage_due_date",
        "tracking_code",
        "number",
        "rule_version",
        "decision_reason",
        "workflow_name",
        "submitted_at",
        "issued_at",
        "valid_until",
        "deemed_approved",
        "revoked_at",
        "revoke_reason",
    )
    await ctx.copy("applications", columns, [tuple(a[c] for c in columns) for a in app_rows])
    await ctx.copy(
        "application_events",
        (
            "application_id",
            "action",
            "from_state",
            "to_state",
            "actor",
            "actor_role",
            "note",
            "details",
            "occurred_at",
        ),
        events,
    )
    await ctx.copy(
        "application_documents",
        (
            "application_id",
            "checklist_item",
            "filename",
            "content_type",
            "size_bytes",
            "sha256",
            "uploaded_by",
            "uploaded_at",
        ),
        documents,
    )
    await ctx.copy("number_sequences", ("scope", "last_value"), sorted(last_values.items()))
    for table in ("businesses", "applications"):
        await ctx.conn.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{ctx.schema}\".{table}', 'id'), "
            f'(SELECT max(id) FROM "{ctx.schema}".{table}))'
        )


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value)
