"""Segregation of duties, pair by pair: one account holding every role acts once on its own file
and is refused at the conflicting duty, with the rule of the table named in the refusal."""

from __future__ import annotations

from typing import Any

import pytest

from sabilulungan.config import SEGREGATION
from shared.testing import add_account, assert_problem, bearer

from .conftest import EVALUATION
from .test_rules import Unchanged

EVERY_ROLE = ["applicant", "clerk", "coordinator", "opd_evaluator", "tapd", "head", "finance"]
# The duties of a hibah file in the order they come, with the account that holds each one
# when the all-roles account does not (the head who approved may sign the NPHD by default).
FLOW: list[tuple[str, str, str, dict[str, Any]]] = [
    ("clerk", "clerk", "verify_completeness", {}),
    ("coordinator", "coordinator", "assign_opd", {"opd_code": "DINSOS"}),
    ("evaluator", "opd", "recommend", {"amount_idr": 10_000_000, "checklist": EVALUATION}),
    ("tapd", "tapd", "consider", {"amount_idr": 10_000_000}),
    ("head", "head", "approve", {"decree_number": "400/KEP.9/2027"}),
    ("signatory", "head", "sign_agreement", {"agreement_number": "NPHD/9/2027"}),
    ("treasurer", "finance", "disburse", {"amount_idr": 10_000_000}),
    ("lpj_reviewer", "opd2", "accept_report", {}),
]
ORDER = ["applicant", *(duty for duty, *_ in FLOW)]
# The default table, written out: a pair dropped from sabilulungan.config.SEGREGATION fails here.
DEFAULT_PAIRS = [
    ("applicant", "clerk"),
    ("applicant", "coordinator"),
    ("applicant", "evaluator"),
    ("applicant", "tapd"),
    ("applicant", "head"),
    ("applicant", "signatory"),
    ("applicant", "treasurer"),
    ("applicant", "lpj_reviewer"),
    ("clerk", "evaluator"),
    ("clerk", "tapd"),
    ("clerk", "head"),
    ("clerk", "treasurer"),
    ("clerk", "lpj_reviewer"),
    ("evaluator", "tapd"),
    ("evaluator", "head"),
    ("evaluator", "treasurer"),
    ("evaluator", "lpj_reviewer"),
    ("tapd", "head"),
    ("tapd", "treasurer"),
    ("tapd", "lpj_reviewer"),
    ("head", "treasurer"),
    ("head", "lpj_reviewer"),
    ("treasurer", "lpj_reviewer"),
    ("clerk", "signatory"),
    ("evaluator", "signatory"),
    ("tapd", "signatory"),
    ("treasurer", "signatory"),
    ("lpj_reviewer", "signatory"),
]


@pytest.mark.parametrize(("a", "b"), DEFAULT_PAIRS, ids=[f"{a}-{b}" for a, b in DEFAULT_PAIRS])
async def test_one_account_with_every_role_is_refused_the_second_duty(
    world: Any, a: str, b: str
) -> None:
    first, second = sorted((a, b), key=ORDER.index)
    await world.budget("hibah", 100_000_000)
    await add_account(world.app, "omni", EVERY_ROLE, unit="DINSOS")
    world.headers["omni"] = await bearer(world.client, "omni")
    applicant = "omni" if first == "applicant" else "applicant"
    pid = (await world.submit(world.hibah(), who=applicant))["id"]
    await world.complete(pid, "clerk")
    for duty, regular, action, fields in FLOW:
        if duty == "lpj_reviewer":
            await world.lpj(pid, 10_000_000, applicant)
        if duty == second:
            async with Unchanged(world):
                r = await world.act(pid, "omni", action, **fields)
                problem = assert_problem(r, 403, "segregation-of-duties")
            assert problem["rule"] == f"{a}!={b}"
            assert (problem["duty"], problem["conflicts_with"]) == (second, first)
            assert "Permendagri 32/2011" in problem["basis"]
            return
        await world.ok(pid, "omni" if duty == first else regular, action, **fields)
    raise AssertionError(f"duty {second} never reached")


async def test_recommender_and_approver_are_kept_apart_only_by_the_table(
    world_factory: Any,
) -> None:
    # A regency whose table lets the OPD evaluator and TAPD member also approve: the approve
    # step has no conflict rule of its own beyond the table.
    pairs = [p for p in SEGREGATION if p not in {("evaluator", "head"), ("tapd", "head")}]
    toml = (
        "[sabilulungan]\nsegregation = [" + ", ".join(f'["{a}", "{b}"]' for a, b in pairs) + "]\n"
    )
    async with world_factory(toml) as world:
        await world.budget("hibah", 100_000_000)
        await add_account(world.app, "kadis", ["opd_evaluator", "head"], unit="DINSOS")
        world.headers["kadis"] = await bearer(world.client, "kadis")
        pid = (await world.submit(world.hibah()))["id"]
        await world.complete(pid)
        await world.ok(pid, "clerk", "verify_completeness")
        await world.ok(pid, "coordinator", "assign_opd", opd_code="DINSOS")
        await world.ok(pid, "kadis", "recommend", amount_idr=10_000_000, checklist=EVALUATION)
        await world.ok(pid, "tapd", "consider", amount_idr=10_000_000)
        body = await world.ok(pid, "kadis", "approve", decree_number="400/KEP.9/2027")
        assert body["status"] == "approved"
