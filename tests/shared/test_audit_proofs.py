"""The Merkle tree of the audit log agrees with RFC 9162 and its proofs catch a rewritten prefix."""

from __future__ import annotations

import hashlib

import pytest

from shared.audit_proofs import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_of,
    subtree_hash,
    verify_consistency,
    verify_inclusion,
)


def mth(leaves: list[bytes]) -> bytes:
    """MTH exactly as RFC 9162 section 2.1.1 defines it (recursive, on leaf data)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


DATA = [f"event {i}".encode() for i in range(40)]


def nodes_of(data: list[bytes]) -> dict[tuple[int, int], bytes]:
    frontier = Frontier()
    stored: dict[tuple[int, int], bytes] = {}
    for item in data:
        for level, index, value in frontier.append(leaf_hash(item)):
            stored[(level, index)] = value
    return stored


def test_root_matches_the_rfc_definition_for_every_size() -> None:
    assert root_of([]).hex() == EMPTY_ROOT
    for n in range(1, len(DATA) + 1):
        assert root_of(leaf_hash(d) for d in DATA[:n]) == mth(DATA[:n])


def test_stored_perfect_subtrees_rebuild_any_prefix() -> None:
    stored = nodes_of(DATA)
    for n in range(1, len(DATA) + 1):
        assert subtree_hash(0, n, lambda lv, ix: stored[(lv, ix)]) == mth(DATA[:n])


def test_frontier_levels_name_the_frontier_nodes() -> None:
    stored = nodes_of(DATA)
    for n in range(len(DATA) + 1):
        nodes = [stored[key] for key in Frontier.levels(n)]
        assert Frontier(n, nodes).root() == mth(DATA[:n])


def test_consistency_proofs_verify_between_every_pair_of_sizes() -> None:
    stored = nodes_of(DATA)
    for second in range(1, len(DATA) + 1):
        for first in range(1, second + 1):
            proof = consistency_proof(first, second, lambda lv, ix: stored[(lv, ix)])
            assert verify_consistency(first, second, mth(DATA[:first]), mth(DATA[:second]), proof)


@pytest.mark.parametrize(("first", "second", "edited"), [(7, 20, 3), (8, 9, 0), (16, 33, 15)])
def test_a_rewritten_prefix_has_no_consistency_proof(first: int, second: int, edited: int) -> None:
    """A forger rebuilds the whole tree after editing one old event: the proof from the new tree
    cannot join the root an outsider saved before the edit."""
    forged = list(DATA)
    forged[edited] = b"forged"
    stored = nodes_of(forged)
    proof = consistency_proof(first, second, lambda lv, ix: stored[(lv, ix)])
    assert not verify_consistency(first, second, mth(DATA[:first]), mth(forged[:second]), proof)
    # and the honest proof does not join the forged root either
    honest = nodes_of(DATA)
    proof = consistency_proof(first, second, lambda lv, ix: honest[(lv, ix)])
    assert not verify_consistency(first, second, mth(DATA[:first]), mth(forged[:second]), proof)


def test_malformed_proofs_are_refused() -> None:
    stored = nodes_of(DATA)
    proof = consistency_proof(5, 12, lambda lv, ix: stored[(lv, ix)])
    old, new = mth(DATA[:5]), mth(DATA[:12])
    assert not verify_consistency(5, 12, old, new, proof[:-1])
    assert not verify_consistency(5, 12, old, new, [*proof, proof[0]])
    assert not verify_consistency(5, 12, old, new, [])
    assert not verify_consistency(12, 5, new, old, proof)
    assert not verify_consistency(5, 5, old, new, [])
    with pytest.raises(ValueError, match="first"):
        consistency_proof(0, 5, lambda lv, ix: stored[(lv, ix)])


def test_inclusion_proofs_verify_for_every_leaf_and_size_and_refuse_others() -> None:
    stored = nodes_of(DATA)
    for size in range(1, len(DATA) + 1):
        root = mth(DATA[:size])
        for index in range(size):
            proof = inclusion_proof(index, size, lambda lv, ix: stored[(lv, ix)])
            assert verify_inclusion(index, size, leaf_hash(DATA[index]), root, proof)
            assert not verify_inclusion(index, size, leaf_hash(b"forged"), root, proof)
            if size > 1:
                other = (index + 1) % size
                assert not verify_inclusion(other, size, leaf_hash(DATA[index]), root, proof)
    assert not verify_inclusion(5, 5, leaf_hash(DATA[0]), mth(DATA[:5]), [])
    with pytest.raises(ValueError, match="index"):
        inclusion_proof(5, 5, lambda lv, ix: stored[(lv, ix)])
