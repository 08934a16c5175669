"""The ERK app: `uvicorn erk.main:app`."""

from __future__ import annotations

from pathlib import Path

from erk import models, pages, routes
from erk.config import ErkConfig
from erk.dependencies import system_clock
from erk.settings import Settings, get_settings
from erk.tasks import escalate
from shared.app import PeriodicTask, ServiceSpec
from shared.service_main import app_entry_points, common_models, settings_and_config

PACKAGE_DIR = Path(__file__).parent
TITLE = "e-RK — Kinerja Harian ASN"

COMMON_MODELS = common_models(models)


def build_spec(settings: Settings | None = None, config: ErkConfig | None = None) -> ServiceSpec:
    settings, config = settings_and_config(settings, config, get_settings, ErkConfig)
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


create_app, __getattr__ = app_entry_points(__name__, build_spec)
