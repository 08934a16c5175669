"""The SABILULUNGAN app: `uvicorn sabilulungan.main:app`."""

from __future__ import annotations

from pathlib import Path

from sabilulungan import letter_routes, models, pages, routes, tasks
from sabilulungan.config import SabilulunganConfig
from sabilulungan.settings import Settings, get_settings
from shared.app import ServiceSpec
from shared.service_main import app_entry_points, common_models, settings_and_config

PACKAGE_DIR = Path(__file__).parent
TITLE = "Sabilulungan — Hibah dan Bansos"

COMMON_MODELS = common_models(models)


def build_spec(
    settings: Settings | None = None, config: SabilulunganConfig | None = None
) -> ServiceSpec:
    settings, config = settings_and_config(settings, config, get_settings, SabilulunganConfig)
    return ServiceSpec(
        name="sabilulungan",
        title=TITLE,
        description="Hibah and bansos proposals from the regional budget, tracked by the applicant "
        "and open to the public.",
        package_dir=PACKAGE_DIR,
        settings=settings,
        config=config,
        models=COMMON_MODELS,
        api_routers=[routes.router, routes.public_router, letter_routes.router],
        page_router=pages.router,
        periodic=tasks.PERIODIC,
        extra_state={"start_path": "/mulai"},  # where a login lands (pages/staff.py)
    )


create_app, __getattr__ = app_entry_points(__name__, build_spec)
