"""Alembic environment of HAYU: owns the `hayu` schema and its own version table."""

from hayu.models import SCHEMA, Base
from hayu.settings import get_settings
from shared.migrations import run_env

run_env(Base.metadata, schema=SCHEMA, default_url=get_settings().resolved_database_url())
