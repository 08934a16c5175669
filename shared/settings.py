"""Settings base shared by the services: read from environment variables with a per-service prefix.

Each service subclasses `ServiceSettings` with `env_prefix="HAYU_"` (and so on). Outside
development,
placeholder or missing secrets stop start-up, so a deployment never runs on the demo keys.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.network import parse_trusted_proxies

DEV_SECRET = "development-only-secret-never-use-in-production"
PLACEHOLDER_SECRETS = frozenset({"", "changethis", "change-me", "secret", DEV_SECRET})


class ServiceSettings(BaseSettings):
    """What every service needs to start: where its data is, its keys and its regency file."""

    model_config = SettingsConfigDict(extra="ignore", env_file=None)

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        default="", description="SQLAlchemy URL (PostgreSQL or SQLite); default: var/<service>.db"
    )
    migration_database_url: str = Field(
        default="",
        description="URL of the role that owns the schema, used by `migrate` and `downgrade` "
        "only (default: database_url); the service itself logs in as a role that owns nothing",
    )
    audit_witness_urls: str = Field(
        default="",
        description="comma-separated URLs to which each new audit checkpoint is POSTed",
    )
    secret_key: str = Field(default=DEV_SECRET, description="signs tokens, sessions and CSRF")
    data_key: str = Field(
        default="", description="urlsafe base64 of 32 bytes: encrypts NIK, NPWP, bank accounts"
    )
    signing_seed: str = Field(
        default="", description="urlsafe base64 Ed25519 seed: signs audit checkpoints and QR codes"
    )
    regency_config: Path | None = Field(default=None, description="path to the regency TOML")
    problem_type_base: str = "https://problems.layanan-daerah.id"
    access_token_minutes: int = Field(default=60, ge=5, le=24 * 60)
    public_url: str = Field(default="", description="external base URL, used in QR codes")
    upload_dir: Path = Path("var/uploads")
    upload_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    background_tasks: bool = Field(default=True, description="run sealer and periodic jobs here")
    seal_interval_seconds: float = Field(default=5.0, gt=0)
    # The pool keeps every connection admission lets in: an overflow connection is closed when
    # it is returned, so 10 + 10 opened and closed connections all through a steady load of more
    # than 10 requests at once (tests/shared/test_pool_reuse.py). Opened lazily: a quiet service
    # holds only what it used. The most a process opens (pool + overflow) is 20, as before.
    db_pool_size: int = Field(default=20, ge=1)
    db_max_overflow: int = Field(default=0, ge=0)
    db_pool_timeout: float = Field(default=2.0, gt=0)
    max_in_flight: int | None = Field(
        default=None,
        ge=1,
        description="requests inside the app at once (default: the database pool's size plus "
        "overflow, so that an admitted request never queues for a connection)",
    )
    admission_wait_seconds: float = Field(
        default=1.5, gt=0, description="how long a request waits for a slot before a 503"
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="largest JSON or form body a route accepts"
    )
    max_upload_request_bytes: int = Field(
        default=21 * 1024 * 1024,
        ge=1024,
        description="largest multipart body of a route that takes a file (the file's own limit, "
        "upload_max_bytes, is checked by the route)",
    )
    body_timeout_seconds: float = Field(
        default=60.0, gt=0, description="a request body must arrive completely within this"
    )
    body_idle_seconds: float = Field(
        default=10.0, gt=0, description="longest pause allowed while a request body arrives"
    )
    body_min_rate_bytes: int = Field(
        default=1024, ge=0, description="slowest accepted body rate (bytes a second), after a grace"
    )
    body_grace_seconds: float = Field(default=5.0, ge=0)
    metrics_allowed_networks: list[str] = Field(
        default=["127.0.0.0/8", "::1/128"],
        description="networks whose direct (unproxied) connections may read /metrics",
    )
    metrics_token: str = Field(
        default="", description="a bearer token that may read /metrics from anywhere"
    )
    api_docs: bool | None = Field(
        default=None, description="serve /docs and /openapi.json (default: outside production)"
    )
    log_level: str = "INFO"
    # --- Login, sessions and tokens (see shared/auth.py and shared/sessions.py) ---
    login_max_failures: int = Field(
        default=5, ge=1, description="failed logins for one account from one address before 429"
    )
    login_lockout_seconds: int = Field(
        default=300, ge=1, description="window over which failed logins are counted"
    )
    login_max_failures_per_address: int = Field(
        default=30, ge=1, description="failed logins from one address, over all usernames"
    )
    login_lock_addresses: int = Field(
        default=10,
        ge=2,
        description="an account is locked for every address (except those it recently logged in "
        "from) when its failed logins come from this many different addresses in the window",
    )
    password_hash_concurrency: int = Field(
        default=2, ge=1, description="argon2 hashes at once per process (64 MiB each)"
    )
    password_hash_wait_seconds: float = Field(
        default=3.0, gt=0, description="how long a login waits for a hashing slot before a 503"
    )
    session_idle_minutes: int = Field(
        default=60, ge=5, le=24 * 60, description="a page session ends after this long unused"
    )
    session_max_hours: float = Field(
        default=12, gt=0, le=7 * 24, description="a page session ends this long after login"
    )
    revocation_refresh_seconds: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="how often a process re-reads which accounts' tokens were revoked",
    )
    trusted_proxies: str = Field(
        default="",
        description="comma-separated addresses/CIDR networks of reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed (default: none)",
    )

    # Set by subclasses.
    service_name: str = "service"

    @field_validator("metrics_allowed_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for net in value:
            ipaddress.ip_network(net, strict=False)  # a ValueError names the bad entry
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.netloc):
            raise ValueError("must be an absolute http(s) URL such as https://layanan.example.id")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _witnesses_are_urls(self) -> ServiceSettings:
        for url in self.witness_urls():
            if not url.startswith(("https://", "http://")) or len(url) > 500:
                prefix = (self.model_config.get("env_prefix") or "").upper()
                raise ValueError(
                    f"{prefix}AUDIT_WITNESS_URLS: {url!r} is not an http(s) URL of at most 500 "
                    "characters"
                )
        return self

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> ServiceSettings:
        parse_trusted_proxies(self.trusted_proxies)  # a typo stops start-up, not the throttle
        prefix = (self.model_config.get("env_prefix") or "").upper()
        if self.environment == "production":
            for name in ("secret_key", "data_key", "signing_seed"):
                if getattr(self, name).strip().lower() in PLACEHOLDER_SECRETS:
                    raise ValueError(
                        f"{prefix}{name.upper()} must be set to a real secret in production"
                    )
        if self.environment == "production" and not self.public_url:
            # Printed links and QR codes would otherwise take the request's Host header.
            raise ValueError(f"{prefix}PUBLIC_URL must be set in production")
        return self

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///var/{self.service_name}.db"

    def resolved_migration_url(self) -> str:
        return self.migration_database_url or self.resolved_database_url()

    def witness_urls(self) -> list[str]:
        return [u.strip() for u in self.audit_witness_urls.split(",") if u.strip()]

    def derived_key(self, purpose: str) -> bytes:
        """A development fallback key derived from the secret, so demo mode needs no setup."""
        return hashlib.sha256(f"{purpose}:{self.secret_key}".encode()).digest()

    def data_key_bytes(self) -> bytes:
        if self.data_key:
            return base64.urlsafe_b64decode(self.data_key + "=" * (-len(self.data_key) % 4))
        return self.derived_key("data-key")

    def signing_seed_bytes(self) -> bytes:
        if self.signing_seed:
            return base64.urlsafe_b64decode(self.signing_seed + "=" * (-len(self.signing_seed) % 4))
        return self.derived_key("signing-seed")


def is_production(settings: ServiceSettings) -> bool:
    return settings.environment == "production"
