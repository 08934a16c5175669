"""Every rule: the 4xx problem it answers with, and that nothing was written."""

from __future__ import annotations

import datetime as dt

import pytest
from hayu_factories import NIK, PDF, PNG, actors, counts, filing
from sqlalchemy import func, select

from hayu.config import HayuConfig
from hayu.models import Account, ApplicationDocument, AuditEvent, AuditSample
from shared.config import RegencyConfigError, parse_regency_config
from shared.testing import assert_problem, client_for, reference_data

PHONE_E164 = "+6281234567890"


async def _documents(app) -> int:
    async with app.state.db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(ApplicationDocument)) or 0)


async def _upload(client, headers, app_id, item="ktp", content=PDF, name="a.pdf"):
    return await client.post(
        f"/api/v1/applications/{app_id}/documents",
        data={"checklist_item": item},
        files={"file": (name, content, "application/pdf")},
        headers=headers,
    )


class TestRegister:
    async def test_owner_registers_and_can_file(self, make_app):
        app = await make_app("hayu")
        async with client_for(app) as client:
            body = {"username": "siti.r", "password": "rahasia-123", "full_name": "Siti R"}
            response = await client.post("/api/v1/auth/register", json=body)
            assert response.status_code == 201, response.text
            assert response.json()["roles"] == ["business_owner"]
            token = await client.post(
                "/api/v1/auth/token", data={"username": "siti.r", "password": "rahasia-123"}
            )
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            filed = await client.post("/api/v1/applications", json=filing(), headers=headers)
            assert filed.status_code == 201

    async def test_taken_username_and_weak_password_are_refused(self, make_app):
        app = await make_app("hayu")
        async with client_for(app) as client:
            body = {"username": "siti.r", "password": "rahasia-123", "full_name": "Siti R"}
            assert (await client.post("/api/v1/auth/register", json=body)).status_code == 201
            again = await client.post("/api/v1/auth/register", json=body)
            assert_problem(again, 409, "username-taken")
            weak = await client.post(
                "/api/v1/auth/register", json={**body, "username": "budi", "password": "123"}
            )
            assert_problem(weak, 422, "validation-error")
            async with app.state.db.sessionmaker() as session:
                assert await session.scalar(select(func.count()).select_from(Account)) == 1


class TestReferenceLists:
    async def test_import_and_search_kbli_then_unknown_codes_are_refused(self, make_app):
        from hayu import reference
        from hayu.models import KbliCode, Region

        kbli = reference.read_kbli_csv(reference_data("kbli2020.csv"))
        regions = reference.read_region_csvs(
            [reference_data(f"wilayah_{n}.csv") for n in ("provinsi", "kabkota", "kecamatan")]
        )
        assert len(kbli) == 1789
        assert len(regions) == 38 + 514 + 7285
        app = await make_app("hayu")
        async with app.state.db.sessionmaker.begin() as session:
            await reference.replace_reference(session, KbliCode, kbli)
            await reference.replace_reference(session, Region, regions)
        async with client_for(app) as client:
            found = (await client.get("/api/v1/kbli", params={"q": "01111"})).json()
            assert found == [{"code": "01111", "title": "PERTANIAN JAGUNG", "category": "A"}]
            words = (await client.get("/api/v1/kbli", params={"q": "warung makan"})).json()
            assert "56102" in [r["code"] for r in words]

            who = await actors(app, client)
            ok = await client.post(
                "/api/v1/applications",
                json=filing(kbli_codes=["56102"], region_code="32.73.02.1001"),
                headers=who.business_owner,
            )
            assert ok.status_code == 201, ok.text
            before = await counts(app)
            # 93232 is well formed but not in KBLI 2020 (see shared/data/README.md).
            bad = await client.post(
                "/api/v1/applications",
                json=filing(kbli_codes=["56102", "93232"]),
                headers=who.business_owner,
            )
            problem = assert_problem(bad, 422, "kbli-not-found")
            assert problem["errors"][0]["loc"] == ["body", "business", "kbli_codes", 1]
            region = await client.post(
                "/api/v1/applications",
                json=filing(region_code="32.73.99"),
                headers=who.business_owner,
            )
            assert_problem(region, 422, "region-not-found")
            assert await counts(app) == before

    def test_a_malformed_csv_is_refused_whole(self, tmp_path):
        from hayu import reference

        path = tmp_path / "kbli.csv"
        path.write_text("code,title\n01111,PERTANIAN JAGUNG\n0111,SALAH\n", encoding="utf-8")
        with pytest.raises(ValueError, match=":3:"):
            reference.read_kbli_csv(path)


