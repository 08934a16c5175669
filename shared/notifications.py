"""Notifications to citizens through an outbox, derived from the audit events already written.

No write path changes: every transition already writes an audit event. A periodic task
(`notify_once`, run by each citizen-facing service's `tasks.py`) reads the audit events sealed
since its cursor, in seal order (the sealer numbers events in the order they were sealed, so a
transaction that commits late is never skipped), maps each event's action to an event kind
(the service's `NotificationSource`), finds the citizen and their channel choices, renders the
service's Indonesian template and writes one outbox row per event and channel. The cursor and
the rows are written in one transaction, and each row's key (`<event id>:<channel>`) is unique,
so a crash at any point neither loses nor doubles a message in the outbox.

`deliver_due` then sends the due rows through the adapters (`shared.notify_adapters`): on
failure the row waits with exponential backoff until `notify_max_attempts`, then is marked
dead. Each message carries its key (the e-mail's Message-ID, the webhook's Idempotency-Key), so
a message sent just before a crash and sent again is recognisable as the same one. A sent or
dead message leaves an audit event `notification.sent` / `notification.failed` naming the event,
kind and channel only: no address, phone number or text reaches the audit log or the logs.
"""

from __future__ import annotations

import datetime as dt
import logging
import string
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import Field, field_validator, model_validator
from sqlalchemy import BigInteger, Boolean, Integer, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.audit import AuditEventMixin, record_event
from shared.config import StrictModel
from shared.db import BigIntId, UTCDateTime, try_single_replica_lock, utcnow
from shared.settings import ServiceSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from shared.app import PeriodicTask
    from shared.crypto import FieldCipher

logger = logging.getLogger("shared.notifications")

Kind = Literal[
    "submitted",
    "stage_changed",
    "revision_requested",
    "approved",
    "rejected",
    "document_ready",
    "email_verification",
    "password_reset",
]
Channel = Literal["email", "phone"]
PLACEHOLDERS = frozenset({"service", "code", "stage", "link", "regency"})


# --- Settings (environment, with the service's prefix) ------------------------------------------


class NotificationSettings(ServiceSettings):
    """Settings of a service that notifies citizens: everything is off until configured."""

    email_required: bool = Field(
        default=False, description="self-registration must give an e-mail address"
    )
    notify_max_attempts: int = Field(default=8, ge=1, le=50)
    notify_backoff_seconds: float = Field(
        default=60.0, gt=0, description="first retry delay; doubles each attempt, at most 6 h"
    )
    smtp_host: str = Field(default="", description="SMTP server; e-mail is off when empty")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    mail_from: str = Field(default="", description="From address, required with smtp_host")
    sms_webhook_url: str = Field(
        default="", description="SMS/WhatsApp gateway (POST JSON); phone messages off when empty"
    )
    sms_webhook_secret: str = Field(default="", description="HMAC-SHA256 key of the gateway")
    sms_webhook_channel: Literal["sms", "whatsapp"] = "sms"
    email_link_hours: int = Field(default=48, ge=1, le=24 * 14)
    password_reset_minutes: int = Field(default=30, ge=5, le=24 * 60)
    password_reset_max_per_address: int = Field(
        default=10, ge=1, description="reset requests per address in the login window"
    )

    @model_validator(mode="after")
    def _complete_channels(self) -> NotificationSettings:
        prefix = (self.model_config.get("env_prefix") or "").upper()
        if self.smtp_host and "@" not in self.mail_from:
            raise ValueError(f"{prefix}MAIL_FROM must be an e-mail address when SMTP is set")
        if self.sms_webhook_url:
            if not self.sms_webhook_url.startswith(("https://", "http://")):
                raise ValueError(f"{prefix}SMS_WEBHOOK_URL must be an http(s) URL")
            if len(self.sms_webhook_secret) < 16:
                raise ValueError(f"{prefix}SMS_WEBHOOK_SECRET needs at least 16 characters")
        return self


# --- Templates (the regency file, with defaults) ------------------------------------------------


