"""Indexes of the instructor dashboard: a student's attempts at an exercise, the submissions of a day,
the reports of the last hour.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_submissions_exercise_user", "submissions", ["exercise", "user_id", "id"])
    op.create_index("ix_submissions_created", "submissions", ["created_at"])
    op.create_index("ix_reports_created", "reports", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_reports_created", table_name="reports")
    op.drop_index("ix_submissions_created", table_name="submissions")
    op.drop_index("ix_submissions_exercise_user", table_name="submissions")