class TestUploads:
    async def test_upload_rules(self, make_app):
        app = await make_app("hayu", upload_max_bytes=2048)
        async with client_for(app) as client:
            who = await actors(app, client)
            created = (
                await client.post(
                    "/api/v1/applications",
                    json=filing("SS", capital_idr=600_000_000),
                    headers=who.business_owner,
                )
            ).json()
            app_id = created["id"]
            assert_problem(
                await _upload(client, who.business_owner, app_id, content=b"MZ" + b"\0" * 99),
                415,
                "upload-type",
            )
            assert_problem(
                await _upload(client, who.business_owner, app_id, content=PDF + b"\0" * 4096),
                413,
                "payload-too-large",
            )
            assert_problem(
                await _upload(client, who.business_owner, app_id, item="ijazah"),
                422,
                "checklist-item-invalid",
            )
            assert_problem(
                await _upload(client, who.other_owner, app_id), 404, "application-not-found"
            )
            assert_problem(await _upload(client, who.inspector, app_id), 403, "forbidden")
            assert await _documents(app) == 0
            ok = await _upload(client, who.business_owner, app_id, content=PNG, name="ktp.png")
            assert ok.status_code == 201
            assert ok.json()["content_type"] == "image/png"
            assert await _documents(app) == 1

            self_report = (
                await client.post(
                    "/api/v1/applications", json=filing(capital_idr=1), headers=who.business_owner
                )
            ).json()
            assert_problem(
                await _upload(client, who.business_owner, self_report["id"]), 409, "upload-closed"
            )
            assert await _documents(app) == 1

    async def test_transition_payload_rules(self, make_app):
        app = await make_app("hayu")
        async with client_for(app) as client:
            who = await actors(app, client)
            app_id = (
                await client.post(
                    "/api/v1/applications",
                    json=filing("REKLAME"),
                    headers=who.business_owner,
                )
            ).json()["id"]
            url = f"/api/v1/applications/{app_id}/transitions"
            await client.post(url, json={"action": "accept"}, headers=who.officer)
            for item in ("ktp", "desain", "bukti_retribusi"):
                await _upload(client, who.business_owner, app_id, item=item)
            before = await counts(app)
            missing = await client.post(
                url, json={"action": "schedule_inspection"}, headers=who.officer
            )
            assert_problem(missing, 422, "missing-fields")
            past = await client.post(
                url,
                json={"action": "schedule_inspection", "inspection_date": "2001-01-01"},
                headers=who.officer,
            )
            assert_problem(past, 422, "inspection-date-invalid")
            blank = await client.post(
                url, json={"action": "request_revision", "note": "   "}, headers=who.officer
            )
            assert_problem(blank, 422, "missing-fields")
            extra = await client.post(
                url, json={"action": "accept", "sneaky": 1}, headers=who.officer
            )
            assert_problem(extra, 422, "validation-error")
            assert await counts(app) == before


