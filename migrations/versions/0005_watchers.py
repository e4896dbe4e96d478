"""watchers: who started a change that was still at Meta when they last heard of it

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("share_requests") as batch:
        batch.add_column(sa.Column("watcher_slack_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("watched_from", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("share_requests") as batch:
        batch.drop_column("watched_from")
        batch.drop_column("watcher_slack_id")