class MessageTemplate(StrictModel):
    subject: str = Field(min_length=3, max_length=150)
    body: str = Field(min_length=3, max_length=2000)
    short: str = Field(default="", max_length=300, description="SMS/WhatsApp text")

    @field_validator("subject", "body", "short")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        for _, name, _, _ in string.Formatter().parse(value):
            if name is not None and name not in PLACEHOLDERS:
                allowed = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
                raise ValueError(f"unknown placeholder {{{name}}}; allowed: {allowed}")
        return value

    def render(self, values: dict[str, str]) -> tuple[str, str, str]:
        short = self.short or self.subject + " " + "{link}"
        return (
            self.subject.format(**values),
            self.body.format(**values),
            short.format(**values)[:300],
        )


def _t(subject: str, body: str, short: str = "") -> MessageTemplate:
    return MessageTemplate(subject=subject, body=body, short=short)


_SIGN = "\n\nPesan ini dikirim otomatis oleh {service}, {regency}. Jangan membalas pesan ini."


class NotificationTemplates(StrictModel):
    """One template per event kind, in Bahasa Indonesia; a regency overrides any of them."""

    submitted: MessageTemplate = _t(
        "Berkas {code} telah diterima",
        "Berkas Anda dengan kode {code} telah diterima dan kini pada tahap: {stage}.\n"
        "Ikuti perkembangannya di {link}" + _SIGN,
        "{service}: berkas {code} diterima. Tahap: {stage}. {link}",
    )
    stage_changed: MessageTemplate = _t(
        "Berkas {code}: tahap baru",
        "Berkas Anda dengan kode {code} berpindah ke tahap: {stage}.\n"
        "Lihat rinciannya di {link}" + _SIGN,
        "{service}: berkas {code} kini pada tahap {stage}. {link}",
    )
    revision_requested: MessageTemplate = _t(
        "Berkas {code} perlu diperbaiki",
        "Berkas Anda dengan kode {code} dikembalikan untuk diperbaiki ({stage}).\n"
        "Buka {link} untuk melihat catatan petugas dan mengirim ulang." + _SIGN,
        "{service}: berkas {code} perlu diperbaiki. {link}",
    )
    approved: MessageTemplate = _t(
        "Berkas {code} disetujui",
        "Berkas Anda dengan kode {code} disetujui. Tahap saat ini: {stage}.\n"
        "Rinciannya di {link}" + _SIGN,
        "{service}: berkas {code} disetujui. {link}",
    )
    rejected: MessageTemplate = _t(
        "Keputusan atas berkas {code}",
        "Berkas Anda dengan kode {code} ditolak. Alasan dan cara mengajukan keberatan ada di "
        "{link}" + _SIGN,
        "{service}: berkas {code} ditolak. Alasan: {link}",
    )
    document_ready: MessageTemplate = _t(
        "Dokumen untuk berkas {code} sudah terbit",
        "Dokumen untuk berkas Anda dengan kode {code} sudah terbit ({stage}).\n"
        "Unduh atau lihat di {link}" + _SIGN,
        "{service}: dokumen berkas {code} sudah terbit. {link}",
    )
    email_verification: MessageTemplate = _t(
        "Konfirmasi alamat e-mail Anda",
        "Terima kasih telah mendaftar di {service}.\n"
        "Buka tautan berikut untuk mengonfirmasi alamat e-mail Anda:\n{link}\n"
        "Jika Anda tidak mendaftar, abaikan pesan ini." + _SIGN,
    )
    password_reset: MessageTemplate = _t(
        "Atur ulang kata sandi",
        "Ada permintaan untuk mengatur ulang kata sandi akun Anda di {service}.\n"
        "Buka tautan berikut (berlaku singkat dan hanya sekali pakai):\n{link}\n"
        "Jika Anda tidak memintanya, abaikan pesan ini; kata sandi Anda tidak berubah." + _SIGN,
    )

    def for_kind(self, kind: str) -> MessageTemplate:
        template: MessageTemplate = getattr(self, kind)
        return template


# --- Tables -------------------------------------------------------------------------------------


