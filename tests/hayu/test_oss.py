"""The OSS-RBA link against a fake OSS that plays the published contract."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from typing import Any

import httpx
import pytest
from hayu_factories import PDF, actors, filing, upload_checklist
from sqlalchemy import select

from hayu.dependencies import context_of
from hayu.models import Application, AuditEvent, OssNibRecord, OssOutboxMessage
from hayu.oss import OssError
from hayu.tasks import oss_outbox_once
from shared.testing import add_account, assert_problem, client_for

CODES = {"09", "10", "11", "20", "40", "41", "42", "43", "44", "45", "50", "57", "90"}
NIB = "9120001234567"


STATUS_FIELDS = {
    "nib", "id_izin", "kd_izin", "kd_status", "tgl_status", "nip_status", "nama_status",
    "keterangan", "nomor_izin",
}  # fmt: skip
LICENSE_FIELDS = {
    "nib", "id_izin", "kd_izin", "nomor_izin", "tgl_terbit_izin", "tgl_berlaku_izin",
    "nama_ttd", "nip_ttd", "jabatan_ttd", "status_izin", "file_izin", "keterangan",
}  # fmt: skip


class FakeOss:
    """receiveLicenseStatus (IZINSTATUS) and receiveLicense (IZINFINAL): validates the envelope
    and its fields, keeps one message per idempotency key."""

    def __init__(self) -> None:
        self.received: dict[str, dict[str, Any]] = {}
        self.licenses: dict[str, dict[str, Any]] = {}
        self.calls = 0
        self.down = False

    async def send_status(self, payload: dict[str, Any], idempotency_key: str) -> None:
        self.calls += 1
        if self.down:
            raise OssError("connection refused")
        assert len(payload) == 1, payload
        if "IZINFINAL" in payload:
            body = payload["IZINFINAL"]
            assert set(body) == LICENSE_FIELDS, body
            assert body["status_izin"] == "50"
            assert body["nomor_izin"]
            assert "/verify/" in body["file_izin"]
            self.licenses.setdefault(idempotency_key, body)
        else:
            body = payload["IZINSTATUS"]
            assert set(body) == STATUS_FIELDS, body
            assert body["kd_status"] in CODES
            assert body["nama_status"]
            self.received.setdefault(idempotency_key, body)
        assert body["nib"] is None or len(body["nib"]) == 13

    def codes(self) -> list[str]:
        return [p["kd_status"] for p in self.received.values()]


class CrashAfterSending(FakeOss):
    """Delivers to `target`, then the process dies before it can record that it did."""

    def __init__(self, target: FakeOss) -> None:
        super().__init__()
        self.target = target

    async def send_status(self, payload: dict[str, Any], idempotency_key: str) -> None:
        await self.target.send_status(payload, idempotency_key)
        raise SystemExit("crash")


async def _linked_app(make_app):
    return await make_app("hayu", oss_base_url="http://oss.invalid", oss_inbound_token="rahasia")


async def _walk_to_approval(client, who) -> int:
    created = await client.post(
        "/api/v1/applications",
        json=filing("SS", capital_idr=900_000_000, nib=NIB),
        headers=who.business_owner,
    )
    assert created.status_code == 201, created.text
    app_id = created.json()["id"]
    url = f"/api/v1/applications/{app_id}"
    for item in ("ktp", "npwp", "akta"):
        await client.post(
            f"{url}/documents",
            data={"checklist_item": item},
            files={"file": ("a.pdf", PDF, "application/pdf")},
            headers=who.business_owner,
        )
    for headers, action in (
        (who.officer, "accept"),
        (who.officer, "verify_documents"),
        (who.approver, "approve"),
    ):
        done = await client.post(f"{url}/transitions", json={"action": action}, headers=headers)
        assert done.status_code == 200, done.text
    return app_id


TWO_OSS_TYPES = """
[[hayu.permit_types]]
code = "SS"
name = "Sertifikat Standar (verifikasi daerah)"
self_report_allowed = false
sla_working_days = 6
oss_permit = true
required_documents = [{ code = "ktp", label = "KTP pemilik" }]

