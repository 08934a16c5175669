"""Check a service's audit log from outside, with its public key and its public endpoints only.

    python -m shared.audit_verifier https://layanan.example.go.id/hayu --public-key KEY \\
        [--state saved.json] [--all-proofs]

The first time (no `--state` file yet) it downloads the whole history of signed checkpoints
(`/api/v1/public/audit/checkpoints`), checks every signature with the key given (never the one the
service serves), that each checkpoint names the digest of the one before it and that the sizes
grow, and asks for an RFC 9162 consistency proof (`/api/v1/public/audit/consistency`) that the
latest tree extends the first. It saves that history in the `--state` file. Later runs read only
what is new since the last saved checkpoint: that checkpoint must still be served unchanged (its
digest vouches for every one before it), the new ones must follow it link by link, and the current
tree must extend it. A rollback to an older backup, a removed checkpoint or a rewritten past shows
up as a difference at a named size. Exit status 0 when everything holds (the state file is then
updated), 1 when something does not, 2 when the service cannot be read.

It needs no database access and nothing from the service but its public audit routes.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from shared.audit_proofs import (
    TREE_VERSION,
    SignedCheckpoint,
    check_checkpoint_chain,
    verify_consistency,
)

CHECKPOINTS_PATH = "/api/v1/public/audit/checkpoints"
LATEST_PATH = "/api/v1/public/audit/checkpoint"
CONSISTENCY_PATH = "/api/v1/public/audit/consistency"
MAX_BYTES = 50 * 1024 * 1024


class UnreadableError(Exception):
    """The source of checkpoints cannot be read or is not what it should be."""


async def _get_json(client: httpx.AsyncClient, url: str) -> Any:
    try:
        response = await client.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        if len(response.content) > MAX_BYTES:
            raise ValueError("answer too large")
        return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise UnreadableError(f"{url}: {exc}") from None


def _parse(data: Any) -> list[SignedCheckpoint]:
    """A list of checkpoints, a page of them (`items`) or one checkpoint, as saved or served."""
    if isinstance(data, dict) and "items" in data:
        data = data["items"]
    items = data if isinstance(data, list) else [data]
    try:
        return [SignedCheckpoint.from_json(item) for item in items if isinstance(item, dict)]
    except ValueError as exc:
        raise UnreadableError(str(exc)) from None


async def fetch_checkpoints(
    client: httpx.AsyncClient, base_url: str, since: int = 0
) -> list[SignedCheckpoint]:
    """The checkpoints a service publishes (of size `since` or larger), oldest first, following
    the pages."""
    found: list[SignedCheckpoint] = []
    cursor: str | None = None
    while True:
        query = {"limit": "1000", "since": str(since), **({"cursor": cursor} if cursor else {})}
        page = await _get_json(
            client, f"{base_url.rstrip('/')}{CHECKPOINTS_PATH}?{urllib.parse.urlencode(query)}"
        )
        if not isinstance(page, dict) or not isinstance(page.get("items"), list):
            raise UnreadableError(f"{base_url}: not a page of checkpoints")
        found += _parse(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return found


class _Client:
    """The client given (left open), or a new one closed on exit."""

    def __init__(self, given: httpx.AsyncClient | None) -> None:
        self.given = given
        self.own: httpx.AsyncClient | None = None

    async def __aenter__(self) -> httpx.AsyncClient:
        if self.given is not None:
            return self.given
        self.own = httpx.AsyncClient(timeout=30.0, follow_redirects=True)
        return self.own

    async def __aexit__(self, *exc: object) -> None:
        if self.own is not None:
            await self.own.aclose()


async def load_checkpoints(
    source: str, client: httpx.AsyncClient | None = None
) -> list[SignedCheckpoint]:
    """Checkpoints held outside: a JSON file, a URL of a JSON file, or a service's base URL."""
    if source.startswith(("http://", "https://")):
        async with _Client(client) as http:
            path = urllib.parse.urlparse(source).path
            if path.endswith((".json", "/audit/checkpoint")):
                return _parse(await _get_json(http, source))
            return await fetch_checkpoints(http, source)
    try:
        return _parse(json.loads(Path(source).read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise UnreadableError(f"{source}: {exc}") from None


def save_checkpoints(path: Path, checkpoints: Sequence[SignedCheckpoint]) -> None:
    path.write_text(json.dumps([cp.to_json() for cp in checkpoints], indent=1), encoding="utf-8")


async def fetch_proof(
    client: httpx.AsyncClient, base_url: str, first: int, second: int
) -> list[bytes]:
    query = urllib.parse.urlencode({"first": first, "second": second})
    data = await _get_json(client, f"{base_url.rstrip('/')}{CONSISTENCY_PATH}?{query}")
    try:
        return [bytes.fromhex(h) for h in data["proof"]]
    except (KeyError, TypeError, ValueError):
        raise UnreadableError(f"{base_url}: not a consistency proof") from None


async def _consistent(
    client: httpx.AsyncClient, base_url: str, old: SignedCheckpoint, new: SignedCheckpoint
) -> bool:
    if old.root is None or new.root is None:
        return True  # a legacy checkpoint has no tree to prove against
    proof = await fetch_proof(client, base_url, old.size, new.size)
    return verify_consistency(
        old.size, new.size, bytes.fromhex(old.root), bytes.fromhex(new.root), proof
    )


async def check_service(
    client: httpx.AsyncClient,
    base_url: str,
    public_key: str,
    service: str | None = None,
    *,
    saved: Sequence[SignedCheckpoint] = (),
    all_proofs: bool = False,
) -> tuple[list[SignedCheckpoint], str | None]:
    """The service's checkpoints and, when something does not hold, what (naming the size).

    Without `saved` the whole history is read and checked from the first checkpoint. With it,
    only the checkpoints from the last saved one on are read: that one must be served unchanged,
    the later ones must follow it link by link, and the current tree must extend it; since each
    checkpoint names the digest of the one before, the saved one vouches for all before it. The
    history returned is the saved one followed by what is new."""
    for old in saved:
        if not old.signature_ok(public_key) or (service and old.service != service):
            return list(saved), f"at size {old.size}: the saved checkpoint is not this service's"
    anchor = max(saved, key=lambda cp: cp.size) if saved else None
    served = await fetch_checkpoints(client, base_url, anchor.size if anchor else 0)
    name = service or (anchor.service if anchor else served[0].service if served else "")
    problem = check_checkpoint_chain(served, public_key, name, complete=anchor is None)
    if problem is not None:
        return served, f"at size {problem.size}: {problem.reason}"
    if anchor is not None:
        if not served:
            latest = await load_checkpoints(f"{base_url.rstrip('/')}{LATEST_PATH}", client)
            end = latest[-1].size if latest else 0
            return list(saved), (
                f"at size {end + 1}: the log was rolled back: a saved checkpoint signs "
                f"{anchor.size} events, the service now publishes {end}"
            )
        if served[0].size != anchor.size:
            return list(saved), f"at size {anchor.size}: the saved checkpoint was removed"
        if served[0].digest() != anchor.digest():
            return list(saved), f"at size {anchor.size}: the checkpoint differs from the saved one"
        if not await _consistent(client, base_url, anchor, served[-1]):
            return list(saved), (
                f"at size {anchor.size}: the current tree does not extend the saved one"
            )
        history = sorted(saved, key=lambda cp: cp.size)
        served = [*(cp for cp in history if cp.size < anchor.size), *served]
    trees = [cp for cp in served if cp.version >= TREE_VERSION]
    if all_proofs:
        pairs = list(itertools.pairwise(trees))
    else:
        pairs = [(trees[0], trees[-1])] if len(trees) > 1 and anchor is None else []
    for old, new in pairs:
        if not await _consistent(client, base_url, old, new):
            return served, f"at size {new.size}: the tree does not extend the one at {old.size}"
    return served, None


def _say(text: str, *, error: bool = False) -> None:
    stream = sys.stderr if error else sys.stdout
    stream.write(text + "\n")


async def _run(args: argparse.Namespace) -> int:
    try:
        saved = (
            await load_checkpoints(str(args.state)) if args.state and args.state.exists() else []
        )
        async with _Client(None) as client:
            served, problem = await check_service(
                client,
                args.url,
                args.public_key,
                args.service,
                saved=saved,
                all_proofs=args.all_proofs,
            )
    except UnreadableError as exc:
        _say(f"cannot read the audit log: {exc}", error=True)
        return 2
    name = served[0].service if served else (args.service or args.url)
    if problem is not None:
        _say(f"audit log of {name} does NOT hold {problem}", error=True)
        return 1
    size = served[-1].size if served else 0
    _say(
        f"audit log of {name} holds: {len(served)} signed checkpoints, {size} events, "
        f"consistent with {len(saved)} saved checkpoints"
    )
    if args.state:
        save_checkpoints(args.state, served)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shared.audit_verifier",
        description="Check a service's public audit checkpoints with its public key.",
    )
    parser.add_argument("url", help="the service's base URL, e.g. https://host/hayu")
    parser.add_argument("--public-key", required=True, help="the service's Ed25519 public key")
    parser.add_argument("--service", help="the service's name (sabilulungan, hayu or erk)")
    parser.add_argument(
        "--state", type=Path, help="checkpoints saved on an earlier run (updated on success)"
    )
    parser.add_argument(
        "--all-proofs", action="store_true", help="prove every checkpoint extends the one before"
    )
    return asyncio.run(_run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
