"""Which tokens are revoked: each process keeps the recently raised account epochs in memory.

Every token carries the `token_epoch` of its account at login. The database raises an account's
epoch when its password, roles, unit or username change, when it is deactivated, and at logout
(see `shared.migrations_common.account_epoch_statements`). A token whose epoch is below the
account's is refused.

Checking that on every request would cost a round trip per request. Instead each process reads,
at most every `refresh_seconds` (default 2 s), the accounts whose epoch changed since its last
read, on its own connection (`Database.housekeeping_engine`), and keeps them in a dict. A revoked
token is therefore refused within about `refresh_seconds` on every replica, and a request costs no
query beyond one read per process per interval, shared by all requests.

Changes older than the longest token lifetime are not needed: every token issued before them has
expired. The first read of a process looks back that far; later reads look back from the newest
change seen, with a margin for transactions that committed late.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from typing import Any

from sqlalchemy import select

from shared.db import Database, write_intent

logger = logging.getLogger("shared.revocation")

# A transaction stamped (clock_timestamp) before the newest change seen may commit after it.
LATE_COMMIT_MARGIN = dt.timedelta(seconds=60)


class AccountEpochs:
    """The per-process view of recently raised account epochs."""

    def __init__(
        self,
        db: Database,
        account_model: Any,
        *,
        refresh_seconds: float,
        horizon: dt.timedelta,
    ) -> None:
        self.db = db
        self.model = account_model
        self.refresh_seconds = refresh_seconds
        self.horizon = horizon
        self.epochs: dict[int, int] = {}
        self.refreshed_at = float("-inf")  # monotonic time of the last read
        self.reads = 0
        self._newest: dt.datetime | None = None
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def note(self, account_id: int, epoch: int) -> None:
        """This process raised (or read) an epoch itself: use it at once."""
        if epoch > self.epochs.get(account_id, 0):
            self.epochs[account_id] = epoch

    def _lock_for_loop(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock

    async def current(self, account_id: int) -> int:
        """The account's epoch as of at most `refresh_seconds` ago (0: not raised lately)."""
        if time.monotonic() - self.refreshed_at >= self.refresh_seconds:
            async with self._lock_for_loop():
                # Whoever waited on the lock finds the read another request just made.
                if time.monotonic() - self.refreshed_at >= self.refresh_seconds:
                    await self.refresh()
        return self.epochs.get(account_id, 0)

    async def refresh(self) -> None:
        started = time.monotonic()
        now = dt.datetime.now(dt.UTC)
        since = now - self.horizon
        if self._newest is not None:
            since = max(since, self._newest - LATE_COMMIT_MARGIN)
        model = self.model
        stmt = select(model.id, model.token_epoch, model.epoch_changed_at).where(
            model.epoch_changed_at > since
        )
        # A read: on SQLite it must not take the write lock a writing request may be holding.
        token = write_intent.set(False)
        try:
            async with self.db.housekeeping_engine().connect() as conn:
                rows = (await conn.execute(stmt)).all()
        finally:
            write_intent.reset(token)
        for account_id, epoch, changed_at in rows:
            self.note(int(account_id), int(epoch))
            if changed_at is not None:
                changed = _aware(changed_at)
                if self._newest is None or changed > self._newest:
                    self._newest = changed
        if self._newest is None:
            self._newest = since
        self.reads += 1
        self.refreshed_at = started


def _aware(value: dt.datetime | str) -> dt.datetime:
    if isinstance(value, str):  # SQLite through a Core select without the column type
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
