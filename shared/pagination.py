"""Keyset pagination: `limit` and an opaque `cursor`, so page 1,000 costs what page 1 costs."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from shared.problems import BadRequestError

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

LimitQuery = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"page size, at most {MAX_LIMIT}")
]
CursorQuery = Annotated[
    str | None, Query(max_length=500, description="the next_cursor of the previous page")
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class InvalidCursorError(BadRequestError):
    title = "Invalid cursor"
    type = "invalid-cursor"


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "dt" in value:
            return dt.datetime.fromisoformat(value["dt"])
        if "d" in value:
            return dt.date.fromisoformat(value["d"])
        raise ValueError("unknown cursor value")
    return value


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([_encode_value(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != arity:
            raise ValueError("wrong arity")
        if any(isinstance(v, int) and not -(2**63) <= v < 2**63 for v in values):
            raise ValueError("out of range")  # a database integer: larger ones overflow drivers
        return [_decode_value(v) for v in values]
    except (ValueError, binascii.Error, json.JSONDecodeError):
        raise InvalidCursorError("The cursor is not one this list gave out") from None


async def keyset_page(
    session: AsyncSession,
    stmt: Select[Any] | Any,
    *,
    keys: Sequence[Any],
    limit: int,
    cursor: str | None,
    descending: bool = True,
) -> tuple[list[Any], str | None]:
    """Rows of `stmt` ordered by `keys` (unique together), after `cursor`, and the next cursor.

    `stmt` selects one entity or row shape; the key values of the last row are read back from the
    row by the keys' names, so each key must be selected under its own name.
    """
    if cursor:
        values = decode_cursor(cursor, len(keys))
        _check_key_types(values, keys)
        row_key = tuple_(*keys)
        bound = tuple_(*values)
        stmt = stmt.where(row_key < bound if descending else row_key > bound)
    order = [k.desc() if descending else k.asc() for k in keys]
    result = await session.execute(stmt.order_by(*order).limit(limit + 1))
    rows = list(result.scalars().all()) if len(result.keys()) == 1 else list(result.all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, _key_name(k)) for k in keys])
    return rows, next_cursor


def _python_type(key: Any) -> type | None:
    try:
        return key.type.python_type  # type: ignore[no-any-return]
    except (AttributeError, NotImplementedError):
        return None


def _check_key_types(values: Sequence[Any], keys: Sequence[Any]) -> None:
    """A cursor's values must have the types of the key columns they are compared with: a crafted
    cursor (a text where an id belongs, a date without a time zone) is a 400, not a database
    error."""
    for value, key in zip(values, keys, strict=True):
        expected = _python_type(key)
        if value is None:
            ok = False
        elif expected is None:
            ok = True
        elif expected is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif expected is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif expected is dt.datetime:
            ok = isinstance(value, dt.datetime) and value.tzinfo is not None
        elif expected is dt.date:
            ok = isinstance(value, dt.date) and not isinstance(value, dt.datetime)
        else:
            ok = isinstance(value, expected)
        if not ok:
            raise InvalidCursorError("The cursor is not one this list gave out")


def _key_name(key: Any) -> str:
    name = getattr(key, "key", None) or getattr(key, "name", None)
    if not name:
        raise ValueError("keyset keys must be named columns")
    return str(name)
