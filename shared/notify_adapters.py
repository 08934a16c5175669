"""The channels notifications leave through: SMTP for e-mail, an HTTP webhook for SMS/WhatsApp.

SMTP uses the standard library's `smtplib` in a worker thread (no extra dependency for a few
messages a minute), with STARTTLS, implicit TLS or none, and a timeout. Each mail's Message-ID is
built from the outbox key, so a mail resent after a crash carries the same Message-ID.

The webhook contract (deploy/README.md, "Notifications"): `POST <SMS_WEBHOOK_URL>` with the JSON
body `{"idempotency_key", "channel": "sms"|"whatsapp", "to", "text", "kind"}`, the headers
`Idempotency-Key: <key>`, `X-Timestamp: <unix seconds>` and
`X-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" with SMS_WEBHOOK_SECRET>`.
A 2xx answer means accepted; 408, 429 and 5xx (and no answer) are retried with backoff; any
other 4xx is permanent. A gateway must treat a repeated Idempotency-Key as the same message.

Neither adapter logs the address, the number or the text: a failure's reason is the error's
class or the HTTP status only.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from email.message import EmailMessage
from email.utils import formatdate

from shared.notifications import DeliveryError, NotificationSettings, Sender


def message_id(key: str, domain: str) -> str:
    return f"<notif-{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


class SmtpSender:
    def __init__(self, settings: NotificationSettings) -> None:
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.security = settings.smtp_security
        self.username = settings.smtp_username
        self.password = settings.smtp_password
        self.timeout = settings.smtp_timeout_seconds
        self.sender = settings.mail_from

    def _build(self, key: str, to: str, subject: str, body: str) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = to
        mail["Subject"] = subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = message_id(key, self.sender.rpartition("@")[2] or "localhost")
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(body)
        return mail

    def _send_blocking(self, mail: EmailMessage) -> None:
        import smtplib
        import ssl

        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.security == "tls":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(mail)

    async def send(self, *, key: str, to: str, subject: str, body: str, kind: str) -> None:
        import smtplib

        mail = self._build(key, to, subject, body)
        try:
            await asyncio.wait_for(asyncio.to_thread(self._send_blocking, mail), self.timeout * 3)
        except smtplib.SMTPRecipientsRefused:
            raise DeliveryError("SMTP refused the recipient", permanent=True) from None
        except smtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.smtp_code < 600
            raise DeliveryError(f"SMTP answered {exc.smtp_code}", permanent=permanent) from None
        except (OSError, smtplib.SMTPException, TimeoutError) as exc:
            raise DeliveryError(f"SMTP unreachable: {type(exc).__name__}") from None


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookSender:
    def __init__(self, settings: NotificationSettings, *, transport: object = None) -> None:
        self.url = settings.sms_webhook_url
        self.secret = settings.sms_webhook_secret
        self.channel = settings.sms_webhook_channel
        self.timeout = settings.smtp_timeout_seconds
        self.transport = transport  # an httpx transport in tests

    async def send(self, *, key: str, to: str, subject: str, body: str, kind: str) -> None:
        import httpx

        payload = {
            "idempotency_key": key,
            "channel": self.channel,
            "to": to,
            "text": body,
            "kind": kind,
        }
        raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            "X-Timestamp": stamp,
            "X-Signature": webhook_signature(self.secret, stamp, raw),
        }
        kwargs: dict[str, object] = {"timeout": self.timeout}
        if self.transport is not None:
            kwargs["transport"] = self.transport
        try:
            async with httpx.AsyncClient(**kwargs) as client:  # type: ignore[arg-type]
                answer = await client.post(self.url, content=raw, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"gateway unreachable: {type(exc).__name__}") from None
        status = answer.status_code
        if 200 <= status < 300:
            return
        retry = status in (408, 429) or status >= 500
        raise DeliveryError(f"gateway answered {status}", permanent=not retry)


def senders_for(settings: NotificationSettings) -> dict[str, Sender]:
    """The configured channels: none until SMTP or the gateway is set."""
    senders: dict[str, Sender] = {}
    if settings.smtp_host:
        senders["email"] = SmtpSender(settings)
    if settings.sms_webhook_url:
        senders["phone"] = WebhookSender(settings)
    return senders