class NotificationOutboxTable:
    """One message to one citizen on one channel; `key` is `<audit event id>:<channel>`."""

    __tablename__ = "notification_outbox"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    audit_event_id: Mapped[int] = mapped_column(BigInteger, index=True)
    account_id: Mapped[int] = mapped_column(BigInteger, index=True)
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    dead: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(String(200), default=None)


class NotificationCursorTable:
    """How far the notifier has read the sealed audit log."""

    __tablename__ = "notification_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)


# --- What a service supplies --------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Whom an event concerns and what the message says about the file."""

    account_id: int
    code: str
    stage: str
    path: str  # below the service's public URL, e.g. "/usulan/12"


Resolver = Callable[[AsyncSession, list[str]], Awaitable[dict[str, Target]]]


@dataclass(frozen=True)
class NotificationSource:
    """A service's part: which audit actions notify, and how a file's citizen is found."""

    entity_type: str
    kinds: dict[str, Kind]  # audit action -> kind; other `<entity_type>.*` with a status: stage
    resolve: Resolver
    state_label: Callable[[str], str] = str  # the stage named at the event, not the current one
    ignore: frozenset[str] = frozenset()

    def kind_of(self, action: str, after: dict[str, Any] | None) -> Kind | None:
        if action in self.kinds:
            return self.kinds[action]
        if action in self.ignore or not action.startswith(self.entity_type + "."):
            return None
        return "stage_changed" if after and "status" in after else None


@dataclass
class Notifier:
    """Everything `notify_once` needs, built by a service's `tasks.py`."""

    source: NotificationSource
    account_model: type[Any]
    event_model: type[AuditEventMixin]
    outbox_model: type[Any]  # the service's NotificationOutbox (a NotificationOutboxTable)
    cursor_model: type[Any]  # the service's NotificationCursor
    templates: NotificationTemplates
    service_title: str
    regency: str


def base_url(app: FastAPI) -> str:
    settings: ServiceSettings = app.state.settings
    return settings.public_url or f"http://127.0.0.1:8000/{app.state.service_name}"


def contact_of(cipher: FieldCipher, account: Any) -> tuple[str | None, str | None]:
    """The decrypted e-mail and phone of an account (either may be None)."""
    email = (
        cipher.decrypt(account.email_encrypted, context="account.email")
        if (account.email_encrypted)
        else None
    )
    phone = (
        cipher.decrypt(account.phone_encrypted, context="account.phone")
        if (account.phone_encrypted)
        else None
    )
    return email, phone


def channels_for(account: Any, kind: str) -> list[Channel]:
    """The channels a message of `kind` goes to: verified e-mail and the phone, unless turned
    off; the verification and reset mails go to the e-mail address whatever the choices."""
    if kind in ("email_verification", "password_reset"):
        return ["email"] if account.email_encrypted else []
    chosen: list[Channel] = []
    if account.email_encrypted and account.email_verified_at and account.notify_email:
        chosen.append("email")
    if account.phone_encrypted and account.notify_phone:
        chosen.append("phone")
    return chosen


ACCOUNT_KINDS: dict[str, Kind] = {
    "account.registered": "email_verification",
    "account.email_changed": "email_verification",
    "account.password_reset_requested": "password_reset",
}

AccountLink = Callable[[Any, str], str]  # (account, kind) -> link for account-level mails


