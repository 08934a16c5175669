"""SABILULUNGAN settings, read from SABILULUNGAN_* environment variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from shared.notifications import NotificationSettings


class Settings(NotificationSettings):
    model_config = SettingsConfigDict(env_prefix="SABILULUNGAN_", extra="ignore")

    service_name: str = "sabilulungan"


@lru_cache
def get_settings() -> Settings:
    return Settings()
