"""Reference lists: the official KBLI 2020 and kode wilayah lists, imported and searched."""

from __future__ import annotations

import csv
import datetime as dt
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Date, String, delete, event, func, insert, literal, null, select, union_all
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession

from hayu.config import RISK_ORDER
from hayu.models import (
    KbliCode,
    KbliRisk,
    Region,
)
from shared.validators import kbli_category, validate_kbli, validate_kode_wilayah

# --------------------------------------------------------------------------------------------------
# Reference data: KBLI 2020 and kode wilayah
# --------------------------------------------------------------------------------------------------


async def search_regions(session: AsyncSession, q: str, prefix: str, limit: int) -> list[Region]:
    """Regions inside `prefix` (the regency) whose code starts with or name contains `q`."""
    q = q.strip()
    stmt = select(Region).where(Region.code.startswith(prefix + "."))
    if q[:1].isdigit():
        stmt = stmt.where(Region.code.startswith(q))
    elif q:
        stmt = stmt.where(func.upper(Region.name).contains(q.upper()))
    return list((await session.execute(stmt.order_by(Region.code).limit(limit))).scalars().all())


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


def read_kbli_risk_csv(path: Path) -> list[dict[str, Any]]:
    """Rows of a KBLI risk CSV (`code,risk_level,effective_from,basis`), e.g. from the risk
    annex of PP 28/2025 as published by OSS; every row is checked."""
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                code = validate_kbli((row.get("code") or "").strip())
                level = (row.get("risk_level") or "").strip().lower()
                if level not in RISK_ORDER:
                    raise ValueError(f"risk_level must be one of {', '.join(RISK_ORDER)}")
                start = dt.date.fromisoformat((row.get("effective_from") or "").strip())
                basis = (row.get("basis") or "").strip()
                if len(basis) < 3:
                    raise ValueError("empty basis")
            except ValueError as exc:
                raise ValueError(f"{path}:{line}: {exc}") from None
            rows.append(
                {"code": code, "risk_level": level, "effective_from": start, "basis": basis[:200]}
            )
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
    session: AsyncSession,
    model: type[KbliCode] | type[Region] | type[KbliRisk],
    rows: Sequence[dict[str, Any]],
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
        await session.execute(insert(model), list(rows[start : start + 1000]))
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
    risk: dict[str, tuple[tuple[dt.date, str], ...]] = field(default_factory=dict)
    """KBLI code → its (effective_from, risk level) rows, oldest first."""

    def risk_of(self, codes: Sequence[str], day: dt.date) -> tuple[str | None, str | None]:
        """The highest risk level in force on `day` among `codes`, and the rule version."""
        best: tuple[str, dt.date] | None = None
        for code in codes:
            level = None
            since = None
            for start, row_level in self.risk.get(code, ()):
                if start <= day:
                    level, since = row_level, start
            if level is None or since is None:
                continue
            if best is None or RISK_ORDER.index(level) > RISK_ORDER.index(best[0]):
                best = (level, since)
        if best is None:
            return None, None
        return best[0], f"kbli-risk:{best[1].isoformat()}"


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
    """The three lists in one round trip (a UNION ALL tagged by list)."""
    none_date = sql_cast(null(), Date)
    none_text = sql_cast(null(), String)
    stmt = union_all(
        select(literal("k").label("list"), KbliCode.code, none_date, none_text),
        select(literal("r"), Region.code, none_date, none_text).where(~Region.code.like("%.%.%.%")),
        select(literal("x"), KbliRisk.code, KbliRisk.effective_from, KbliRisk.risk_level),
    )
    kbli: set[str] = set()
    regions: set[str] = set()
    risk: dict[str, list[tuple[dt.date, str]]] = {}
    for tag, code, start, level in (await session.execute(stmt)).all():
        if tag == "k":
            kbli.add(code)
        elif tag == "r":
            regions.add(code)
        else:
            risk.setdefault(code, []).append((start, level))
    return ReferenceSets(
        kbli=frozenset(kbli),
        kecamatan=frozenset(regions),
        risk={k: tuple(sorted(v)) for k, v in risk.items()},
    )


_CACHES: weakref.WeakKeyDictionary[Any, ReferenceCache] = weakref.WeakKeyDictionary()


def cache_for(session: AsyncSession) -> ReferenceCache:
    """The cache of the database `session` is bound to (one per engine, so per app)."""
    engine = session.get_bind()
    cache = _CACHES.get(engine)
    if cache is None:
        cache = _CACHES[engine] = ReferenceCache()
    return cache
