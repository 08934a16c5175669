"""Ed25519 signatures for document QR codes and audit checkpoints, and the canonical JSON they sign.

A service signs with a seed from its configuration and publishes the public key, so anyone can check
a certificate's QR code or an audit checkpoint offline. A signed payload travels as a compact token,
`base64url(canonical JSON) "." base64url(signature)`, short enough for a QR code.

`canonical_json` is the single byte encoding of structured data that is signed or hashed: sorted
keys, no spaces, UTF-8, with dates, times, UUIDs and decimals as strings. The audit hash chain uses
it too, so a value must encode to the same bytes whether it was just written or read back from
PostgreSQL or SQLite.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import json
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

# `cryptography` is imported where a key is first used, not at import: its OpenSSL bindings cost
# about 9 MB in every serving process, and an idle service signs and verifies nothing.

__all__ = [
    "SignatureError",
    "Signer",
    "canonical_json",
    "load_public_key",
    "public_key_id",
    "verify",
    "verify_payload",
]

SEED_BYTES = 32
PUBLIC_KEY_BYTES = 32


class SignatureError(Exception):
    """A signed token is malformed or its signature does not match."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict base64url decoding that tolerates missing padding (tokens are sent without it)."""
    normalized = text.strip()
    if not normalized.isascii() or any(c in "+/" for c in normalized):
        raise ValueError("not base64url")
    normalized += "=" * (-len(normalized) % 4)
    return base64.b64decode(normalized.translate(str.maketrans("-_", "+/")), validate=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        # Times are stored in UTC, but SQLite hands them back naive: reading a naive datetime as
        # UTC makes a row hash the same before and after a round trip through either database.
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return _b64encode(value)
    raise TypeError(f"canonical_json cannot encode {type(value).__name__}")


def canonical_json(obj: Any) -> bytes:
    """The canonical UTF-8 JSON encoding of `obj`, for signing and hashing.

    Keys are sorted and separators compact. Datetimes become ISO 8601 in UTC (naive ones are taken
    as UTC), dates and times ISO 8601, UUIDs and decimals strings, enums their value, bytes
    base64url. NaN and infinity are refused, having no JSON form.
    """
    return json.dumps(
        obj,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_json_default,
    ).encode("utf-8")


def _key_bytes(text: str, size: int, what: str) -> bytes:
    """`size` raw bytes from base64url; `ValueError` naming `what` if malformed or of other size."""
    try:
        raw = _b64decode(text)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"{what} is not valid base64url") from exc
    if len(raw) != size:
        raise ValueError(f"{what} must be {size} bytes, got {len(raw)}")
    return raw


def load_public_key(public_key_b64: str) -> Ed25519PublicKey:
    """The Ed25519 public key from its raw 32 bytes in base64url; `ValueError` if malformed."""
    raw = _key_bytes(public_key_b64, PUBLIC_KEY_BYTES, "public key")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    return Ed25519PublicKey.from_public_bytes(raw)


def public_key_id(public_key_b64: str) -> str:
    """The short id of a published key: the first 8 hex characters of SHA-256 of its raw bytes."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = load_public_key(public_key_b64).public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:8]


class Signer:
    """Signs with an Ed25519 private key built from a 32-byte seed.

    Made from a seed (`from_seed_b64`), the key itself is built on first use, so a service that
    has not signed or published anything yet has not loaded `cryptography`.
    """

    def __init__(
        self, private_key: Ed25519PrivateKey | None = None, *, seed: bytes | None = None
    ) -> None:
        if (private_key is None) == (seed is None):
            raise TypeError("Signer needs exactly one of a private key or a seed")
        if seed is not None and len(seed) != SEED_BYTES:
            raise ValueError(f"signing seed must be {SEED_BYTES} bytes, got {len(seed)}")
        self._key = private_key
        self._seed = seed
        self._public: bytes | None = None

    @property
    def _private_key(self) -> Ed25519PrivateKey:
        key = self._key
        if key is None:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

            # Two threads may both build it: the same key from the same seed, so no lock.
            key = self._key = Ed25519PrivateKey.from_private_bytes(bytes(self._seed or b""))
        return key

    @property
    def _public_raw(self) -> bytes:
        if self._public is None:
            from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

            key = self._private_key.public_key()
            self._public = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return self._public

    @classmethod
    def from_seed_b64(cls, seed_b64: str) -> Signer:
        """From the base64url seed kept in configuration; `ValueError` if it is not 32 bytes."""
        return cls(seed=_key_bytes(seed_b64, SEED_BYTES, "signing seed"))

    @classmethod
    def generate(cls) -> Signer:
        """A signer with a fresh random key (export it with `seed_b64` to keep it)."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return cls(Ed25519PrivateKey.generate())

    def __repr__(self) -> str:
        # Never show the seed.
        return f"Signer(key_id={self.key_id()!r})"

    def seed_b64(self) -> str:
        """The private seed as base64url without padding: secret, for configuration only."""
        from cryptography.hazmat.primitives.serialization import (
            Encoding,
            NoEncryption,
            PrivateFormat,
        )

        raw = self._private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return _b64encode(raw)

    def public_key_b64(self) -> str:
        """The raw 32-byte public key as base64url without padding, for publication."""
        return _b64encode(self._public_raw)

    def key_id(self) -> str:
        """The first 8 hex characters of SHA-256 of the raw public key."""
        return hashlib.sha256(self._public_raw).hexdigest()[:8]

    def sign(self, message: bytes) -> str:
        """The signature of `message` as base64url without padding."""
        return _b64encode(self._private_key.sign(message))

    def sign_payload(self, payload: dict[str, Any]) -> str:
        """A compact token `base64url(canonical_json(payload)).base64url(signature)`.

        The signature covers the canonical JSON bytes, so the token verifies without re-encoding.
        When a service may rotate keys, put its `key_id()` in the payload so verifiers can pick
        the right published key.
        """
        body = canonical_json(payload)
        return f"{_b64encode(body)}.{self.sign(body)}"


def verify(message: bytes, signature_b64: str, public_key_b64: str) -> bool:
    """Whether `signature_b64` is a valid signature of `message` by the key.

    A malformed signature is simply not valid (False); a malformed public key is a configuration
    mistake and raises `ValueError`.
    """
    from cryptography.exceptions import InvalidSignature

    public_key = load_public_key(public_key_b64)
    try:
        signature = _b64decode(signature_b64)
        public_key.verify(signature, message)
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


def verify_payload(token: str, public_key_b64: str) -> dict[str, Any]:
    """The payload of a token made by `Signer.sign_payload`, after checking its signature.

    Raises `SignatureError` for any malformed or forged token, `ValueError` for a malformed key.
    """
    from cryptography.exceptions import InvalidSignature

    public_key = load_public_key(public_key_b64)
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 2:
        raise SignatureError("token must have the form <payload>.<signature>")
    try:
        body = _b64decode(parts[0])
        signature = _b64decode(parts[1])
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("token is not valid base64url") from exc
    try:
        public_key.verify(signature, body)
    except InvalidSignature as exc:
        raise SignatureError("signature does not match the payload") from exc
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:  # pragma: no cover - signed by us
        raise SignatureError("payload is not JSON") from exc
    if not isinstance(payload, dict):
        raise SignatureError("payload is not a JSON object")
    return payload
