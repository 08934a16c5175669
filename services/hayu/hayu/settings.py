"""HAYU settings, read from HAYU_* environment variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.notifications import NotificationSettings


class Settings(NotificationSettings):
    model_config = SettingsConfigDict(env_prefix="HAYU_", extra="ignore")

    service_name: str = "hayu"
    # OSS-RBA link (off until configured): the regional-system endpoint and credentials the
    # regency obtains from the Kementerian Investasi/BKPM (see the README's OSS section).
    oss_base_url: str | None = None
    oss_token: str | None = None
    oss_inbound_token: str | None = None
    # "Ambil data OSS" (`POST /lapor/oss`): a NIB and NIK pair that does not match OSS's push is
    # a failed guess at who owns a business, counted like failed logins (`shared.login_guard`).
    oss_owner_max_failures: int = Field(
        default=5, ge=1, description="failed NIB and NIK pairs per account in the window"
    )
    oss_owner_max_failures_per_address: int = Field(
        default=20, ge=1, description="failed NIB and NIK pairs per client address, all accounts"
    )
    oss_owner_window_seconds: int = Field(
        default=3600, ge=60, description="window over which failed NIB and NIK pairs are counted"
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
