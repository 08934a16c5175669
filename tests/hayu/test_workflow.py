"""A permit application walked through revision, inspection, approval, issue and revocation."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from hayu_factories import PDF, PNG, actors, counts, filing
from sqlalchemy import select

from hayu.certificates import name_digest, verify_token
from hayu.dependencies import context_of
from hayu.models import Application, AuditEvent
from hayu.sla import run_deemed_approvals
from hayu.tasks import deemed_approvals_once
from shared.signing import SignatureError
from shared.testing import assert_problem, client_for


async def _apply(client, who, code="REKLAME", **business):
    response = await client.post(
        "/api/v1/applications", json=filing(code, **business), headers=who.business_owner
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _act(client, headers, app_id, action, **payload):
    return await client.post(
        f"/api/v1/applications/{app_id}/transitions",
        json={"action": action, **payload},
        headers=headers,
    )


async def _upload(client, headers, app_id, item, content=PDF, name="berkas.pdf"):
    return await client.post(
        f"/api/v1/applications/{app_id}/documents",
        data={"checklist_item": item},
        files={"file": (name, content, "application/octet-stream")},
        headers=headers,
    )


async def _timeline(client, tracking_code):
    response = await client.get(f"/api/v1/public/track/{tracking_code}")
    assert response.status_code == 200, response.text
    return response.json()


async def test_permit_walked_through_revision_inspection_approval_issue_and_revocation(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        created = await _apply(client, who, "REKLAME", capital_idr=750_000_000)
        app_id, code = created["id"], created["tracking_code"]

        track = await _timeline(client, code)
        assert [s["state"] for s in track["timeline"]] == ["submitted"]
        assert track["holder"] == "officer"
        assert track["timeline"][0]["sla_working_days"] == 1
        assert track["sla_working_days"] == 9

        response = await _act(client, who.officer, app_id, "accept")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "document_verification"

        # Documents incomplete: scheduling the inspection is refused and nothing moves.
        await _upload(client, who.business_owner, app_id, "ktp", PNG, "ktp.png")
        response = await _act(
            client, who.officer, app_id, "schedule_inspection", inspection_date="2099-01-05"
        )
        problem = assert_problem(response, 409, "documents-missing")
        assert problem["missing"] == ["desain", "bukti_retribusi"]

        response = await _act(
            client, who.officer, app_id, "request_revision", note="Desain reklame belum ada"
        )
        assert response.json()["status"] == "revision_requested"
        track = await _timeline(client, code)
        assert [s["state"] for s in track["timeline"]] == [
            "submitted",
            "document_verification",
            "revision_requested",
        ]
        assert track["holder"] == "business_owner"
        assert track["timeline"][-1]["left_at"] is None
        assert "Desain reklame" not in str(track)  # notes are for the applicant, not the public
        mine = await client.get(f"/api/v1/applications/{app_id}", headers=who.business_owner)
        assert mine.json()["history"][-1]["note"] == "Desain reklame belum ada"
        page = await client.get(f"/berkas/{app_id}", headers=who.business_owner)
        assert page.status_code == 200

        for item in ("desain", "bukti_retribusi"):
            assert (await _upload(client, who.business_owner, app_id, item)).status_code == 201
        response = await _act(client, who.business_owner, app_id, "resubmit")
        assert response.json()["status"] == "document_verification"

        # Reklame needs an inspection: skipping it is refused.
        response = await _act(client, who.officer, app_id, "verify_documents")
        assert_problem(response, 409, "inspection-required")

        response = await _act(
            client, who.officer, app_id, "schedule_inspection", inspection_date="2099-01-05"
        )
        assert response.json()["status"] == "field_inspection"
        track = await _timeline(client, code)
        assert track["holder"] == "inspector"
        assert track["timeline"][-1]["sla_working_days"] == 3

        # Structured result: pass/fail is required, and a site photo must be on file.
        response = await _act(
            client, who.inspector, app_id, "record_inspection", findings="Sesuai desain"
        )
        assert_problem(response, 422)
        response = await _act(
            client,
            who.inspector,
            app_id,
            "record_inspection",
            findings="Sesuai desain",
            inspection_result="lulus",
        )
        assert_problem(response, 409, "inspection-photo-missing")
        photo = await _upload(client, who.business_owner, app_id, "foto_pemeriksaan", PNG, "x.png")
        assert_problem(photo, 409, "upload-closed")  # only the inspector adds site photos
        photo = await _upload(client, who.inspector, app_id, "foto_pemeriksaan", PNG, "lokasi.png")
        assert photo.status_code == 201, photo.text
        response = await _act(
            client,
            who.inspector,
            app_id,
            "record_inspection",
            findings="Sesuai desain",
            inspection_result="lulus",
        )
        assert response.json()["status"] == "approval"
        recorded = response.json()["history"][-1]["details"]
        assert recorded == {"findings": "Sesuai desain", "inspection_result": "lulus"}
        response = await _act(client, who.approver, app_id, "approve")
        assert response.json()["status"] == "approved"
        response = await _act(client, who.approver, app_id, "issue")
        issued = response.json()
        assert issued["status"] == "issued"
        number = issued["number"]
        assert number.endswith(f"/{dt.date.today().year}")
        assert issued["valid_until"] is not None

        track = await _timeline(client, code)
        assert [s["state"] for s in track["timeline"]] == [
            "submitted",
            "document_verification",
            "revision_requested",
            "document_verification",
            "field_inspection",
            "approval",
            "approved",
            "issued",
        ]
        assert track["status"] == "issued"
        assert track["number"] == number
        assert all(isinstance(s["working_days"], int) for s in track["timeline"])
        assert track["overdue"] is False

        verify = (await client.get(f"/api/v1/public/verify/{number}")).json()
        assert verify["valid"] is True
        assert verify["status"] == "active"
        assert verify["holder_name_masked"] == "S*** R********"

        response = await _act(client, who.approver, app_id, "revoke")
        assert_problem(response, 422, "missing-fields")
        response = await _act(
            client, who.approver, app_id, "revoke", note="Reklame melanggar tata ruang"
        )
        assert response.json()["status"] == "revoked"
        verify = (await client.get(f"/api/v1/public/verify/{number}")).json()
        assert verify["valid"] is False
        assert verify["status"] == "revoked"
        page = await client.get(f"/verify/{number}")
        assert page.status_code == 200
        assert "dicabut" in page.text.lower()


async def test_wrong_state_is_409_and_wrong_role_is_403_and_nothing_moves(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        created = await _apply(client, who, "SS", capital_idr=900_000_000)
        before = await counts(app)
        response = await _act(client, who.approver, created["id"], "approve")
        problem = assert_problem(response, 409, "invalid-transition")
        assert problem["state"] == "submitted"
        response = await _act(client, who.business_owner, created["id"], "accept")
        assert_problem(response, 403, "action-forbidden")
        response = await _act(client, who.auditor, created["id"], "accept")
        assert_problem(response, 403, "action-forbidden")
        response = await _act(client, who.officer, created["id"], "fly")
        assert_problem(response, 422, "unknown-action")
        response = await _act(client, who.other_owner, created["id"], "resubmit")
        assert_problem(response, 404, "application-not-found")
        assert await counts(app) == before
        read = (
            await client.get(f"/api/v1/applications/{created['id']}", headers=who.officer)
        ).json()
        assert read["status"] == "submitted"


async def test_certificate_qr_payload_verifies_offline_and_fails_after_one_byte_changes(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        created = await _apply(client, who, "SS", capital_idr=10_000_000)
        number = created["registration_number"]
        key = (await client.get("/api/v1/public/verification-key")).json()
        qr = await client.get(f"/api/v1/permits/{number}/qr", headers=who.business_owner)
        assert qr.status_code == 200
        token = qr.json()["token"]
        assert qr.json()["url"].endswith(f"/verify/{number}?t={token}")

        payload = verify_token(token, number, key["public_key"])
        assert payload["no"] == number
        assert payload["name_digest"] == name_digest("Warung Sari Rasa")
        assert "3273014506900001" not in token  # no NIK in the QR

        body, signature = token.rsplit(".", 1)
        forged = body[:-1] + ("0" if body[-1] != "0" else "1") + "." + signature
        with pytest.raises(SignatureError):
            verify_token(forged, number, key["public_key"])
        with pytest.raises(SignatureError):  # the same token for another number
            verify_token(token, number.replace("000001", "000002"), key["public_key"])

        online = await client.get(f"/api/v1/public/verify/{number}", params={"t": forged})
        assert online.json()["signature_valid"] is False
        online = await client.get(f"/api/v1/public/verify/{number}", params={"t": token})
        assert online.json()["signature_valid"] is True


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) missing")
async def test_certificate_pdf_renders_to_an_image(make_app, tmp_path: Path):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        created = await _apply(client, who, "SS", capital_idr=10_000_000)
        number = created["registration_number"]
        pdf = await client.get(f"/api/v1/permits/{number}/certificate.pdf", headers=who.officer)
        assert pdf.status_code == 200
        other = await client.get(
            f"/api/v1/permits/{number}/certificate.pdf", headers=who.other_owner
        )
        assert_problem(other, 404, "permit-not-found")
        source = tmp_path / "cert.pdf"
        source.write_bytes(pdf.content)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "50", str(source), str(tmp_path / "page")],
            check=True,
            timeout=60,
        )
        pages = sorted(tmp_path.glob("page*.png"))
        assert len(pages) == 1
        assert pages[0].read_bytes().startswith(b"\x89PNG")
        assert pages[0].stat().st_size > 5_000
        text = subprocess.run(
            ["pdftotext", str(source), "-"], capture_output=True, text=True, check=False
        ).stdout
        if text:
            assert number in text
            assert "TANDA DAFTAR USAHA" in text


async def test_deemed_approval_issues_after_the_approval_sla_lapses(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        created = await _apply(client, who, "SS", capital_idr=900_000_000)
        app_id = created["id"]
        await _act(client, who.officer, app_id, "accept")
        for item in ("ktp", "npwp", "akta"):
            assert (await _upload(client, who.business_owner, app_id, item)).status_code == 201
        response = await _act(client, who.officer, app_id, "verify_documents")
        assert response.json()["status"] == "approval"

        ctx = context_of(app.state, "http://test")
        now = dt.datetime.now(dt.UTC)
        assert await deemed_approvals_once(app) == []  # the periodic task: nothing lapsed yet
        async with app.state.db.sessionmaker.begin() as session:
            issued = await run_deemed_approvals(session, ctx.at(now + dt.timedelta(days=30)))
        assert issued == [app_id]

        read = (await client.get(f"/api/v1/applications/{app_id}", headers=who.officer)).json()
        assert read["status"] == "issued"
        assert read["deemed_approved"] is True
        verify = (await client.get(f"/api/v1/public/verify/{read['number']}")).json()
        assert verify["valid"] is True
        assert verify["deemed_approved"] is True
        page = await client.get(f"/verify/{read['number']}")
        assert "fiktif positif" in page.text
        stats = (await client.get("/api/v1/public/stats")).json()
        siup = next(i for i in stats["items"] if i["permit_type_code"] == "SS")
        assert siup["issued"] == 1
        assert siup["deemed_approved"] == 1
        async with app.state.db.sessionmaker() as session:
            events = (
                await session.execute(
                    select(AuditEvent.action, AuditEvent.actor).where(
                        AuditEvent.entity_id == str(app_id)
                    )
                )
            ).all()
            assert ("application.deemed_approval", "system") in [tuple(e) for e in events]
            row = await session.get(Application, app_id)
            assert row is not None
            assert row.deemed_approved


async def test_expired_certificate_verifies_as_expired_in_grey(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        created = await _apply(client, who, "SS", capital_idr=10_000_000)
        number = created["registration_number"]
        async with app.state.db.sessionmaker.begin() as session:
            row = await session.get(Application, created["id"])
            assert row is not None
            assert row.valid_until is not None  # SS is valid for 60 months
            row.valid_until = dt.date(2020, 1, 1)
        verify = (await client.get(f"/api/v1/public/verify/{number}")).json()
        assert verify["valid"] is False
        assert verify["status"] == "expired"
        page = await client.get(f"/verify/{number}")
        assert 'class="verdict expired"' in page.text
        assert "KEDALUWARSA" in page.text


REPLACED_WORKFLOW = """
# the catalogue's SLAs add up to the replaced workflow's stages (2 + 1)
[[hayu.permit_types]]
code = "SS"
name = "Sertifikat Standar (verifikasi daerah)"
self_report_allowed = true
sla_working_days = 3

