"""Encryption at rest and blind indexes for personal identifiers (NIK, NPWP, bank accounts).

UU 27/2022 asks that such data be protected at rest, and the services must still find duplicates
(the same NIK applying twice) without decrypting every row. So each protected value is stored twice:

* encrypted with AES-256-GCM (`FieldCipher.encrypt`), readable only with the key, and
* as a blind index (`FieldCipher.blind_index`): a keyed HMAC that is equal for equal values, so an
  indexed column answers "is this NIK already here?" while revealing nothing without the key.

Both sub-keys come from one master key in configuration through HKDF, so there is one secret to
manage. Tokens name the key that made them (`v1:<kid>:<base64url>`), which lets a regency rotate
the master key: construct the cipher with the new key and the previous ones in `old_keys`, and
re-encrypt rows at leisure (`needs_rotation`, `reencrypt`).

Services either call the cipher in domain code or declare columns as `EncryptedString`, which
encrypts on the way in and decrypts on the way out with the cipher installed at start-up through
`set_field_cipher`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Dialect
from sqlalchemy.types import String, TypeDecorator

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "DecryptionError",
    "EncryptedString",
    "FieldCipher",
    "generate_master_key",
    "get_field_cipher",
    "set_field_cipher",
    "token_length",
]

TOKEN_VERSION = "v1"
MIN_KEY_BYTES = 32
NONCE_BYTES = 12  # the 96-bit nonce GCM is designed for
TAG_BYTES = 16
BLIND_INDEX_HEX_CHARS = 32
# A fixed, application-specific salt separates these sub-keys from anything else a regency might
# derive from the same secret; the master key itself supplies the entropy.
_HKDF_SALT = b"layanan-daerah/shared.crypto/v1"


class DecryptionError(Exception):
    """A token could not be decrypted: malformed, made by an unknown key, or tampered with."""


def _derive(master_key: bytes, info: bytes, length: int = 32) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=length, salt=_HKDF_SALT, info=info).derive(
        master_key
    )


def _b64decode(text: str) -> bytes:
    """Decode base64url or standard base64, with or without padding, rejecting stray characters."""
    normalized = text.strip().translate(str.maketrans("-_", "+/"))
    normalized += "=" * (-len(normalized) % 4)
    return base64.b64decode(normalized, validate=True)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _key_bytes(key: bytes | str) -> bytes:
    if isinstance(key, str):
        try:
            raw = _b64decode(key)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("the master key is not valid base64url") from exc
    else:
        raw = bytes(key)
    if len(raw) < MIN_KEY_BYTES:
        raise ValueError(f"the master key must be at least {MIN_KEY_BYTES} bytes, got {len(raw)}")
    return raw


def generate_master_key() -> str:
    """A fresh random 32-byte master key as base64url, for the regency's configuration."""
    return _b64encode(os.urandom(MIN_KEY_BYTES))


def token_length(plaintext_bytes: int) -> int:
    """Length of the token for a plaintext of this many UTF-8 bytes, to size a column."""
    payload = NONCE_BYTES + plaintext_bytes + TAG_BYTES
    b64_chars = (4 * payload + 2) // 3  # unpadded base64
    return len(TOKEN_VERSION) + 1 + 8 + 1 + b64_chars


