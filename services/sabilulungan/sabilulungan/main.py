"""The SABILULUNGAN app: `uvicorn sabilulungan.main:app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from sabilulungan import models, pages, routes
from sabilulungan.config import SabilulunganConfig
from sabilulungan.settings import Settings, get_settings
from shared.app import CommonModels, ServiceSpec, create_service_app
from shared.config import load_regency_config

PACKAGE_DIR = Path(__file__).parent
TITLE = "Sabilulungan — Hibah dan Bansos"

COMMON_MODELS = CommonModels(
    account=models.Account,
    audit_event=models.AuditEvent,
    audit_checkpoint=models.AuditCheckpoint,
    idempotency=models.IdempotencyRecord,
)


def build_spec(
    settings: Settings | None = None, config: SabilulunganConfig | None = None
) -> ServiceSpec:
    settings = settings or get_settings()
    config = config or load_regency_config(settings.regency_config, SabilulunganConfig)
    return ServiceSpec(
        name="sabilulungan",
        title=TITLE,
        description="Hibah and bansos proposals from the regional budget, tracked by the applicant "
        "and open to the public.",
        package_dir=PACKAGE_DIR,
        settings=settings,
        config=config,
        models=COMMON_MODELS,
        api_routers=[routes.router, routes.public_router],
        page_router=pages.router,
        username_label="Nama pengguna",
    )


def create_app(
    settings: Settings | None = None, config: SabilulunganConfig | None = None
) -> FastAPI:
    return create_service_app(build_spec(settings, config))


def __getattr__(name: str) -> FastAPI:
    # `uvicorn sabilulungan.main:app` builds the app on first access, not at import.
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
