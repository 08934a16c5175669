"""Contact at registration, e-mail verification, password reset and the notification outbox
(retries with backoff, exactly once, opt-out, no personal data in logs or audit), against a real
local SMTP server (aiosmtpd) and a fake SMS/WhatsApp gateway."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from typing import Any

import pytest
from sqlalchemy import func, select, update

from sabilulungan import tasks
from sabilulungan.models import Account, AuditEvent, NotificationCursor, NotificationOutbox
from shared.app import seal_once
from shared.config import RegencyConfigError
from shared.contact import reset_token
from shared.db import utcnow
from shared.notify_testing import (
    FakeGateway,
    Inbox,
    free_port,
    senders,
    smtp_server_fixture,  # noqa: F401  (the smtp_server fixture)
    smtp_settings,
)
from shared.testing import AppFactory, bearer

from .conftest import World

EMAIL = "warga.contoh@surel.example"
PHONE = "0812 3456 7890"
PHONE_E164 = "+6281234567890"
SECRET = "gateway-secret-0123456789"


async def _register(world: World, username: str = "warga", **contact: Any) -> dict[str, str]:
    body = {"username": username, "password": "kata-sandi-123", "full_name": "Warga Contoh"}
    r = await world.client.post("/api/v1/auth/register", json={**body, **contact})
    assert r.status_code == 201, r.text
    return await bearer(world.client, username, "kata-sandi-123")


async def _notify(world: World, chosen: dict[str, Any]) -> tuple[int, int]:
    await seal_once(world.app)
    return await tasks.notify_once(world.app, chosen)


async def _outbox(world: World) -> list[NotificationOutbox]:
    async with world.app.state.db.sessionmaker() as session:
        rows = await session.execute(select(NotificationOutbox).order_by(NotificationOutbox.id))
        return list(rows.scalars())


def _ours(logger: str) -> bool:
    """The service's loggers (not the test's SMTP server or the database driver's debug log)."""
    return logger.split(".")[0] in ("shared", "sabilulungan", "httpx", "uvicorn", "fastapi")


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway(SECRET)


@pytest.fixture
async def notified(world_factory: Any, smtp_server: tuple[Inbox, int]) -> Any:
    _, port = smtp_server
    async with world_factory(
        **smtp_settings(port),
        sms_webhook_url="http://gateway.test/kirim",
        sms_webhook_secret=SECRET,
    ) as world:
        yield world


async def test_a_citizen_is_told_of_each_step_by_mail_and_sms(
    notified: World, smtp_server: tuple[Inbox, int], gateway: FakeGateway, caplog: Any
) -> None:
    for name in ("shared", "sabilulungan", "httpx"):
        caplog.set_level(logging.DEBUG, logger=name)
    inbox, _ = smtp_server
    world, chosen = notified, senders(notified.app.state.settings, gateway)
    headers = await _register(world, email=EMAIL, phone=PHONE)
    assert await _notify(world, chosen) == (1, 0)
    assert inbox.subjects(EMAIL) == ["Konfirmasi alamat e-mail Anda"]
    link = inbox.link(EMAIL, "/verifikasi-email")
    assert gateway.received == []  # the verification goes by e-mail only

    # an unverified address gets no file notifications, the phone does
    r = await world.client.post("/api/v1/proposals", json=world.hibah(), headers=headers)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    await _notify(world, chosen)
    assert len(inbox.to(EMAIL)) == 1
    assert [m["to"] for m in gateway.received] == [PHONE_E164]

    page = await world.client.get(link.replace("http://127.0.0.1:9/sabilulungan", ""))
    assert page.status_code == 200
    assert "sudah terkonfirmasi" in page.text
    await world.complete(pid, "clerk")
    await world.ok(pid, "clerk", "verify_completeness")
    await world.ok(pid, "coordinator", "assign_opd", opd_code="DINSOS")
    await world.ok(pid, "opd", "return_for_revision", note="Lengkapi rincian")
    assert await _notify(world, chosen) == (6, 0)
    assert inbox.subjects(EMAIL)[1:] == [
        f"Berkas {r.json()['tracking_code']}: tahap baru",
        f"Berkas {r.json()['tracking_code']}: tahap baru",
        f"Berkas {r.json()['tracking_code']} perlu diperbaiki",
    ]
    assert "Evaluasi OPD" in Inbox.body(inbox.to(EMAIL)[2])
    assert f"http://127.0.0.1:9/sabilulungan/usulan/{pid}" in Inbox.body(inbox.to(EMAIL)[3])
    assert len(gateway.received) == 4
    assert all(m["kind"] and len(m["text"]) <= 300 for m in gateway.received)

    # nothing personal in the logs or in the audit log
    async with world.app.state.db.sessionmaker() as session:
        events = (await session.execute(select(AuditEvent))).scalars().all()
    sent = [e for e in events if e.action == "notification.sent"]
    assert len(sent) == 8  # the verification mail, 4 SMS, 3 file mails
    assert {e.after["channel"] for e in sent if e.after} == {"email", "phone"}
    dumped = json.dumps([[e.before, e.after, e.actor] for e in events])
    for personal in (EMAIL, "surel.example", PHONE_E164, "81234567890", "tahap baru"):
        assert personal not in dumped
        assert not [r for r in caplog.records if personal in r.getMessage() and _ours(r.name)]


