"""Each configured recipient category admits what its rules admit and refuses what they refuse:
one accepted proposal and one refusal per category, and "Berkas lengkap" waits for exactly the
category's own documents (Permendagri 32/2011 as amended; UU 23/2014 Pasal 298(5))."""

from __future__ import annotations

from typing import Any

import pytest

from sabilulungan.config import RECIPIENT_CATEGORIES
from shared.testing import assert_problem

from .test_rules import Unchanged

OUTSIDE = "33.74.01.1001"  # Kota Semarang: outside the test regency (32.73)


def _org(world: Any, category: str, number: str | None, **applicant: Any) -> dict[str, Any]:
    body = world.hibah(title=f"Hibah untuk {category}")
    body["applicant"] = {
        **body["applicant"], "category": category, "legal_entity_number": number, **applicant
    }  # fmt: skip
    return dict(body)


def _bansos(world: Any, category: str, amount: int, **applicant: Any) -> dict[str, Any]:
    body = world.bansos(
        requested_amount_idr=amount,
        budget_lines=[{"description": "Bantuan", "amount_idr": amount}],
    )
    body["applicant"] = {**body["applicant"], "category": category, **applicant}
    return dict(body)


def _social_group(world: Any, amount: int) -> dict[str, Any]:
    org = world.hibah()["applicant"]
    body = world.bansos(
        requested_amount_idr=amount,
        budget_lines=[{"description": "Bantuan", "amount_idr": amount}],
    )
    body["applicant"] = {**org, "category": "social_group", "legal_entity_number": None}
    return dict(body)


# category -> (an eligible proposal, a proposal its rule refuses, the rule named by the refusal)
CASES: dict[str, tuple[Any, Any, str]] = {
    "central_government": (
        # no AHU number, and a vertical agency may sit outside the regency
        lambda w: _org(w, "central_government", None, region_code=OUTSIDE, board_members=[]),
        # a government body receives hibah, never bansos
        lambda w: _bansos(w, "central_government", 5_000_000),
        "recipient_category",
    ),
    "regional_government": (
        lambda w: _org(w, "regional_government", None, region_code=OUTSIDE, board_members=[]),
        lambda w: _bansos(w, "regional_government", 5_000_000),
        "recipient_category",
    ),
    "state_enterprise": (
        lambda w: _org(w, "state_enterprise", None, board_members=[]),
        # a BUMN/BUMD is not exempt from the regency's domicile rule
        lambda w: _org(w, "state_enterprise", None, region_code=OUTSIDE, board_members=[]),
        "domicile",
    ),
    "legal_entity": (
        lambda w: _org(w, "legal_entity", "AHU-0012345.AH.01.04.2019"),
        lambda w: _org(w, "legal_entity", "abc"),
        "legal_document",
    ),
    "cooperative": (
        lambda w: _org(w, "cooperative", "518/BH/XIII.3/2015"),
        lambda w: _org(w, "cooperative", None),  # a koperasi needs its badan hukum number
        "legal_document",
    ),
    "community_group": (
        lambda w: _org(w, "community_group", "400/KEP.12/2024"),
        lambda w: _org(w, "community_group", "AHU"),  # not the shape of a recognition decree
        "legal_document",
    ),
    "individual": (
        lambda w: _bansos(w, "individual", 25_000_000),
        lambda w: _bansos(w, "individual", 25_000_001),  # above the per-recipient limit
        "max_amount",
    ),
    "family": (
        lambda w: _bansos(
            w, "family", 50_000_000
        ),  # above an individual's limit, within a family's
        lambda w: _bansos(w, "family", 50_000_001),
        "max_amount",
    ),
    "social_group": (
        lambda w: _social_group(w, 10_000_000),
        lambda w: {**_social_group(w, 10_000_000), "social_risk": None},  # bansos is selective
        "social_risk",
    ),
}


def test_every_default_category_has_a_case() -> None:
    assert set(CASES) == set(RECIPIENT_CATEGORIES)


@pytest.mark.parametrize("category", sorted(CASES))
async def test_each_category_admits_its_own_and_refuses_by_its_rule(
    world: Any, category: str
) -> None:
    eligible, refused, rule = CASES[category]
    await world.budget("hibah", 500_000_000)
    await world.budget("bansos", 500_000_000)
    async with Unchanged(world):
        r = await world.client.post(
            "/api/v1/proposals", json=refused(world), headers=world.h("applicant")
        )
        problem = assert_problem(r, 422, "ineligible-applicant")
    assert problem["rule"] == rule, problem
    created = await world.submit(eligible(world))
    assert created["recipient_category"] == category
    # "Berkas lengkap" waits for exactly this category's documents.
    required = list(RECIPIENT_CATEGORIES[category].required_documents)
    pid = created["id"]
    await world.docs(pid, required[:-1])
    async with Unchanged(world):
        r = await world.act(pid, "clerk", "verify_completeness")
        assert assert_problem(r, 422, "missing-documents")["missing"] == required[-1:]
    await world.docs(pid, required[-1:])
    assert (await world.ok(pid, "clerk", "verify_completeness"))["status"] == "awaiting_assignment"
