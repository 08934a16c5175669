"""The findings of the licensing review, each reproduced against the old behaviour."""

from __future__ import annotations

import re

import pytest
from hayu_factories import PDF, PNG, actors, counts, filing
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


async def _import_lists(app, risks=()):
    from hayu import reference
    from hayu.models import KbliCode, KbliRisk, Region

    async with app.state.db.sessionmaker.begin() as session:
        await reference.replace_reference(
            session,
            KbliCode,
            [
                {"code": "47111", "title": "PERDAGANGAN ECERAN MINIMARKET", "category": "G"},
                {"code": "56102", "title": "RUMAH/WARUNG MAKAN", "category": "I"},
                {"code": "14111", "title": "INDUSTRI PAKAIAN JADI", "category": "C"},
            ],
        )
        await reference.replace_reference(
            session,
            Region,
            [
                {"code": "32.73", "name": "Kota Bandung", "level": "kabkota"},
                {"code": "32.73.01", "name": "Sukasari", "level": "kecamatan"},
                {"code": "33.74", "name": "Kota Semarang", "level": "kabkota"},
                {"code": "33.74.01", "name": "Semarang Tengah", "level": "kecamatan"},
            ],
        )
        await reference.replace_reference(session, KbliRisk, list(risks))


FORM = {
    "permit_type_code": "REG-UMK",
    "name": "Warung Sari Rasa",
    "owner_name": "Siti Rahmawati",
    "nik": "3273014506900001",
    "phone": "081234567890",
    "kbli_codes": "47111",
    "address": "Jl. Merdeka No. 10",
    "region_code": "32.73.01",
    "capital_idr": "100.000.000",
    "workforce": "3",
}


class TestOneDecision:
    async def _check_then_submit(self, client, form):
        page = await client.get("/lapor")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        checked = await client.post("/lapor/periksa", data={**form, "csrf_token": token})
        submitted = await client.post("/lapor", data={**form, "csrf_token": token})
        return checked, submitted

    async def test_periksa_refuses_exactly_what_submission_refuses(self, make_app):
        app = await make_app("hayu")
        await _import_lists(app)
        await add_account(app, "siti", ["business_owner"])
        async with client_for(app) as client:
            login = await client.post(
                "/login", data={"username": "siti", "password": "password-123"}
            )
            assert login.status_code == 303
            for bad, field in (
                ({"kbli_codes": "99999"}, "kbli_codes"),
                ({"region_code": "33.01.01"}, "region_code"),
                ({"region_code": "33.74.01"}, "region_code"),  # imported, but outside
            ):
                checked, submitted = await self._check_then_submit(client, {**FORM, **bad})
                assert checked.status_code == 422, bad
                assert "Langsung terdaftar" not in checked.text
                assert f'id="{field}" name="{field}" aria-invalid="true"' in checked.text
                assert submitted.status_code == 422, bad
            # the form's own example passes both
            checked, submitted = await self._check_then_submit(client, FORM)
            assert checked.status_code == 200
            assert "Langsung terdaftar" in checked.text
            assert submitted.status_code == 303

    async def test_kbli_and_region_search(self, make_app):
        app = await make_app("hayu")
        await _import_lists(app)
        async with client_for(app) as client:
            regions = (await client.get("/api/v1/regions", params={"q": "suka"})).json()
            assert [r["code"] for r in regions] == ["32.73.01"]
            # only the regency's own regions are suggested
            assert (await client.get("/api/v1/regions", params={"q": "semarang"})).json() == []
            page = await client.get("/referensi", params={"q": "warung"})
            assert "56102" in page.text
            assert "Semarang" not in (await client.get("/referensi", params={"q": "33"})).text

    async def test_the_filing_form_suggests_kbli_and_regions_as_the_owner_types(self, make_app):
        app = await make_app("hayu")
        await _import_lists(app)
        await add_account(app, "siti", ["business_owner"])
        htmx = {"HX-Request": "true"}
        async with client_for(app) as client:
            login = await client.post(
                "/login", data={"username": "siti", "password": "password-123"}
            )
            assert login.status_code == 303
            form = (await client.get("/lapor")).text
            assert 'hx-get="/referensi/saran?jenis=kbli"' in form
            assert 'hx-target="#kbli-saran"' in form
            assert 'hx-get="/referensi/saran?jenis=wilayah"' in form
            # the last code of the comma-separated list is the one being typed
            typed = {"jenis": "kbli", "kbli_codes": "47111, warung"}
            kbli = await client.get("/referensi/saran", params=typed, headers=htmx)
            assert kbli.status_code == 200
            assert "<strong>56102</strong>" in kbli.text
            assert "47111" not in kbli.text
            assert "<html" not in kbli.text  # a fragment, not a page
            typed = {"jenis": "wilayah", "region_code": "Suka"}
            region = await client.get("/referensi/saran", params=typed, headers=htmx)
            assert "<strong>32.73.01</strong>" in region.text
            outside = {"jenis": "wilayah", "region_code": "Semarang"}
            none = await client.get("/referensi/saran", params=outside, headers=htmx)
            assert "Tidak ada wilayah yang cocok" in none.text
            # without JavaScript the address leads to the search page
            plain = await client.get("/referensi/saran", params={"kbli_codes": "warung"})
            assert plain.status_code == 303
            assert plain.headers["location"].endswith("/referensi?q=warung")