[[hayu.permit_types]]
code = "SSL"
name = "Sertifikat Standar (verifikasi lapangan)"
self_report_allowed = false
sla_working_days = 9
needs_inspection = true
oss_permit = true
required_documents = [{ code = "ktp", label = "KTP pemilik" }]
"""


async def test_every_transition_sends_its_code_exactly_once_across_a_crash(make_app):
    """Each transition of the issue's list writes one status message with its code: received
    09, incomplete 11, complete 10, in review 20, field check 40, returned 41, resubmitted 42,
    approved 50, deemed approved 57, rejected 90 (issuing sends the licence). A crash after OSS
    got a message but before HAYU recorded it resends it under the same key: OSS keeps it once."""
    from hayu.sla import run_deemed_approvals

    app = await make_app(
        "hayu",
        oss_base_url="http://oss.invalid",
        oss_inbound_token="rahasia",
        config_toml=TWO_OSS_TYPES,
    )
    await _push(app)  # OSS told us of this owner's application
    expected: list[tuple[int, str]] = []  # (file, kd_status) in the order of the transitions
    async with client_for(app) as client:
        who = await actors(app, client)
        today = context_of(app.state, "http://test").today.isoformat()

        async def file(code: str) -> int:
            created = await client.post(
                "/api/v1/applications",
                json=filing(code, capital_idr=900_000_000, nib=NIB),
                headers=who.business_owner,
            )
            assert created.status_code == 201, created.text
            expected.append((created.json()["id"], "09"))
            return int(created.json()["id"])

        async def act(app_id: int, headers: dict[str, str], code: str | None, **body) -> None:
            done = await client.post(
                f"/api/v1/applications/{app_id}/transitions", json=body, headers=headers
            )
            assert done.status_code == 200, done.text
            if code is not None:
                expected.append((app_id, code))

        simple = await file("SS")
        await act(simple, who.officer, "20", action="accept")
        await act(simple, who.officer, "11", action="request_documents", note="KTP belum ada")
        await upload_checklist(client, who.business_owner, simple, ("ktp",))
        await act(simple, who.business_owner, "42", action="resubmit")
        await act(simple, who.officer, "10", action="verify_documents")
        await act(simple, who.approver, "50", action="approve")
        await act(simple, who.approver, None, action="issue")  # the licence, not a status
        inspected = await file("SSL")
        await upload_checklist(client, who.business_owner, inspected, ("ktp",))
        await act(inspected, who.officer, "20", action="accept")
        await act(inspected, who.officer, "40", action="schedule_inspection", inspection_date=today)
        await act(inspected, who.inspector, "41", action="request_revision", note="Alamat beda")
        await act(inspected, who.business_owner, "42", action="resubmit")
        await act(inspected, who.officer, "40", action="schedule_inspection", inspection_date=today)
        photo = await client.post(
            f"/api/v1/applications/{inspected}/documents",
            data={"checklist_item": "foto_pemeriksaan"},
            files={"file": ("lokasi.pdf", PDF, "application/pdf")},
            headers=who.inspector,
        )
        assert photo.status_code == 201, photo.text
        await act(
            inspected,
            who.inspector,
            "20",
            action="record_inspection",
            inspection_result="tidak_lulus",
            findings="Papan di trotoar",
        )
        await act(inspected, who.approver, "90", action="reject", note="Lokasi di jalur hijau")
        stalled = await file("SS")
        await upload_checklist(client, who.business_owner, stalled, ("ktp",))
    later = context_of(app.state, "http://test").now + dt.timedelta(days=60)
    async with app.state.db.sessionmaker.begin() as session:
        ctx = context_of(app.state, "http://test").at(later)
        assert await run_deemed_approvals(session, ctx) == [stalled]
    expected.append((stalled, "57"))
    assert {code for _, code in expected} == {
        "09", "11", "10", "20", "40", "41", "42", "50", "57", "90",
    }  # fmt: skip
    statuses = len(expected)
    app.state.clock = lambda: later
    fake = FakeOss()
    with contextlib.suppress(SystemExit):
        await oss_outbox_once(app, CrashAfterSending(fake))
    assert len(fake.received) == 1  # OSS got the first message, HAYU never recorded it
    async with app.state.db.sessionmaker() as session:
        pending = (
            (
                await session.execute(
                    select(OssOutboxMessage).where(OssOutboxMessage.sent_at.is_(None))
                )
            )
            .scalars()
            .all()
        )
    assert len(pending) == statuses + 2  # and two licences: issued, deemed approved
    assert await oss_outbox_once(app, fake) == (statuses + 2, 0)
    assert fake.calls == statuses + 3  # the first message went twice, with the same key
    received = [(int(key.split("-")[1]), body["kd_status"]) for key, body in fake.received.items()]
    assert received == expected  # one per transition, in order, none twice
    assert len(fake.licenses) == 2
    assert all(p["nib"] == NIB for p in fake.received.values())
    assert await oss_outbox_once(app, fake) == (0, 0)


async def test_unreachable_oss_leaves_the_outbox_retrying_and_the_service_usable(make_app):
    app = await _linked_app(make_app)
    fake = FakeOss()
    fake.down = True
    await _push(app)  # OSS told us of this owner's application
    async with client_for(app) as client:
        who = await actors(app, client)
        await _walk_to_approval(client, who)  # every transition succeeds while OSS is down
        assert await oss_outbox_once(app, fake) == (0, 4)
        async with app.state.db.sessionmaker() as session:
            rows = (await session.execute(select(OssOutboxMessage))).scalars().all()
        assert all(r.attempts == 1 and r.sent_at is None and not r.dead for r in rows)
        assert await oss_outbox_once(app, fake) == (0, 0)  # backing off: not due yet
        async with app.state.db.sessionmaker.begin() as session:
            for row in (await session.execute(select(OssOutboxMessage))).scalars():
                row.attempts = 7
                row.next_attempt_at = row.created_at
        assert await oss_outbox_once(app, fake) == (0, 4)
        dead = await client.get("/api/v1/oss/outbox", params={"dead": "true"}, headers=who.admin)
        assert dead.status_code == 200
        assert len(dead.json()) == 4
        assert dead.json()[0]["last_error"] == "connection refused"
        assert_problem(await client.get("/api/v1/oss/outbox", headers=who.officer), 403)


async def test_nothing_is_queued_while_the_link_is_not_configured(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        await _walk_to_approval(client, who)
    async with app.state.db.sessionmaker() as session:
        assert (await session.execute(select(OssOutboxMessage))).first() is None
    assert await oss_outbox_once(app) == (0, 0)


OWNER_NIK = "3273014506900001"  # hayu_factories.NIK: the owner the filings name
OTHER_NIK = "3273011203850002"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PUSH = {
    "nib": NIB,
    "nama_usaha": "CV Kembang Sari",
    "nik_pemilik": OWNER_NIK,
    "kbli": ["14111"],
    "alamat": "Jl. Anggrek No. 7 RT 02 RW 05, Bandung",
    "kode_wilayah": "32.73.01",
    "id_permohonan": "I-202612050001",
    "email_pemilik": "siti@example.test",
}


async def _push(app) -> None:
    async with client_for(app) as client:
        ok = await client.post(
            "/api/v1/oss/receive-nib", json=PUSH, headers={"Authorization": "Bearer rahasia"}
        )
        assert ok.status_code == 200, ok.text


async def _prefill_page(app, username: str, nik: str, nib: str = NIB) -> str:
    await add_account(app, username, ["business_owner"])
    async with client_for(app) as client:
        login = await client.post("/login", data={"username": username, "password": "password-123"})
        assert login.status_code == 303
        page = await client.get("/lapor")
        token = CSRF.search(page.text)
        assert token is not None
        answer = await client.post(
            "/lapor/oss", data={"nib": nib, "nik": nik, "csrf_token": token.group(1)}
        )
        assert answer.status_code == 200, answer.text
        return answer.text


async def test_receive_nib_needs_the_inbound_token_and_stores_only_the_declared_fields(make_app):
    app = await _linked_app(make_app)
    async with client_for(app) as client:
        assert_problem(await client.post("/api/v1/oss/receive-nib", json=PUSH), 401)
        wrong = {"Authorization": "Bearer salah"}
        assert_problem(await client.post("/api/v1/oss/receive-nib", json=PUSH, headers=wrong), 401)
        right = {"Authorization": "Bearer rahasia"}
        bad = await client.post(
            "/api/v1/oss/receive-nib", json={**PUSH, "nib": "123"}, headers=right
        )
        assert bad.status_code == 422
    await _push(app)
    async with app.state.db.sessionmaker() as session:
        record = await session.get(OssNibRecord, NIB)
        events = (
            (
                await session.execute(
                    select(AuditEvent).where(AuditEvent.action == "oss.nib_received")
                )
            )
            .scalars()
            .all()
        )
    assert record is not None
    # the whitelist only: no raw push, no NIK, no address, no undeclared field
    assert record.payload == {
        "nama_usaha": "CV Kembang Sari",
        "kbli": ["14111"],
        "kode_wilayah": "32.73.01",
        "id_permohonan": "I-202612050001",
    }
    assert record.owner_nik_index
    assert OWNER_NIK not in record.owner_nik_index
    stored = json.dumps([record.payload, record.owner_nik_index])
    assert OWNER_NIK not in stored
    assert "Anggrek" not in stored
    assert "siti@" not in stored
    assert len(events) == 1
    trail = json.dumps([e.before for e in events] + [e.after for e in events], default=str)
    assert OWNER_NIK not in trail
    assert "Anggrek" not in trail


async def test_only_the_owner_oss_named_gets_the_prefill_and_never_the_address(make_app):
    app = await _linked_app(make_app)
    await _push(app)
    # a second owner typing the first owner's NIB (with her own NIK) gets nothing
    other = await _prefill_page(app, "rina", OTHER_NIK)
    assert "CV Kembang Sari" not in other
    assert "14111" not in other
    assert "Data OSS tidak dapat diisikan" in other
    # the answer for a NIB OSS never pushed is the same: the page does not tell them apart
    unknown = await _prefill_page(app, "dedi", OTHER_NIK, nib="9120009999999")
    assert "Data OSS tidak dapat diisikan" in unknown
    # the NIB alone in the address bar prefills nothing either
    await add_account(app, "eko", ["business_owner"])
    async with client_for(app) as client:
        await client.post("/login", data={"username": "eko", "password": "password-123"})
        bare = await client.get("/lapor", params={"nib": NIB})
        assert "CV Kembang Sari" not in bare.text
    # the rightful owner gets name, KBLI and region, but not the (home) address
    mine = await _prefill_page(app, "siti", OWNER_NIK)
    assert 'value="CV Kembang Sari"' in mine
    assert 'value="14111"' in mine
    assert "Data OSS tidak dapat diisikan" not in mine
    assert "Anggrek" not in mine


async def test_a_filing_is_linked_to_the_oss_application_only_for_the_owner_oss_named(make_app):
    app = await _linked_app(make_app)
    await _push(app)
    async with client_for(app) as client:
        who = await actors(app, client)
        # another owner files with the first owner's NIB: not linked, and nothing of it goes to OSS
        stranger = await client.post(
            "/api/v1/applications",
            json=filing(
                "SS",
                capital_idr=900_000_000,
                nib=NIB,
                owner={"nik": OTHER_NIK, "name": "Rina Marlina", "phone": "081298765432"},
            ),
            headers=who.other_owner,
        )
        assert stranger.status_code == 201, stranger.text
        rightful = await client.post(
            "/api/v1/applications",
            json=filing("SS", capital_idr=900_000_000, nib=NIB),
            headers=who.business_owner,
        )
        assert rightful.status_code == 201, rightful.text
    async with app.state.db.sessionmaker() as session:
        linked = {
            a.id: a.oss_application_id
            for a in (await session.execute(select(Application))).scalars()
        }
    assert linked[stranger.json()["id"]] is None
    assert linked[rightful.json()["id"]] == "I-202612050001"
    fake = FakeOss()
    await oss_outbox_once(app, fake)
    # only the linked file reports to OSS: a status under a NIB someone else typed would write
    # into another business's record there
    assert [p["id_izin"] for p in fake.received.values()] == ["I-202612050001"]
    async with app.state.db.sessionmaker() as session:
        queued = (await session.execute(select(OssOutboxMessage.application_id))).scalars().all()
    assert queued == [rightful.json()["id"]]


async def test_issuing_sends_the_licence_once_with_number_and_signatory(make_app):
    app = await _linked_app(make_app)
    await _push(app)  # OSS told us of this owner's application
    async with client_for(app) as client:
        who = await actors(app, client)
        app_id = await _walk_to_approval(client, who)
        issued = await client.post(
            f"/api/v1/applications/{app_id}/transitions",
            json={"action": "issue"},
            headers=who.approver,
        )
        assert issued.status_code == 200, issued.text
        number = issued.json()["number"]
    fake = FakeOss()
    assert await oss_outbox_once(app, fake) == (5, 0)  # four status messages and the licence
    assert fake.codes() == ["09", "20", "10", "50"]
    [licence] = fake.licenses.values()
    assert licence["nomor_izin"] == number
    assert licence["nib"] == NIB
    assert licence["jabatan_ttd"]
    assert await oss_outbox_once(app, fake) == (0, 0)


async def test_the_http_adapter_posts_each_envelope_to_its_endpoint_and_reads_refusals():
    import httpx

    from hayu.oss import HttpOssClient

    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        endpoint = request.url.path.rsplit("/", 1)[-1]
        kode = 400 if b"REFUSE" in request.content else 200
        return httpx.Response(200, json={f"respon{endpoint}": {"kode": kode}})

    client = HttpOssClient(
        "https://oss.test/v1/kl/rba/", "kunci", transport=httpx.MockTransport(answer)
    )
    await client.send_status({"IZINSTATUS": {"kd_status": "10"}}, "k1")
    await client.send_status({"IZINFINAL": {"status_izin": "50"}}, "k2")
    assert [r.url.path for r in seen] == [
        "/v1/kl/rba/receiveLicenseStatus",
        "/v1/kl/rba/receiveLicense",
    ]
    assert seen[0].headers["user_key"] == "kunci"
    assert seen[1].headers["Idempotency-Key"] == "k2"
    with pytest.raises(OssError, match="kode 400"):
        await client.send_status({"IZINSTATUS": {"keterangan": "REFUSE"}}, "k3")


async def test_deemed_approval_reports_its_code_and_the_licence(make_app):
    import datetime as dt

    from hayu.sla import run_deemed_approvals

    app = await _linked_app(make_app)
    await _push(app)  # OSS told us of this owner's application
    async with client_for(app) as client:
        who = await actors(app, client)
        created = await client.post(
            "/api/v1/applications",
            json=filing("SS", capital_idr=900_000_000, nib=NIB),
            headers=who.business_owner,
        )
        assert created.status_code == 201, created.text
        app_id = created.json()["id"]
        later = context_of(app.state, "http://test").now + dt.timedelta(days=60)
        ctx = context_of(app.state, "http://test").at(later)
        # no document yet: not a complete application, so no deadline and no deemed approval
        async with app.state.db.sessionmaker.begin() as session:
            assert await run_deemed_approvals(session, ctx) == []
        await upload_checklist(client, who.business_owner, app_id, ("ktp", "npwp", "akta"))
    async with app.state.db.sessionmaker.begin() as session:
        assert await run_deemed_approvals(session, ctx) == [app_id]
    app.state.clock = lambda: later
    fake = FakeOss()
    assert await oss_outbox_once(app, fake) == (3, 0)
    assert fake.codes() == ["09", "57"]
    [licence] = fake.licenses.values()
    assert licence["nomor_izin"]


OSS_PERMIT_WITH_INSPECTION = """
[[hayu.permit_types]]
code = "SS"
name = "Sertifikat Standar (verifikasi lapangan)"
self_report_allowed = false
sla_working_days = 9
needs_inspection = true
oss_permit = true
required_documents = [{ code = "ktp", label = "KTP pemilik" }]
"""


async def test_inspection_revision_resubmission_and_rejection_each_send_their_code(make_app):
    app = await make_app(
        "hayu",
        oss_base_url="http://oss.invalid",
        oss_inbound_token="rahasia",
        config_toml=OSS_PERMIT_WITH_INSPECTION,
    )
    await _push(app)  # OSS told us of this owner's application
    async with client_for(app) as client:
        who = await actors(app, client)
        created = await client.post(
            "/api/v1/applications",
            json=filing("SS", capital_idr=900_000_000, nib=NIB),
            headers=who.business_owner,
        )
        assert created.status_code == 201, created.text
        url = f"/api/v1/applications/{created.json()['id']}"
        await upload_checklist(client, who.business_owner, created.json()["id"], ("ktp",))
        today = context_of(app.state, "http://test").today.isoformat()
        for headers, body in (
            (who.officer, {"action": "accept"}),
            (who.officer, {"action": "schedule_inspection", "inspection_date": today}),
            (who.inspector, {"action": "request_revision", "note": "Ukuran tidak sesuai"}),
            (who.business_owner, {"action": "resubmit"}),
            (who.approver, {"action": "reject", "note": "Lokasi di jalur hijau"}),
        ):
            done = await client.post(f"{url}/transitions", json=body, headers=headers)
            assert done.status_code == 200, done.text
    fake = FakeOss()
    assert await oss_outbox_once(app, fake) == (6, 0)
    # one message per transition, in order: received, in review, field check, returned,
    # resubmitted, rejected
    assert fake.codes() == ["09", "20", "40", "41", "42", "90"]
    assert len(set(fake.received)) == 6


# --- Guessing who owns a NIB at "Ambil data OSS" ------------------------------------------------

GUESSER = "198.51.100.7"
ELSEWHERE = "203.0.113.9"
UNPUSHED_NIB = "9120009999999"


def _at(app, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 40000)),
        base_url="http://test",
    )


@contextlib.asynccontextmanager
async def _signed_in(app, username: str, address: str):
    """A business owner's browser at `address`, signed in, with the form's CSRF token."""
    await add_account(app, username, ["business_owner"])
    async with _at(app, address) as client:
        login = await client.post("/login", data={"username": username, "password": "password-123"})
        assert login.status_code == 303
        token = CSRF.search((await client.get("/lapor")).text)
        assert token is not None

        async def ask(nik: str, nib: str = NIB) -> httpx.Response:
            return await client.post(
                "/lapor/oss", data={"nib": nib, "nik": nik, "csrf_token": token.group(1)}
            )

        yield ask


def _refused(answer: httpx.Response) -> None:
    """429 on the page: the reason in Indonesian by the OSS fields, the NIB kept, a Retry-After,
    and nothing of OSS's record (not even for the right pair)."""
    assert answer.status_code == 429, answer.text
    assert int(answer.headers["Retry-After"]) >= 1
    assert 'id="oss-notice"' in answer.text
    assert "Terlalu banyak NIB dan NIK yang tidak cocok" in answer.text
    assert f'id="nib-cari" name="nib" inputmode="numeric" maxlength="13" value="{NIB}"' in (
        answer.text
    )
    assert "CV Kembang Sari" not in answer.text


