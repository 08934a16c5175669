"""The HAYU app: `uvicorn hayu.main:app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from hayu import models, pages, routes, tasks
from hayu.config import HayuConfig
from hayu.settings import Settings, get_settings
from shared.app import CommonModels, ServiceSpec, create_service_app
from shared.config import load_regency_config
from shared.crypto import FieldCipher

PACKAGE_DIR = Path(__file__).parent
TITLE = "HAYU — Perizinan Usaha"

COMMON_MODELS = CommonModels(
    account=models.Account,
    audit_event=models.AuditEvent,
    audit_checkpoint=models.AuditCheckpoint,
    idempotency=models.IdempotencyRecord,
)


def build_spec(settings: Settings | None = None, config: HayuConfig | None = None) -> ServiceSpec:
    settings = settings or get_settings()
    config = config or load_regency_config(settings.regency_config, HayuConfig)
    return ServiceSpec(
        name="hayu",
        title=TITLE,
        description="Online business licensing: instant self-report below the capital threshold, "
        "tracked permit applications above it.",
        package_dir=PACKAGE_DIR,
        settings=settings,
        config=config,
        models=COMMON_MODELS,
        api_routers=[routes.router],
        page_router=pages.router,
        username_label="Nama pengguna",
        periodic=[tasks.DEEMED_APPROVAL_TASK, tasks.OSS_OUTBOX_TASK],
        extra_state={"cipher": FieldCipher(settings.data_key_bytes())},
    )


def create_app(settings: Settings | None = None, config: HayuConfig | None = None) -> FastAPI:
    return create_service_app(build_spec(settings, config))


def __getattr__(name: str) -> FastAPI:
    # `uvicorn hayu.main:app` builds the app on first access, not at import.
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
