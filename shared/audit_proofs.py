"""The audit log's transparency maths, with no database: Merkle trees and signed tree heads.

The events sealed into a service's audit log are the leaves of a Merkle tree as in RFC 9162
(Certificate Transparency 2.0), section 2.1:

    leaf hash  = SHA-256(0x00 || canonical bytes of the event at its position)
    inner node = SHA-256(0x01 || left || right)

and the root of the first `size` leaves (MTH) is what a checkpoint signs. A checkpoint (a signed
tree head) also names the digest of the checkpoint before it, so the checkpoints form a chain of
their own: an outsider who saved any earlier checkpoint can ask for a consistency proof and prove
that a later tree extends it, or that the history was rewritten or rolled back.

This module is all the standalone verifier (`python -m shared.audit_verifier`) needs besides the
signature check, so that an auditor can run it with the public key alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from shared.signing import canonical_json, verify

GENESIS_HASH = "0" * 64
EMPTY_ROOT = hashlib.sha256(b"").hexdigest()  # RFC 9162: MTH({}) = HASH()
LEGACY_VERSION = 1  # a checkpoint of the hash chain alone, signed before the tree existed
TREE_VERSION = 2  # a signed tree head chained to the checkpoint before it


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """The k of RFC 9162: the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class Frontier:
    """The roots of the perfect subtrees that make up a tree of `size` leaves (one per set bit of
    `size`, largest first): enough to append leaves and compute the root without the leaves."""

    def __init__(self, size: int = 0, nodes: Sequence[bytes] = ()) -> None:
        if len(nodes) != bin(size).count("1"):
            raise ValueError("a frontier needs one node per set bit of its size")
        self.size = size
        self.nodes = list(nodes)

    @staticmethod
    def levels(size: int) -> list[tuple[int, int]]:
        """(level, index) of the frontier's perfect subtrees for a tree of `size` leaves."""
        out = []
        start = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                out.append((level, start >> level))
                start += 1 << level
        return out

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; returns every perfect subtree completed by it as (level, index,
        hash), the leaf itself first."""
        index = self.size
        made = [(0, index, leaf)]
        node = leaf
        level = 0
        while index >> level & 1:
            node = node_hash(self.nodes.pop(), node)
            level += 1
            made.append((level, index >> level, node))
        self.nodes.append(node)
        self.size += 1
        return made

    def root(self) -> bytes:
        if not self.nodes:
            return bytes.fromhex(EMPTY_ROOT)
        acc = self.nodes[-1]
        for node in reversed(self.nodes[:-1]):
            acc = node_hash(node, acc)
        return acc


def root_of(leaves: Iterable[bytes]) -> bytes:
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    return frontier.root()


NodeLookup = Callable[[int, int], bytes]


def subtree_hash(start: int, end: int, node: NodeLookup) -> bytes:
    """MTH of leaves [start, end) from stored perfect subtrees; `start` is aligned as RFC 9162's
    recursion always leaves it."""
    size = end - start
    if size & (size - 1) == 0:
        level = size.bit_length() - 1
        return node(level, start >> level)
    k = _largest_power_of_two_below(size)
    return node_hash(subtree_hash(start, start + k, node), subtree_hash(start + k, end, node))


def consistency_proof(first: int, second: int, node: NodeLookup) -> list[bytes]:
    """RFC 9162 section 2.1.4.1: PROOF(first, D[second])."""
    if not 0 < first <= second:
        raise ValueError("a consistency proof needs 0 < first <= second")
    proof: list[bytes] = []

    def subproof(m: int, start: int, end: int, whole: bool) -> None:
        n = end - start
        if m == n:
            if not whole:
                proof.append(subtree_hash(start, end, node))
            return
        k = _largest_power_of_two_below(n)
        if m <= k:
            subproof(m, start, start + k, whole)
            proof.append(subtree_hash(start + k, end, node))
        else:
            subproof(m - k, start + k, end, False)
            proof.append(subtree_hash(start, start + k, node))

    subproof(first, 0, second, True)
    return proof


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2: does the tree of `second` leaves extend the one of `first`?"""
    if first == second:
        return first_root == second_root and not proof
    if first == 0:
        return not proof  # every tree extends the empty one
    if first > second or not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


def inclusion_proof(index: int, size: int, node: NodeLookup) -> list[bytes]:
    """RFC 9162 section 2.1.3.1: PATH(index, D[size]), the audit path of leaf `index`."""
    if not 0 <= index < size:
        raise ValueError("an inclusion proof needs 0 <= index < size")
    proof: list[bytes] = []

    def path(m: int, start: int, end: int) -> None:
        n = end - start
        if n == 1:
            return
        k = _largest_power_of_two_below(n)
        if m < k:
            path(m, start, start + k)
            proof.append(subtree_hash(start + k, end, node))
        else:
            path(m - k, start + k, end)
            proof.append(subtree_hash(start, start + k, node))

    path(index, 0, size)
    return proof