def _not_prefilled(answer: httpx.Response) -> None:
    assert answer.status_code == 200, answer.text
    assert "Data OSS tidak dapat diisikan" in answer.text
    assert "CV Kembang Sari" not in answer.text


def _prefilled(answer: httpx.Response) -> None:
    assert answer.status_code == 200, answer.text
    assert 'value="CV Kembang Sari"' in answer.text
    assert "Data OSS tidak dapat diisikan" not in answer.text


async def _guarded_app(make_app):
    app = await make_app(
        "hayu",
        oss_base_url="http://oss.invalid",
        oss_inbound_token="rahasia",
        oss_owner_max_failures=3,
        oss_owner_max_failures_per_address=5,
    )
    await _push(app)
    return app


async def test_prefill_guesses_are_limited_per_account_and_the_owner_elsewhere_is_not(make_app):
    app = await _guarded_app(make_app)
    async with _signed_in(app, "rina", GUESSER) as guess:
        # a wrong NIK and a NIB OSS never pushed count alike (the answers are alike too)
        _not_prefilled(await guess(OTHER_NIK))
        _not_prefilled(await guess(OTHER_NIK, nib=UNPUSHED_NIB))
        _not_prefilled(await guess("3273011203850003"))
        # the account has used its guesses: refused without looking, even for the right pair
        _refused(await guess(OTHER_NIK))
        _refused(await guess(OWNER_NIK))
    # the same account from another address is still refused (counted per account)
    async with _at(app, ELSEWHERE) as client:
        await client.post("/login", data={"username": "rina", "password": "password-123"})
        token = CSRF.search((await client.get("/lapor")).text)
        assert token is not None
        again = await client.post(
            "/lapor/oss", data={"nib": NIB, "nik": OWNER_NIK, "csrf_token": token.group(1)}
        )
        _refused(again)
    # the rightful owner, on her own account at her own address, is not locked out by them
    async with _signed_in(app, "siti", ELSEWHERE) as mine:
        _prefilled(await mine(OWNER_NIK))


