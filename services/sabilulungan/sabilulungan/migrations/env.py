"""Alembic environment of SABILULUNGAN: owns the `sabilulungan` schema and its own version table."""

from sabilulungan.models import SCHEMA, Base
from sabilulungan.settings import get_settings
from shared.migrations import run_env

run_env(Base.metadata, schema=SCHEMA, default_url=get_settings().resolved_database_url())
