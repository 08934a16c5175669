"""The ERK app: `uvicorn erk.main:app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from erk import models, pages, routes
from erk.config import ErkConfig
from erk.dependencies import system_clock
from erk.settings import Settings, get_settings
from erk.tasks import escalate
from shared.app import CommonModels, PeriodicTask, ServiceSpec, create_service_app
from shared.config import load_regency_config

PACKAGE_DIR = Path(__file__).parent
TITLE = "e-RK — Kinerja Harian ASN"

COMMON_MODELS = CommonModels(
    account=models.Account,
    audit_event=models.AuditEvent,
    audit_checkpoint=models.AuditCheckpoint,
    idempotency=models.IdempotencyRecord,
)


def build_spec(settings: Settings | None = None, config: ErkConfig | None = None) -> ServiceSpec:
    settings = settings or get_settings()
    config = config or load_regency_config(settings.regency_config, ErkConfig)
    return ServiceSpec(
        name="erk",
        title=TITLE,
        description="Civil servants' daily performance, supervisor verification and the monthly "
        "TPP allowance that follows from it.",
        package_dir=PACKAGE_DIR,
        settings=settings,
        config=config,
        models=COMMON_MODELS,
        api_routers=[routes.router],
        page_router=pages.router,
        username_label="NIP",
        periodic=[PeriodicTask("erk-escalate", config.erk.escalation_interval_seconds, escalate)],
        extra_state={"clock": system_clock},
    )


def create_app(settings: Settings | None = None, config: ErkConfig | None = None) -> FastAPI:
    return create_service_app(build_spec(settings, config))


def __getattr__(name: str) -> FastAPI:
    # `uvicorn erk.main:app` builds the app on first access, not at import.
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
