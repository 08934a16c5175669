"""A regency replaces the workflow in configuration: Bandung's own seven-step flow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sabilulungan.config import SabilulunganConfig
from shared.config import RegencyConfigError, load_regency_config
from shared.testing import assert_problem

from .conftest import EVALUATION

BANDUNG = """
[regency]
name = "Kota Bandung"
code = "32.73"

[sabilulungan.workflow]
name = "bandung-sabilulungan"
initial_state = "tu_check"

[sabilulungan.workflow.states.tu_check]
label = "Pemeriksaan kelengkapan Tata Usaha"
holder = "clerk"
sla_working_days = 3
[sabilulungan.workflow.states.mayor_review]
label = "Telaah Wali Kota"
holder = "head"
sla_working_days = 5
[sabilulungan.workflow.states.assign_skpd]
label = "Penunjukan SKPD oleh Tim Pertimbangan"
holder = "coordinator"
sla_working_days = 3
[sabilulungan.workflow.states.skpd_evaluation]
label = "Evaluasi dan rekomendasi SKPD"
holder = "opd_evaluator"
sla_working_days = 14
[sabilulungan.workflow.states.tp_verification]
label = "Verifikasi Tim Pertimbangan"
holder = "coordinator"
sla_working_days = 5
[sabilulungan.workflow.states.tapd_verification]
label = "Verifikasi TAPD dan jumlah akhir"
holder = "tapd"
sla_working_days = 10
[sabilulungan.workflow.states.running]
label = "Proyek Berjalan"
holder = "finance"
[sabilulungan.workflow.states.done]
label = "Selesai"
final = true
[sabilulungan.workflow.states.rejected]
label = "Ditolak"
final = true

[sabilulungan.workflow.actions.verify_completeness]
label = "Lengkap"
from_states = ["tu_check"]
to_state = "mayor_review"
roles = ["clerk"]
[sabilulungan.workflow.actions.forward]
label = "Teruskan ke Tim Pertimbangan"
from_states = ["mayor_review"]
to_state = "assign_skpd"
roles = ["head"]
[sabilulungan.workflow.actions.assign_opd]
label = "Tunjuk SKPD"
from_states = ["assign_skpd"]
to_state = "skpd_evaluation"
roles = ["coordinator"]
required_fields = ["opd_code"]
[sabilulungan.workflow.actions.recommend]
label = "Rekomendasi"
from_states = ["skpd_evaluation"]
to_state = "tp_verification"
roles = ["opd_evaluator"]
required_fields = ["amount_idr"]
[sabilulungan.workflow.actions.tp_verify]
label = "Verifikasi dan koreksi jumlah"
from_states = ["tp_verification"]
to_state = "tapd_verification"
roles = ["coordinator"]
required_fields = ["amount_idr"]
[sabilulungan.workflow.actions.tapd_final]
label = "Jumlah akhir TAPD"
from_states = ["tapd_verification"]
to_state = "running"
roles = ["tapd"]
required_fields = ["amount_idr", "decree_number"]
[sabilulungan.workflow.actions.finish]
label = "Selesai"
from_states = ["running"]
to_state = "done"
roles = ["finance"]
[sabilulungan.workflow.actions.reject]
label = "Tolak"
from_states = [
  "tu_check", "mayor_review", "assign_skpd", "skpd_evaluation", "tp_verification",
  "tapd_verification",
]
to_state = "rejected"
roles = ["clerk", "head", "coordinator", "opd_evaluator", "tapd"]
required_fields = ["note"]

