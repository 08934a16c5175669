"""A minimal witness: keeps a service's signed checkpoints outside the regency's database.

    python -m shared.audit_witness_server --public-key KEY --service hayu \\
        --store /var/lib/witness/hayu.jsonl [--host 0.0.0.0] [--port 8090]

Point the service's `<P>AUDIT_WITNESS_URLS` at `http://HOST:PORT/checkpoints`. Each POSTed
checkpoint is accepted (201, appended to the store) only when it is signed by the key given and
names the digest of the last one kept, so the copy is a chain; the same checkpoint again answers
200. A checkpoint that does not extend the copy (a different one for a size already kept, or one
after a gap) answers 409 and is kept aside in `<store>.conflicts`: the service keeps retrying and
logging, and the conflict itself is the evidence of a rewritten history. `GET /checkpoints.json`
serves the copy, for `audit-verify --against` or `python -m shared.audit_verifier --state`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shared.audit_proofs import SignedCheckpoint

MAX_BODY = 64 * 1024


class WitnessStore:
    def __init__(self, path: Path, public_key: str, service: str) -> None:
        self.path = path
        self.public_key = public_key
        self.service = service
        self.kept: list[SignedCheckpoint] = []
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    self.kept.append(SignedCheckpoint.from_json(json.loads(line)))

    def offer(self, cp: SignedCheckpoint) -> tuple[int, str]:
        """(status, message) for a checkpoint offered by the service."""
        if cp.service != self.service or not cp.signature_ok(self.public_key):
            return 422, "not signed by the service's key"
        last = self.kept[-1] if self.kept else None
        if last is not None and cp.size <= last.size:
            same = next((k for k in self.kept if k.size == cp.size), None)
            if same is not None and same.digest() == cp.digest():
                return 200, "already kept"
            return self._conflict(cp, "differs from the checkpoint kept for this size")
        if last is not None and cp.previous != last.digest():
            return self._conflict(cp, f"does not follow the last checkpoint kept ({last.size})")
        self.kept.append(cp)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(cp.to_json()) + "\n")
        return 201, "kept"

    def _conflict(self, cp: SignedCheckpoint, why: str) -> tuple[int, str]:
        with self.path.with_name(self.path.name + ".conflicts").open("a", encoding="utf-8") as out:
            out.write(json.dumps({"reason": why, "checkpoint": cp.to_json()}) + "\n")
        return 409, why


def witness_app(store: WitnessStore) -> Starlette:
    async def receive(request: Request) -> Response:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return JSONResponse({"detail": "too large"}, status_code=413)
        try:
            cp = SignedCheckpoint.from_json(json.loads(body))
        except (ValueError, TypeError):
            return JSONResponse({"detail": "not a checkpoint"}, status_code=422)
        status, message = store.offer(cp)
        return JSONResponse({"detail": message, "size": cp.size}, status_code=status)

    async def copy(request: Request) -> Response:
        return JSONResponse([cp.to_json() for cp in store.kept])

    return Starlette(
        routes=[
            Route("/checkpoints", receive, methods=["POST"]),
            Route("/checkpoints.json", copy, methods=["GET"]),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.audit_witness_server")
    parser.add_argument("--public-key", required=True, help="the service's Ed25519 public key")
    parser.add_argument("--service", required=True, help="sabilulungan, hayu or erk")
    parser.add_argument("--store", type=Path, required=True, help="JSON-lines file of the copy")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args(argv)
    import uvicorn

    store = WitnessStore(args.store, args.public_key, args.service)
    uvicorn.run(witness_app(store), host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
