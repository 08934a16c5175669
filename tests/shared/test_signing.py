"""Ed25519 signing of QR payloads and checkpoints, and the canonical JSON they sign."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from uuid import UUID

import pytest

from shared.signing import (
    SignatureError,
    Signer,
    canonical_json,
    public_key_id,
    verify,
    verify_payload,
)

# RFC 8032 section 7.1, test 1: a known seed, its public key and the signature of the empty message.
RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC8032_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)

PAYLOAD = {"doc": "izin", "no": "503/12/DPMPTSP/2026", "issued": "2026-03-02", "holder": "Ëndah"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture
def signer() -> Signer:
    return Signer.from_seed_b64(b64(RFC8032_SEED))


class TestSigner:
    def test_matches_the_rfc_8032_test_vector(self, signer: Signer) -> None:
        assert unb64(signer.public_key_b64()) == RFC8032_PUBLIC
        assert unb64(signer.sign(b"")) == RFC8032_SIGNATURE

    def test_public_key_is_unpadded_base64url_of_32_bytes(self, signer: Signer) -> None:
        public = signer.public_key_b64()
        assert "=" not in public
        assert len(unb64(public)) == 32

    def test_key_id_is_a_prefix_of_the_public_key_hash(self, signer: Signer) -> None:
        assert signer.key_id() == hashlib.sha256(RFC8032_PUBLIC).hexdigest()[:8]
        assert public_key_id(signer.public_key_b64()) == signer.key_id()

    def test_seed_round_trips(self) -> None:
        original = Signer.generate()
        again = Signer.from_seed_b64(original.seed_b64())
        assert again.public_key_b64() == original.public_key_b64()
        assert original.seed_b64() not in repr(original)

    def test_seed_with_padding_is_accepted(self) -> None:
        padded = base64.urlsafe_b64encode(RFC8032_SEED).decode()
        assert unb64(Signer.from_seed_b64(padded).public_key_b64()) == RFC8032_PUBLIC

    @pytest.mark.parametrize("seed", ["", b64(bytes(31)), b64(bytes(33)), "not*base64"])
    def test_bad_seed_is_rejected(self, seed: str) -> None:
        with pytest.raises(ValueError, match="seed"):
            Signer.from_seed_b64(seed)

    def test_generated_signers_differ(self) -> None:
        assert Signer.generate().public_key_b64() != Signer.generate().public_key_b64()

    def test_a_key_or_a_seed_make_the_same_signer(self, signer: Signer) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        from_key = Signer(Ed25519PrivateKey.from_private_bytes(RFC8032_SEED))
        from_seed = Signer(seed=RFC8032_SEED)
        assert from_key.public_key_b64() == from_seed.public_key_b64() == signer.public_key_b64()
        assert from_key.sign(b"x") == from_seed.sign(b"x")
        assert from_seed.seed_b64() == b64(RFC8032_SEED)

    def test_a_signer_needs_exactly_one_of_key_or_seed(self) -> None:
        with pytest.raises(TypeError):
            Signer()
        with pytest.raises(ValueError, match="seed"):
            Signer(seed=bytes(31))


class TestVerify:
    def test_valid_signature_verifies(self, signer: Signer) -> None:
        message = b"checkpoint:42:abcdef"
        assert verify(message, signer.sign(message), signer.public_key_b64())

    def test_other_message_or_key_does_not_verify(self, signer: Signer) -> None:
        signature = signer.sign(b"checkpoint:42")
        assert not verify(b"checkpoint:43", signature, signer.public_key_b64())
        assert not verify(b"checkpoint:42", signature, Signer.generate().public_key_b64())

    @pytest.mark.parametrize("signature", ["", "abc", "!!!", b64(bytes(64))])
    def test_malformed_signature_does_not_verify(self, signer: Signer, signature: str) -> None:
        assert not verify(b"m", signature, signer.public_key_b64())

    @pytest.mark.parametrize("public_key", ["", b64(bytes(16)), "a+b/"])
    def test_malformed_public_key_is_a_configuration_error(
        self, signer: Signer, public_key: str
    ) -> None:
        with pytest.raises(ValueError, match="public key"):
            verify(b"m", signer.sign(b"m"), public_key)


class TestPayloadTokens:
    def test_token_round_trips(self, signer: Signer) -> None:
        token = signer.sign_payload(PAYLOAD)
        assert verify_payload(token, signer.public_key_b64()) == PAYLOAD

    def test_token_is_canonical_json_and_signature(self, signer: Signer) -> None:
        body, signature = signer.sign_payload(PAYLOAD).split(".")
        assert unb64(body) == canonical_json(PAYLOAD)
        assert verify(unb64(body), signature, signer.public_key_b64())
        assert "=" not in body + signature

    def test_equal_payloads_give_equal_tokens_whatever_the_key_order(self, signer: Signer) -> None:
        reordered = dict(reversed(list(PAYLOAD.items())))
        assert signer.sign_payload(reordered) == signer.sign_payload(PAYLOAD)

    def test_modified_payload_fails(self, signer: Signer) -> None:
        body, signature = signer.sign_payload(PAYLOAD).split(".")
        forged = json.loads(unb64(body))
        forged["no"] = "503/99/DPMPTSP/2026"
        with pytest.raises(SignatureError, match="does not match"):
            verify_payload(f"{b64(canonical_json(forged))}.{signature}", signer.public_key_b64())

    def test_token_signed_by_another_key_fails(self, signer: Signer) -> None:
        token = Signer.generate().sign_payload(PAYLOAD)
        with pytest.raises(SignatureError):
            verify_payload(token, signer.public_key_b64())

    def test_signed_non_object_is_refused(self, signer: Signer) -> None:
        body = canonical_json(["not", "an", "object"])
        with pytest.raises(SignatureError, match="object"):
            verify_payload(f"{b64(body)}.{signer.sign(body)}", signer.public_key_b64())

    @pytest.mark.parametrize(
        "token",
        ["", "onlyonepart", "a.b.c", "!!!.???", ".", "eyJhIjoxfQ."],
    )
    def test_malformed_token_fails(self, signer: Signer, token: str) -> None:
        with pytest.raises(SignatureError):
            verify_payload(token, signer.public_key_b64())

    def test_truncated_signature_fails(self, signer: Signer) -> None:
        token = signer.sign_payload(PAYLOAD)
        with pytest.raises(SignatureError):
            verify_payload(token[:-4], signer.public_key_b64())


class Colour(Enum):
    RED = "merah"


class TestCanonicalJson:
    def test_keys_sorted_compact_and_utf8(self) -> None:
        assert (
            canonical_json({"b": 1, "a": [1, 2], "c": "Ë"}) == '{"a":[1,2],"b":1,"c":"Ë"}'.encode()
        )

    def test_rich_values_become_strings(self) -> None:
        value = {
            "at": datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
            "day": date(2026, 3, 2),
            "id": UUID("12345678-1234-5678-1234-567812345678"),
            "amount": Decimal("1500000"),
            "colour": Colour.RED,
            "raw": b"\xff\x00",
        }
        assert json.loads(canonical_json(value)) == {
            "at": "2026-03-02T09:30:00+00:00",
            "day": "2026-03-02",
            "id": "12345678-1234-5678-1234-567812345678",
            "amount": "1500000",
            "colour": "merah",
            "raw": "_wA",
        }

    def test_same_instant_encodes_the_same_in_any_zone_or_naive_from_sqlite(self) -> None:
        utc = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
        wib = utc.astimezone(timezone(timedelta(hours=7)))
        naive = utc.replace(tzinfo=None)
        assert (
            canonical_json({"t": utc}) == canonical_json({"t": wib}) == canonical_json({"t": naive})
        )

    def test_nan_is_refused(self) -> None:
        with pytest.raises(ValueError, match="JSON"):
            canonical_json({"x": float("nan")})

    def test_unknown_type_is_refused(self) -> None:
        with pytest.raises(TypeError, match="set"):
            canonical_json({"x": {1, 2}})
