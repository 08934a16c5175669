"""HAYU's own commands: import the KBLI 2020 and kode wilayah lists, run deemed approval."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hayu import reference, sla
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
)
