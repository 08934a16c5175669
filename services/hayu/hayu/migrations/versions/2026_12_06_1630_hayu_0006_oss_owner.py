"""oss_nib_records: the blind index of the owner's NIK; the payload keeps only declared fields

Revision ID: hayu_0006_oss_owner
Revises: hayu_0005_notify
Create Date: 2026-12-06 16:30:00

A `receiveNIB` push prefills a filing and links it to OSS's application only for the owner OSS
named (`hayu.oss`). Until now the whole push was stored; the upgrade keeps only the fields the
service uses (`hayu.oss.NIB_FIELDS`, spelled out here as the migration is frozen). Records stored
before have no owner index, so they prefill nothing until OSS pushes them again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "hayu_0006_oss_owner"
down_revision: str | None = "hayu_0005_notify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "hayu"
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
KEPT = ("nama_usaha", "kbli", "kode_wilayah", "id_permohonan")


def upgrade() -> None:
    with op.batch_alter_table("oss_nib_records", schema=SCHEMA) as batch:
        batch.add_column(sa.Column("owner_nik_index", sa.String(length=32), nullable=True))
    records = sa.table(
        "oss_nib_records",
        sa.column("nib", sa.String(13)),
        sa.column("payload", JSON),
        schema=SCHEMA,
    )
    bind = op.get_bind()
    for nib, payload in bind.execute(sa.select(records.c.nib, records.c.payload)).all():
        kept = {k: v for k, v in (payload or {}).items() if k in KEPT}
        if kept != payload:
            bind.execute(records.update().where(records.c.nib == nib).values(payload=kept))


def downgrade() -> None:
    with op.batch_alter_table("oss_nib_records", schema=SCHEMA) as batch:
        batch.drop_column("owner_nik_index")
