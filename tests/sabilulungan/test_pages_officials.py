"""Officials' pages: the remaining ceiling and its warning for OPD, TAPD and the head, the
treasurer's audited reveal of the bank account, and the head's reduced approval from the page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from sabilulungan.models import AuditEvent, Proposal
from shared.testing import client_for

from .conftest import EVALUATION, ORG_BANK
from .test_pages import HTML, _csrf, _login


async def _at_evaluation(world: Any) -> int:
    pid: int = (await world.submit(world.hibah()))["id"]  # 50 juta requested
    await world.complete(pid, "clerk")
    await world.ok(pid, "clerk", "verify_completeness")
    await world.ok(pid, "coordinator", "assign_opd", opd_code="DINSOS")
    return pid


async def test_opd_and_tapd_see_the_remaining_ceiling_and_a_warning_above_it(world: Any) -> None:
    await world.budget("hibah", 30_000_000)
    pid = await _at_evaluation(world)
    async with client_for(world.app, headers=HTML) as opd:
        await _login(opd, "opd")
        page = await opd.get(f"/usulan/{pid}")
        # before the button is pressed: the figure, and the requested amount is above it
        assert "Sisa pagu hibah tahun anggaran" in page.text
        assert "Rp30.000.000" in page.text
        assert "Peringatan: Jumlah yang diusulkan Rp50.000.000 melampaui sisa pagu" in page.text
        every = {f"check_{key}": "ya" for key in EVALUATION}
        r = await opd.post(
            f"/usulan/{pid}/aksi",
            data={
                "csrf_token": _csrf(page.text),
                "action": "recommend",
                "amount_idr": "40.000.000",
                "check_present": "1",
                **every,
            },
        )
        assert r.status_code == 303, r.text
        after = await opd.get(r.headers["location"])
        # a warning, not a refusal: the recommendation is stored and the figure shown
        assert "Peringatan: Rekomendasi OPD Rp40.000.000 melampaui sisa pagu" in after.text
        assert "Rp30.000.000" in after.text
    event = await world.row(AuditEvent, action="proposal.recommend")
    assert event.after["above_remaining_ceiling"] is True
    assert event.after["remaining_ceiling_idr"] == 30_000_000
    async with client_for(world.app, headers=HTML) as tapd:
        await _login(tapd, "tapd")
        page = await tapd.get(f"/usulan/{pid}")
        assert "Peringatan: Rekomendasi OPD Rp40.000.000 melampaui sisa pagu" in page.text
        r = await tapd.post(
            f"/usulan/{pid}/aksi",
            data={"csrf_token": _csrf(page.text), "action": "consider", "amount_idr": "25000000"},
        )
        assert r.status_code == 303, r.text
        after = await tapd.get(r.headers["location"])
        assert "Peringatan" not in after.text  # 25 juta fits what remains
    async with client_for(world.app, headers=HTML) as head:
        await _login(head, "head")
        page = await head.get(f"/usulan/{pid}")
        assert 'id="sisa-pagu-approve"' in page.text
        assert "Peringatan" not in page.text
        # the head approves a reduced amount from the page
        r = await head.post(
            f"/usulan/{pid}/aksi",
            data={
                "csrf_token": _csrf(page.text),
                "action": "approve",
                "decree_number": "400/KEP.7/2027",
                "amount_idr": "20.000.000",
            },
        )
        assert r.status_code == 303, r.text
    assert (await world.row(Proposal, id=pid)).approved_amount_idr == 20_000_000


async def test_no_ceiling_set_is_said_on_the_page(world: Any) -> None:
    pid = await _at_evaluation(world)
    async with client_for(world.app, headers=HTML) as opd:
        await _login(opd, "opd")
        page = await opd.get(f"/usulan/{pid}")
    assert "Pagu hibah tahun anggaran" in page.text
    assert "belum ditetapkan" in page.text


async def _reads(world: Any) -> int:
    async with world.app.state.db.sessionmaker() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "personal_data.read")
        )
    return int(count or 0)


async def test_treasurer_sees_the_bank_account_only_on_request_and_audited(world: Any) -> None:
    await world.budget("hibah", 100_000_000)
    pid = await _at_evaluation(world)
    await world.ok(pid, "opd", "recommend", amount_idr=20_000_000, checklist=EVALUATION)
    await world.ok(pid, "tapd", "consider", amount_idr=20_000_000)
    await world.ok(pid, "head", "approve", decree_number="400/KEP.8/2027")
    await world.ok(pid, "head", "sign_agreement", agreement_number="NPHD/8/2027")
    async with client_for(world.app, headers=HTML) as finance:
        await _login(finance, "finance")
        page = await finance.get(f"/usulan/{pid}")
        assert ORG_BANK not in page.text  # masked by default
        assert "Tampilkan nomor rekening" in page.text
        assert "Cairkan" in page.text
        assert await _reads(world) == 0
        r = await finance.post(f"/usulan/{pid}/rekening", data={"csrf_token": _csrf(page.text)})
        assert r.status_code == 200
        assert ORG_BANK in r.text
        assert "tercatat dalam jejak audit" in r.text
        again = await finance.get(f"/usulan/{pid}")
        assert ORG_BANK not in again.text  # shown once, masked again afterwards
    event = await world.row(AuditEvent, action="personal_data.read")
    assert (event.actor, event.actor_role) == ("finance", "finance")
    assert event.after == {"fields": ["bank_account"]}
    assert event.occurred_at is not None
    # roles without a need to know get no button and a refusal; nothing is audited for them
    async with client_for(world.app, headers=HTML) as tapd:
        await _login(tapd, "tapd")
        page = await tapd.get(f"/usulan/{pid}")
        assert "Tampilkan nomor rekening" not in page.text
        r = await tapd.post(f"/usulan/{pid}/rekening", data={"csrf_token": _csrf(page.text)})
        assert r.status_code == 403
        assert ORG_BANK not in r.text
        assert "tidak berwenang" in r.text
    assert await _reads(world) == 1


async def test_cairkan_is_not_offered_before_the_nphd(world: Any) -> None:
    await world.budget("hibah", 100_000_000)
    pid = await _at_evaluation(world)
    await world.ok(pid, "opd", "recommend", amount_idr=20_000_000, checklist=EVALUATION)
    await world.ok(pid, "tapd", "consider", amount_idr=20_000_000)
    await world.ok(pid, "head", "approve", decree_number="400/KEP.9/2027")
    async with client_for(world.app, headers=HTML) as finance:
        await _login(finance, "finance")
        page = await finance.get(f"/usulan/{pid}")
    assert 'value="disburse"' not in page.text
