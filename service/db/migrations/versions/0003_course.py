"""The course: assignments (dates and late policy), per-student extensions, the roster.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("exercise", sa.String(100), nullable=False, unique=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("opens_at", UTC, nullable=False),
        sa.Column("due_at", UTC, nullable=False),
        sa.Column("late_until", UTC, nullable=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("late_policy", sa.String(20), nullable=False),
        sa.Column("penalty_percent", sa.Float(), nullable=False),
        sa.Column("penalty_cap", sa.Float(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
    )
    op.create_table(
        "extensions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("assignment_id", sa.Integer(), sa.ForeignKey("assignments.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("due_at", UTC, nullable=False),
        sa.Column("late_until", UTC, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("revoked_at", UTC, nullable=True),
    )
    op.create_index("ix_extensions_assignment_user", "extensions", ["assignment_id", "user_id"])
    op.create_table(
        "roster",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                  unique=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("section", sa.String(100), nullable=False),
        sa.Column("lms_id", sa.String(100), nullable=False),
        sa.Column("sis_user_id", sa.String(100), nullable=False),
        sa.Column("sis_login_id", sa.String(100), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("removed_at", UTC, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("roster")
    op.drop_table("extensions")
    op.drop_table("assignments")
