"""Controls a licensing office relies on, each tested for its refusal: the inclusive self-report
line, `verify_documents` with documents missing, separation of duties, who opens uploads."""

from __future__ import annotations

import re
from typing import Any

from hayu_factories import PDF, actors, filing, upload_checklist
from sqlalchemy import func, select

from hayu.models import Application, ApplicationEvent, AuditEvent, OssOutboxMessage
from shared.testing import add_account, assert_problem, bearer, client_for, user_headers

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
MAX_LINE = """
[[hayu.capital_thresholds]]
effective_from = 2021-02-02
self_report_max_idr = 750000000
basis = "Perbup contoh No. 7 Tahun 2025 Pasal 4: modal paling banyak Rp750.000.000"
"""


async def _file(client, headers, code="SS", **business) -> dict[str, Any]:
    created = await client.post(
        "/api/v1/applications", json=filing(code, **business), headers=headers
    )
    assert created.status_code == 201, created.text
    return created.json()


async def _act(client, headers, app_id: int, action: str):
    body = {"action": action, "note": "Catatan petugas"}
    return await client.post(
        f"/api/v1/applications/{app_id}/transitions", json=body, headers=headers
    )


async def _snapshot(app, app_id: int) -> tuple[Any, ...]:
    """What a refused step must leave as it was: the file's row, its history, audit, outbox."""
    async with app.state.db.sessionmaker() as session:
        row = await session.get(Application, app_id)
        assert row is not None
        state = (row.status, row.status_since, row.stage_due_date, row.sla_started_at)

        async def count(model) -> int:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

        return (
            state,
            await count(ApplicationEvent),
            await count(AuditEvent),
            await count(OssOutboxMessage),
        )


class TestInclusiveSelfReportLine:
    """`self_report_max_idr` is "paling banyak": the amount itself self-reports, one rupiah more
    applies for a permit; the preview and the filing agree, and the basis is cited."""

    async def test_exactly_at_the_line_self_reports_one_rupiah_above_applies(self, make_app):
        app = await make_app("hayu", config_toml=MAX_LINE)
        async with client_for(app) as client:
            who = await actors(app, client)
            for capital, kind in ((750_000_000, "self_report"), (750_000_001, "permit")):
                preview = await client.get(
                    "/api/v1/filing-decision",
                    params={"permit_type_code": "SS", "capital_idr": capital},
                )
                assert preview.status_code == 200, preview.text
                assert preview.json()["kind"] == kind, capital
                assert preview.json()["threshold_idr"] == 750_000_000
                assert "Perbup contoh No. 7 Tahun 2025" in preview.json()["reason"]
                created = await _file(client, who.business_owner, capital_idr=capital)
                assert created["kind"] == kind, capital
                assert created["rule_version"] == "capital-max:2021-02-02:750000000"
                if kind == "self_report":
                    assert created["registration_number"]
                else:
                    assert created["registration_number"] is None
                    assert created["status"] == "submitted"


class TestVerifyDocumentsNeedsTheChecklist:
    async def test_verify_documents_is_refused_while_documents_are_missing(self, make_app):
        app = await make_app("hayu", oss_base_url="http://oss.invalid", oss_inbound_token="x")
        async with client_for(app) as client:
            who = await actors(app, client)
            app_id = (await _file(client, who.business_owner, capital_idr=900_000_000))["id"]
            await upload_checklist(client, who.business_owner, app_id, ["ktp"])
            assert (await _act(client, who.officer, app_id, "accept")).status_code == 200
            before = await _snapshot(app, app_id)
            refused = await _act(client, who.officer, app_id, "verify_documents")
            body = assert_problem(refused, 409, "documents-missing")
            assert "npwp" in body["detail"]
            assert "akta" in body["detail"]
            assert await _snapshot(app, app_id) == before
            assert before[0][0] == "document_verification"
            # with the checklist complete the same step goes through
            await upload_checklist(client, who.business_owner, app_id, ["npwp", "akta"])
            done = await _act(client, who.officer, app_id, "verify_documents")
            assert done.status_code == 200, done.text
            assert done.json()["status"] == "approval"