async def test_prefill_guesses_are_limited_per_address_over_all_accounts(make_app):
    app = await _guarded_app(make_app)
    async with _signed_in(app, "rina", GUESSER) as first:
        for _ in range(3):
            _not_prefilled(await first(OTHER_NIK))
    async with _signed_in(app, "dedi", GUESSER) as second:
        for _ in range(2):
            _not_prefilled(await second(OTHER_NIK))  # the address's 4th and 5th failure
        _refused(await second(OTHER_NIK))  # a fresh account, but the address is spent
    async with _signed_in(app, "siti", ELSEWHERE) as mine:
        _prefilled(await mine(OWNER_NIK))


async def test_guesses_sent_at_once_cannot_all_pass_before_the_first_is_counted(make_app):
    import asyncio

    app = await _guarded_app(make_app)
    async with _signed_in(app, "rina", GUESSER) as guess:
        answers = await asyncio.gather(*(guess(f"32730112038500{i:02d}") for i in range(8)))
    assert sorted(a.status_code for a in answers) == [200] * 3 + [429] * 5


async def test_the_guess_window_expires_and_a_match_under_the_limit_prefills(make_app):
    app = await _guarded_app(make_app)
    now = [1000.0]
    app.state.oss_owner_guard.clock = lambda: now[0]
    async with _signed_in(app, "siti", GUESSER) as ask:
        _not_prefilled(await ask(OTHER_NIK))  # a typo
        _not_prefilled(await ask(OTHER_NIK))
        _prefilled(await ask(OWNER_NIK))  # under the limit the right pair still works
        now[0] += 60
        _not_prefilled(await ask(OTHER_NIK))  # a right pair cleared nothing: the 3rd failure
        refused = await ask(OWNER_NIK)
        _refused(refused)
        # the oldest failure leaves the window (3600 s) at t=4600: wait until then
        assert int(refused.headers["Retry-After"]) == 3600 - 60 + 1
        now[0] = 1000.0 + 3600 - 1
        _refused(await ask(OWNER_NIK))
        now[0] = 1000.0 + 3600 + 1
        _prefilled(await ask(OWNER_NIK))


