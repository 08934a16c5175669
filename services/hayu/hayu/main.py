"""The HAYU app: `uvicorn hayu.main:app`."""

from __future__ import annotations

from pathlib import Path

from hayu import letter_routes, models, pages, routes, tasks
from hayu.config import HayuConfig
from hayu.settings import Settings, get_settings
from shared.app import ServiceSpec
from shared.crypto import FieldCipher
from shared.login_guard import GuessGuard
from shared.service_main import app_entry_points, common_models, settings_and_config

PACKAGE_DIR = Path(__file__).parent
TITLE = "HAYU — Perizinan Usaha"

COMMON_MODELS = common_models(models)


def build_spec(settings: Settings | None = None, config: HayuConfig | None = None) -> ServiceSpec:
    settings, config = settings_and_config(settings, config, get_settings, HayuConfig)
    return ServiceSpec(
        name="hayu",
        title=TITLE,
        description="Online business licensing: instant self-report below the capital threshold, "
        "tracked permit applications above it.",
        package_dir=PACKAGE_DIR,
        settings=settings,
        config=config,
        models=COMMON_MODELS,
        api_routers=[routes.router, letter_routes.router],
        page_router=pages.router,
        periodic=[tasks.DEEMED_APPROVAL_TASK, tasks.OSS_OUTBOX_TASK, tasks.NOTIFY_TASK],
        extra_state={
            "cipher": FieldCipher(settings.data_key_bytes()),
            "start_path": "/mulai",  # where a login lands (pages/staff.py)
            # failed NIB and NIK pairs at "Ambil data OSS" (pages: POST /lapor/oss)
            "oss_owner_guard": GuessGuard(
                max_per_account=settings.oss_owner_max_failures,
                max_per_address=settings.oss_owner_max_failures_per_address,
                window_seconds=settings.oss_owner_window_seconds,
                detail="Too many NIB and NIK pairs that do not match OSS: wait before trying again",
            ),
        },
    )


create_app, __getattr__ = app_entry_points(__name__, build_spec)
