"""The benchmark's proposal body is one the service accepts: a bench whose write is refused
measures nothing (the harness skips it), so the body follows the eligibility rules."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from bench.scenarios import BY_NAME
from bench.spec import RenderContext, render


async def test_the_bench_proposal_is_accepted_today(world_factory: Any) -> None:
    scenario = BY_NAME["sabilulungan.proposal_submit"]
    # The bench runs on the real clock with the national defaults (proposal windows required,
    # the yearly window of the year before): not the tests' own windows.
    async with world_factory("# national defaults: the yearly_window, no dated window\n") as world:
        world.at(dt.datetime.now(dt.UTC))
        for vu in (1, 2, 3):
            ctx = RenderContext(run_id="t", level="16", vu=vu, rng=random.Random(vu))
            body = render(scenario.body, ctx)
            response = await world.client.post(
                scenario.path, json=body, headers=world.h("applicant")
            )
            assert response.status_code in scenario.expect, response.text
