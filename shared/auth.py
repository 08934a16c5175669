"""Accounts, passwords, tokens and roles, the same in every service (each keeps its own accounts).

- Passwords are argon2id, hashed off the event loop, at most a few at once per process
  (`shared.login_guard.hash_slots`).
- The API takes bearer JWTs; the pages keep a session token in an HttpOnly, SameSite cookie, and a
  state-changing request authenticated by that cookie must carry the CSRF token derived from the
  session's id. Page sessions slide: renewed while used, ended after `session_idle_minutes`
  unused and `session_max_hours` after login (see `shared.sessions`).
- Every token carries its account's `token_epoch`; a password, role, unit or username change,
  deactivation or logout raises the epoch in the database, and each process refuses tokens of an
  older epoch within `revocation_refresh_seconds` (see `shared.revocation`). Upgrading a
  verified password's hash to new argon2 parameters at login is not a password change and
  keeps the epoch (the trigger sees `password_rehashes` rise in the same UPDATE).
- A token of an account that must change its password is good only for changing it (and for
  `/me` and logout): every service enforces this here, pages and API alike.
- Roles are checked in one dependency, `require_roles`.
- Failed logins are throttled per (username, address), per address and per username across many
  addresses (see `shared.login_guard`), in memory, identically for unknown usernames.
- `TokenVerifier` is the seam where a regency's OpenID Connect provider can be accepted later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from fastapi import Depends, Request
from sqlalchemy import Boolean, Integer, String, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from starlette.types import Scope

from shared.context import url_path
from shared.db import BigIntId, Database, JSONType, UTCDateTime, utcnow, write_intent
from shared.login_guard import LoginGuard, hash_slots
from shared.network import client_address
from shared.problems import AppError, ForbiddenError, UnauthorizedError

if TYPE_CHECKING:
    from argon2 import PasswordHasher

    from shared.revocation import AccountEpochs

SESSION_COOKIE = "session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# argon2id with the library's current recommended parameters, built on the first login or password
# change: a serving process that only verifies tokens never loads argon2 (see `password_hasher`).
_hasher: PasswordHasher | None = None
# Verified when the username does not exist, so that answer takes as long as a wrong password.
# A constant, not hashed at import: hashing would add ~0.3 s to every start-up.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$/81atCQ6bzXj0anOGsrjDg"
    "$ANPuc8Kp/IIXg9wzTwnCcvOI6nK+zwEmpgt+IAfrarQ"
)


def use_fast_hashing_for_tests() -> None:
    """Cheap argon2id parameters: only the test suite calls this, never a running service."""
    global _hasher, _DUMMY_HASH
    from argon2 import PasswordHasher

    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    _DUMMY_HASH = _hasher.hash("timing-equaliser")


def password_hasher() -> PasswordHasher:
    """The process's argon2id hasher, built on first use."""
    global _hasher
    if _hasher is None:
        from argon2 import PasswordHasher

        _hasher = PasswordHasher()
    return _hasher


class AccountMixin:
    """Columns of a service's `accounts` table."""

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200), default="")
    roles: Mapped[list[str]] = mapped_column(JSONType, default=list)
    unit: Mapped[str | None] = mapped_column(String(64), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Raised by a database trigger on a new password, roles, unit, username or deactivation, and
    # by logout: tokens carry the epoch they were issued under (see shared/revocation.py).
    token_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    epoch_changed_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, default=None, index=True
    )
    # Raised with the hash when login upgrades it to new argon2 parameters (same password): the
    # trigger then leaves the epoch alone, so other sessions go on (shared/migrations.py, v3).
    password_rehashes: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


def hash_password(password: str) -> str:
    return password_hasher().hash(password)


async def hash_password_async(password: str) -> str:
    """Hash off the event loop, within the process's hashing slots (503 when none frees up)."""
    return await hash_slots.run(password_hasher().hash, password)