class TestLegalFooting:
    async def test_business_outside_the_regency_is_refused_and_nothing_written(self, make_app):
        app = await make_app("hayu")
        await _import_lists(app)
        async with client_for(app) as client:
            who = await actors(app, client)
            before = await counts(app)
            response = await client.post(
                "/api/v1/applications",
                json=filing("REG-UMK", region_code="33.74.01"),
                headers=who.business_owner,
            )
            problem = assert_problem(response, 422, "outside-jurisdiction")
            assert problem["errors"][0]["loc"] == ["body", "business", "region_code"]
            assert await counts(app) == before

    async def test_nib_is_recorded_and_validated(self, make_app):
        app = await make_app("hayu")
        async with client_for(app) as client:
            who = await actors(app, client)
            bad = await client.post(
                "/api/v1/applications",
                json=filing("REG-UMK", nib="123456789012"),
                headers=who.business_owner,
            )
            assert_problem(bad, 422)
            created = await _apply(client, who, "REG-UMK", nib="1234567890123")
            read = await client.get(
                f"/api/v1/applications/{created['id']}", headers=who.business_owner
            )
            assert read.json()["business"]["nib"] == "1234567890123"

    async def test_risk_per_kbli_drives_the_path_and_is_recorded(self, make_app):
        app = await make_app("hayu")
        import datetime as dt

        await _import_lists(
            app,
            [
                {
                    "code": "14111",
                    "risk_level": "rendah",
                    "effective_from": dt.date(2021, 2, 2),
                    "basis": "PP 5/2021 Lampiran I",
                },
                {
                    "code": "47111",
                    "risk_level": "tinggi",
                    "effective_from": dt.date(2025, 6, 5),
                    "basis": "PP 28/2025 Lampiran",
                },
            ],
        )
        async with client_for(app) as client:
            who = await actors(app, client)
            low = await _apply(client, who, "SS", kbli_codes=["14111"], capital_idr=10_000_000)
            assert low["kind"] == "self_report"
            high = await _apply(client, who, "SS", kbli_codes=["47111"], capital_idr=10_000_000)
            assert high["kind"] == "permit"
            assert "risiko" in high["decision_reason"].lower()
            read = await client.get(f"/api/v1/applications/{high['id']}", headers=who.officer)
            details = read.json()["history"][0]["details"]
            assert details["risk_level"] == "tinggi"
            assert "kbli-risk:2025-06-05" in details["rule_versions"]
            assert details["size_class"] == "mikro"

    async def test_size_classes_with_inclusive_bounds_and_annual_sales(self, make_app):
        config = """
[[hayu.capital_thresholds]]
effective_from = 2021-02-02
self_report_classes = ["mikro", "kecil"]
basis = "Perbup contoh: usaha mikro dan kecil cukup lapor mandiri"
"""
        app = await make_app("hayu", config_toml=config)
        async with client_for(app) as client:
            who = await actors(app, client)
            at_small_ceiling = await _apply(client, who, "SS", capital_idr=5_000_000_000)
            assert at_small_ceiling["kind"] == "self_report"  # "paling banyak": inclusive
            above = await _apply(client, who, "SS", capital_idr=5_000_000_001)
            assert above["kind"] == "permit"
            big_sales = await _apply(
                client, who, "SS", capital_idr=500_000_000, annual_sales_idr=20_000_000_000
            )
            assert big_sales["kind"] == "permit"  # medium by sales (> Rp15 M)
            assert big_sales["rule_version"].startswith("self-report-classes:2021-02-02")

    @pytest.mark.parametrize("type_sla", [3, 7])
    def test_start_up_refuses_stage_slas_that_do_not_add_up_to_the_type_sla(self, type_sla):
        from pydantic import ValidationError

        from hayu.config import HayuConfig

        with pytest.raises(ValidationError, match="add up to 6 working days"):
            HayuConfig.model_validate(
                {
                    "hayu": {
                        "permit_types": [
                            {
                                "code": "SS",
                                "name": "Sertifikat Standar",
                                "self_report_allowed": True,
                                "sla_working_days": type_sla,
                            }
                        ]
                    }
                }
            )


