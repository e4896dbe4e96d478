"""upkeep: row leases for reconcilers, attention flags, reminders, Slack event dedupe

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("share_requests") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("attention", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("reminders_sent", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("next_reminder_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "slack_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_slack_events")),
    )


def downgrade() -> None:
    op.drop_table("slack_events")
    with op.batch_alter_table("share_requests") as batch:
        for name in ("next_reminder_at", "reminders_sent", "attention", "lease_until"):
            batch.drop_column(name)
        batch.drop_column("lease_owner")