async def test_the_prefill_limits_are_checked_at_start_up():
    from hayu.settings import Settings

    for wrong in (
        {"oss_owner_max_failures": 0},
        {"oss_owner_max_failures_per_address": 0},
        {"oss_owner_window_seconds": 5},
    ):
        with pytest.raises(ValueError, match="oss_owner"):
            Settings(**wrong)


async def test_a_push_naming_the_owner_links_her_files_filed_before_it(make_app):
    """A file filed before OSS pushed its NIB has no link; the push that names its owner links
    it (audited), as a filing after the push would be. A stranger's file under the same NIB is
    not linked."""
    app = await _linked_app(make_app)
    async with client_for(app) as client:
        who = await actors(app, client)
        mine = await client.post(
            "/api/v1/applications",
            json=filing("SS", capital_idr=900_000_000, nib=NIB),
            headers=who.business_owner,
        )
        theirs = await client.post(
            "/api/v1/applications",
            json=filing(
                "SS",
                capital_idr=900_000_000,
                nib=NIB,
                owner={"nik": OTHER_NIK, "name": "Rina Marlina", "phone": "081298765432"},
            ),
            headers=who.other_owner,
        )
        assert mine.status_code == theirs.status_code == 201
    await _push(app)
    async with app.state.db.sessionmaker() as session:
        links = {
            a.id: a.oss_application_id
            for a in (await session.execute(select(Application))).scalars()
        }
        events = (
            (await session.execute(select(AuditEvent).where(AuditEvent.action == "oss.linked")))
            .scalars()
            .all()
        )
    assert links == {mine.json()["id"]: "I-202612050001", theirs.json()["id"]: None}
    assert [(int(e.entity_id), e.actor) for e in events] == [(mine.json()["id"], "oss")]
    assert OWNER_NIK not in json.dumps([e.after for e in events])


