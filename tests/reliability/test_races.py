"""Concurrent duplicates: the same Idempotency-Key sent twice at once writes once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from shared.testing import BACKEND, client_for, probe_router


@pytest.mark.parametrize("copies", [2, 8])
async def test_same_idempotency_key_at_once_writes_once(make_app: Any, copies: int) -> None:
    app = await make_app("hayu", extra_routers=[probe_router()])
    body = {"name": "serentak", "amount_idr": 10}
    async with client_for(app) as client:
        responses = await asyncio.gather(
            *(
                client.post("/api/v1/probe/things", json=body, headers={"Idempotency-Key": "dup"})
                for _ in range(copies)
            )
        )
    statuses = sorted(r.status_code for r in responses)
    # Exactly one request wrote; the others either replayed its answer or lost the race (409).
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}
    for response in responses:
        if response.status_code == 201:
            assert response.json() == body
        else:
            assert response.headers["content-type"].startswith("application/problem+json")
    model = app.state.models.audit_event
    async with app.state.db.sessionmaker() as session:
        written = await session.scalar(
            select(func.count()).select_from(model).where(model.entity_type == "thing")
        )
        kept = await session.scalar(select(func.count()).select_from(app.state.models.idempotency))
    assert written == 1
    assert kept == 1
    if BACKEND == "sqlite":
        assert statuses == [201] * copies  # writers are serialised: the later ones replay
