"""Reference lists: the official KBLI 2020 and kode wilayah lists, imported and searched."""

from __future__ import annotations

import csv
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, func, insert, select
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
    """Replace a reference list in one transaction (the old list stays if anything fails).

    This process's cached lists are dropped now and again when the transaction commits, so the
    next filing here checks against the new list; other processes see it within `CACHE_TTL`.
    """
    cache = cache_for(session)
    cache.invalidate()
    event.listen(session.sync_session, "after_commit", lambda _s: cache.invalidate(), once=True)
    await session.execute(delete(model))
    for start in range(0, len(rows), 1000):
        await session.execute(insert(model), rows[start : start + 1000])
    return len(rows)


# --------------------------------------------------------------------------------------------------
# The lists filing checks against, cached in the process
# --------------------------------------------------------------------------------------------------

CACHE_TTL = 60.0
"""Seconds a process trusts its copy of the lists: how long another replica may check against
the list it had before an import."""


@dataclass(frozen=True)
class ReferenceSets:
    """The imported codes; an empty set means the list was never imported (form check only)."""

    kbli: frozenset[str]
    kecamatan: frozenset[str]
    """Region codes of at most three parts: the only ones a business's kecamatan can equal."""


class ReferenceCache:
    """The KBLI and region codes of one database, loaded once per `CACHE_TTL` and on demand.

    `invalidate` bumps a generation: a load that began before it never stores its (older) result.
    After the TTL one request reloads while the others keep checking against the previous copy.
    """

    def __init__(self, ttl: float = CACHE_TTL) -> None:
        self.ttl = ttl
        self._sets: ReferenceSets | None = None
        self._loaded_at = 0.0
        self._generation = 0
        self._refreshing = False

    def invalidate(self) -> None:
        self._sets = None
        self._generation += 1

    async def get(self, session: AsyncSession) -> ReferenceSets:
        sets = self._sets
        if sets is not None and (self._refreshing or time.monotonic() - self._loaded_at < self.ttl):
            return sets
        generation = self._generation
        self._refreshing = True
        try:
            loaded = await _load_sets(session)
        finally:
            self._refreshing = False
        if generation == self._generation:
            self._sets, self._loaded_at = loaded, time.monotonic()
        return loaded


async def _load_sets(session: AsyncSession) -> ReferenceSets:
    kbli = (await session.execute(select(KbliCode.code))).scalars().all()
    regions = (
        (await session.execute(select(Region.code).where(~Region.code.like("%.%.%.%"))))
        .scalars()
        .all()
    )
    return ReferenceSets(kbli=frozenset(kbli), kecamatan=frozenset(regions))


_CACHES: weakref.WeakKeyDictionary[Any, ReferenceCache] = weakref.WeakKeyDictionary()


def cache_for(session: AsyncSession) -> ReferenceCache:
    """The cache of the database `session` is bound to (one per engine, so per app)."""
    engine = session.get_bind()
    cache = _CACHES.get(engine)
    if cache is None:
        cache = _CACHES[engine] = ReferenceCache()
    return cache