# --- Links made before hayu_0006_oss_owner: oss-verify-links ------------------------------------

OLD_NIB = "9120007654321"  # pushed before hayu_0006: OSS's record names no owner
OLD_PUSH = {"nib": OLD_NIB, "nama_usaha": "UD Lama", "id_permohonan": "I-202601010001"}


async def _verify_links(app, *argv: str) -> int:
    import argparse

    from hayu.cli import EXTRA_COMMANDS
    from hayu.main import build_spec

    [command] = [c for c in EXTRA_COMMANDS if c.name == "oss-verify-links"]
    parser = argparse.ArgumentParser()
    command.configure(parser)
    spec = build_spec(app.state.settings, app.state.config)
    return await command.run(spec, parser.parse_args(argv))


async def _links(app) -> dict[int, str | None]:
    async with app.state.db.sessionmaker() as session:
        return {
            a.id: a.oss_application_id
            for a in (await session.execute(select(Application))).scalars()
        }


async def _outbox(app) -> list[tuple[int, bool, str | None]]:
    async with app.state.db.sessionmaker() as session:
        rows = (
            await session.execute(select(OssOutboxMessage).order_by(OssOutboxMessage.id))
        ).scalars()
        return [(m.application_id, m.dead, m.payload["IZINSTATUS"]["id_izin"]) for m in rows]


