"""Public endpoints, pages and the CSV never contain a NIK, bank account or individual's address."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text, update

from sabilulungan import proposals
from sabilulungan.dependencies import context_of
from sabilulungan.models import AuditEvent, IssuedDocument, Proposal
from shared.auth import Principal
from shared.testing import assert_problem

from .conftest import NOW


def _secrets(world: Any) -> list[str]:
    return [
        world.person_nik,
        world.org_nik_chair,
        "3273014505850002",
        world.person_bank,
        world.org_bank,
        world.person_address,
        "Melati Gang Buntu",
        world.person_phone,
        "6281298765432",
        "81298765432",
        "0221234567",  # the organisation's phone: stored for officials, never published
        "012345678901000",
    ]


async def _seed(world: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    await world.budget("hibah", 100_000_000)
    await world.budget("bansos", 100_000_000)
    hibah = await world.submit(world.hibah())
    bansos = await world.submit(world.bansos(), who="applicant2")
    for pid in (hibah["id"], bansos["id"]):
        await world.to_approval(pid, 5_000_000)
        await world.ok(pid, "head", "approve", decree_number="400/KEP.77/2027")
    await world.ok(hibah["id"], "head", "sign_agreement", agreement_number="NPHD/77/2027")
    await world.ok(bansos["id"], "finance", "disburse", amount_idr=5_000_000)
    return hibah, bansos


async def test_public_responses_never_contain_personal_data(world: Any) -> None:
    hibah, bansos = await _seed(world)
    annex = await world.client.post(
        "/api/v1/decrees/annex",
        json={"decree_number": "400/KEP.77/2027", "fiscal_year": world.year},
        headers=world.h("head"),
    )
    assert annex.status_code == 201, annex.text
    nphd = await world.row(IssuedDocument, doc_type="nphd")
    html = {"accept": "text/html"}
    y = world.year
    responses = [
        await world.client.get(f"/api/v1/public/budgets/{y}"),
        await world.client.get(f"/api/v1/public/proposals?fiscal_year={y}&limit=100"),
        await world.client.get(f"/api/v1/public/proposals.csv?fiscal_year={y}"),
        await world.client.get("/api/v1/public/data-dictionary"),
        await world.client.get(f"/api/v1/public/track/{hibah['tracking_code']}"),
        await world.client.get(f"/api/v1/public/track/{bansos['tracking_code']}"),
        await world.client.get(f"/api/v1/public/verify/{nphd.number}"),
        await world.client.get(f"/api/v1/public/verify/{annex.json()['number']}"),
        await world.client.get("/", headers=html),
        await world.client.get(f"/transparansi?tahun={y}", headers=html),
        await world.client.get(f"/lacak/{hibah['tracking_code']}", headers=html),
        await world.client.get(f"/lacak/{bansos['tracking_code']}", headers=html),
        await world.client.get(f"/verify/{nphd.number}", headers=html),
    ]
    for r in responses:
        assert r.status_code == 200, (r.url, r.text)
        for secret in _secrets(world):
            assert secret not in r.text, (r.url, secret)
    csv_text = responses[2].text
    assert "Siti Aminah" in csv_text  # the recipient is public, her address is not
    assert "Jl. Merdeka No. 10, Bandung" in csv_text  # an organisation's address is public


async def test_personal_data_is_encrypted_at_rest_and_masked_in_the_api(world: Any) -> None:
    _, bansos = await _seed(world)
    async with world.app.state.db.sessionmaker() as session:
        rows = (await session.execute(text("SELECT * FROM sabilulungan.proposals"))).all()
        board = (await session.execute(text("SELECT * FROM sabilulungan.board_members"))).all()
    dump = repr(rows) + repr(board)
    for secret in _secrets(world):
        assert secret not in dump
    detail = await world.client.get(f"/api/v1/proposals/{bansos['id']}", headers=world.h("clerk"))
    assert detail.status_code == 200
    for secret in _secrets(world):
        assert secret not in detail.text
    assert detail.json()["applicant"]["address"] == "(disembunyikan)"


async def test_unmasked_personal_data_is_for_some_roles_and_audited(world: Any) -> None:
    _, bansos = await _seed(world)
    url = f"/api/v1/proposals/{bansos['id']}/personal-data"
    assert_problem(await world.client.get(url, headers=world.h("coordinator")), 403)
    r = await world.client.get(url, headers=world.h("auditor"))
    assert r.status_code == 200
    body = r.json()
    assert body["nik"] == world.person_nik
    assert body["address"] == world.person_address
    assert body["bank_account"] == world.person_bank
    async with world.app.state.db.sessionmaker() as session:
        events = (
            (
                await session.execute(
                    select(AuditEvent).where(AuditEvent.action == "personal_data.read")
                )
            )
            .scalars()
            .all()
        )
    assert [(e.actor, e.entity_id) for e in events] == [("auditor", str(bansos["id"]))]
    assert world.person_nik not in repr([e.after for e in events])


async def test_duplicate_nik_and_bank_account_raise_flags(world: Any) -> None:
    first = await world.submit(world.bansos())
    other = world.bansos(title="Usulan kedua")
    other["applicant"] = {**other["applicant"], "name": "Orang Lain", "nik": "3273016505900004"}
    second = await world.submit(other, who="applicant2")
    flags = await world.client.get(
        f"/api/v1/proposals/{second['id']}/flags", headers=world.h("clerk")
    )
    assert flags.status_code == 200
    codes = {f["code"]: f for f in flags.json()["flags"]}
    assert codes["shared_bank_account"]["related"] == [first["tracking_code"]]
    assert "shared_nik" not in codes
    # A board member of an organisation who also applies for bansos as an individual.
    org = world.hibah()
    org["applicant"]["board_members"][0]["nik"] = world.person_nik
    org["applicant"]["bank_account"] = "5555555555"
    org_created = await world.submit(org)
    flags = (
        await world.client.get(
            f"/api/v1/proposals/{org_created['id']}/flags", headers=world.h("auditor")
        )
    ).json()["flags"]
    assert {f["code"] for f in flags} == {"shared_board_member"}
    assert_problem(
        await world.client.get(
            f"/api/v1/proposals/{first['id']}/flags", headers=world.h("applicant")
        ),
        403,
    )


KONI_AHU = "AHU-0000077.AH.01.07.2010"


async def test_organisation_funded_last_year_is_flagged_unless_exempt(world_factory: Any) -> None:
    # Exemption by a configured identifier, not by words in the name: "Yayasan PMI Sejahtera"
    # is flagged, the KONI whose AHU number is listed is not.
    toml = f'[sabilulungan]\ncontinuity_exempt = ["{KONI_AHU}"]\n'
    async with world_factory(toml) as world:
        await _funded_last_year(world)


async def _funded_last_year(world: Any) -> None:
    world.at(NOW.replace(year=world.year - 1))
    await world.budget("hibah", 100_000_000, year=world.year - 1)
    last_body = world.hibah(fiscal_year=world.year - 1)
    last_body["applicant"] = {**last_body["applicant"], "name": "Yayasan PMI Sejahtera"}
    last = await world.submit(last_body)
    await world.to_approval(last["id"], 10_000_000)
    await world.ok(last["id"], "head", "approve", decree_number="1/2026")
    world.at(NOW)
    now = await world.submit(world.hibah())
    flags = (
        await world.client.get(f"/api/v1/proposals/{now['id']}/flags", headers=world.h("tapd"))
    ).json()["flags"]
    assert [f["code"] for f in flags] == ["funded_previous_year"]
    assert flags[0]["blocking"] is False
    koni_last = world.hibah(fiscal_year=world.year - 1)
    koni_last["applicant"] = {**koni_last["applicant"], "name": "Komite Olahraga Kota",
                              "legal_entity_number": KONI_AHU, "board_members": [],
                              "bank_account": "1111111111"}  # fmt: skip
    world.at(NOW.replace(year=world.year - 1))
    k1 = await world.submit(koni_last)
    await world.to_approval(k1["id"], 10_000_000)
    await world.ok(k1["id"], "head", "approve", decree_number="1/2026")
    world.at(NOW)
    koni_now = await world.submit({**koni_last, "fiscal_year": world.year})
    flags = (
        await world.client.get(f"/api/v1/proposals/{koni_now['id']}/flags", headers=world.h("tapd"))
    ).json()["flags"]
    assert "funded_previous_year" not in {f["code"] for f in flags}


async def test_blocking_flag_from_configuration_refuses_approval(world_factory: Any) -> None:
    toml = '[sabilulungan]\nblocking_flags = ["shared_bank_account"]\n'
    async with world_factory(toml) as world:
        await world.budget("bansos", 100_000_000)
        await world.submit(world.bansos())
        other = world.bansos()
        other["applicant"] = {**other["applicant"], "name": "Lain", "nik": "3273016505900004"}
        second = await world.submit(other, who="applicant2")
        await world.to_approval(second["id"], 5_000_000)
        r = await world.act(second["id"], "head", "approve", decree_number="1/2027")
        problem = assert_problem(r, 409, "integrity-flag")
        assert problem["flags"] == ["shared_bank_account"]
        p = await world.row(Proposal, id=second["id"])
        assert p.status == "awaiting_approval"


def _org(world: Any, name: str) -> dict[str, Any]:
    body = world.hibah()
    body["applicant"] = {**body["applicant"], "name": name}
    return dict(body)


async def test_refused_and_withdrawn_applicants_are_never_shown_as_recipients(
    world: Any, drawn: dict[str, Any]
) -> None:
    """A decree was issued for others in the same year; the files refused or withdrawn appear on
    no public surface with their applicant's name, address, title or an amount as a recipient,
    even one refused after the decree (a regency's workflow may allow it)."""
    decree = "400/KEP.88/2027"
    await world.budget("hibah", 100_000_000)
    approved = (await world.submit(_org(world, "Yayasan Penerima Sah")))["id"]
    after_decree = (await world.submit(_org(world, "Koperasi Batal Makmur")))["id"]
    for pid, amount in ((approved, 30_000_000), (after_decree, 20_000_000)):
        await world.to_approval(pid, amount)
        await world.ok(pid, "head", "approve", decree_number=decree)
    rejected = (await world.submit(_org(world, "Perkumpulan Ditolak Sejahtera")))["id"]
    await world.to_approval(rejected, 10_000_000)
    await world.ok(rejected, "head", "reject", note="Tidak prioritas")
    withdrawn_body = _org(world, "Lembaga Dicabut Mandiri")
    withdrawn_body["title"] = "Pembangunan aula Lembaga Dicabut"
    withdrawn = (await world.submit(withdrawn_body, who="applicant2"))["id"]
    await world.ok(withdrawn, "applicant2", "withdraw")
    async with world.app.state.db.sessionmaker.begin() as session:
        # As a regency workflow with "Tolak" after the decree leaves it: the decree number stays.
        await session.execute(
            update(Proposal).where(Proposal.id == after_decree).values(status="rejected")
        )
    annex = await world.client.post(
        "/api/v1/decrees/annex",
        json={"decree_number": decree, "fiscal_year": world.year},
        headers=world.h("head"),
    )
    assert annex.status_code == 201, annex.text
    assert annex.json()["amount_idr"] == 30_000_000  # the refused file's 20 juta is not in it
    pdf = await world.client.get(
        f"/api/v1/documents/{annex.json()['number']}.pdf", headers=world.h("auditor")
    )
    assert pdf.status_code == 200
    annex_text = repr(drawn["table"]) + repr(drawn["rows"])
    y = world.year
    html = {"accept": "text/html"}
    ledger = await world.client.get(f"/api/v1/public/proposals?fiscal_year={y}&limit=100")
    surfaces = {
        "ledger": ledger.text,
        "csv": (await world.client.get(f"/api/v1/public/proposals.csv?fiscal_year={y}")).text,
        "page": (await world.client.get(f"/transparansi?tahun={y}", headers=html)).text,
        "annex": annex_text,
        "verify": (await world.client.get(f"/api/v1/public/verify/{annex.json()['number']}")).text,
    }
    for surface, body in surfaces.items():
        assert "Yayasan Penerima Sah" in body or surface == "verify", surface
        for name in ("Koperasi Batal Makmur", "Perkumpulan Ditolak", "Lembaga Dicabut"):
            assert name not in body, (surface, name)
    assert [r[3] for r in drawn["table"][1:]] == ["Yayasan Penerima Sah"]
    refused = [r for r in ledger.json()["items"] if r["status"] in ("rejected", "withdrawn")]
    assert len(refused) == 3, ledger.text
    for row in refused:
        assert row["approved_idr"] is None, row
        assert row["decree_number"] is None, row
        assert row["recipient_address"] is None, row
        # its tracking code is on the ledger: public tracking must not give the title back
        for path in (
            f"/api/v1/public/track/{row['tracking_code']}",
            f"/lacak/{row['tracking_code']}",
        ):
            tracked = await world.client.get(
                path, headers=html if path.startswith("/lacak") else {}
            )
            assert tracked.status_code == 200, tracked.text
            for name in ("Koperasi Batal Makmur", "Perkumpulan Ditolak", "Lembaga Dicabut"):
                assert name not in tracked.text, (path, name)


async def test_lists_and_queues_show_exactly_the_files_each_person_may_open(world: Any) -> None:
    """The list, the work queue and opening a file share one visibility rule: for each person, the
    files listed are exactly those they may open, and their queue holds none they may not."""
    await world.budget("hibah", 500_000_000)
    mine = (await world.submit(world.hibah()))["id"]
    theirs = (await world.submit(world.hibah(title="Sarana olahraga"), "applicant2"))["id"]
    for pid, unit in ((mine, "DINSOS"), (theirs, "DISPORA")):
        await world.complete(pid)
        await world.ok(pid, "clerk", "verify_completeness")
        await world.ok(pid, "coordinator", "assign_opd", opd_code=unit)
    expected = {
        "applicant": {mine},
        "applicant2": {theirs},
        "opd": {mine},
        "opd_other": {theirs},
        "clerk": {mine, theirs},
        "auditor": {mine, theirs},
    }
    for who, files in expected.items():
        listed = await world.client.get("/api/v1/proposals", headers=world.h(who))
        assert listed.status_code == 200, listed.text
        assert {p["id"] for p in listed.json()["items"]} == files, who
        for pid in (mine, theirs):
            opened = await world.client.get(f"/api/v1/proposals/{pid}", headers=world.h(who))
            assert (opened.status_code == 200) == (pid in files), (who, pid)
    # the evaluators' queues: each holds the file at its own unit's desk, never the other
    ctx = context_of(world.app.state)
    for who, pid, unit in (("opd", mine, "DINSOS"), ("opd_other", theirs, "DISPORA")):
        evaluator = Principal(
            account_id=0, username=who, roles=frozenset({"opd_evaluator"}), unit=unit
        )
        async with world.app.state.db.sessionmaker() as session:
            queue = await proposals.work_queue(session, ctx, evaluator)
        assert [p.id for p in queue] == [pid], who