[hayu.workflow]
name = "satu-meja"
initial_state = "submitted"

[hayu.workflow.states.submitted]
label = "Diterima"
holder = "officer"
sla_working_days = 2

[hayu.workflow.states.approval]
label = "Keputusan kepala dinas"
holder = "approver"
sla_working_days = 1

[hayu.workflow.states.issued]
label = "Terbit"

[hayu.workflow.states.rejected]
label = "Ditolak"
final = true

[hayu.workflow.states.revoked]
label = "Dicabut"
final = true

[hayu.workflow.actions.forward]
label = "Teruskan"
from_states = ["submitted"]
to_state = "approval"
roles = ["officer"]

[hayu.workflow.actions.issue]
label = "Terbitkan"
from_states = ["approval"]
to_state = "issued"
roles = ["approver"]

[hayu.workflow.actions.reject]
label = "Tolak"
from_states = ["approval"]
to_state = "rejected"
roles = ["approver"]
required_fields = ["note"]

[hayu.workflow.actions.revoke]
label = "Cabut"
from_states = ["issued"]
to_state = "revoked"
roles = ["approver"]
required_fields = ["note"]
"""


async def test_a_regency_replaces_the_workflow_in_configuration(make_app):
    app = await make_app("hayu", config_toml=REPLACED_WORKFLOW)
    async with client_for(app) as client:
        who = await actors(app, client)
        created = await _apply(client, who, "SS", capital_idr=900_000_000)
        track = await _timeline(client, created["tracking_code"])
        assert track["timeline"][0]["label"] == "Diterima"
        assert track["timeline"][0]["sla_working_days"] == 2
        assert_problem(await _act(client, who.officer, created["id"], "accept"), 422)
        assert (await _act(client, who.officer, created["id"], "forward")).status_code == 200
        issued = (await _act(client, who.approver, created["id"], "issue")).json()
        assert issued["status"] == "issued"
        assert issued["number"].startswith("00001/SS/")
        track = await _timeline(client, created["tracking_code"])
        assert [s["label"] for s in track["timeline"]] == [
            "Diterima",
            "Keputusan kepala dinas",
            "Terbit",
        ]


async def test_openapi_document_declares_the_problem_statuses(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        schema = (await client.get("/openapi.json")).json()
    transitions = schema["paths"]["/api/v1/applications/{application_id}/transitions"]["post"]
    assert {"403", "404", "409", "422"} <= set(transitions["responses"])
    filing_op = schema["paths"]["/api/v1/applications"]["post"]
    assert "201" in filing_op["responses"]
    assert "/api/v1/public/verify/{number}" in schema["paths"]


async def test_the_pdf_qr_carries_the_signed_token_of_the_verification_url(make_app, monkeypatch):
    from shared import documents

    captured: dict[str, object] = {}
    real = documents.build_pdf

    def spy(**kwargs):
        captured.update(kwargs)
        return real(**kwargs)

    # certificates imports build_pdf when it draws the first certificate, from shared.documents.
    monkeypatch.setattr(documents, "build_pdf", spy)
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        number = (await _apply(client, who, "SS", capital_idr=10))["registration_number"]
        pdf = await client.get(f"/api/v1/permits/{number}/certificate.pdf", headers=who.officer)
        assert pdf.status_code == 200
        qr = (await client.get(f"/api/v1/permits/{number}/qr", headers=who.officer)).json()
        key = (await client.get("/api/v1/public/verification-key")).json()["public_key"]
    assert captured["qr_data"] == qr["url"]
    token = str(captured["qr_data"]).split("?t=", 1)[1]
    assert verify_token(token, number, key)["no"] == number
