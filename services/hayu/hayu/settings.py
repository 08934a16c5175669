"""HAYU settings, read from HAYU_* environment variables."""

from __future__ import annotations

from functools import lru_cache

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


@lru_cache
def get_settings() -> Settings:
    return Settings()