async def test_each_message_is_written_and_sent_once_across_reruns_and_a_crash(
    notified: World, smtp_server: tuple[Inbox, int], monkeypatch: Any
) -> None:
    inbox, _ = smtp_server
    world, chosen = notified, senders(notified.app.state.settings)
    await _register(world, email=EMAIL)
    await seal_once(world.app)

    # a crash while the outbox rows are written: neither the rows nor the cursor are kept
    notifier = tasks.notifier_of(world.app)
    real = notifier.templates

    class Boom:
        def for_kind(self, kind: str) -> Any:
            raise RuntimeError("crash")

    monkeypatch.setattr(notifier, "templates", Boom())
    with pytest.raises(RuntimeError):
        await tasks.notify_once(world.app, chosen)
    assert await world.count(NotificationOutbox) == 0
    monkeypatch.setattr(notifier, "templates", real)

    assert await tasks.notify_once(world.app, chosen) == (1, 0)
    assert await tasks.notify_once(world.app, chosen) == (0, 0)
    # the cursor moved back (a restore): the existing key is not written again
    async with world.app.state.db.sessionmaker.begin() as session:
        await session.execute(update(NotificationCursor).values(position=0))
    assert await tasks.notify_once(world.app, chosen) == (0, 0)
    assert await world.count(NotificationOutbox) == 1
    assert len(inbox.to(EMAIL)) == 1
    (row,) = await _outbox(world)
    assert row.key.endswith(":email")
    assert inbox.to(EMAIL)[0]["Message-ID"].startswith("<notif-")


async def test_unreachable_smtp_retries_with_backoff_and_the_service_stays_usable(
    world_factory: Any,
) -> None:
    async with world_factory(**smtp_settings(free_port()), notify_max_attempts=3) as world:
        chosen = senders(world.app.state.settings)
        headers = await _register(world, email=EMAIL)
        start = time.monotonic()
        assert await _notify(world, chosen) == (0, 1)
        assert time.monotonic() - start < 5
        (row,) = await _outbox(world)
        assert (row.attempts, row.dead, row.sent_at) == (1, False, None)
        assert row.last_error == "SMTP unreachable: ConnectionRefusedError"
        delay = row.next_attempt_at - utcnow()
        assert dt.timedelta(seconds=50) < delay <= dt.timedelta(seconds=60)
        # not due yet: not tried again
        assert await tasks.notify_once(world.app, chosen) == (0, 0)
        # the service answers meanwhile
        r = await world.client.post("/api/v1/proposals", json=world.hibah(), headers=headers)
        assert r.status_code == 201
        notifier = tasks.notifier_of(world.app)
        from shared.notifications import deliver_due

        later = utcnow() + dt.timedelta(seconds=61)
        assert await deliver_due(world.app, notifier, chosen, now=later) == (0, 1)
        (row,) = await _outbox(world)
        assert row.attempts == 2
        assert row.next_attempt_at - later == dt.timedelta(seconds=120)  # doubled
        await deliver_due(world.app, notifier, chosen, now=later + dt.timedelta(hours=1))
        (row,) = await _outbox(world)
        assert (row.attempts, row.dead) == (3, True)
        async with world.app.state.db.sessionmaker() as session:
            failed = await session.scalar(
                select(func.count()).where(AuditEvent.action == "notification.failed")
            )
        assert failed == 1