async def _oss_events(app) -> list[AuditEvent]:
    async with app.state.db.sessionmaker() as session:
        return list(
            (
                await session.execute(
                    select(AuditEvent)
                    .where(AuditEvent.action.in_(["oss.unlinked", "oss.linked"]))
                    .order_by(AuditEvent.id)
                )
            )
            .scalars()
            .all()
        )


async def _files_linked_before_0006(app, client, who) -> tuple[int, int, int]:
    """The rightful owner's file (linked today too); a stranger's file under her NIB and the
    owner's file under a NIB whose record names no owner, both linked as the code before
    hayu_0006 linked any typed NIB OSS had pushed. The stranger's file has a status message
    waiting in the outbox."""
    await _push(app)
    async with client_for(app) as oss_client:
        old = await oss_client.post(
            "/api/v1/oss/receive-nib", json=OLD_PUSH, headers={"Authorization": "Bearer rahasia"}
        )
        assert old.status_code == 200, old.text
    stranger_filing = filing(
        "SS",
        capital_idr=900_000_000,
        nib=NIB,
        owner={"nik": OTHER_NIK, "name": "Rina Marlina", "phone": "081298765432"},
    )
    ids = []
    for body, headers in (
        (filing("SS", capital_idr=900_000_000, nib=NIB), who.business_owner),
        (stranger_filing, who.other_owner),
        (filing("SS", capital_idr=900_000_000, nib=OLD_NIB), who.business_owner),
    ):
        created = await client.post("/api/v1/applications", json=body, headers=headers)
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    rightful, stranger, unknown = ids
    async with app.state.db.sessionmaker.begin() as session:
        for app_id, oss_id in ((stranger, "I-202612050001"), (unknown, "I-202601010001")):
            row = await session.get(Application, app_id)
            assert row is not None
            assert row.oss_application_id is None
            row.oss_application_id = oss_id
    accepted = await client.post(
        f"/api/v1/applications/{stranger}/transitions",
        json={"action": "accept"},
        headers=who.officer,
    )
    assert accepted.status_code == 200, accepted.text
    return rightful, stranger, unknown


