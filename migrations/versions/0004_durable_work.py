"""durable work: jobs written before the ack; what Slack shows of each request

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW_COLUMNS = (
    ("version", sa.Integer(), "1"),
    ("changed_by_job", sa.Integer(), None),
    ("slack_due_at", sa.DateTime(timezone=True), None),
    ("slack_attempts", sa.Integer(), "0"),
    ("slack_lease_owner", sa.String(length=64), None),
    ("slack_lease_until", sa.DateTime(timezone=True), None),
    ("card_status", sa.String(length=20), None),
    ("thread_status", sa.String(length=20), None),
    ("requester_status", sa.String(length=20), None),
    ("reminders_due", sa.Integer(), "0"),
)


def upgrade() -> None:
    with op.batch_alter_table("share_requests") as batch:
        for name, kind, default in _NEW_COLUMNS:
            batch.add_column(
                sa.Column(name, kind, nullable=default is None, server_default=default)
            )
        batch.create_index("ix_share_requests_slack_due_at", ["slack_due_at"])
        batch.create_index("ix_share_requests_changed_by_job", ["changed_by_job"])
    # Rows from before: Slack already shows what the old code posted, so nobody is told
    # again of what they heard (a posted card shows its state; the requester heard theirs).
    op.execute(
        "UPDATE share_requests SET requester_status = status, reminders_due = reminders_sent, "
        "card_status = CASE WHEN slack_ts IS NOT NULL THEN status END, "
        "thread_status = CASE WHEN slack_ts IS NOT NULL THEN status END"
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("surface", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("reply_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("reply_uses", sa.Integer(), server_default="0", nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("told", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("key", name=op.f("uq_jobs_key")),
    )
    op.create_index("ix_jobs_status_lease_until", "jobs", ["status", "lease_until"])


def downgrade() -> None:
    op.drop_index("ix_jobs_status_lease_until", table_name="jobs")
    op.drop_table("jobs")
    with op.batch_alter_table("share_requests") as batch:
        batch.drop_index("ix_share_requests_changed_by_job")
        batch.drop_index("ix_share_requests_slack_due_at")
        for name, _, _ in reversed(_NEW_COLUMNS):
            batch.drop_column(name)
