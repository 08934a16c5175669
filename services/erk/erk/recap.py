"""The monthly recap and TPP, computed in SQL over the month's rows, and the closing of a month.

Per employee (Perka BKN 19/2011; weights and deductions from the TPP rule version in force):

    standard minutes  = working days x standard minutes a day
    performance       = min(verified minutes, standard) / standard
    discipline        = max(0, 100 % - absence days x rate - lateness bands - early-leave bands)
    TPP productivity  = floor(base x weight_performance x performance)
    TPP discipline    = floor(base x weight_discipline x discipline)

All arithmetic is integer (percentages in basis points, rupiah whole) inside one aggregate query, so
PostgreSQL and SQLite give the same rupiah. Closing a month copies that query's result into `recaps`
with an INSERT ... SELECT and stores the rule version with it; a closed month is read from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Select,
)
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncSession

from erk import errors, schemas
from erk.config import TppRule
from erk.dependencies import Context
from erk.explain import to_read
from erk.models import (
    Period,
    Recap,
)
from erk.recap_sql import RECAP_COLUMNS, month_of, recap_query, without_jit
from shared.pagination import decode_cursor, encode_cursor


@dataclass
class RecapResult:
    period: str
    closed: bool
    rule: TppRule
    rows: list[Any]
    next_cursor: str | None


async def closed_period(session: AsyncSession, period: str) -> Period | None:
    result: Period | None = await session.scalar(sa_select(Period).where(Period.period == period))
    return result


async def recap_rows(
    session: AsyncSession,
    ctx: Context,
    period: str,
    *,
    unit_path: str | None = None,
    nip: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> RecapResult:
    """The recap of a month: frozen rows when it is closed, computed live when it is open."""
    closed = await closed_period(session, period)
    if closed is not None:
        rule = TppRule.model_validate(closed.rule)
        stmt: Select[Any] = sa_select(*(getattr(Recap, c).label(c) for c in RECAP_COLUMNS)).where(
            Recap.period == period
        )
        nip_col: Any = Recap.nip
        path_col: Any = Recap.unit_path
    else:
        month = month_of(ctx, period)
        rule = month.rule
        stmt = recap_query(month, unit_path=unit_path, nip=nip)
        await without_jit(session)
        nip_col, path_col = stmt.selected_columns.nip, stmt.selected_columns.unit_path
        # The filters are inside the query already.
        unit_path = nip = None
    if unit_path is not None:
        stmt = stmt.where(path_col.startswith(unit_path))
    if nip is not None:
        stmt = stmt.where(nip_col == nip)
    if cursor:
        (after,) = decode_cursor(cursor, 1)
        stmt = stmt.where(nip_col > str(after))
    stmt = stmt.order_by(nip_col)
    if limit is not None:
        stmt = stmt.limit(limit + 1)
    rows = list((await session.execute(stmt)).all())
    next_cursor = None
    if limit is not None and len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([rows[-1].nip])
    return RecapResult(period, closed is not None, rule, rows, next_cursor)


async def recap_of(session: AsyncSession, ctx: Context, period: str, nip: str) -> schemas.RecapRow:
    """One employee's recap of a month, with the reasons."""
    result = await recap_rows(session, ctx, period, nip=nip)
    if not result.rows:
        raise errors.RecapNotFoundError(f"No recap for this employee in {period}")
    return to_read(result.rows[0], result.rule)
