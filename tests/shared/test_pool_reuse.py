"""The request pool keeps the connections a burst opened (no connect and close per request).

With 10 pooled connections and 10 of overflow, every connection past the tenth was closed as
soon as it was returned, and the next burst opened it again: on the 2-core VM, 76 new
PostgreSQL sessions in 8 seconds of 16 clients on HAYU's tracking lookup, each a backend fork,
an authentication and the driver's set-up (bench/README.md, "The per-request floor"). The
default pool now keeps up to the admission limit open, so a steady load reuses them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event, text

from shared.db import write_intent


async def test_a_second_burst_reuses_the_connections_of_the_first(make_app: Any) -> None:
    app = await make_app("hayu")
    db = app.state.db
    reading = write_intent.set(False)  # readers, as a lookup is (SQLite: no lock between them)
    opened: list[int] = []

    def on_connect(*_: Any) -> None:
        opened.append(1)

    event.listen(db.engine.sync_engine, "connect", on_connect)
    in_flight = app.state.settings.db_pool_size + app.state.settings.db_max_overflow
    burst = min(in_flight, 15)
    try:
        for _ in range(3):
            release = asyncio.Event()
            ready = 0

            async def hold(release: asyncio.Event) -> None:
                nonlocal ready
                async with db.sessionmaker() as session:
                    await session.execute(text("SELECT 1"))
                    ready += 1
                    await release.wait()

            tasks = [asyncio.create_task(hold(release)) for _ in range(burst)]
            async with asyncio.timeout(30):
                while ready < burst:
                    await asyncio.sleep(0.01)
            release.set()
            await asyncio.gather(*tasks)
    finally:
        event.remove(db.engine.sync_engine, "connect", on_connect)
        write_intent.reset(reading)
    assert len(opened) <= burst  # the old default: 15 in the first burst, then 5 again each time