def verify_inclusion(
    index: int, size: int, leaf: bytes, root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.3.2: is `leaf` (a leaf hash) at `index` of the tree with `root`?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


# --- Checkpoints (signed tree heads) ---


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint as published: what was signed, and the signature."""

    service: str
    size: int
    chain_hash: str
    sealed_at: dt.datetime
    signature: str
    version: int = TREE_VERSION
    root: str | None = None
    previous: str | None = None
    key_id: str = ""

    def message(self) -> bytes:
        sealed = self.sealed_at.astimezone(dt.UTC).isoformat()
        if self.version == LEGACY_VERSION:
            return canonical_json(
                {
                    "service": self.service,
                    "position": self.size,
                    "hash": self.chain_hash,
                    "sealed_at": sealed,
                }
            )
        return canonical_json(
            {
                "version": self.version,
                "service": self.service,
                "size": self.size,
                "root": self.root,
                "chain": self.chain_hash,
                "previous": self.previous,
                "sealed_at": sealed,
            }
        )

    def digest(self) -> str:
        """What the next checkpoint names as `previous`."""
        return hashlib.sha256(self.message()).hexdigest()

    def signature_ok(self, public_key: str) -> bool:
        return verify(self.message(), self.signature, public_key)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "service": self.service,
            "size": self.size,
            "root": self.root,
            "chain_hash": self.chain_hash,
            "previous": self.previous,
            "sealed_at": self.sealed_at.astimezone(dt.UTC).isoformat(),
            "key_id": self.key_id,
            "signature": self.signature,
            "digest": self.digest(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SignedCheckpoint:
        """Read a published checkpoint (also the older single-checkpoint shape, whose size is
        `position` and whose chain hash is `hash`)."""
        try:
            sealed = dt.datetime.fromisoformat(str(data["sealed_at"]))
            if sealed.tzinfo is None:
                sealed = sealed.replace(tzinfo=dt.UTC)
            return cls(
                service=str(data["service"]),
                size=int(data["size"] if "size" in data else data["position"]),
                chain_hash=str(data["chain_hash"] if "chain_hash" in data else data["hash"]),
                sealed_at=sealed,
                signature=str(data["signature"]),
                version=int(data.get("version") or LEGACY_VERSION),
                root=data.get("root"),
                previous=data.get("previous"),
                key_id=str(data.get("key_id") or ""),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a checkpoint: {exc}") from None


@dataclass(frozen=True)
class ChainProblem:
    size: int
    reason: str


def check_link(
    prior: SignedCheckpoint | None,
    cp: SignedCheckpoint,
    public_key: str,
    service: str,
    *,
    complete: bool = False,
) -> ChainProblem | None:
    """One checkpoint after `prior` (None: the first one given; with `complete`, the first of the
    whole history, so a tree checkpoint must start the chain)."""
    if cp.service != service:
        return ChainProblem(cp.size, f"checkpoint of another service ({cp.service})")
    if not cp.signature_ok(public_key):
        return ChainProblem(cp.size, "checkpoint signature does not verify")
    if prior is not None:
        if cp.size <= prior.size:
            return ChainProblem(cp.size, "checkpoint sizes do not grow")
        if cp.version >= TREE_VERSION and cp.previous != prior.digest():
            return ChainProblem(
                cp.size, "checkpoint does not follow the one before it (one was removed)"
            )
        if cp.version < prior.version:
            return ChainProblem(cp.size, "a legacy checkpoint after a tree checkpoint")
    elif cp.version >= TREE_VERSION and (
        cp.previous is None or (complete and cp.previous != GENESIS_HASH)
    ):
        return ChainProblem(cp.size, "the first checkpoint does not start the chain")
    return None


def check_checkpoint_chain(
    checkpoints: Sequence[SignedCheckpoint],
    public_key: str,
    service: str,
    *,
    complete: bool = False,
) -> ChainProblem | None:
    """Signatures, service name, growing sizes and `previous` links of a run of checkpoints in
    order. With `complete` the run is the whole history, so a first tree checkpoint must start
    the chain; otherwise the first one's `previous` is taken on trust."""
    prior: SignedCheckpoint | None = None
    for cp in checkpoints:
        problem = check_link(prior, cp, public_key, service, complete=complete)
        if problem is not None:
            return problem
        prior = cp
    return None
