"""Alembic environment of ERK: owns the `erk` schema and its own version table."""

from erk.models import SCHEMA, Base
from erk.settings import get_settings
from shared.migrations import run_env

run_env(Base.metadata, schema=SCHEMA, default_url=get_settings().resolved_database_url())
