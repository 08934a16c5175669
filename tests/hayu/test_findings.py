"""The findings of the licensing review, each reproduced against the old behaviour."""

from __future__ import annotations

from hayu_factories import PDF, PNG, actors, filing
from sqlalchemy import select

from hayu.models import AuditEvent
from shared.codes import new_tracking_code
from shared.testing import add_account, assert_problem, client_for


async def _apply(client, who, code="REKLAME", **business):
    response = await client.post(
        "/api/v1/applications", json=filing(code, **business), headers=who.business_owner
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _upload(client, headers, app_id, item, content=PDF, name="berkas.pdf"):
    response = await client.post(
        f"/api/v1/applications/{app_id}/documents",
        data={"checklist_item": item},
        files={"file": (name, content, "application/octet-stream")},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


class TestOfficialsOpenDocuments:
    async def test_officials_and_owner_open_uploads_others_get_404_and_reads_are_audited(
        self, make_app
    ):
        app = await make_app("hayu")
        async with client_for(app) as client:
            who = await actors(app, client)
            created = await _apply(client, who, "REKLAME", capital_idr=750_000_000)
            doc = await _upload(
                client, who.business_owner, created["id"], "ktp", PNG, "ktp ibu.png"
            )
            url = f"/api/v1/applications/{created['id']}/documents/{doc['id']}"
            for role in ("officer", "inspector", "approver", "business_owner"):
                response = await client.get(url, headers=getattr(who, role))
                assert response.status_code == 200, (role, response.text)
                assert response.content == PNG
                assert response.headers["content-type"] == "image/png"
                assert "ktp" in response.headers["content-disposition"]
                assert response.headers["x-content-type-options"] == "nosniff"
            for role in ("other_owner", "admin"):
                assert_problem(await client.get(url, headers=getattr(who, role)), 404)
            assert_problem(
                await client.get(
                    f"/api/v1/applications/{created['id']}/documents/{doc['id'] + 99}",
                    headers=who.officer,
                ),
                404,
            )
            assert (await client.get(url)).status_code == 401
        async with app.state.db.sessionmaker() as session:
            reads = (
                (
                    await session.execute(
                        select(AuditEvent.actor).where(AuditEvent.action == "document.read")
                    )
                )
                .scalars()
                .all()
            )
        assert sorted(reads) == ["u-approver", "u-business_owner", "u-inspector", "u-officer"]

    async def test_file_page_links_each_document_for_the_officer(self, make_app):
        app = await make_app("hayu")
        await add_account(app, "petugas", ["officer"])
        async with client_for(app) as client:
            who = await actors(app, client)
            created = await _apply(client, who, "REKLAME", capital_idr=750_000_000)
            doc = await _upload(client, who.business_owner, created["id"], "ktp", PDF, "ktp.pdf")
            login = await client.post(
                "/login", data={"username": "petugas", "password": "password-123"}
            )
            assert login.status_code == 303
            page = await client.get(f"/berkas/{created['id']}")
            link = f"/berkas/{created['id']}/dokumen/{doc['id']}"
            assert f'href="{link}"' in page.text
            opened = await client.get(link)
            assert opened.status_code == 200
            assert opened.content == PDF


class TestCodesPeopleCanType:
    async def test_certificate_check_ignores_case_and_separators(self, make_app):
        app = await make_app("hayu")
        async with client_for(app) as client:
            who = await actors(app, client)
            created = await _apply(client, who, "REG-UMK", capital_idr=100_000_000)
            number = created["registration_number"]
            assert number.startswith("REG-")
            for typed in (number.lower(), f"  {number} ", number.lower().replace("-", " ")):
                response = await client.get(f"/api/v1/public/verify/{typed}")
                assert response.status_code == 200, (typed, response.text)
                body = response.json()
                assert body["status"] == "active"
                assert body["number"] == number
            page = await client.get("/verify/" + number.lower())
            assert "AKTIF" in page.text
            assert "palsu" not in page.text
            assert_problem(await client.get("/api/v1/public/verify/REG-0000-2026-999999"), 404)

    async def test_tracking_codes_carry_letters_and_digits_only(self, make_app):
        app = await make_app("hayu")
        async with client_for(app) as client:
            who = await actors(app, client)
            codes = [
                (await _apply(client, who, "REG-UMK", capital_idr=1_000_000))["tracking_code"]
                for _ in range(5)
            ]
            codes += [new_tracking_code("HY") for _ in range(500)]  # the same generator
            for code in codes:
                assert code.replace("-", "").isalnum(), code
                assert not set(code[-1]) & set("*~$=U")
            for code in codes[:5]:
                lower = await client.get(f"/api/v1/public/track/{code.lower()}")
                assert lower.status_code == 200