class TestCertificates:
    async def test_certificate_names_signatory_basis_nib_without_internal_versions(
        self, make_app, monkeypatch
    ):
        import qrcode
        from qrcode.constants import ERROR_CORRECT_M

        from shared import documents

        captured: dict = {}
        real = documents.build_pdf

        def spy(**kwargs):
            captured.update(kwargs)
            return real(**kwargs)

        monkeypatch.setattr(documents, "build_pdf", spy)
        config = """
[hayu.signatory]
title = "Kepala DPMPTSP"
name = "Dra. Rina Marlina, M.Si."
nip = "197001011990032001"
delegation = "Perwal Contoh No. 5 Tahun 2025"
"""
        app = await make_app("hayu", config_toml=config)
        async with client_for(app) as client:
            who = await actors(app, client)
            created = await _apply(client, who, "REG-UMK", capital_idr=10, nib="9120001234567")
            number = created["registration_number"]
            pdf = await client.get(
                f"/api/v1/permits/{number}/certificate.pdf", headers=who.business_owner
            )
            assert pdf.status_code == 200
        text = " ".join(
            [str(captured["title"])]
            + [f"{k} {v}" for k, v in captured["rows"]]
            + [str(p) for p in captured["paragraphs"]]
        )
        assert "Dra. Rina Marlina, M.Si." in text
        assert "NIP 197001011990032001" in text
        assert "a.n. Wali Kota" in text
        assert "9120001234567" in text
        assert "Dasar hukum" in text
        assert "capital-threshold" not in text
        assert "size-classes" not in text
        code = qrcode.QRCode(error_correction=ERROR_CORRECT_M)
        code.add_data(captured["qr_data"])
        code.make(fit=True)
        assert code.version <= 10, code.version

    async def test_certificate_prints_the_risk_the_decision_recorded(self, make_app, monkeypatch):
        """Garment making (low risk) under the Sertifikat Standar type (menengah rendah) printed
        the type's level; the certificate prints the KBLI's level the decision used."""
        import datetime as dt

        from hayu.config import RISK_LABELS
        from shared import documents

        captured: dict = {}
        real = documents.build_pdf

        def spy(**kwargs):
            captured.update(kwargs)
            return real(**kwargs)

        monkeypatch.setattr(documents, "build_pdf", spy)
        app = await make_app("hayu")
        await _import_lists(
            app,
            [
                {
                    "code": "14111",
                    "risk_level": "rendah",
                    "effective_from": dt.date(2021, 2, 2),
                    "basis": "PP 5/2021 Lampiran I",
                }
            ],
        )
        async with client_for(app) as client:
            who = await actors(app, client)
            created = await _apply(client, who, "SS", kbli_codes=["14111"], capital_idr=10_000_000)
            assert created["kind"] == "self_report"
            pdf = await client.get(
                f"/api/v1/permits/{created['registration_number']}/certificate.pdf",
                headers=who.business_owner,
            )
            assert pdf.status_code == 200
        rows = dict(captured["rows"])
        assert rows["Tingkat risiko"] == RISK_LABELS["rendah"]
        assert rows["Tingkat risiko"] != RISK_LABELS["menengah_rendah"]