class TestSeparationOfDuties:
    async def test_the_verifier_can_neither_approve_nor_reject_and_nothing_changes(self, make_app):
        app = await make_app("hayu")
        async with client_for(app) as client:
            who = await actors(app, client)
            both = await user_headers(app, client, "petugas-dua-peran", ["officer", "approver"])
            app_id = (await _file(client, who.business_owner, capital_idr=900_000_000))["id"]
            await upload_checklist(client, who.business_owner, app_id, ["ktp", "npwp", "akta"])
            assert (await _act(client, who.officer, app_id, "accept")).status_code == 200
            assert (await _act(client, both, app_id, "verify_documents")).status_code == 200
            before = await _snapshot(app, app_id)
            for action in ("approve", "reject"):
                refused = await _act(client, both, app_id, action)
                assert_problem(refused, 403, "separation-of-duties")
            assert await _snapshot(app, app_id) == before
            # the file page refuses it in Indonesian as well
            login = await client.post(
                "/login", data={"username": "petugas-dua-peran", "password": "password-123"}
            )
            assert login.status_code == 303
            page = await client.get(f"/berkas/{app_id}")
            token = CSRF.search(page.text)
            assert token is not None
            on_page = await client.post(
                f"/berkas/{app_id}/aksi", data={"action": "approve", "csrf_token": token[1]}
            )
            assert on_page.status_code == 403
            assert "Pemisahan tugas" in on_page.text
            assert await _snapshot(app, app_id) == before
            # another approver decides, and the approver who decided issues
            approved = await _act(client, who.approver, app_id, "approve")
            assert approved.status_code == 200, approved.text
            issued = await _act(client, who.approver, app_id, "issue")
            assert issued.status_code == 200, issued.text


class TestUploadsOnTheFilePage:
    async def test_owner_and_officer_pages_link_the_uploads_another_owner_is_refused(
        self, make_app
    ):
        app = await make_app("hayu")
        for name, roles in (("siti", ["business_owner"]), ("rina", ["business_owner"])):
            await add_account(app, name, roles)
        await add_account(app, "petugas", ["officer"])
        async with client_for(app) as client:
            login = await client.post(
                "/login", data={"username": "siti", "password": "password-123"}
            )
            assert login.status_code == 303
            siti = await bearer(client, "siti")
            app_id = (await _file(client, siti, capital_idr=900_000_000))["id"]
            uploaded = await client.post(
                f"/api/v1/applications/{app_id}/documents",
                data={"checklist_item": "ktp"},
                files={"file": ("ktp siti.pdf", PDF, "application/pdf")},
                headers=siti,
            )
            assert uploaded.status_code == 201, uploaded.text
            doc_id = uploaded.json()["id"]
        link = f"/berkas/{app_id}/dokumen/{doc_id}"
        api = f"/api/v1/applications/{app_id}/documents/{doc_id}"
        for username in ("siti", "petugas"):
            async with client_for(app) as client:
                login = await client.post(
                    "/login", data={"username": username, "password": "password-123"}
                )
                assert login.status_code == 303
                page = await client.get(f"/berkas/{app_id}")
                assert page.status_code == 200, (username, page.text)
                assert f'href="{link}"' in page.text, username
                assert "ktp siti.pdf" in page.text
                opened = await client.get(link)
                assert opened.status_code == 200, username
                assert opened.content == PDF
        async with client_for(app) as client:
            login = await client.post(
                "/login", data={"username": "rina", "password": "password-123"}
            )
            assert login.status_code == 303
            page = await client.get(f"/berkas/{app_id}")
            assert page.status_code in (403, 404)
            assert link not in page.text
            refused = await client.get(link)
            assert refused.status_code in (403, 404)
            assert refused.content != PDF
            rina = await bearer(client, "rina")
            assert (await client.get(api, headers=rina)).status_code in (403, 404)