async def _account_rows(session: AsyncSession, model: type[Any], ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    rows = (await session.execute(select(model).where(model.id.in_(ids)))).scalars().all()
    return {int(a.id): a for a in rows if a.active}


async def collect(
    app: FastAPI,
    notifier: Notifier,
    *,
    account_link: AccountLink,
    channels: frozenset[str] | set[str],
    batch: int = 500,
) -> int:
    """Turn the sealed audit events past the cursor into outbox rows for the configured
    `channels`; returns rows written. With no channel configured the cursor still moves on, so
    turning a channel on later does not send the messages of the past."""
    ev, outbox, cursor_model = notifier.event_model, notifier.outbox_model, notifier.cursor_model
    now = utcnow()
    written = 0
    async with app.state.db.sessionmaker.begin() as session:
        if not await try_single_replica_lock(session, "notifications:collect"):
            return 0
        cursor = await session.get(cursor_model, "audit")
        if cursor is None:
            cursor = cursor_model(name="audit", position=0)
            session.add(cursor)
        rows = (
            await session.execute(
                select(ev.id, ev.seal_position, ev.action, ev.entity_type, ev.entity_id, ev.after)
                .where(ev.seal_position > cursor.position)
                .order_by(ev.seal_position)
                .limit(batch)
            )
        ).all()
        if not rows:
            return 0
        cursor.position = int(rows[-1].seal_position)
        # (event id, kind, entity type, entity id, the state the event moved the file to)
        wanted: list[tuple[int, Kind, str, str, str | None]] = []
        for row in rows:
            kind: Kind | None = ACCOUNT_KINDS.get(row.action) or notifier.source.kind_of(
                row.action, row.after
            )
            if kind is not None:
                status = (row.after or {}).get("status")
                wanted.append(
                    (int(row.id), kind, row.entity_type, str(row.entity_id), status and str(status))
                )
        files = [e for e in wanted if e[2] == notifier.source.entity_type]
        targets = await notifier.source.resolve(session, sorted({e[3] for e in files}))
        account_ids = {t.account_id for t in targets.values()}
        account_ids |= {int(e[3]) for e in wanted if e[2] == "account"}
        accounts = await _account_rows(session, notifier.account_model, account_ids)
        # keys already written (a cursor moved back, e.g. after a restore) are not written again
        done = set(
            (
                await session.execute(
                    select(outbox.key).where(outbox.audit_event_id.in_([e[0] for e in wanted]))
                )
            ).scalars()
        )
        root = base_url(app)
        values = {"service": notifier.service_title, "regency": notifier.regency}
        for event_id, kind, entity_type, entity_id, status in wanted:
            if entity_type == "account":
                account = accounts.get(int(entity_id))
                fill = {"code": "", "stage": "", "link": ""}
                if account is not None:
                    fill["link"] = account_link(account, kind)
            else:
                target = targets.get(entity_id)
                account = accounts.get(target.account_id) if target else None
                if target is not None:
                    stage = notifier.source.state_label(status) if status else target.stage
                    fill = {"code": target.code, "stage": stage, "link": root + target.path}
            if account is None:
                continue
            subject, body, short = notifier.templates.for_kind(kind).render({**values, **fill})
            for channel in channels_for(account, kind):
                if channel not in channels or f"{event_id}:{channel}" in done:
                    continue
                session.add(
                    outbox(
                        key=f"{event_id}:{channel}",
                        audit_event_id=event_id,
                        account_id=account.id,
                        channel=channel,
                        kind=kind,
                        subject=subject[:200],
                        body=body if channel == "email" else short,
                        created_at=now,
                        attempts=0,
                        next_attempt_at=now,
                        dead=False,
                    )
                )
                written += 1
    if written:
        logger.info("notifications: %d outbox messages written", written)
    return written


class DeliveryError(Exception):
    """A message was not delivered; `permanent` ones are not retried."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason[:200]
        self.permanent = permanent


class Sender(Protocol):
    async def send(self, *, key: str, to: str, subject: str, body: str, kind: str) -> None: ...


def backoff(settings: NotificationSettings, attempts: int) -> dt.timedelta:
    seconds = settings.notify_backoff_seconds * 2 ** max(0, attempts - 1)
    return dt.timedelta(seconds=min(seconds, 6 * 3600))


async def deliver_due(
    app: FastAPI,
    notifier: Notifier,
    senders: dict[str, Sender],
    *,
    now: dt.datetime | None = None,
    limit: int = 50,
) -> tuple[int, int]:
    """Send the due outbox rows of the configured channels; returns (sent, failed)."""
    outbox = notifier.outbox_model
    settings: NotificationSettings = app.state.settings
    cipher: FieldCipher = app.state.cipher
    now = now or utcnow()
    sent = failed = 0
    channels = sorted(senders)
    if not channels:
        return 0, 0
    async with app.state.db.sessionmaker.begin() as session:
        rows: Sequence[NotificationOutboxTable] = (
            (
                await session.execute(
                    select(outbox)
                    .where(
                        outbox.sent_at.is_(None),
                        outbox.dead.is_(False),
                        outbox.next_attempt_at <= now,
                        outbox.channel.in_(channels),
                    )
                    .order_by(outbox.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            .scalars()
            .all()
        )
        accounts = await _account_rows(
            session, notifier.account_model, {int(r.account_id) for r in rows}
        )
        for message in rows:
            message.attempts += 1
            account = accounts.get(int(message.account_id))
            try:
                address = _address(cipher, account, message)
                await senders[message.channel].send(
                    key=message.key,
                    to=address,
                    subject=message.subject,
                    body=message.body,
                    kind=message.kind,
                )
            except DeliveryError as exc:
                failed += 1
                message.last_error = exc.reason
                message.next_attempt_at = now + backoff(settings, message.attempts)
                message.dead = exc.permanent or message.attempts >= settings.notify_max_attempts
                logger.warning(
                    "notification %s (%s, %s) not delivered, attempt %d: %s",
                    message.id, message.kind, message.channel, message.attempts, exc.reason,
                )  # fmt: skip
                if message.dead:
                    await _audit(session, notifier, message, "notification.failed")
                continue
            sent += 1
            message.sent_at = now
            message.last_error = None
            await _audit(session, notifier, message, "notification.sent")
    return sent, failed


def _address(cipher: FieldCipher, account: Any, message: NotificationOutboxTable) -> str:
    if account is None:
        raise DeliveryError("account gone or inactive", permanent=True)
    email, phone = contact_of(cipher, account)
    if message.kind not in ("email_verification", "password_reset") and message.channel not in (
        channels_for(account, message.kind)
    ):
        raise DeliveryError("channel turned off by the citizen", permanent=True)
    address = email if message.channel == "email" else phone
    if not address:
        raise DeliveryError("no address for this channel", permanent=True)
    return address


async def _audit(
    session: AsyncSession, notifier: Notifier, message: NotificationOutboxTable, action: str
) -> None:
    """What was sent, without whom to or what it said: the event, kind, channel, attempts."""
    await record_event(
        session,
        notifier.event_model,
        actor="system",
        role="system",
        action=action,
        entity_type="notification",
        entity_id=message.id,
        after={
            "audit_event_id": message.audit_event_id,
            "account_id": message.account_id,
            "kind": message.kind,
            "channel": message.channel,
            "attempts": message.attempts,
        },
    )


# --- A service's notifications: its notifier on app.state, one pass, and the periodic task --------


@dataclass(frozen=True)
class ServiceNotifications:
    """What each service's `tasks.py` wires up: `build` makes the service's `Notifier` from
    `app.state` (once per app; kept on `app.state.notifier`)."""

    build: Callable[[Any], Notifier]

    def notifier_of(self, app: FastAPI) -> Notifier:
        state = app.state
        notifier: Notifier | None = getattr(state, "notifier", None)
        if notifier is None:
            notifier = state.notifier = self.build(state)
        return notifier

    async def notify_once(
        self, app: FastAPI, senders: dict[str, Sender] | None = None
    ) -> tuple[int, int]:
        """Write the outbox messages of new audit events, then send what is due: (sent, failed)."""
        from shared.contact import account_link  # loaded on the first run
        from shared.notify_adapters import senders_for  # SMTP and HTTP code on first use

        notifier = self.notifier_of(app)
        senders = senders_for(app.state.settings) if senders is None else senders
        await collect(
            app,
            notifier,
            account_link=lambda account, kind: account_link(app, account, kind),
            channels=set(senders),
        )
        return await deliver_due(app, notifier, senders)

    def task(self, name: str, interval: float = 15.0) -> PeriodicTask:
        from shared.app import PeriodicTask  # shared.app imports this module

        async def run(app: FastAPI) -> None:
            await self.notify_once(app)

        return PeriodicTask(name, interval, run)