class TestPostAudit:
    async def test_outsiders_can_recompute_the_draw_and_findings_are_recorded(self, make_app):
        import hashlib

        from hayu.dependencies import context_of
        from hayu.models import AuditCheckpoint

        app = await make_app("hayu")
        async with client_for(app) as client:
            who = await actors(app, client)
            numbers = {}
            for n in range(8):
                created = await _apply(client, who, "REG-UMK", name=f"Usaha {n}", capital_idr=n)
                numbers[created["id"]] = created["registration_number"]
            ctx = context_of(app.state, "http://test")
            import datetime as dt

            yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=1, hours=1)
            async with app.state.db.sessionmaker.begin() as session:
                session.add(
                    AuditCheckpoint(
                        position=41,
                        chain_hash="ab" * 32,
                        sealed_at=yesterday,
                        key_id="k1",
                        signature="sig",
                    )
                )
            drawn = await client.post(
                "/api/v1/self-reports/audit-sample", json={"percent": 25}, headers=who.officer
            )
            assert drawn.status_code == 201, drawn.text
            body = drawn.json()
            # an outsider: the published checkpoint, the date, the percent and the numbers
            today = ctx.calendar.local_date(dt.datetime.now(dt.UTC))
            seed = hashlib.sha256(f"hayu-post-audit|41|{'ab' * 32}|{today}|25".encode()).hexdigest()
            assert body["seed"] == seed
            assert body["seed_checkpoint_position"] == 41
            ranked = sorted(
                numbers, key=lambda i: hashlib.sha256(f"{seed}|{numbers[i]}".encode()).hexdigest()
            )
            assert sorted(s["id"] for s in body["selected"]) == sorted(ranked[:2])

            url = f"/api/v1/self-reports/audit-samples/{body['id']}/findings"
            picked = body["selected"][0]["id"]
            finding = {
                "application_id": picked,
                "outcome": "tidak_sesuai",
                "findings": "Modal yang dilaporkan jauh di bawah nilai peralatan.",
                "follow_up": "teguran",
            }
            assert_problem(await client.post(url, json=finding, headers=who.inspector), 403)
            not_sampled = next(i for i in numbers if i not in {s["id"] for s in body["selected"]})
            assert_problem(
                await client.post(
                    url, json={**finding, "application_id": not_sampled}, headers=who.officer
                ),
                422,
            )
            ok = await client.post(url, json=finding, headers=who.officer)
            assert ok.status_code == 201, ok.text
            assert ok.json()["outcome"] == "tidak_sesuai"
            assert_problem(await client.post(url, json=finding, headers=who.officer), 409)
            stats = (await client.get("/api/v1/public/stats")).json()
            month = stats["post_audit"][0]
            assert (month["sampled"], month["checked"], month["not_compliant"]) == (2, 1, 1)
            page = await client.get("/statistik")
            assert "Audit pascapendaftaran per bulan" in page.text


class TestLkpm:
    async def test_reminder_lists_small_per_semester_medium_per_quarter_micro_never(self, make_app):
        app = await make_app("hayu")
        async with client_for(app) as client:
            who = await actors(app, client)
            await _apply(client, who, "REG-UMK", name="Mikro", capital_idr=10_000_000)
            small = await _apply(
                client,
                who,
                "SS",
                name="Kecil",
                capital_idr=100_000_000,
                annual_sales_idr=3_000_000_000,
            )
            assert small["kind"] == "self_report"
            medium = await _apply(client, who, "SS", name="Menengah", capital_idr=8_000_000_000)
            url = f"/api/v1/applications/{medium['id']}"
            for item in ("ktp", "npwp", "akta"):
                await _upload(client, who.business_owner, medium["id"], item)
            for headers, action in (
                (who.officer, "accept"),
                (who.officer, "verify_documents"),
                (who.approver, "approve"),
                (who.approver, "issue"),
            ):
                done = await client.post(
                    f"{url}/transitions", json={"action": action}, headers=headers
                )
                assert done.status_code == 200, done.text

            async def due(day):
                response = await client.get(
                    "/api/v1/lkpm/due", params={"on": day}, headers=who.officer
                )
                assert response.status_code == 200, response.text
                return {r["business_name"]: r for r in response.json()}

            july = await due("2027-07-05")
            assert set(july) == {"Kecil", "Menengah"}
            assert july["Kecil"]["period"] == "Semester I 2027"
            assert july["Menengah"]["period"] == "Triwulan II 2027"
            assert set(await due("2027-04-05")) == {"Menengah"}
            assert await due("2027-04-11") == {}  # the window closed on the 10th
            assert_problem(await client.get("/api/v1/lkpm/due", headers=who.business_owner), 403)