class TestPersonalData:
    async def test_public_responses_never_carry_a_full_nik_or_phone(self, make_app):
        app = await make_app("hayu")
        async with client_for(app) as client:
            who = await actors(app, client)
            registered = (
                await client.post(
                    "/api/v1/applications", json=filing(capital_idr=1), headers=who.business_owner
                )
            ).json()
            permit = (
                await client.post(
                    "/api/v1/applications", json=filing("REKLAME"), headers=who.business_owner
                )
            ).json()
            number = registered["registration_number"]
            public = [
                f"/api/v1/public/track/{permit['tracking_code']}",
                f"/api/v1/public/track/{registered['tracking_code']}",
                f"/api/v1/public/verify/{number}",
                "/api/v1/public/stats",
                "/api/v1/permit-types",
                f"/verify/{number}",
                f"/lacak?kode={permit['tracking_code']}",
                "/statistik",
            ]
            for url in public:
                response = await client.get(url)
                assert response.status_code == 200, url
                for secret in (NIK, PHONE_E164, "081234567890", "81234567890"):
                    assert secret not in response.text, (url, secret)
            mine = await client.get(
                f"/api/v1/applications/{permit['id']}", headers=who.business_owner
            )
            owner = mine.json()["business"]["owner"]
            assert owner["nik"] == "************0001"
            assert owner["phone"].endswith("7890")
            assert PHONE_E164 not in mine.text
            qr = await client.get(f"/api/v1/permits/{number}/qr", headers=who.business_owner)
            assert NIK not in qr.text

    async def test_reading_unmasked_is_for_officers_and_audited(self, make_app):
        app = await make_app("hayu")
        async with client_for(app) as client:
            who = await actors(app, client)
            app_id = (
                await client.post(
                    "/api/v1/applications", json=filing("REKLAME"), headers=who.business_owner
                )
            ).json()["id"]
            url = f"/api/v1/applications/{app_id}"
            refused = await client.get(
                url, params={"reveal_personal_data": True}, headers=who.business_owner
            )
            assert_problem(refused, 403, "not-your-application")
            shown = await client.get(
                url, params={"reveal_personal_data": True}, headers=who.officer
            )
            assert shown.json()["business"]["owner"]["nik"] == NIK
            assert shown.json()["business"]["owner"]["phone"] == PHONE_E164
            async with app.state.db.sessionmaker() as session:
                actions = (
                    await session.execute(
                        select(AuditEvent.action, AuditEvent.actor).where(
                            AuditEvent.action == "personal_data.read"
                        )
                    )
                ).all()
            assert [tuple(a) for a in actions] == [("personal_data.read", "u-officer")]
            found = await client.get(
                "/api/v1/applications", params={"owner_nik": NIK}, headers=who.officer
            )
            assert [i["id"] for i in found.json()["items"]] == [app_id]
            assert_problem(
                await client.get(
                    "/api/v1/applications", params={"owner_nik": NIK}, headers=who.business_owner
                ),
                403,
            )

    async def test_nik_is_encrypted_at_rest(self, make_app):
        app = await make_app("hayu")
        async with client_for(app) as client:
            who = await actors(app, client)
            await client.post("/api/v1/applications", json=filing(), headers=who.business_owner)
        from sqlalchemy import text

        async with app.state.db.sessionmaker() as session:
            row = (
                await session.execute(
                    text("SELECT owner_nik_encrypted, owner_phone_encrypted FROM hayu.businesses")
                )
            ).one()
        assert NIK not in row[0]
        assert row[0].startswith("v1:")
        assert "1234567890" not in row[1]


class TestAuditSample:
    async def test_sample_is_random_recorded_and_not_repeated(self, make_app):
        app = await make_app("hayu")
        async with client_for(app) as client:
            who = await actors(app, client)
            url = "/api/v1/self-reports/audit-sample"
            assert_problem(
                await client.post(url, json={"percent": 10}, headers=who.officer),
                422,
                "audit-sample-invalid",
            )
            for n in range(10):
                await client.post(
                    "/api/v1/applications",
                    json=filing(name=f"Usaha {n}", capital_idr=1_000 * n),
                    headers=who.business_owner,
                )
            assert_problem(await client.post(url, json={"percent": 0}, headers=who.officer), 422)
            assert_problem(await client.post(url, json={"percent": 101}, headers=who.officer), 422)
            assert_problem(await client.post(url, json={"percent": 10}, headers=who.inspector), 403)
            first = await client.post(url, json={"percent": 30}, headers=who.officer)
            assert first.status_code == 201
            body = first.json()
            assert body["population"] == 10
            assert len(body["selected"]) == 3
            second = (await client.post(url, json={"percent": 100}, headers=who.officer)).json()
            assert second["population"] == 7
            picked = {s["id"] for s in body["selected"]} | {s["id"] for s in second["selected"]}
            assert len(picked) == 10
            async with app.state.db.sessionmaker() as session:
                samples = (await session.execute(select(AuditSample))).scalars().all()
                assert [s.percent for s in samples] == [30, 100]
                drawn = await session.scalar(
                    select(func.count())
                    .select_from(AuditEvent)
                    .where(AuditEvent.action == "audit_sample.drawn")
                )
                assert drawn == 2


