"""audit log as a transparency log: chained signed tree heads, Merkle tree, witnesses

Revision ID: sabilulungan_0003_audit
Revises: sabilulungan_0002
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from shared.migrations_audit import create_audit_log_v1, drop_audit_log_v1

revision: str = "sabilulungan_0003_audit"
down_revision: str | None = "sabilulungan_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_audit_log_v1("sabilulungan")


def downgrade() -> None:
    drop_audit_log_v1("sabilulungan")
