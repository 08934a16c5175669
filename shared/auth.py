"""Accounts, passwords, tokens and roles, the same in every service (each keeps its own accounts).

- Passwords are argon2id, hashed off the event loop.
- The API takes bearer JWTs; the pages keep the same token in an HttpOnly, SameSite cookie, and a
  state-changing request authenticated by that cookie must carry the CSRF token derived from it.
- Roles are checked in one dependency, `require_roles`. Tokens are verified without a database
  round trip, so a role change takes effect when the token expires (`access_token_minutes`).
- Failed logins are counted on the account; past the limit the account is locked for a while and the
  token endpoint answers 429 with Retry-After.
- `TokenVerifier` is the seam where a regency's OpenID Connect provider can be accepted later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from fastapi import Depends, Request
from sqlalchemy import Boolean, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from starlette.concurrency import run_in_threadpool

from shared.db import BigIntId, JSONType, UTCDateTime, utcnow
from shared.problems import AppError, ForbiddenError, TooManyRequestsError, UnauthorizedError

if TYPE_CHECKING:
    from argon2 import PasswordHasher

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


def hash_password(password: str) -> str:
    return password_hasher().hash(password)


async def hash_password_async(password: str) -> str:
    return await run_in_threadpool(password_hasher().hash, password)


def _verify(password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    try:
        return password_hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


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


class TokenVerifier(Protocol):
    def verify(self, token: str) -> Principal: ...


@dataclass(frozen=True)
class LocalTokens:
    """HS256 tokens issued and verified by the service itself."""

    secret: str
    issuer: str
    minutes: int = 60

    # PyJWT is imported on the first token issued or verified, not at start-up: importing it loads
    # `cryptography`'s OpenSSL bindings (about 9 MB resident) although HS256 needs only hmac.

    def issue(self, account: AccountMixin) -> tuple[str, int]:
        import jwt

        now = utcnow()
        expires = self.minutes * 60
        claims = {
            "sub": account.username,
            "uid": account.id,
            "roles": list(account.roles),
            "name": account.full_name,
            "unit": account.unit,
            "iss": self.issuer,
            "iat": int(now.timestamp()),
            "exp": int(now.timestamp()) + expires,
        }
        return jwt.encode(claims, self.secret, algorithm="HS256"), expires

    def verify(self, token: str) -> Principal:
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
            raise UnauthorizedError("The access token has expired; log in again") from None
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
        mac = hmac.new(self.secret.encode(), b"csrf:" + session_token.encode(), hashlib.sha256)
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


async def optional_principal(request: Request) -> Principal | None:
    """The caller if a bearer token or session cookie is present and valid, else None."""
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
    principal = verifier.verify(token)
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
    request.state.principal = principal
    return principal


async def current_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise UnauthorizedError("Log in first: this needs an account")
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """The one place roles are checked: the caller must hold at least one of `roles`."""
    allowed = frozenset(roles)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.roles & allowed:
            raise ForbiddenError(
                f"This needs one of the roles: {', '.join(sorted(allowed))}",
                required_roles=sorted(allowed),
            )
        return principal

    dependency.__name__ = "require_" + "_or_".join(sorted(allowed))
    return dependency


async def authenticate(
    session: AsyncSession,
    model: type[AccountMixin],
    username: str,
    password: str,
    *,
    max_failures: int,
    lockout_seconds: int,
) -> AccountMixin:
    """Check a password, counting failures; the caller commits `session` even when this raises."""
    account = (
        await session.execute(select(model).where(model.username == username.strip()))
    ).scalar_one_or_none()
    now = utcnow()
    if account is not None and account.locked_until is not None and account.locked_until > now:
        wait = int((account.locked_until - now).total_seconds()) + 1
        raise TooManyRequestsError(
            "Too many failed logins: wait before trying again", retry_after=wait
        )
    stored = account.password_hash if account is not None else _DUMMY_HASH
    ok = await run_in_threadpool(_verify, stored, password)
    if account is None or not ok or not account.active:
        if account is not None:
            account.failed_logins += 1
            if account.failed_logins >= max_failures:
                account.locked_until = now + dt.timedelta(seconds=lockout_seconds)
                account.failed_logins = 0
        raise UnauthorizedError("Incorrect username or password")
    account.failed_logins = 0
    account.locked_until = None
    if password_hasher().check_needs_rehash(account.password_hash):
        account.password_hash = await hash_password_async(password)
    return account


class AddressThrottle:
    """Failed logins per client address in a sliding window, against password spraying.

    Kept in memory: each replica counts on its own, so N replicas allow N times the limit. The
    per-account lock (on the account row) is the one that holds across replicas.
    """

    def __init__(self, max_failures: int = 30, window_seconds: float = 300.0) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, address: str, now: float) -> deque[float]:
        times = self._failures.setdefault(address, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def check(self, address: str) -> None:
        now = time.monotonic()
        times = self._recent(address, now)
        if len(times) >= self.max_failures:
            wait = int(times[0] + self.window - now) + 1
            raise TooManyRequestsError(
                "Too many failed logins from this address: wait before trying again",
                retry_after=wait,
            )

    def failed(self, address: str) -> None:
        if len(self._failures) > 50_000:  # bounded memory under a flood of addresses
            self._failures.clear()
        self._recent(address, time.monotonic()).append(time.monotonic())


async def login(request: Request, username: str, password: str) -> tuple[str, int]:
    """The one login flow of the API and the pages: (token, seconds until it expires).

    Failure counters are committed in their own transaction before the error is raised.
    """
    state = request.app.state
    settings = state.settings
    address = request.client.host if request.client else "unknown"
    throttle: AddressThrottle = state.login_throttle
    throttle.check(address)
    failure: AppError | None = None
    async with state.db.sessionmaker.begin() as session:
        try:
            account = await authenticate(
                session,
                state.models.account,
                username,
                password,
                max_failures=settings.login_max_failures,
                lockout_seconds=settings.login_lockout_seconds,
            )
            token, expires = tokens_of(request).issue(account)
        except AppError as exc:
            failure = exc
    if failure is not None:
        if failure.status == 401:
            throttle.failed(address)
        raise failure
    return token, expires