class TestLists:
    async def test_filters_and_owner_scope(self, make_app):
        app = await make_app("hayu")
        async with client_for(app) as client:
            who = await actors(app, client)
            await client.post("/api/v1/applications", json=filing(), headers=who.business_owner)
            await client.post(
                "/api/v1/applications", json=filing("REKLAME"), headers=who.business_owner
            )
            await client.post(
                "/api/v1/applications",
                json=filing("SS", capital_idr=900_000_000),
                headers=who.other_owner,
            )
            all_ = (await client.get("/api/v1/applications", headers=who.officer)).json()
            assert len(all_["items"]) == 3
            mine = (await client.get("/api/v1/applications", headers=who.business_owner)).json()
            assert len(mine["items"]) == 2
            reklame = (
                await client.get(
                    "/api/v1/applications",
                    params={"permit_type_code": "REKLAME"},
                    headers=who.officer,
                )
            ).json()
            assert [i["permit_type_code"] for i in reklame["items"]] == ["REKLAME"]
            submitted = (
                await client.get(
                    "/api/v1/applications", params={"status": "submitted"}, headers=who.officer
                )
            ).json()
            assert len(submitted["items"]) == 2
            overdue = (
                await client.get(
                    "/api/v1/applications", params={"overdue": True}, headers=who.officer
                )
            ).json()
            assert overdue["items"] == []
            page = (
                await client.get("/api/v1/applications", params={"limit": 2}, headers=who.officer)
            ).json()
            assert len(page["items"]) == 2
            assert page["next_cursor"]
            rest = (
                await client.get(
                    "/api/v1/applications",
                    params={"limit": 2, "cursor": page["next_cursor"]},
                    headers=who.officer,
                )
            ).json()
            assert len(rest["items"]) == 1


class TestStats:
    async def test_median_p90_and_share_within_sla(self, make_app):
        from hayu import oversight

        assert oversight._percentile([1, 2, 3, 4], 0.5) == 2.5
        assert oversight._percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9.0
        assert oversight._percentile([], 0.5) is None
        app = await make_app("hayu")
        async with client_for(app) as client:
            who = await actors(app, client)
            await client.post("/api/v1/applications", json=filing(), headers=who.business_owner)
            stats = (await client.get("/api/v1/public/stats")).json()
            siup = next(i for i in stats["items"] if i["permit_type_code"] == "SS")
            assert siup["registered"] == 1
            assert siup["issued"] == 0
            assert siup["median_working_days"] is None


class TestConfiguration:
    def test_defaults_follow_the_national_threshold(self):
        config = HayuConfig()
        rule = config.hayu.threshold_on(dt.date(2026, 1, 1))
        assert rule.self_report_below_idr == 500_000_000
        codes = {p.code for p in config.hayu.permit_types}
        assert codes == {"REG-UMK", "SS", "REKLAME"}
        assert not codes & {"SIUP", "IUI", "TDP"}  # abolished or moved into OSS-RBA

    @pytest.mark.parametrize(
        ("toml", "field"),
        [
            ({"hayu": {"capital_thresholds": []}}, "capital_thresholds"),
            (
                {
                    "hayu": {
                        "capital_thresholds": [
                            {
                                "effective_from": "2020-01-01",
                                "self_report_below_idr": -5,
                                "basis": "x",
                            }
                        ]
                    }
                },
                "self_report_below_idr",
            ),
            ({"hayu": {"tracking_prefix": "hy1"}}, "tracking_prefix"),
            ({"hayu": {"unknown": 1}}, "unknown"),
            (
                {
                    "hayu": {
                        "workflow": {
                            "name": "short",
                            "initial_state": "submitted",
                            "states": {
                                "submitted": {"label": "a"},
                                "issued": {"label": "b", "final": True},
                            },
                            "actions": {
                                "issue": {
                                    "label": "x",
                                    "from_states": ["submitted"],
                                    "to_state": "issued",
                                    "roles": ["approver"],
                                }
                            },
                        }
                    }
                },
                "approval",
            ),
        ],
    )
    def test_bad_configuration_stops_start_up_naming_the_field(self, toml, field):
        with pytest.raises(RegencyConfigError, match=field):
            parse_regency_config(toml, HayuConfig, "regency.toml")
