"""The embedded suite: the services a regency names, in one process, on SQLite, with demo data.

    python deploy/embedded.py [--services sabilulungan,hayu,erk] [--port 8000] [--data-dir var]

Each service keeps its own SQLite file and is mounted under its own path beside a landing page that
links them. Each app is the same one `uvicorn <service>.main:app` serves alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Mount, Route

SERVICES = {
    "sabilulungan": (
        "Sabilulungan",
        "Hibah dan bantuan sosial: ajukan, lacak, dan lihat penerimanya.",
    ),
    "hayu": ("HAYU", "Perizinan usaha daring: lapor usaha kecil langsung terdaftar, lacak izin."),
    "erk": ("e-RK", "Kinerja harian ASN, verifikasi atasan, dan TPP bulanan."),
}


def _landing(names: Sequence[str]) -> HTMLResponse:
    items = "\n".join(
        f'<li class="card"><h2><a href="/{n}/">{SERVICES[n][0]}</a></h2>'
        f"<p>{SERVICES[n][1]}</p></li>"
        for n in names
    )
    first = names[0]
    html = f"""<!doctype html>
<html lang="id"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Layanan Daerah</title><link rel="icon" href="/{first}/favicon.ico">
<link rel="stylesheet" href="/{first}/static/style.css"></head>
<body><header class="site"><div class="wrap">
<span class="brand">Layanan Daerah</span></div></header>
<main class="wrap"><h1>Layanan publik daerah yang terbuka</h1>
<ul class="grid" style="list-style:none;padding:0">{items}</ul></main></body></html>"""
    return HTMLResponse(html)


def _service_env(service: str, data_dir: Path) -> None:
    prefix = service.upper() + "_"
    os.environ.setdefault(prefix + "DATABASE_URL", f"sqlite:///{data_dir / (service + '.db')}")
    os.environ.setdefault(prefix + "UPLOAD_DIR", str(data_dir / "uploads" / service))


def _prepare_here(service: str, data_dir: Path, *, demo: bool) -> list[tuple[str, str, list[str]]]:
    """Migrate the service's SQLite file and seed demo data on first start; returns the logins."""
    _service_env(service, data_dir)
    main = importlib.import_module(f"{service}.main")
    from shared import migrations

    spec = main.build_spec()
    migrations.upgrade(spec.migrations_dir, spec.settings.resolved_database_url())
    if not demo:
        return []
    # The logins are kept beside the data, so a restart prints them without seeding twice.
    stamp = data_dir / f".{service}-demo-logins.json"
    if stamp.exists():
        return [(u, p, list(r)) for u, p, r in json.loads(stamp.read_text())]
    from shared.cli import seed_demo

    demo_module = importlib.import_module(f"{service}.demo")
    logins = asyncio.run(seed_demo(spec, demo_module.seed, quiet=True))
    stamp.write_text(json.dumps(logins))
    return logins


def prepare(service: str, data_dir: Path, *, demo: bool) -> list[tuple[str, str, list[str]]]:
    """`_prepare_here` in a child process, so Alembic never loads into the serving process."""
    _service_env(service, data_dir)
    command = [sys.executable, __file__, "--prepare", service, "--data-dir", str(data_dir)]
    if not demo:
        command.append("--no-demo")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"preparing {service} failed:\n{done.stderr}")
    return [(u, p, list(r)) for u, p, r in json.loads(done.stdout.strip().splitlines()[-1])]


def banner(base: str, logins: dict[str, list[tuple[str, str, list[str]]]]) -> list[str]:
    """What `dev.py run` prints once the suite is up: where to open it and who to log in as.

    One password per service (the demo data gives every account of a service the same one), then
    the accounts grouped by role, so a newcomer reads it at a glance.
    """
    lines = [f"Layanan Daerah berjalan di {base}/  (Ctrl+C untuk berhenti)"]
    for name, accounts in logins.items():
        passwords = sorted({password for _, password, _ in accounts})
        says = f"  kata sandi demo: {', '.join(passwords)}" if passwords else ""
        lines.append(f"  {SERVICES[name][0]:<13} {base}/{name}/{says}")
        by_role: dict[str, list[str]] = {}
        for username, _, roles in accounts:
            by_role.setdefault(", ".join(roles), []).append(username)
        groups = [f"{role}: {' '.join(users)}" for role, users in by_role.items()]
        line = ""
        for group in groups:
            if line and len(line) + len(group) + 3 > 96:
                lines.append(line)
                line = ""
            line = f"{line} · {group}" if line else f"      {group}"
        if line:
            lines.append(line)
    return lines


def build_suite(names: Sequence[str]) -> Starlette:
    apps: dict[str, Any] = {}
    for name in names:
        apps[name] = importlib.import_module(f"{name}.main").create_app()

    async def landing(request: Request) -> HTMLResponse:
        return _landing(names)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "services": list(names)})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Mounted apps do not get lifespan events from Starlette: run each one's here.
        async with contextlib.AsyncExitStack() as stack:
            for sub in apps.values():
                await stack.enter_async_context(sub.router.lifespan_context(sub))
            yield

    routes: list[Any] = [Route("/", landing), Route("/health", health)]
    routes += [Mount(f"/{name}", app=sub) for name, sub in apps.items()]
    return Starlette(routes=routes, lifespan=lifespan)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--services", default=",".join(SERVICES), help="comma-separated names")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--data-dir", type=Path, default=Path("var"))
    parser.add_argument("--no-demo", action="store_true", help="do not load demo data")
    parser.add_argument("--prepare", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.prepare:
        print(
            json.dumps(_prepare_here(args.prepare, args.data_dir.resolve(), demo=not args.no_demo))
        )
        return 0
    names = [n.strip() for n in args.services.split(",") if n.strip()]
    unknown = [n for n in names if n not in SERVICES]
    if unknown or not names:
        parser.error(f"unknown services {unknown}; choose from {', '.join(SERVICES)}")
    args.data_dir.mkdir(parents=True, exist_ok=True)
    logins = {n: prepare(n, args.data_dir.resolve(), demo=not args.no_demo) for n in names}
    app = build_suite(names)
    print("\n".join(banner(f"http://{args.host}:{args.port}", logins)), flush=True)
    import uvicorn

    # The banner above says where the suite runs; uvicorn's own start-up lines would repeat it.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_config=None,
        log_level="warning",
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
