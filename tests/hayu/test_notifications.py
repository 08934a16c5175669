"""HAYU tells a business owner of each step: registration with e-mail and phone, the verified
address, the application, its acceptance and the request for revision (a real local SMTP
server and the fake SMS/WhatsApp gateway of `shared.notify_testing`)."""

from __future__ import annotations

import json
from typing import Any

from hayu_factories import filing
from sqlalchemy import select

from hayu import tasks
from hayu.models import AuditEvent
from shared.app import seal_once
from shared.notify_testing import (
    FakeGateway,
    Inbox,
    senders,
    smtp_server_fixture,  # noqa: F401  (the smtp_server fixture)
    smtp_settings,
)
from shared.testing import add_account, bearer, client_for

EMAIL = "pemilik.usaha@surel.example"
SECRET = "gateway-secret-0123456789"


async def test_an_owner_is_told_of_each_step(make_app: Any, smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    settings = {**smtp_settings(port), "public_url": "http://127.0.0.1:9/hayu"}
    app = await make_app(
        "hayu", **settings, sms_webhook_url="http://gateway.test/", sms_webhook_secret=SECRET
    )
    gateway = FakeGateway(SECRET)
    chosen = senders(app.state.settings, gateway)
    await add_account(app, "petugas", ["officer"])
    async with client_for(app) as client:
        body = {"username": "pemilik", "password": "kata-sandi-1", "full_name": "Pemilik"}
        r = await client.post(
            "/api/v1/auth/register", json={**body, "email": EMAIL, "phone": "081299990000"}
        )
        assert r.status_code == 201, r.text
        owner = await bearer(client, "pemilik", "kata-sandi-1")
        await seal_once(app)
        assert await tasks.notify_once(app, chosen) == (1, 0)
        link = inbox.link(EMAIL, "/verifikasi-email").replace("http://127.0.0.1:9/hayu", "")
        verified = await client.get(link)
        assert verified.status_code == 200
        assert "sudah terkonfirmasi" in verified.text

        r = await client.post(
            "/api/v1/applications",
            json=filing("REKLAME", capital_idr=750_000_000),
            headers=owner,
        )
        assert r.status_code == 201, r.text
        app_id, code = r.json()["id"], r.json()["tracking_code"]
        officer = await bearer(client, "petugas")
        for action, extra in (("accept", {}), ("request_revision", {"note": "Desain belum ada"})):
            r = await client.post(
                f"/api/v1/applications/{app_id}/transitions",
                json={"action": action, **extra},
                headers=officer,
            )
            assert r.status_code == 200, r.text
        await seal_once(app)
        assert await tasks.notify_once(app, chosen) == (6, 0)
    assert inbox.subjects(EMAIL)[1:] == [
        f"Berkas {code} telah diterima",
        f"Berkas {code}: tahap baru",
        f"Berkas {code} perlu diperbaiki",
    ]
    assert "Verifikasi dokumen" in Inbox.body(inbox.to(EMAIL)[2])
    assert f"http://127.0.0.1:9/hayu/berkas/{app_id}" in Inbox.body(inbox.to(EMAIL)[3])
    assert [m["to"] for m in gateway.received] == ["+6281299990000"] * 3
    async with app.state.db.sessionmaker() as session:
        events = (await session.execute(select(AuditEvent))).scalars().all()
    dumped = json.dumps([[e.before, e.after, e.actor] for e in events])
    assert EMAIL not in dumped
    assert "6281299990000" not in dumped
    assert sum(e.action == "notification.sent" for e in events) == 7


async def test_registration_page_shows_the_confirmation_and_keeps_the_form(make_app: Any) -> None:
    app = await make_app("hayu", email_required=True)
    async with client_for(app) as client:
        form = {"username": "pemilik", "password": "kata-sandi-1", "full_name": "Pemilik"}
        r = await client.post("/daftar", data={**form, "email": "bukan-email"})
        assert r.status_code == 422
        assert "E-mail" in r.text
        assert 'value="bukan-email"' in r.text
        r = await client.post("/daftar", data={**form, "email": EMAIL})
        assert r.status_code == 200
        assert "Pendaftaran berhasil" in r.text
        login = await client.get("/login")
        assert "Lupa kata sandi?" in login.text