async def test_verify_links_dry_run_counts_and_changes_nothing(make_app, capsys):
    app = await _linked_app(make_app)
    async with client_for(app) as client:
        who = await actors(app, client)
        rightful, stranger, _ = await _files_linked_before_0006(app, client, who)
    links, outbox = await _links(app), await _outbox(app)
    capsys.readouterr()
    assert await _verify_links(app) == 0
    assert await _verify_links(app, "--dry-run") == 0
    printed = capsys.readouterr().out
    assert (
        printed.count(
            "files linked to OSS: 3; kept (owner confirmed by OSS): 1; to unlink: 2 (OSS named no "
            "owner: 1, another owner: 1); unsent OSS messages to withdraw: 1"
        )
        == 2
    )
    assert "dry run: nothing changed" in printed
    assert await _links(app) == links
    assert links[stranger] == links[rightful] == "I-202612050001"
    assert await _outbox(app) == outbox
    assert (stranger, False, "I-202612050001") in outbox
    assert await _oss_events(app) == []


async def test_verify_links_apply_unlinks_the_unconfirmed_and_nothing_of_them_reaches_oss(
    make_app, capsys
):
    app = await _linked_app(make_app)
    async with client_for(app) as client:
        who = await actors(app, client)
        rightful, stranger, unknown = await _files_linked_before_0006(app, client, who)
        assert await _verify_links(app, "--apply") == 0
        assert "unlinked: 2 (OSS named no owner: 1, another owner: 1)" in capsys.readouterr().out
        assert await _links(app) == {rightful: "I-202612050001", stranger: None, unknown: None}
        # the stranger's waiting message is withdrawn (dead, never sent)
        assert (stranger, True, "I-202612050001") in await _outbox(app)
        events = await _oss_events(app)
        assert [(e.action, int(e.entity_id), e.after["reason"]) for e in events] == [
            ("oss.unlinked", unknown, "owner_unknown"),
            ("oss.unlinked", stranger, "owner_differs"),
        ]
        assert all(e.entity_type == "application" and e.actor == "cli" for e in events)
        trail = json.dumps([[e.before, e.after] for e in events])
        assert OWNER_NIK not in trail
        assert OTHER_NIK not in trail
        # a second run finds nothing more to do
        assert await _verify_links(app, "--apply") == 0
        assert "kept (owner confirmed by OSS): 1; unlinked: 0" in capsys.readouterr().out
        before = await _outbox(app)
        for app_id, headers in ((stranger, who.officer), (unknown, who.officer)):
            done = await client.post(
                f"/api/v1/applications/{app_id}/transitions",
                json={"action": "request_documents", "note": "KTP belum ada"},
                headers=headers,
            )
            assert done.status_code == 200, done.text
        # status changes of the unlinked files queue nothing
        assert await _outbox(app) == before
    fake = FakeOss()
    await oss_outbox_once(app, fake)
    assert {p["id_izin"] for p in fake.received.values()} == {"I-202612050001"}
    assert len(fake.received) == 1  # the rightful file's submission only
    assert [app_id for app_id, dead, _ in await _outbox(app) if not dead] == [rightful]


async def test_a_push_naming_the_owner_links_her_unlinked_file_again(make_app):
    app = await _linked_app(make_app)
    async with client_for(app) as client:
        who = await actors(app, client)
        rightful, stranger, unknown = await _files_linked_before_0006(app, client, who)
        assert await _verify_links(app, "--apply") == 0
        # OSS pushes both NIBs again, naming the owner (who filed both)
        for push in ({**OLD_PUSH, "nik_pemilik": OWNER_NIK}, PUSH):
            again = await client.post(
                "/api/v1/oss/receive-nib", json=push, headers={"Authorization": "Bearer rahasia"}
            )
            assert again.status_code == 200, again.text
        # her file is linked again; the stranger's stays unlinked
        assert await _links(app) == {
            rightful: "I-202612050001",
            stranger: None,
            unknown: "I-202601010001",
        }
        linked = [e for e in await _oss_events(app) if e.action == "oss.linked"]
        assert [(int(e.entity_id), e.after) for e in linked] == [
            (unknown, {"oss_application_id": "I-202601010001"})
        ]
        before = len(await _outbox(app))
        done = await client.post(
            f"/api/v1/applications/{unknown}/transitions",
            json={"action": "accept"},
            headers=who.officer,
        )
        assert done.status_code == 200, done.text
        assert (await _outbox(app))[before:] == [(unknown, False, "I-202601010001")]
