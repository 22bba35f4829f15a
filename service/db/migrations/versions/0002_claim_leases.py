"""Claims carry a lease that their holder renews, and failures that count toward max_attempts.

A ``running`` submission is taken back only once its lease has expired, so any number of
processes can share one database without taking each other's live claims.  Rows left
``running`` by an older version have no lease: they are stale at once.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("failures", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("lease_owner", sa.String(200), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("claim_inprocess", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index("ix_submissions_lease", "submissions", ["status", "lease_expires_at"])


def downgrade() -> None:
    op.drop_index("ix_submissions_lease", table_name="submissions")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("claim_inprocess")
        batch.drop_column("lease_expires_at")
        batch.drop_column("lease_owner")
        batch.drop_column("failures")