[sabilulungan.action_effects]
tp_verify = "consider"
tapd_final = "approve"
"""


async def test_bandung_seven_step_flow_runs_from_configuration(world_factory: Any) -> None:
    async with world_factory(BANDUNG) as world:
        await world.budget("hibah", 30_000_000)
        created = await world.submit(world.hibah())
        pid, code = created["id"], created["tracking_code"]
        assert created["status"] == "tu_check"
        await world.complete(pid, "clerk")
        await world.ok(pid, "clerk", "verify_completeness")
        await world.ok(pid, "head", "forward")
        await world.ok(pid, "coordinator", "assign_opd", opd_code="DINSOS")
        await world.ok(pid, "opd", "recommend", amount_idr=45_000_000, checklist=EVALUATION)
        await world.ok(pid, "coordinator", "tp_verify", amount_idr=35_000_000)
        # TAPD's final amount is the approval: the ceiling holds here too.
        r = await world.act(pid, "tapd", "tapd_final", amount_idr=35_000_000, decree_number="K/1")
        assert_problem(r, 409, "budget-ceiling-exceeded")
        body = await world.ok(pid, "tapd", "tapd_final", amount_idr=30_000_000, decree_number="K/1")
        assert body["status"] == "running"
        assert body["approved_amount_idr"] == 30_000_000
        # The default workflow's actions do not exist here.
        assert_problem(
            await world.act(pid, "head", "approve", decree_number="X"), 422, "unknown-action"
        )
        track = (await world.client.get(f"/api/v1/public/track/{code}")).json()
        assert [t["label"] for t in track["timeline"]] == [
            "Pemeriksaan kelengkapan Tata Usaha",
            "Telaah Wali Kota",
            "Penunjukan SKPD oleh Tim Pertimbangan",
            "Evaluasi dan rekomendasi SKPD",
            "Verifikasi Tim Pertimbangan",
            "Verifikasi TAPD dan jumlah akhir",
            "Proyek Berjalan",
        ]
        assert track["holder_label"] == "Keuangan (BPKAD)"
        await world.ok(pid, "finance", "finish")
        budget = (await world.client.get(f"/api/v1/public/budgets/{world.year}")).json()
        assert budget["kinds"]["hibah"]["approved_idr"] == 30_000_000


def test_a_broken_workflow_stops_start_up_naming_the_field(tmp_path: Path) -> None:
    bad = BANDUNG.replace('to_state = "done"', 'to_state = "nowhere"')
    path = tmp_path / "regency.toml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(RegencyConfigError, match=r"sabilulungan\.workflow.*nowhere"):
        load_regency_config(path, SabilulunganConfig)
    path.write_text(BANDUNG.replace('tp_verify = "consider"', 'tp_verif = "consider"'), "utf-8")
    with pytest.raises(RegencyConfigError, match="tp_verif"):
        load_regency_config(path, SabilulunganConfig)


def test_the_example_regency_section_is_valid() -> None:
    example = Path(__file__).resolve().parents[2] / "deploy/regency.example.toml"
    config = load_regency_config(example, SabilulunganConfig)
    section = config.sabilulungan
    assert section.rule_sets[0].lpj_due_day == 10
    assert section.freeze_periods[0].name == "Pilkada serentak 2029"
    # The example's dated windows are commented out (each regency sets its own dates): fiscal year
    # 2027 has the yearly window, the whole of 2026.
    window = section.window_for(2027)
    assert window is not None
    assert window.opens_on.isoformat() == "2026-01-01"


def test_a_misspelt_freeze_action_stops_start_up(tmp_path: Path) -> None:
    path = tmp_path / "regency.toml"
    path.write_text(
        '[[sabilulungan.freeze_periods]]\nname = "Pilkada"\nstarts_on = 2029-01-01\n'
        'ends_on = 2029-02-01\nactions = ["aprove"]\n',
        encoding="utf-8",
    )
    with pytest.raises(RegencyConfigError, match="aprove"):
        load_regency_config(path, SabilulunganConfig)


# The same flow in a regency that names its refusal "ditolak" and its action "tolak": the refusal
# is known by its effect (`reject`), not by a state name.
TOLAK = (
    BANDUNG.replace(
        "[sabilulungan.workflow.states.rejected]", "[sabilulungan.workflow.states.ditolak]"
    )
    .replace("[sabilulungan.workflow.actions.reject]", "[sabilulungan.workflow.actions.tolak]")
    .replace('to_state = "rejected"', 'to_state = "ditolak"')
    .replace('tapd_final = "approve"', 'tapd_final = "approve"\ntolak = "reject"')
)


async def test_a_refusal_under_another_name_is_still_no_recipient(world_factory: Any) -> None:
    assert "rejected" not in TOLAK
    async with world_factory(TOLAK) as world:
        await world.budget("hibah", 100_000_000)
        granted = world.hibah()
        granted["applicant"] = {**granted["applicant"], "name": "Yayasan Penerima Sah"}
        refused = world.hibah()
        refused["applicant"] = {**refused["applicant"], "name": "Perkumpulan Ditolak Sejahtera"}
        ids = [(await world.submit(body))["id"] for body in (granted, refused)]
        for pid in ids:
            await world.complete(pid, "clerk")
            await world.ok(pid, "clerk", "verify_completeness")
            await world.ok(pid, "head", "forward")
            await world.ok(pid, "coordinator", "assign_opd", opd_code="DINSOS")
            await world.ok(pid, "opd", "recommend", amount_idr=20_000_000, checklist=EVALUATION)
        await world.ok(ids[0], "coordinator", "tp_verify", amount_idr=20_000_000)
        await world.ok(ids[0], "tapd", "tapd_final", amount_idr=20_000_000, decree_number="K/9")
        body = await world.ok(ids[1], "coordinator", "tolak", note="Tidak sesuai prioritas")
        assert body["status"] == "ditolak"
        y = world.year
        ledger = await world.client.get(f"/api/v1/public/proposals?fiscal_year={y}&limit=100")
        csv = await world.client.get(f"/api/v1/public/proposals.csv?fiscal_year={y}")
        page = await world.client.get(f"/transparansi?tahun={y}", headers={"accept": "text/html"})
        for surface in (ledger.text, csv.text, page.text):
            assert "Yayasan Penerima Sah" in surface
            assert "Perkumpulan Ditolak" not in surface
        row = next(r for r in ledger.json()["items"] if r["status"] == "ditolak")
        assert (row["approved_idr"], row["decree_number"]) == (None, None)
        # The applicant gets the refusal letter with the objection route.
        r = await world.client.get(
            f"/api/v1/proposals/{ids[1]}/refusal", headers=world.h("applicant")
        )
        assert r.status_code == 200, r.text
        assert "Tidak sesuai prioritas" in r.text
        r = await world.client.get(
            f"/api/v1/proposals/{ids[0]}/refusal", headers=world.h("applicant")
        )
        assert_problem(r, 404, "not-refused")
