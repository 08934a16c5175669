"""For the tests: a real local SMTP server (aiosmtpd, a dev dependency) and a fake SMS/WhatsApp
gateway that checks the webhook contract (signature, idempotency key)."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import re
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from shared.notifications import NotificationSettings


class Inbox:
    """What the local SMTP server received."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(mail, EmailMessage)
        self.mails.append(mail)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.mails if m["To"] == address]

    def subjects(self, address: str) -> list[str]:
        return [str(m["Subject"]) for m in self.to(address)]

    @staticmethod
    def body(mail: EmailMessage) -> str:
        part = mail.get_body(("plain",))
        assert part is not None
        return str(part.get_content())

    def link(self, address: str, path: str) -> str:
        for mail in reversed(self.to(address)):
            found = re.search(r"https?://\S*" + re.escape(path) + r"\?token=\S+", self.body(mail))
            if found:
                return found.group(0)
        raise AssertionError(f"no {path} link mailed to the address")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(name="smtp_server")
def smtp_server_fixture() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on a free local port: (its inbox, its port)."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


class FakeGateway:
    """The SMS/WhatsApp gateway of the webhook contract: checks the signature and the key."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.received: list[dict[str, Any]] = []
        self.keys: set[str] = set()
        self.fail_with: int | None = None

    def handler(self, request: httpx.Request) -> httpx.Response:
        raw = request.content
        stamp = request.headers["X-Timestamp"]
        expected = hmac.new(self.secret.encode(), stamp.encode() + b"." + raw, hashlib.sha256)
        assert request.headers["X-Signature"] == "sha256=" + expected.hexdigest()
        body = json.loads(raw)
        assert request.headers["Idempotency-Key"] == body["idempotency_key"]
        if self.fail_with is not None:
            return httpx.Response(self.fail_with)
        if body["idempotency_key"] not in self.keys:  # a repeated key is the same message
            self.keys.add(body["idempotency_key"])
            self.received.append(body)
        return httpx.Response(202, json={"accepted": True})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)


def smtp_settings(port: int) -> dict[str, Any]:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        "mail_from": "layanan@contoh.go.id",
        "public_url": "http://127.0.0.1:9/sabilulungan",
    }


def senders(settings: NotificationSettings, gateway: FakeGateway | None = None) -> dict[str, Any]:
    from shared.notify_adapters import SmtpSender, WebhookSender

    chosen: dict[str, Any] = {"email": SmtpSender(settings)}
    if gateway is not None:
        chosen["phone"] = WebhookSender(settings, transport=gateway.transport())
    return chosen
