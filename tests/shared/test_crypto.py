"""Encryption at rest and blind indexes for NIK, NPWP and bank account numbers."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select, text

from shared.crypto import (
    DecryptionError,
    EncryptedString,
    FieldCipher,
    generate_master_key,
    get_field_cipher,
    set_field_cipher,
    token_length,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
NIK = "3273014101900002"
# Made under KEY by the cryptography-based derivation used before (see TestKeyDerivation).
KNOWN_KID = "2bf8a636"
KNOWN_NIK_INDEX = "49a6cbcc3f93d33415ae7b2a07b951bc"
KNOWN_TOKEN = "v1:2bf8a636:AAAAAAAAAAAAAAAALK5xkf8b0DxYc-JLTFi6eMSshxIJdeuIG3UJ5X-EMA8"


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(KEY)


def _flip_byte(token: str, index: int) -> str:
    """The token with one bit of its nonce, ciphertext or tag flipped."""
    version, kid, blob = token.split(":")
    data = bytearray(base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4)))
    data[index] ^= 0x01
    return f"{version}:{kid}:{base64.urlsafe_b64encode(bytes(data)).decode().rstrip('=')}"


class TestEncryption:
    def test_round_trip(self, cipher: FieldCipher) -> None:
        assert cipher.decrypt(cipher.encrypt(NIK)) == NIK
        assert cipher.decrypt(cipher.encrypt("")) == ""
        assert cipher.decrypt(cipher.encrypt("Ni Luh Ayu Ëndah")) == "Ni Luh Ayu Ëndah"

    def test_token_names_version_and_key_and_hides_the_value(self, cipher: FieldCipher) -> None:
        token = cipher.encrypt(NIK)
        assert re.fullmatch(r"v1:[0-9a-f]{8}:[A-Za-z0-9_-]+", token)
        assert token.split(":")[1] == cipher.key_id
        assert NIK not in token

    def test_equal_values_give_different_tokens(self, cipher: FieldCipher) -> None:
        assert cipher.encrypt(NIK) != cipher.encrypt(NIK)

    @pytest.mark.parametrize(
        "position", [0, 11, 12, 27, -1], ids=["nonce", "nonce-end", "ct", "ct-end", "tag"]
    )
    def test_tampered_token_is_refused(self, cipher: FieldCipher, position: int) -> None:
        token = cipher.encrypt(NIK)
        with pytest.raises(DecryptionError, match="failed authentication"):
            cipher.decrypt(_flip_byte(token, position))

    def test_relabelled_key_id_is_refused(self, cipher: FieldCipher) -> None:
        rotated = FieldCipher(OTHER_KEY, old_keys=[KEY])
        token = cipher.encrypt(NIK)
        forged = token.replace(cipher.key_id, rotated.key_id)
        with pytest.raises(DecryptionError):
            rotated.decrypt(forged)

    def test_token_from_another_key_is_refused(self, cipher: FieldCipher) -> None:
        with pytest.raises(DecryptionError, match="unknown key"):
            FieldCipher(OTHER_KEY).decrypt(cipher.encrypt(NIK))

    def test_context_binds_the_token_to_its_place(self, cipher: FieldCipher) -> None:
        token = cipher.encrypt(NIK, context="applicant:1:nik")
        assert cipher.decrypt(token, context="applicant:1:nik") == NIK
        with pytest.raises(DecryptionError):
            cipher.decrypt(token, context="applicant:2:nik")
        with pytest.raises(DecryptionError):
            cipher.decrypt(token)

    @pytest.mark.parametrize(
        "token",
        ["", NIK, "v1:abc", "v2:00000000:AAAA", "v1:{kid}:", "v1:{kid}:AAAA", "v1:{kid}:!!!!"],
    )
    def test_malformed_token_is_refused(self, cipher: FieldCipher, token: str) -> None:
        with pytest.raises(DecryptionError):
            cipher.decrypt(token.format(kid=cipher.key_id))

    def test_key_may_be_given_as_base64url_text(self) -> None:
        text_key = base64.urlsafe_b64encode(KEY).decode().rstrip("=")
        from_text = FieldCipher(text_key)
        assert from_text.key_id == FieldCipher(KEY).key_id
        assert FieldCipher(KEY).decrypt(from_text.encrypt(NIK)) == NIK

    @pytest.mark.parametrize("key", [b"short", bytes(31), "c2hvcnQ", "not base64 at all!"])
    def test_weak_or_malformed_key_is_rejected(self, key: bytes | str) -> None:
        with pytest.raises(ValueError, match="master key"):
            FieldCipher(key)

    def test_generated_key_is_usable(self) -> None:
        key = generate_master_key()
        assert len(base64.urlsafe_b64decode(key + "=")) == 32
        assert FieldCipher(key).decrypt(FieldCipher(key).encrypt(NIK)) == NIK

    def test_repr_shows_no_key_material(self, cipher: FieldCipher) -> None:
        assert KEY.hex() not in repr(cipher)
        assert cipher.key_id in repr(cipher)

    @pytest.mark.parametrize("value", ["", NIK, "1234567890123456789012", "Ëndah"])
    def test_token_length_predicts_the_column_size(self, cipher: FieldCipher, value: str) -> None:
        assert len(cipher.encrypt(value)) == token_length(len(value.encode()))


class TestRotation:
    def test_old_tokens_still_decrypt_and_are_flagged_for_rotation(self) -> None:
        old_token = FieldCipher(KEY).encrypt(NIK)
        rotated = FieldCipher(OTHER_KEY, old_keys=[KEY])
        assert rotated.decrypt(old_token) == NIK
        assert rotated.needs_rotation(old_token)

        fresh = rotated.reencrypt(old_token)
        assert not rotated.needs_rotation(fresh)
        assert fresh.split(":")[1] == rotated.key_id
        with pytest.raises(DecryptionError):
            FieldCipher(KEY).decrypt(fresh)

    def test_current_key_listed_as_old_is_harmless(self) -> None:
        cipher = FieldCipher(KEY, old_keys=[KEY])
        assert cipher.decrypt(cipher.encrypt(NIK)) == NIK
        assert len(cipher.blind_index_candidates(NIK, purpose="nik")) == 1


class TestBlindIndex:
    def test_equal_values_give_equal_indexes(self, cipher: FieldCipher) -> None:
        first = cipher.blind_index(NIK, purpose="nik")
        assert first == cipher.blind_index(NIK, purpose="nik")
        assert first == FieldCipher(KEY).blind_index(NIK, purpose="nik")
        assert re.fullmatch(r"[0-9a-f]{32}", first)

    def test_different_values_give_different_indexes(self, cipher: FieldCipher) -> None:
        assert cipher.blind_index(NIK, purpose="nik") != cipher.blind_index(
            "3273014101900003", purpose="nik"
        )

    def test_purposes_are_separated(self, cipher: FieldCipher) -> None:
        assert cipher.blind_index(NIK, purpose="nik") != cipher.blind_index(NIK, purpose="npwp")
        # The separator keeps purpose and value from running into each other.
        assert cipher.blind_index("b1", purpose="a") != cipher.blind_index("1", purpose="ab")

    def test_index_depends_on_the_key(self, cipher: FieldCipher) -> None:
        assert cipher.blind_index(NIK, purpose="nik") != FieldCipher(OTHER_KEY).blind_index(
            NIK, purpose="nik"
        )

    def test_index_is_not_a_plain_hash(self, cipher: FieldCipher) -> None:
        import hashlib

        plain = hashlib.sha256(NIK.encode()).hexdigest()[:32]
        assert cipher.blind_index(NIK, purpose="nik") != plain

    def test_unicode_forms_are_unified_but_formatting_is_the_callers_job(
        self, cipher: FieldCipher
    ) -> None:
        composed, decomposed = "\u00cbndah", "E\u0308ndah"
        assert cipher.blind_index(composed, purpose="name") == cipher.blind_index(
            decomposed, purpose="name"
        )
        assert cipher.blind_index("3273 0141 0190 0002", purpose="nik") != cipher.blind_index(
            NIK, purpose="nik"
        )

    @pytest.mark.parametrize("purpose", ["", "ni\x00k"])
    def test_purpose_is_required(self, cipher: FieldCipher, purpose: str) -> None:
        with pytest.raises(ValueError, match="purpose"):
            cipher.blind_index(NIK, purpose=purpose)

    def test_candidates_cover_old_keys_during_rotation(self) -> None:
        old_index = FieldCipher(KEY).blind_index(NIK, purpose="nik")
        rotated = FieldCipher(OTHER_KEY, old_keys=[KEY])
        candidates = rotated.blind_index_candidates(NIK, purpose="nik")
        assert candidates == [rotated.blind_index(NIK, purpose="nik"), old_index]


@pytest.fixture
def installed_cipher(cipher: FieldCipher) -> Iterator[FieldCipher]:
    set_field_cipher(cipher)
    yield cipher
    set_field_cipher(None)


class TestEncryptedString:
    @staticmethod
    def _table() -> Table:
        return Table(
            "applicant",
            MetaData(),
            Column("id", Integer, primary_key=True),
            Column("nik", EncryptedString(token_length(16))),
            Column("nik_index", String(32)),
        )

    def test_values_are_stored_encrypted_and_read_back_in_clear(
        self, installed_cipher: FieldCipher
    ) -> None:
        table = self._table()
        engine = create_engine("sqlite://")
        table.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(
                insert(table),
                [
                    {
                        "id": 1,
                        "nik": NIK,
                        "nik_index": installed_cipher.blind_index(NIK, purpose="nik"),
                    },
                    {"id": 2, "nik": None, "nik_index": None},
                ],
            )
            raw = conn.execute(text("SELECT nik FROM applicant WHERE id = 1")).scalar_one()
            assert raw.startswith("v1:")
            assert NIK not in raw
            assert installed_cipher.decrypt(raw) == NIK

            rows = conn.execute(select(table.c.id, table.c.nik).order_by(table.c.id)).all()
            assert [tuple(row) for row in rows] == [(1, NIK), (2, None)]

            found = conn.execute(
                select(table.c.id).where(
                    table.c.nik_index == installed_cipher.blind_index(NIK, purpose="nik")
                )
            ).scalar_one()
            assert found == 1

    def test_column_refuses_to_work_without_an_installed_cipher(self) -> None:
        set_field_cipher(None)
        table = self._table()
        engine = create_engine("sqlite://")
        table.metadata.create_all(engine)
        with engine.begin() as conn, pytest.raises(Exception, match="set_field_cipher"):
            conn.execute(insert(table), {"id": 1, "nik": NIK})
        with pytest.raises(RuntimeError):
            get_field_cipher()


class TestKeyDerivation:
    """Sub-keys are derived on first use (start-up loads no `cryptography`); the bytes must stay
    exactly the ones stored tokens and blind indexes were made with."""

    def test_known_key_id_and_blind_index_do_not_change(self, cipher: FieldCipher) -> None:
        # Values computed with the earlier, cryptography-based derivation.
        assert cipher.key_id == KNOWN_KID
        assert cipher.blind_index(NIK, purpose="nik") == KNOWN_NIK_INDEX

    def test_a_token_made_before_decrypts(self, cipher: FieldCipher) -> None:
        assert cipher.decrypt(KNOWN_TOKEN, context="applicant:1:nik") == NIK