def _verify(password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    try:
        return password_hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password against a stored hash, or against a dummy one so both take as long."""
    ok = await hash_slots.run(_verify, password_hash or _DUMMY_HASH, password)
    return ok and password_hash is not None


# Paths (below the service's root) where a token that must change its password is accepted.
PASSWORD_CHANGE_PATHS = frozenset(
    {"/api/v1/auth/me", "/api/v1/auth/password", "/api/v1/auth/logout", "/ganti-sandi", "/logout"}
)


class PasswordChangeRequiredError(ForbiddenError):
    title = "Password change required"
    type = "password-change-required"


class PasswordChangePageRedirectError(AppError):
    """A page asked with a session that must change its password: to the change page first."""

    status = 303
    title = "See Other"
    type = "password-change-required"

    def __init__(self, detail: str, *, location: str) -> None:
        super().__init__(detail)
        self.headers = {"Location": location}


class SessionEndedError(UnauthorizedError):
    title = "Session ended"
    type = "session-ended"


@dataclass(frozen=True)
class Principal:
    """Who is calling: taken from a verified token."""

    account_id: int
    username: str
    roles: frozenset[str]
    name: str = ""
    unit: str | None = None
    via_cookie: bool = False
    claims: dict[str, Any] = field(default_factory=dict, compare=False)

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def primary_role(self) -> str:
        return sorted(self.roles)[0] if self.roles else ""

    @property
    def epoch(self) -> int:
        return int(self.claims.get("ep") or 0)

    @property
    def must_change_password(self) -> bool:
        return bool(self.claims.get("pwc"))


class TokenVerifier(Protocol):
    def verify(self, token: str) -> Principal: ...


MAX_VERIFIED_TOKENS = 4096
"""Verified tokens a process remembers (about 1 KB each) before it starts over."""


@dataclass(frozen=True)
class LocalTokens:
    """HS256 tokens issued and verified by the service itself.

    API tokens live `minutes`. Page-session tokens (`ses` claim) live `session_idle_minutes` and
    are renewed while used, up to `session_max_seconds` after the login (`auth` claim); a session
    keeps its id (`sid`) across renewals, and its CSRF token is derived from that id.
    """

    secret: str
    issuer: str
    minutes: int = 60
    session_idle_minutes: int = 60
    session_max_seconds: int = 12 * 3600
    renew_after_seconds: int = 60
    # token -> (its verified principal, its `exp`): the signature and claims of a token are
    # checked once, then trusted until it expires. Revocation is not cached here: every request
    # still compares the token's epoch with the account's (`_check_epoch`).
    _verified: dict[str, tuple[Principal, float]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    # PyJWT is imported on the first token issued or verified, not at start-up: importing it loads
    # `cryptography`'s OpenSSL bindings (about 9 MB resident) although HS256 needs only hmac.

    def issue(self, account: AccountMixin, *, session: bool = False) -> tuple[str, int]:
        now = int(utcnow().timestamp())
        claims: dict[str, Any] = {
            "sub": account.username,
            "uid": account.id,
            "roles": list(account.roles),
            "name": account.full_name,
            "unit": account.unit,
            "iss": self.issuer,
            "iat": now,
            "auth": now,
            "ep": int(account.token_epoch or 0),
            "sid": secrets.token_hex(12),
        }
        if account.must_change_password:
            claims["pwc"] = True
        if session:
            claims["ses"] = 1
        return self._sign(claims, now)

    def _sign(self, claims: dict[str, Any], now: int) -> tuple[str, int]:
        import jwt

        if claims.get("ses"):
            hard_end = int(claims["auth"]) + self.session_max_seconds
            expires = max(0, min(self.session_idle_minutes * 60, hard_end - now))
        else:
            expires = self.minutes * 60
        claims = {**claims, "iat": now, "exp": now + expires}
        return jwt.encode(claims, self.secret, algorithm="HS256"), expires

    def renewal(self, principal: Principal) -> tuple[str, int] | None:
        """A fresh token for a page session in use (None: not due, or at its hard limit)."""
        claims = principal.claims
        if not claims.get("ses"):
            return None
        now = int(utcnow().timestamp())
        if now - int(claims.get("iat", now)) < self.renew_after_seconds:
            return None
        if int(claims.get("auth", 0)) + self.session_max_seconds <= now:
            return None
        return self._sign(dict(claims), now)

    def verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None:
            principal, expires = cached
            if time.time() < expires:  # PyJWT's rule: expired once `exp` <= now
                return principal
            self._verified.pop(token, None)
        principal = self._decode(token)
        verified = self._verified
        if len(verified) >= MAX_VERIFIED_TOKENS:
            verified.clear()  # a simple bound: the live tokens are verified again once
        verified[token] = (principal, float(principal.claims["exp"]))
        return principal

    def _decode(self, token: str) -> Principal:
        import jwt

        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                issuer=self.issuer,
                options={"require": ["exp", "sub", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise SessionEndedError("The access token has expired; log in again") from None
        except jwt.PyJWTError:
            raise UnauthorizedError("The access token is not valid") from None
        return Principal(
            account_id=int(claims.get("uid", 0)),
            username=str(claims["sub"]),
            roles=frozenset(claims.get("roles") or ()),
            name=str(claims.get("name") or ""),
            unit=claims.get("unit"),
            claims=claims,
        )

    def csrf_token(self, session_token: str) -> str:
        """The CSRF token of a session: the same for every renewal of the session's token."""
        import jwt

        basis = session_token
        try:
            sid = jwt.decode(session_token, options={"verify_signature": False}).get("sid")
            if isinstance(sid, str) and sid:
                basis = "sid:" + sid
        except jwt.PyJWTError:
            pass
        mac = hmac.new(self.secret.encode(), b"csrf:" + basis.encode(), hashlib.sha256)
        return mac.hexdigest()[:40]


def tokens_of(request: Request) -> LocalTokens:
    tokens: LocalTokens = request.app.state.tokens
    return tokens


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value:
        raise UnauthorizedError("Use the Authorization header as: Bearer <token>")
    return value.strip()


async def _csrf_ok(request: Request, token: str) -> bool:
    expected = tokens_of(request).csrf_token(token)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    return sent is not None and hmac.compare_digest(sent, expected)


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def relative_path(request: Request) -> str:
    root = _root(request)
    path = url_path(request.scope)
    return path[len(root) :] if root and path.startswith(root) else path


async def _keep_form(request: Request) -> None:
    """A page form posted after its session ended: keep its text fields for after the login."""
    content_type = request.headers.get("content-type", "")
    if request.method != "POST" or not content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        return
    try:
        form = await request.form()
    except Exception:
        return
    request.state.kept_form = [
        (key, value)
        for key, value in form.multi_items()
        if isinstance(value, str) and key != CSRF_FIELD
    ]
    request.state.kept_files = any(not isinstance(v, str) for _, v in form.multi_items())


async def _check_epoch(request: Request, principal: Principal) -> None:
    epochs: AccountEpochs | None = getattr(request.app.state, "account_epochs", None)
    if epochs is None or not principal.account_id:
        return
    if principal.epoch < await epochs.current(principal.account_id):
        raise SessionEndedError(
            "This session has ended (logout, or a password or rights change): log in again"
        )


def _carries_credentials(scope: Scope) -> bool:
    """Whether the request has an Authorization or a Cookie header at all (raw, no parsing)."""
    return any(name in (b"authorization", b"cookie") for name, _ in scope["headers"])


async def optional_principal(request: Request) -> Principal | None:
    """The caller if a bearer token or session cookie is present and valid, else None."""
    if not _carries_credentials(request.scope):
        return None  # an anonymous request: no header objects, cookies or state are built
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    verifier: TokenVerifier = request.app.state.token_verifier
    token = _bearer(request)
    via_cookie = False
    if token is None:
        token = request.cookies.get(SESSION_COOKIE)
        via_cookie = token is not None
    if token is None:
        return None
    try:
        principal = verifier.verify(token)
        await _check_epoch(request, principal)
    except UnauthorizedError:
        if via_cookie:
            request.state.session_ended = True
            await _keep_form(request)
        raise
    path = relative_path(request)
    if principal.must_change_password and path not in PASSWORD_CHANGE_PATHS:
        request.state.password_change_required = True
        if via_cookie and not path.startswith("/api/"):
            raise PasswordChangePageRedirectError(
                "Change the temporary password first", location=_root(request) + "/ganti-sandi"
            )
        raise PasswordChangeRequiredError(
            "Change the temporary password first (POST /api/v1/auth/password)"
        )
    if via_cookie:
        if request.method not in SAFE_METHODS and not await _csrf_ok(request, token):
            raise ForbiddenError("The form has expired or did not come from this site; reload it")
        principal = Principal(
            account_id=principal.account_id,
            username=principal.username,
            roles=principal.roles,
            name=principal.name,
            unit=principal.unit,
            via_cookie=True,
            claims=principal.claims,
        )
        renewed = tokens_of(request).renewal(principal)
        if renewed is not None:
            request.state.renewed_session = renewed
    request.state.principal = principal
    return principal


async def current_principal(request: Request) -> Principal:
    # Calls `optional_principal` itself instead of depending on it: one dependency for FastAPI
    # to resolve instead of a chain (the principal is kept on `request.state` once verified).
    principal = await optional_principal(request)
    if principal is None:
        raise UnauthorizedError("Log in first: this needs an account")
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """The one place roles are checked: the caller must hold at least one of `roles`."""
    allowed = frozenset(roles)

    async def dependency(request: Request) -> Principal:
        principal = await current_principal(request)
        if not principal.roles & allowed:
            raise ForbiddenError(
                f"This needs one of the roles: {', '.join(sorted(allowed))}",
                required_roles=sorted(allowed),
            )
        return principal

    dependency.__name__ = "require_" + "_or_".join(sorted(allowed))
    return dependency


async def authenticate(
    db: Database, model: type[AccountMixin], username: str, password: str
) -> AccountMixin:
    """Check a password. Nothing is written unless it is right (then only to upgrade its hash).

    The account is read in a short read-only transaction that ends before the hash is verified:
    no connection (and, on SQLite, no write lock) is held during the ~0.3 s of argon2. An unknown
    username costs the same work as a wrong password (a dummy hash is verified) and gets the
    same answer.
    """
    intent = write_intent.set(False)
    try:
        async with db.sessionmaker() as session:
            account = (
                await session.execute(select(model).where(model.username == username.strip()))
            ).scalar_one_or_none()
        # Closing the session ends the transaction and detaches the account, loaded as it was.
    finally:
        write_intent.reset(intent)
    ok = await verify_password(account.password_hash if account is not None else None, password)
    if account is None or not ok or not account.active:
        raise UnauthorizedError("Incorrect username or password")
    if password_hasher().check_needs_rehash(account.password_hash):
        new_hash = await hash_password_async(password)
        async with db.sessionmaker.begin() as session:
            stored = await session.get(model, account.id)
            if stored is not None and stored.password_hash == account.password_hash:
                # same password, new parameters: not a password change, so the epoch (and
                # every other session of the account) stays
                stored.password_hash = new_hash
                stored.password_rehashes = (stored.password_rehashes or 0) + 1
                await session.flush()
                await session.refresh(stored, ["token_epoch"])
                account = stored
    return account


def login_guard_of(request: Request) -> LoginGuard:
    guard: LoginGuard = request.app.state.login_guard
    return guard


def account_epochs_of(request: Request) -> AccountEpochs | None:
    return getattr(request.app.state, "account_epochs", None)


async def login(
    request: Request, username: str, password: str, *, session: bool = False
) -> tuple[str, int]:
    """The one login flow of the API and the pages: (token, seconds until it expires).

    `session=True` issues a page-session token (sliding, see `LocalTokens`).
    """
    state = request.app.state
    address = client_address(request)
    guard = login_guard_of(request)
    guard.check(username, address)
    try:
        account = await authenticate(state.db, state.models.account, username, password)
    except UnauthorizedError:
        guard.failed(username, address)
        raise
    token, expires = tokens_of(request).issue(account, session=session)
    guard.succeeded(username, address)
    epochs = account_epochs_of(request)
    if epochs is not None:
        epochs.note(account.id, int(account.token_epoch or 0))
    return token, expires


async def end_sessions(request: Request, principal: Principal) -> None:
    """Logout: raise the account's epoch, so every token it holds is refused (all devices)."""
    model = request.app.state.models.account
    async with request.app.state.db.sessionmaker.begin() as db_session:
        await db_session.execute(
            update(model)
            .where(model.id == principal.account_id)
            .values(token_epoch=model.token_epoch + 1)
        )
    epochs = account_epochs_of(request)
    if epochs is not None:
        epochs.note(principal.account_id, principal.epoch + 1)


async def change_password(
    db_session: AsyncSession,
    model: type[AccountMixin],
    principal: Principal,
    current: str,
    new: str,
) -> AccountMixin:
    """The caller changes their own password; the epoch rises, so older tokens end.

    Returns the account as stored (with its new epoch) for a fresh token.
    """
    account = await db_session.get(model, principal.account_id)
    stored = account.password_hash if account is not None and account.active else None
    if not await verify_password(stored, current) or account is None:
        raise PasswordChangeError("The current password is not correct")
    if len(new) < 8 or new == current:
        raise PasswordChangeError(
            "The new password needs at least 8 characters and must differ from the current one"
        )
    account.password_hash = await hash_password_async(new)
    account.must_change_password = False
    await db_session.flush()
    await db_session.refresh(account, ["token_epoch"])
    return account


class PasswordChangeError(AppError):
    status = 422
    title = "Password not changed"
    type = "password-not-changed"
