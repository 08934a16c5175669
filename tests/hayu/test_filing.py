"""Filing: one endpoint decides between instant self-report and a permit application."""

from __future__ import annotations

import pytest
from hayu_factories import NIK, PHONE, actors, counts, filing

from shared.testing import assert_problem, client_for


async def test_capital_just_below_threshold_is_registered_at_once_with_certificate(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        response = await client.post(
            "/api/v1/applications",
            json=filing("SS", capital_idr=499_999_999),
            headers=who.business_owner,
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["kind"] == "self_report"
        assert body["status"] == "registered"
        assert body["registration_number"].startswith("REG-3273-")
        assert body["rule_version"] == "capital-threshold:2008-07-04:500000000"
        pdf = await client.get(
            f"/api/v1/permits/{body['registration_number']}/certificate.pdf",
            headers=who.business_owner,
        )
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        verify = await client.get(f"/api/v1/public/verify/{body['registration_number']}")
        assert verify.status_code == 200
        assert verify.json()["valid"] is True
        assert verify.json()["status"] == "active"


async def test_capital_at_threshold_becomes_permit_application(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        response = await client.post(
            "/api/v1/applications",
            json=filing("SS", capital_idr=500_000_000),
            headers=who.business_owner,
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["kind"] == "permit"
        assert body["status"] == "submitted"
        assert body["registration_number"] is None
        assert body["tracking_code"].startswith("HY-")


async def test_threshold_in_configuration_moves_the_line(make_app):
    config = """
[[hayu.capital_thresholds]]
effective_from = 2008-07-04
self_report_below_idr = 500000000
basis = "UU 20/2008"

[[hayu.capital_thresholds]]
effective_from = 2025-01-01
self_report_below_idr = 1000000000
basis = "Perbup contoh 2025"
"""
    app = await make_app("hayu", config_toml=config)
    async with client_for(app) as client:
        who = await actors(app, client)
        response = await client.post(
            "/api/v1/applications",
            json=filing("SS", capital_idr=500_000_000),
            headers=who.business_owner,
        )
        assert response.status_code == 201, response.text
        assert response.json()["kind"] == "self_report"
        assert response.json()["rule_version"] == "capital-threshold:2025-01-01:1000000000"
        response = await client.post(
            "/api/v1/applications",
            json=filing("SS", capital_idr=1_000_000_000),
            headers=who.business_owner,
        )
        assert response.json()["kind"] == "permit"


async def test_permit_type_without_self_report_always_applies(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        response = await client.post(
            "/api/v1/applications",
            json=filing("REKLAME", capital_idr=1),
            headers=who.business_owner,
        )
        assert response.status_code == 201
        assert response.json()["kind"] == "permit"
        decision = await client.get(
            "/api/v1/filing-decision", params={"permit_type_code": "SS", "capital_idr": 10}
        )
        assert decision.json()["kind"] == "self_report"


@pytest.mark.parametrize(
    ("business", "where"),
    [
        ({"capital_idr": -1}, "capital_idr"),
        ({"capital_idr": 1.5}, "capital_idr"),
        ({"capital_idr": "100000000"}, "capital_idr"),
        ({"owner": {"nik": "3273017306900001", "name": "Siti", "phone": PHONE}}, "nik"),
        ({"owner": {"nik": "1234", "name": "Siti", "phone": PHONE}}, "nik"),
        ({"owner": {"nik": NIK, "name": "Siti", "phone": "12345"}}, "phone"),
        ({"kbli_codes": ["4711"]}, "kbli_codes"),
        ({"kbli_codes": ["00111"]}, "kbli_codes"),
        ({"kbli_codes": []}, "kbli_codes"),
        ({"region_code": "32.7"}, "region_code"),
        ({"workforce": -3}, "workforce"),
    ],
)
async def test_invalid_business_is_refused_and_nothing_written(make_app, business, where):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        before = await counts(app)
        response = await client.post(
            "/api/v1/applications", json=filing("SS", **business), headers=who.business_owner
        )
        problem = assert_problem(response, 422, "validation-error")
        assert any(where in [str(p) for p in e["loc"]] for e in problem["errors"]), problem
        assert await counts(app) == before


async def test_unknown_permit_type_is_refused_and_nothing_written(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        response = await client.post(
            "/api/v1/applications", json=filing("NOPE"), headers=who.business_owner
        )
        assert_problem(response, 422, "permit-type-not-found")
        assert await counts(app) == (0, 0, 0)


async def test_only_business_owners_file(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        assert_problem(await client.post("/api/v1/applications", json=filing()), 401)
        response = await client.post("/api/v1/applications", json=filing(), headers=who.officer)
        assert_problem(response, 403, "forbidden")
        assert await counts(app) == (0, 0, 0)


async def test_filing_is_idempotent(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        headers = {**who.business_owner, "Idempotency-Key": "abc-1"}
        first = await client.post("/api/v1/applications", json=filing(), headers=headers)
        second = await client.post("/api/v1/applications", json=filing(), headers=headers)
        assert second.status_code == 201
        assert second.json() == first.json()
        assert second.headers.get("Idempotent-Replayed") == "true"
        assert (await counts(app))[1] == 1
        other = await client.post(
            "/api/v1/applications", json=filing(capital_idr=7), headers=headers
        )
        assert_problem(other, 422, "idempotency-key-reused")


async def test_the_preview_runs_the_checks_a_filing_runs(make_app):
    """The preview used to look at the capital alone: annual sales (size class) and the
    location (jurisdiction) were left to the filing, which then decided otherwise."""
    from sqlalchemy import select

    from hayu.models import AuditEvent

    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        facts = {
            "capital_idr": 1_000_000,
            "annual_sales_idr": 20_000_000_000,
            "kbli_codes": ["47111"],
            "region_code": "32.73.01",
        }
        preview = await client.get(
            "/api/v1/filing-decision", params={"permit_type_code": "REG-UMK", **facts}
        )
        assert preview.status_code == 200, preview.text
        filed = await client.post(
            "/api/v1/applications", json=filing("REG-UMK", **facts), headers=who.business_owner
        )
        assert filed.status_code == 201, filed.text
        async with app.state.db.sessionmaker() as session:
            event = await session.scalar(
                select(AuditEvent).where(
                    AuditEvent.action == "application.register",
                    AuditEvent.entity_id == str(filed.json()["id"]),
                )
            )
        assert event is not None
        assert event.after is not None
        assert preview.json()["kind"] == filed.json()["kind"]
        assert preview.json()["size_class"] == event.after["size_class"] != "mikro"
        assert preview.json()["rule_versions"] == event.after["rule_versions"]

        outside = {"permit_type_code": "REG-UMK", "capital_idr": 1, "region_code": "33.01.01"}
        refused = await client.get("/api/v1/filing-decision", params=outside)
        assert_problem(refused, 422, "outside-jurisdiction")
        bad = await client.get(
            "/api/v1/filing-decision",
            params={"permit_type_code": "REG-UMK", "capital_idr": 1, "kbli_codes": "4711"},
        )
        assert bad.status_code == 422