class _KeySet:
    """The sub-keys derived from one master key."""

    __slots__ = ("aead", "index_key", "kid")

    def __init__(self, master_key: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        # The key id is derived, not configured, so it can never disagree with the key it names.
        self.kid = _derive(master_key, b"key-id", 4).hex()
        self.aead: AESGCM = AESGCM(_derive(master_key, b"encrypt"))
        self.index_key = _derive(master_key, b"blind-index")


class FieldCipher:
    """Encrypts short strings and computes blind indexes with keys derived from a master key.

    `master_key` is at least 32 random bytes, or their base64url text as kept in configuration.
    `old_keys` are previous master keys, still accepted for decryption during a key rotation.
    """

    def __init__(self, master_key: bytes | str, *, old_keys: Iterable[bytes | str] = ()) -> None:
        # Keys are checked now; the sub-keys are derived on first use, so that a service starts
        # without loading `cryptography` (about 9 MB resident).
        self._master = _key_bytes(master_key)
        self._old_masters = [_key_bytes(old) for old in old_keys]
        self._built: tuple[_KeySet, dict[str, _KeySet], list[_KeySet]] | None = None

    def _keysets(self) -> tuple[_KeySet, dict[str, _KeySet], list[_KeySet]]:
        if self._built is None:
            current = _KeySet(self._master)
            keys = {current.kid: current}
            old: list[_KeySet] = []
            for master in self._old_masters:
                keyset = _KeySet(master)
                if keyset.kid in keys:
                    continue  # the same key listed twice
                keys[keyset.kid] = keyset
                old.append(keyset)
            self._built = (current, keys, old)
        return self._built

    @property
    def _current(self) -> _KeySet:
        return self._keysets()[0]

    @property
    def _keys(self) -> dict[str, _KeySet]:
        return self._keysets()[1]

    @property
    def _old(self) -> list[_KeySet]:
        return self._keysets()[2]

    def __repr__(self) -> str:
        return f"FieldCipher(kid={self._current.kid!r}, old_keys={len(self._old)})"

    @property
    def key_id(self) -> str:
        """The id of the current key, as it appears in new tokens."""
        return self._current.kid

    @staticmethod
    def _aad(kid: str, context: str) -> bytes:
        # Authenticating the version and key id stops a token being relabelled; `context` lets
        # domain code bind a value to its place (e.g. "applicant:42:nik") so it cannot be copied
        # into another row unnoticed.
        return f"{TOKEN_VERSION}:{kid}:{context}".encode()

    def encrypt(self, plaintext: str, *, context: str = "") -> str:
        """Encrypt with a fresh random nonce: equal inputs give different tokens."""
        current = self._current  # once: a property that looks the key set up
        nonce = os.urandom(NONCE_BYTES)
        sealed = current.aead.encrypt(
            nonce, plaintext.encode("utf-8"), self._aad(current.kid, context)
        )
        return f"{TOKEN_VERSION}:{current.kid}:{_b64encode(nonce + sealed)}"

    def decrypt(self, token: str, *, context: str = "") -> str:
        """Decrypt a token made by the current or an old key; `DecryptionError` otherwise."""
        kid, blob = self._parse(token)
        keyset = self._keys.get(kid)
        if keyset is None:
            raise DecryptionError(f"token was made by unknown key '{kid}'")
        try:
            data = _b64decode(blob)
        except (binascii.Error, ValueError) as exc:
            raise DecryptionError("token is not valid base64url") from exc
        if len(data) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError("token is too short")
        from cryptography.exceptions import InvalidTag

        try:
            plaintext = keyset.aead.decrypt(
                data[:NONCE_BYTES], data[NONCE_BYTES:], self._aad(kid, context)
            )
        except InvalidTag as exc:
            raise DecryptionError("token failed authentication (tampered or wrong key)") from exc
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError as exc:  # pragma: no cover - authenticated data we wrote
            raise DecryptionError("token does not hold UTF-8 text") from exc

    @staticmethod
    def _parse(token: str) -> tuple[str, str]:
        if not isinstance(token, str):
            raise DecryptionError("token must be a string")
        parts = token.split(":")
        if len(parts) != 3 or parts[0] != TOKEN_VERSION:
            raise DecryptionError(f"token is not in the form '{TOKEN_VERSION}:<kid>:<data>'")
        return parts[1], parts[2]

    def needs_rotation(self, token: str) -> bool:
        """True when the token was made by an old key and should be re-encrypted."""
        return self._parse(token)[0] != self._current.kid

    def reencrypt(self, token: str, *, context: str = "") -> str:
        """The token's plaintext encrypted again under the current key."""
        return self.encrypt(self.decrypt(token, context=context), context=context)

    def blind_index(self, value: str, *, purpose: str) -> str:
        """A keyed hash of `value` for equality lookups: 32 hex characters (128 bits).

        `purpose` separates indexes (e.g. "nik", "npwp", "bank-account"), so equal strings in two
        columns do not share an index value and one column's index reveals nothing about another's.

        Only Unicode NFC normalization happens here. Bringing a value to its canonical form is the
        caller's job and must be done the same way on write and on lookup: for identifiers that
        means keeping digits only ("3273 0101-0190 0001" and "3273010101900001" are one NIK).
        """
        return self._blind_index(self._current, value, purpose)

    def blind_index_candidates(self, value: str, *, purpose: str) -> list[str]:
        """The index under the current key, then under each old key.

        During a rotation, rows not yet re-indexed still carry old-key indexes; look them up with
        `WHERE idx IN (...)` over these candidates.
        """
        return [self._blind_index(k, value, purpose) for k in (self._current, *self._old)]

    @staticmethod
    def _blind_index(keyset: _KeySet, value: str, purpose: str) -> str:
        if not purpose or "\x00" in purpose:
            raise ValueError("purpose must be a non-empty string without NUL characters")
        # The NUL separator keeps (purpose, value) pairs unambiguous: "ab"+"c" != "a"+"bc".
        message = (
            purpose.encode("utf-8") + b"\x00" + unicodedata.normalize("NFC", value).encode("utf-8")
        )
        digest = hmac.new(keyset.index_key, message, hashlib.sha256).hexdigest()
        return digest[:BLIND_INDEX_HEX_CHARS]


# --------------------------------------------------------------------------------------------------
# SQLAlchemy column type
# --------------------------------------------------------------------------------------------------

# Column types are built at import time, long before settings are read, so the cipher is looked up
# when a value is bound or loaded rather than passed to the type.
_field_cipher: FieldCipher | None = None


def set_field_cipher(cipher: FieldCipher | None) -> None:
    """Install the process-wide cipher used by `EncryptedString` (at start-up; `None` to clear)."""
    global _field_cipher
    _field_cipher = cipher


def get_field_cipher() -> FieldCipher:
    """The installed cipher; `RuntimeError` if start-up did not install one."""
    if _field_cipher is None:
        raise RuntimeError("no field cipher installed: call shared.crypto.set_field_cipher()")
    return _field_cipher


class EncryptedString(TypeDecorator[str]):
    """A string column stored as a `FieldCipher` token, decrypted transparently when loaded.

    Tokens are randomized, so the column cannot be compared, sorted or indexed usefully: filter on
    a blind-index column beside it instead. Size the column with `token_length`, e.g.
    `EncryptedString(token_length(16))` for a NIK, or leave the length out on PostgreSQL.
    """

    impl = String
    cache_ok = True

    # `dialect` is part of SQLAlchemy's signature; tokens are the same text on every database.
    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return get_field_cipher().encrypt(value)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return get_field_cipher().decrypt(value)