async def test_a_channel_turned_off_is_not_used(
    notified: World, smtp_server: tuple[Inbox, int], gateway: FakeGateway
) -> None:
    inbox, _ = smtp_server
    world, chosen = notified, senders(notified.app.state.settings, gateway)
    headers = await _register(world, email=EMAIL, phone=PHONE)
    await _notify(world, chosen)
    async with world.app.state.db.sessionmaker.begin() as session:
        await session.execute(update(Account).values(email_verified_at=utcnow()))
    # off on the settings page (a cookie session, as a citizen would)
    login = await world.client.post(
        "/login", data={"username": "warga", "password": "kata-sandi-123", "next": "/"}
    )
    assert login.status_code == 303
    page = await world.client.get("/pengaturan-notifikasi")
    assert "Pengaturan notifikasi" in page.text
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    r = await world.client.post(
        "/pengaturan-notifikasi", data={"csrf_token": csrf, "notify_email": "1"}
    )
    assert r.status_code == 200
    assert "tersimpan" in r.text
    world.client.cookies.clear()
    r = await world.client.post("/api/v1/proposals", json=world.hibah(), headers=headers)
    assert r.status_code == 201
    await _notify(world, chosen)
    assert gateway.received == []  # the phone was turned off
    assert inbox.subjects(EMAIL)[-1].endswith("telah diterima")
    # turned off after the message was written: not sent either
    await world.complete(r.json()["id"], "clerk")
    await world.ok(r.json()["id"], "clerk", "verify_completeness")
    await seal_once(world.app)
    await tasks.notify_once(world.app, {})  # written, nothing configured to send yet
    async with world.app.state.db.sessionmaker.begin() as session:
        await session.execute(update(Account).values(notify_email=False))
    before = len(inbox.mails)
    await tasks.notify_once(world.app, chosen)
    assert len(inbox.mails) == before


