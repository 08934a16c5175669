"""Response models from ORM rows: `model_validate(row, from_attributes=True)`, plus the fields a
row does not hold (a label, a computed flag, a masked value) given by name."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


class _Overlay:
    """The row's attributes, with `computed` in front of them."""

    __slots__ = ("_computed", "_row")

    def __init__(self, row: Any, computed: dict[str, Any]) -> None:
        self._row = row
        self._computed = computed

    def __getattr__(self, name: str) -> Any:
        if name in self._computed:
            return self._computed[name]
        return getattr(self._row, name)


def read_model(schema: type[M], row: Any, **computed: Any) -> M:
    """`schema` filled from `row`'s attributes of the same names, and from `computed`."""
    source = _Overlay(row, computed) if computed else row
    return schema.model_validate(source, from_attributes=True)
