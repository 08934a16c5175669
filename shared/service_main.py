"""The parts of a service's `main.py` that are the same in every service.

A service's `main.py` keeps only what differs: its title, routers, periodic tasks and extra state,
in `build_spec(settings=None, config=None)`. This module supplies the rest:

    COMMON_MODELS = common_models(models)

    def build_spec(settings: Settings | None = None, config: Config | None = None) -> ServiceSpec:
        settings, config = settings_and_config(settings, config, get_settings, Config)
        return ServiceSpec(...)

    create_app, __getattr__ = app_entry_points(__name__, build_spec)

`create_app(settings, config)` builds the app; the module attribute `app` (what
`uvicorn <service>.main:app` loads) is built on first access, not at import, so that importing
`main` (tests, the CLI, the benchmarks) starts nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType
from typing import ParamSpec, TypeVar

from fastapi import FastAPI

from shared.app import CommonModels, ServiceSpec, create_service_app
from shared.config import RegencyConfigBase, load_regency_config
from shared.settings import ServiceSettings

P = ParamSpec("P")
S = TypeVar("S", bound=ServiceSettings)
C = TypeVar("C", bound=RegencyConfigBase)


def common_models(models: ModuleType) -> CommonModels:
    """The plumbing tables every service's `models` module declares under the same names."""
    return CommonModels(
        account=models.Account,
        audit_event=models.AuditEvent,
        audit_checkpoint=models.AuditCheckpoint,
        idempotency=models.IdempotencyRecord,
    )


def settings_and_config(
    settings: S | None,
    config: C | None,
    get_settings: Callable[[], S],
    config_type: type[C],
) -> tuple[S, C]:
    """The settings given or read from the environment, and the regency configuration given or
    loaded (and validated) from the file the settings name."""
    settings = settings or get_settings()
    return settings, config or load_regency_config(settings.regency_config, config_type)


def app_entry_points(
    module_name: str, build_spec: Callable[P, ServiceSpec]
) -> tuple[Callable[P, FastAPI], Callable[[str], FastAPI]]:
    """`create_app` with `build_spec`'s parameters, and the module `__getattr__` that builds
    `module_name.app` on first access and keeps it."""

    def create_app(*args: P.args, **kwargs: P.kwargs) -> FastAPI:
        return create_service_app(build_spec(*args, **kwargs))

    def module_getattr(name: str) -> FastAPI:
        if name == "app":
            application = create_service_app(build_spec())  # type: ignore[call-arg]
            vars(sys.modules[module_name])["app"] = application
            return application
        raise AttributeError(name)

    return create_app, module_getattr
