"""Reference lists: the official KBLI 2020 and kode wilayah lists, imported and searched."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from hayu.models import (
    KbliCode,
    Region,
)
from shared.validators import kbli_category, validate_kbli, validate_kode_wilayah

# --------------------------------------------------------------------------------------------------
# Reference data: KBLI 2020 and kode wilayah
# --------------------------------------------------------------------------------------------------


async def search_kbli(session: AsyncSession, q: str, limit: int) -> list[KbliCode]:
    q = q.strip()
    stmt = select(KbliCode)
    if q.isdigit():
        stmt = stmt.where(KbliCode.code.startswith(q))
    elif q:
        stmt = stmt.where(func.upper(KbliCode.title).contains(q.upper()))
    return list((await session.execute(stmt.order_by(KbliCode.code).limit(limit))).scalars().all())


def read_kbli_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a KBLI 2020 CSV (`code,title,...`); every code is checked, the category derived."""
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                code = validate_kbli((row.get("code") or "").strip())
            except ValueError as exc:
                raise ValueError(f"{path}:{line}: {exc}") from None
            title = (row.get("title") or "").strip()
            if not title:
                raise ValueError(f"{path}:{line}: empty title")
            rows.append({"code": code, "title": title[:400], "category": kbli_category(code)})
    return rows


def read_region_csvs(paths: Sequence[Path]) -> list[dict[str, str]]:
    levels = {1: "provinsi", 2: "kabkota", 3: "kecamatan", 4: "desa"}
    rows = []
    for path in paths:
        with path.open(encoding="utf-8", newline="") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                try:
                    code = validate_kode_wilayah((row.get("code") or "").strip())
                except ValueError as exc:
                    raise ValueError(f"{path}:{line}: {exc}") from None
                rows.append(
                    {
                        "code": code,
                        "name": (row.get("name") or "").strip()[:200],
                        "level": levels[code.count(".") + 1],
                    }
                )
    return rows


async def replace_reference(
    session: AsyncSession, model: type[KbliCode] | type[Region], rows: list[dict[str, str]]
) -> int:
    """Replace a reference list in one transaction (the old list stays if anything fails)."""
    from sqlalchemy import delete

    await session.execute(delete(model))
    for start in range(0, len(rows), 1000):
        await session.execute(insert(model), rows[start : start + 1000])
    return len(rows)
