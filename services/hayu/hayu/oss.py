"""The OSS-RBA link: a port (`OssClient`), its HTTP adapter, the outbox and the inbound push.

Every transition of a file whose permit type lives in OSS (`oss_permit`) writes a status message
(`receiveLicenseStatus`, envelope `IZINSTATUS`) to the outbox in the transition's own transaction,
when the link is configured (`HAYU_OSS_BASE_URL`); a transition that issues the permit (the
`issue_permit` effect, or deemed approval) also writes the licence itself (`receiveLicense`,
envelope `IZINFINAL`: number, dates, signing official, the verification link). `deliver` sends
due messages with their idempotency key, retries failures with exponential backoff and moves a
message to the dead-letter list after `max_attempts`; the service keeps working while OSS is
unreachable. A crash between sending and recording leaves the message due, and the resend carries
the same key, so OSS sees it once. OSS pushes `receiveNIB` to `POST /api/v1/oss/receive-nib`; the
record prefills a filing and links it to OSS's application, only for the owner OSS named (her NIK,
compared by blind index).

Wire format and codes: the ministry hands its integration guide (PIA) to a regency with the
credentials; it is not public. The envelope and field names here (`IZINSTATUS`: nib, id_izin,
kd_izin, kd_status, tgl_status, nip_status, nama_status, keterangan; `IZINFINAL`: nomor_izin,
tgl_terbit_izin, tgl_berlaku_izin, nama_ttd, nip_ttd, jabatan_ttd, status_izin, file_izin; the
`user_key` header; `kl/rba/receiveLicense[Status]` under the base URL; an answer
`respon<endpoint>.kode` of 200) follow public regional and ministry integrations of OSS-RBA.
Of the status codes, those integrations show 10 (documents complete), 20 (in review /
verification) and 50 (permit issued); the others (09, 11, 40, 41, 42, 57, 90) are placeholders.
All are configuration (`[hayu.oss.status_codes]`): check them against the guide.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hayu import errors
from hayu.certificates import verification_url
from hayu.dependencies import Context
from hayu.models import Application, AuditEvent, Business, OssNibRecord, OssOutboxMessage
from shared import audit

PERMIT = "permit"


class OssError(Exception):
    """OSS did not accept a message (unreachable, 5xx, refused)."""


class OssClient(Protocol):
    async def send_status(self, payload: dict[str, Any], idempotency_key: str) -> None:
        """Deliver one outbox message (`IZINSTATUS` or `IZINFINAL`); raise `OssError` if not."""


STATUS = "IZINSTATUS"
LICENSE = "IZINFINAL"
ENDPOINTS = {STATUS: "receiveLicenseStatus", LICENSE: "receiveLicense"}


class HttpOssClient:
    """The real adapter: `POST <base>/receiveLicenseStatus` or `<base>/receiveLicense` (by the
    message's envelope) with the client key in `token_header`."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        timeout: float = 10.0,
        token_header: str = "user_key",
        transport: Any = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.token_header = token_header
        self.transport = transport  # an httpx transport (tests)

    async def send_status(self, payload: dict[str, Any], idempotency_key: str) -> None:
        import httpx

        endpoint = ENDPOINTS[LICENSE if LICENSE in payload else STATUS]
        headers = {"Idempotency-Key": idempotency_key}
        if self.token:
            headers[self.token_header] = self.token
        try:
            async with httpx.AsyncClient(timeout=self.timeout, transport=self.transport) as client:
                response = await client.post(
                    f"{self.base_url}/{endpoint}", json=payload, headers=headers
                )
        except httpx.HTTPError as exc:
            raise OssError(f"OSS unreachable: {type(exc).__name__}") from None
        if response.status_code >= 300:
            raise OssError(f"OSS answered {response.status_code}")
        refused = answer_code(response, endpoint)
        if refused is not None:
            raise OssError(f"OSS refused the message: kode {refused}")


def answer_code(response: Any, endpoint: str) -> str | None:
    """OSS answers HTTP 200 with `{"respon<endpoint>": {"kode": ..., "keterangan": ...}}`; a
    `kode` other than 200 is a refusal. None: accepted (or no such answer to read)."""
    try:
        body = response.json()
    except ValueError:
        return None
    answer = body.get(f"respon{endpoint}") if isinstance(body, dict) else None
    if not isinstance(answer, dict) or "kode" not in answer:
        return None
    return None if str(answer["kode"]) == "200" else str(answer["kode"])[:20]


def enabled(ctx: Context) -> bool:
    return bool(ctx.settings.oss_base_url)


def status_code_for(ctx: Context, action: str) -> str | None:
    return ctx.hayu.oss.status_codes.get(action)


async def enqueue(
    session: AsyncSession,
    ctx: Context,
    *,
    application_id: int,
    permit_type_code: str,
    kind: str,
    action: str,
    nib: str | None,
    oss_application_id: str | None,
    number: str | None,
    note: str | None,
    issued: Application | None = None,
) -> bool:
    """Write the status message of one transition, in the caller's transaction, and with
    `issued` (the permit this transition issued) the licence message after it."""
    now = ctx.now
    permit_type = ctx.hayu.permit_type(permit_type_code)
    code = status_code_for(ctx, action)
    if not enabled(ctx) or kind != PERMIT or permit_type is None or not permit_type.oss_permit:
        return False
    if not oss_application_id:
        # Not an application OSS told us of for this owner (no receiveNIB push naming her, or a
        # NIB typed by someone else): there is nothing in OSS to report on, and a status sent
        # under a typed NIB would write into another business's record there.
        return False
    ids = {
        "nib": nib,
        "id_izin": oss_application_id,
        "kd_izin": permit_type.oss_code or permit_type_code,
    }
    stamp = now.strftime("%Y%m%dT%H%M%S%f")
    rows = []
    if code is not None:
        status = {
            **ids,
            "kd_status": code,
            "tgl_status": ctx.today.isoformat(),
            "nip_status": None,
            "nama_status": ctx.hayu.oss.status_names.get(code, code),
            "keterangan": note,
            "nomor_izin": number,
        }
        rows.append((f"hayu-{application_id}-{action}-{stamp}", code, {STATUS: status}))
    if issued is not None:
        signatory = ctx.hayu.signatory
        license_ = {
            **ids,
            "nomor_izin": issued.number,
            "tgl_terbit_izin": ctx.today.isoformat(),
            "tgl_berlaku_izin": issued.valid_until.isoformat() if issued.valid_until else None,
            "nama_ttd": signatory.name,
            "nip_ttd": signatory.nip,
            "jabatan_ttd": signatory.title,
            "status_izin": ctx.hayu.oss.issued_code,
            "file_izin": verification_url(ctx, issued.number or ""),
            "keterangan": note,
        }
        rows.append(
            (
                f"hayu-{application_id}-license-{stamp}",
                ctx.hayu.oss.issued_code,
                {LICENSE: license_},
            )
        )
    for key, status_code, payload in rows:
        await session.execute(
            insert(OssOutboxMessage).values(
                application_id=application_id,
                idempotency_key=key,
                status_code=status_code,
                payload=payload,
                created_at=now,
                attempts=0,
                next_attempt_at=now,
                dead=False,
            )
        )
    return bool(rows)


def backoff(ctx: Context, attempts: int) -> dt.timedelta:
    seconds = min(ctx.hayu.oss.backoff_seconds * 2 ** max(0, attempts - 1), 6 * 3600)
    return dt.timedelta(seconds=seconds)


async def deliver(
    sessionmaker: async_sessionmaker[AsyncSession],
    ctx: Context,
    client: OssClient,
    *,
    limit: int = 50,
) -> tuple[int, int]:
    """Send the due messages, oldest first; returns (sent, failed). One transaction per batch:
    rows are locked (SKIP LOCKED on PostgreSQL) so two replicas never send the same message."""
    now = ctx.now
    sent = failed = 0
    async with sessionmaker.begin() as session:
        rows: Sequence[OssOutboxMessage] = (
            (
                await session.execute(
                    select(OssOutboxMessage)
                    .where(
                        OssOutboxMessage.sent_at.is_(None),
                        OssOutboxMessage.dead.is_(False),
                        OssOutboxMessage.next_attempt_at <= now,
                    )
                    .order_by(OssOutboxMessage.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            .scalars()
            .all()
        )
        for message in rows:
            try:
                await client.send_status(message.payload, message.idempotency_key)
            except OssError as exc:
                failed += 1
                message.attempts += 1
                message.last_error = str(exc)[:500]
                message.next_attempt_at = now + backoff(ctx, message.attempts)
                message.dead = message.attempts >= ctx.hayu.oss.max_attempts
                continue
            sent += 1
            message.attempts += 1
            message.sent_at = now
            message.last_error = None
    return sent, failed


async def list_outbox(session: AsyncSession, *, dead: bool, limit: int) -> list[OssOutboxMessage]:
    stmt = select(OssOutboxMessage).order_by(OssOutboxMessage.id.desc()).limit(limit)
    if dead:
        stmt = stmt.where(OssOutboxMessage.dead.is_(True))
    return list((await session.execute(stmt)).scalars().all())


def check_inbound_token(ctx: Context, authorization: str | None) -> None:
    expected = ctx.settings.oss_inbound_token
    given = (authorization or "").removeprefix("Bearer ").strip()
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise errors.OssUnauthorizedError("Missing or wrong OSS inbound token")


# What is kept of a `receiveNIB` push: the declared fields the service uses, nothing else. The
# owner's NIK (`nik_pemilik`) only as its blind index; the address (`alamat`, for a sole
# proprietor the owner's home) not at all.
NIB_FIELDS = ("nama_usaha", "kbli", "kode_wilayah", "id_permohonan")
NIK_PURPOSE = "nik"  # the index of businesses.owner_nik_index, so one key rotation covers both


async def receive_nib(
    session: AsyncSession,
    ctx: Context,
    payload: dict[str, Any],
) -> None:
    """Store a `receiveNIB` push (a repeat replaces the record), audited: the whitelisted
    fields and the blind index of the owner's NIK, never the raw push or the NIK itself. With
    the link on, the owner's files of an OSS type not linked yet are linked to the push's
    application (`link_owner_files`), as a filing made after the push would be."""
    now = ctx.now
    nib = str(payload["nib"])
    kept = {k: payload[k] for k in NIB_FIELDS if payload.get(k) not in (None, "", [])}
    nik = _digits(payload.get("nik_pemilik"))
    owner_index = ctx.cipher.blind_index(nik, purpose=NIK_PURPOSE) if len(nik) == 16 else None
    record = await session.get(OssNibRecord, nib)
    if record is None:
        session.add(
            OssNibRecord(nib=nib, payload=kept, owner_nik_index=owner_index, received_at=now)
        )
    else:
        record.payload = kept
        record.owner_nik_index = owner_index
        record.received_at = now
    await session.flush()
    await audit.record_event(
        session,
        AuditEvent,
        actor="oss",
        role="system",
        action="oss.nib_received",
        entity_type="oss_nib",
        entity_id=nib,
        after={
            "kbli": kept.get("kbli"),
            "kode_wilayah": kept.get("kode_wilayah"),
            "owner_named": owner_index is not None,
        },
        occurred_at=now,
    )
    oss_id = kept.get("id_permohonan")
    if owner_index is not None and oss_id and enabled(ctx):
        await link_owner_files(session, ctx, nib, owner_index, str(oss_id))


def _oss_types(ctx: Context) -> list[str]:
    return [t.code for t in ctx.hayu.permit_types if t.oss_permit]


async def link_owner_files(
    session: AsyncSession, ctx: Context, nib: str, owner_index: str, oss_application_id: str
) -> list[int]:
    """Link to `oss_application_id` the permit files of an OSS type filed under `nib` by the
    owner OSS named (her NIK's blind index on the business) that no OSS application is linked
    to yet: those filed before the push, or unlinked by `verify_links`. Audited per file."""
    ids = list(
        (
            await session.execute(
                select(Application.id)
                .join(Business, Business.id == Application.business_id)
                .where(
                    Application.oss_application_id.is_(None),
                    Application.kind == PERMIT,
                    Application.permit_type_code.in_(_oss_types(ctx)),
                    Business.nib == nib,
                    Business.owner_nik_index == owner_index,
                )
                .order_by(Application.id)
            )
        )
        .scalars()
        .all()
    )
    if not ids:
        return []
    await session.execute(
        update(Application)
        .where(Application.id.in_(ids))
        .values(oss_application_id=oss_application_id)
    )
    await audit.record_events(
        session,
        AuditEvent,
        actor="oss",
        role="system",
        action="oss.linked",
        entity_type="application",
        changes=[
            (i, {"oss_application_id": None}, {"oss_application_id": oss_application_id})
            for i in ids
        ],
        occurred_at=ctx.now,
    )
    return ids


OWNER_UNKNOWN = "owner_unknown"  # OSS's record names no owner (pushed before hayu_0006) or is gone
OWNER_DIFFERS = "owner_differs"  # the file's owner NIK is not the one OSS named
WITHDRAWN = "withdrawn: the file is no longer linked to OSS (its owner is not the one OSS named)"


@dataclass
class LinkCheck:
    """What `verify_links` found: linked files kept, and those unlinked by reason."""

    kept: int = 0
    unlinked: dict[str, list[int]] = field(
        default_factory=lambda: {OWNER_UNKNOWN: [], OWNER_DIFFERS: []}
    )
    withdrawn_messages: int = 0


async def verify_links(
    session: AsyncSession, ctx: Context, *, apply: bool, actor: str = "cli"
) -> LinkCheck:
    """Check every file linked to an OSS application against the owner OSS named for its NIB.

    Before hayu_0006_oss_owner a filing was linked whenever OSS had pushed the NIB it typed,
    whoever typed it, and the migration could not compute blind indexes (no key there). A link
    stays when the business's owner NIK index is the one on OSS's record for its NIB; otherwise
    (`OWNER_DIFFERS`, or `OWNER_UNKNOWN`: a record without an owner index, or none) the file is
    unlinked, its unsent outbox messages are withdrawn (dead, never sent) and an audit event
    says so, without any NIK. `apply=False` counts and changes nothing. A later push naming the
    owner links her files again (`link_owner_files`)."""
    linked = (
        select(
            Application.id,
            Application.oss_application_id,
            Business.owner_nik_index,
            OssNibRecord.owner_nik_index,
        )
        .join(Business, Business.id == Application.business_id)
        .outerjoin(OssNibRecord, OssNibRecord.nib == Business.nib)
        .where(Application.oss_application_id.is_not(None))
        .order_by(Application.id)
    )
    if apply:  # a transition running meanwhile waits (it locks its file), then sends nothing
        linked = linked.with_for_update(of=Application)
    rows = (await session.execute(linked)).all()
    found = LinkCheck()
    was: dict[int, str | None] = {}
    for application_id, oss_id, business_index, record_index in rows:
        if record_index and hmac.compare_digest(record_index, business_index):
            found.kept += 1
            continue
        reason = OWNER_UNKNOWN if not record_index else OWNER_DIFFERS
        found.unlinked[reason].append(application_id)
        was[application_id] = oss_id
    pending = (
        select(OssOutboxMessage.id)
        .where(
            OssOutboxMessage.application_id.in_(list(was)),
            OssOutboxMessage.sent_at.is_(None),
            OssOutboxMessage.dead.is_(False),
        )
        .order_by(OssOutboxMessage.id)
    )
    withdrawn = list((await session.execute(pending)).scalars().all()) if was else []
    found.withdrawn_messages = len(withdrawn)
    if not apply or not was:
        return found
    await session.execute(
        update(Application).where(Application.id.in_(list(was))).values(oss_application_id=None)
    )
    if withdrawn:
        await session.execute(
            update(OssOutboxMessage)
            .where(OssOutboxMessage.id.in_(withdrawn))
            .values(dead=True, last_error=WITHDRAWN)
        )
    for reason, ids in found.unlinked.items():
        await audit.record_events(
            session,
            AuditEvent,
            actor=actor,
            role="admin",
            action="oss.unlinked",
            entity_type="application",
            changes=[
                (i, {"oss_application_id": was[i]}, {"oss_application_id": None, "reason": reason})
                for i in ids
            ],
            occurred_at=ctx.now,
        )
    return found


def _digits(value: object) -> str:
    return "".join(ch for ch in str(value or "") if ch.isdigit())


async def _record_of_owner(
    session: AsyncSession, ctx: Context, nib: str | None, owner_nik: str | None
) -> OssNibRecord | None:
    """OSS's record for `nib`, only when `owner_nik` is the NIK OSS named as its owner (compared
    by blind index, under the current and the old keys). None otherwise, whether OSS pushed the
    NIB or not: the caller cannot tell the two apart, so it reveals nothing."""
    nik = _digits(owner_nik)
    if not nib or len(nik) != 16:
        return None
    record = await session.get(OssNibRecord, nib)
    if record is None or not record.owner_nik_index:
        return None
    candidates = ctx.cipher.blind_index_candidates(nik, purpose=NIK_PURPOSE)
    if not any(hmac.compare_digest(record.owner_nik_index, c) for c in candidates):
        return None
    return record


async def prefill_for(
    session: AsyncSession, ctx: Context, nib: str, owner_nik: str
) -> dict[str, str]:
    """Filing-form values from OSS's push for `nib`, for the owner OSS named (empty otherwise).
    No address: OSS's `alamat` is not kept (personal data for a sole proprietor)."""
    record = await _record_of_owner(session, ctx, nib, owner_nik)
    if record is None:
        return {}
    data = record.payload
    values = {
        "nib": nib,
        "name": str(data.get("nama_usaha") or ""),
        "kbli_codes": ", ".join(str(c) for c in data.get("kbli") or []),
        "region_code": str(data.get("kode_wilayah") or ""),
    }
    return {k: v for k, v in values.items() if v}


async def application_id_for(
    session: AsyncSession, ctx: Context, nib: str | None, owner_nik: str | None
) -> str | None:
    """OSS's application id for a NIB it pushed, to link the regional file to it: only when the
    filing's owner NIK is the one OSS named."""
    record = await _record_of_owner(session, ctx, nib, owner_nik)
    value = record.payload.get("id_permohonan") if record is not None else None
    return str(value) if value else None