async def test_password_reset_by_mail_once_with_the_epoch_raised(
    notified: World, smtp_server: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp_server
    world, chosen = notified, senders(notified.app.state.settings)
    headers = await _register(world, email=EMAIL)
    known = await world.client.post("/lupa-sandi", data={"identifier": EMAIL.upper()})
    unknown = await world.client.post("/lupa-sandi", data={"identifier": "tidak-ada"})
    assert known.status_code == unknown.status_code == 200
    strip = 'name="identifier"'
    assert known.text.split(strip)[0] == unknown.text.split(strip)[0]  # same answer
    await _notify(world, chosen)
    assert inbox.subjects(EMAIL) == ["Konfirmasi alamat e-mail Anda", "Atur ulang kata sandi"]
    link = inbox.link(EMAIL, "/atur-ulang-sandi").replace("http://127.0.0.1:9/sabilulungan", "")
    token = link.split("token=")[1]
    form = await world.client.get(link)
    assert form.status_code == 200
    assert "Kata sandi baru" in form.text
    short = await world.client.post(
        "/atur-ulang-sandi", data={"token": token, "password": "x", "password_again": "x"}
    )
    assert short.status_code == 422
    new = {"token": token, "password": "sandi-baru-456", "password_again": "sandi-baru-456"}
    r = await world.client.post("/atur-ulang-sandi", data=new)
    assert r.status_code == 303
    # the old token ends (epoch raised), the new password works, the link works only once
    for _ in range(40):
        if (await world.client.get("/api/v1/auth/me", headers=headers)).status_code == 401:
            break
        await __import__("asyncio").sleep(0.1)
    assert (await world.client.get("/api/v1/auth/me", headers=headers)).status_code == 401
    await bearer(world.client, "warga", "sandi-baru-456")
    again = await world.client.post("/atur-ulang-sandi", data=new)
    assert again.status_code == 400
    assert "tidak berlaku" in again.text
    # an expired link is refused
    async with world.app.state.db.sessionmaker() as session:
        account = (await session.execute(select(Account))).scalars().first()
    assert account is not None
    signer = world.app.state.signer
    expired = reset_token(signer, account, -1)
    assert (await world.client.get(f"/atur-ulang-sandi?token={expired}")).status_code == 400
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert (await world.client.get(f"/atur-ulang-sandi?token={forged}")).status_code == 400


async def test_reset_requests_are_rate_limited(notified: World) -> None:
    statuses = [
        (await notified.client.post("/lupa-sandi", data={"identifier": f"u{i}"})).status_code
        for i in range(11)
    ]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429


async def test_registration_contact_is_checked(world_factory: Any) -> None:
    async with world_factory(email_required=True) as world:
        body = {"username": "warga", "password": "kata-sandi-123", "full_name": "Warga"}
        r = await world.client.post("/api/v1/auth/register", json=body)
        assert r.status_code == 422
        assert r.json()["type"].endswith("contact-invalid")
        r = await world.client.post("/api/v1/auth/register", json={**body, "email": "bukan"})
        assert r.status_code == 422
        r = await world.client.post(
            "/api/v1/auth/register", json={**body, "email": EMAIL, "phone": "12"}
        )
        assert r.status_code == 422
        assert await world.count(Account) == len(world.headers)  # nothing stored
        page = await world.client.post("/daftar", data={**body, "email": ""})
        assert page.status_code == 422
        assert "Alamat e-mail wajib diisi." in page.text
        assert 'value="Warga"' in page.text  # the form is kept
        page = await world.client.post("/daftar", data={**body, "email": EMAIL})
        assert page.status_code == 200
        assert "Pendaftaran berhasil" in page.text
        assert "tautan konfirmasi" in page.text
        async with world.app.state.db.sessionmaker() as session:
            account = (
                await session.execute(select(Account).where(Account.username == "warga"))
            ).scalar_one()
        assert EMAIL not in (account.email_encrypted or "")  # stored encrypted


async def test_templates_are_validated_at_start_up(make_app: AppFactory) -> None:
    bad = '[sabilulungan_notifications.submitted]\nsubject = "Berkas {nik}"\nbody = "Isi {code}"\n'
    with pytest.raises(RegencyConfigError, match="unknown placeholder"):
        await make_app("sabilulungan", config_toml=bad)
    good = (
        '[sabilulungan_notifications.submitted]\nsubject = "Usulan {code} masuk"\n'
        'body = "Usulan {code} kami terima ({stage})."\n'
    )
    app = await make_app("sabilulungan", config_toml=good)
    assert app.state.config.sabilulungan_notifications.submitted.subject == "Usulan {code} masuk"


async def test_the_gateway_contract_retries_5xx_and_stops_on_4xx(
    notified: World, gateway: FakeGateway
) -> None:
    world = notified
    chosen = {"phone": senders(world.app.state.settings, gateway)["phone"]}
    await _register(world, phone=PHONE)
    headers = await bearer(world.client, "warga", "kata-sandi-123")
    r = await world.client.post("/api/v1/proposals", json=world.hibah(), headers=headers)
    assert r.status_code == 201
    gateway.fail_with = 503
    assert await _notify(world, chosen) == (0, 1)
    (row,) = await _outbox(world)
    assert (row.dead, row.last_error) == (False, "gateway answered 503")
    gateway.fail_with = 400
    from shared.notifications import deliver_due

    later = utcnow() + dt.timedelta(minutes=5)
    await deliver_due(world.app, tasks.notifier_of(world.app), chosen, now=later)
    (row,) = await _outbox(world)
    assert (row.dead, row.last_error) == (True, "gateway answered 400")
