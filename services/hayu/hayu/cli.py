"""HAYU's own commands: import the KBLI 2020 and kode wilayah lists, run deemed approval, check
the files linked to OSS against the owner OSS named (an upgrade step after hayu_0006)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hayu import oss, reference, sla
from hayu.dependencies import spec_context
from hayu.models import KbliCode, KbliRisk, Region
from shared import audit
from shared.app import ServiceSpec
from shared.cli import ExtraCommand, database_of


async def _import(
    spec: ServiceSpec, model: type[KbliCode] | type[Region] | type[KbliRisk], paths: list[Path]
) -> int:
    rows: Sequence[dict[str, Any]]
    try:
        if model is KbliCode:
            rows = reference.read_kbli_csv(paths[0])
        elif model is KbliRisk:
            rows = reference.read_kbli_risk_csv(paths[0])
        else:
            rows = reference.read_region_csvs(paths)
    except (OSError, ValueError) as exc:
        print(f"import refused, nothing changed: {exc}", file=sys.stderr)
        return 2
    db = database_of(spec)
    try:
        async with db.sessionmaker.begin() as session:
            count = await reference.replace_reference(session, model, rows)
            await audit.record_event(
                session,
                spec.models.audit_event,
                actor="cli",
                role="admin",
                action=f"reference.imported.{model.__tablename__}",
                entity_type="reference",
                entity_id=model.__tablename__,
                after={"rows": count, "files": [p.name for p in paths]},
            )
    finally:
        await db.dispose()
    print(f"imported {count} rows into {model.__tablename__}")
    return 0


async def _import_kbli(spec: ServiceSpec, args: argparse.Namespace) -> int:
    return await _import(spec, KbliCode, [Path(args.path)])


async def _import_kbli_risk(spec: ServiceSpec, args: argparse.Namespace) -> int:
    return await _import(spec, KbliRisk, [Path(args.path)])


async def _import_wilayah(spec: ServiceSpec, args: argparse.Namespace) -> int:
    return await _import(spec, Region, [Path(p) for p in args.paths])


async def _deemed(spec: ServiceSpec, args: argparse.Namespace) -> int:
    db = database_of(spec)

    ctx = spec_context(spec)
    try:
        async with db.sessionmaker.begin() as session:
            issued = await sla.run_deemed_approvals(session, ctx)
    finally:
        await db.dispose()
    print(f"deemed approval issued {len(issued)} permits")
    return 0


async def _verify_oss_links(spec: ServiceSpec, args: argparse.Namespace) -> int:
    db = database_of(spec)
    ctx = spec_context(spec)
    try:
        async with db.sessionmaker.begin() as session:
            found = await oss.verify_links(session, ctx, apply=args.apply)
    finally:
        await db.dispose()
    unknown = len(found.unlinked[oss.OWNER_UNKNOWN])
    differs = len(found.unlinked[oss.OWNER_DIFFERS])
    unlink, withdraw = ("unlinked", "withdrawn") if args.apply else ("to unlink", "to withdraw")
    print(
        f"files linked to OSS: {found.kept + unknown + differs}; kept (owner confirmed by OSS): "
        f"{found.kept}; {unlink}: {unknown + differs} (OSS named no owner: {unknown}, another "
        f"owner: {differs}); unsent OSS messages {withdraw}: {found.withdrawn_messages}"
    )
    if not args.apply:
        print("dry run: nothing changed (run with --apply to unlink)")
    return 0


def _apply_arg(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--dry-run",
        dest="apply",
        action="store_false",
        help="only count what would be unlinked (the default)",
    )
    mode.add_argument("--apply", dest="apply", action="store_true", help="unlink and audit")
    parser.set_defaults(apply=False)


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults()


def _path_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="CSV with columns code,title (e.g. kbli2020.csv)")


def _paths_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="+", help="CSVs with columns code,name (wilayah_provinsi/kabkota/kecamatan)"
    )


EXTRA_COMMANDS = (
    ExtraCommand(
        "import-kbli", "replace the KBLI 2020 list from the official CSV", _path_arg, _import_kbli
    ),
    ExtraCommand(
        "import-kbli-risk",
        "replace the KBLI risk levels (code,risk_level,effective_from,basis)",
        _path_arg,
        _import_kbli_risk,
    ),
    ExtraCommand(
        "import-wilayah",
        "replace the kode wilayah list from Kemendagri CSVs",
        _paths_arg,
        _import_wilayah,
    ),
    ExtraCommand(
        "deemed-approvals",
        "issue permits whose whole SLA lapsed undecided (fiktif positif)",
        _no_arguments,
        _deemed,
    ),
    ExtraCommand(
        "oss-verify-links",
        "unlink files linked to OSS whose owner is not the one OSS named (after hayu_0006)",
        _apply_arg,
        _verify_oss_links,
    ),
)
