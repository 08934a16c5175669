"""Form errors for people: every pydantic message a form can meet comes out in Indonesian."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field, StringConstraints, ValidationError

from shared.pesan import field_errors, problem_id
from shared.problems import ConflictError, NotFoundError
from shared.validators import NIK, NPWP, KodeWilayah, PhoneNumber


class Form(BaseModel):
    name: Annotated[str, StringConstraints(min_length=2)]
    nik: NIK
    npwp: NPWP
    phone: PhoneNumber
    region: KodeWilayah
    amount: Annotated[int, Field(strict=True, ge=0)]
    username: Annotated[str, StringConstraints(pattern=r"^[a-z]+$")]


def _field_of(loc: tuple[Any, ...]) -> tuple[str | None, str]:
    return str(loc[-1]), str(loc[-1]).upper()


def test_every_message_is_indonesian_and_names_its_field() -> None:
    with pytest.raises(ValidationError) as caught:
        Form.model_validate(
            {
                "name": "x",
                "nik": "123",
                "npwp": "1",
                "phone": "12",
                "region": "32.7",
                "amount": "1.000",
                "username": "A B",
            }
        )
    errors = field_errors(caught.value, _field_of, {"username": "huruf kecil saja"})
    by_field = {e.field: e.message for e in errors}
    assert by_field == {
        "name": "terlalu pendek, minimal 2 karakter",
        "nik": "harus tepat 16 angka",
        "npwp": "harus 15 angka (format lama) atau 16 angka (NIK)",
        "phone": "bukan nomor telepon Indonesia yang valid, contoh 081234567890",
        "region": "tulis seperti 32.73.01 atau 32.73.01.1001",
        "amount": "tulis angka bulat tanpa sen atau huruf, misalnya 150000000",
        "username": "huruf kecil saja",
    }
    assert str(errors[0]) == "NAME: terlalu pendek, minimal 2 karakter"


def test_problems_use_the_service_sentence_then_a_generic_one() -> None:
    assert problem_id(NotFoundError("No such thing"), {}) == "Data tidak ditemukan."
    assert problem_id(ConflictError("x"), {"conflict": "Sudah ada."}) == "Sudah ada."
    assert problem_id(ConflictError("x"), {"conflict": lambda e: f"<{e.detail}>"}) == "<x>"
