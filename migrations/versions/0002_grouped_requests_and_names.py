"""share requests: one Meta request may hold several pixels; remember the names shown

Meta adds a pixel to the request already in progress between two businesses, so several
share requests can carry the same pending_request_id: the unique constraint goes, an index
stays. The pixel, owner and agency names are kept so that a message can be redrawn (by any
replica, at any time) without asking Meta again.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAMES = ("pixel_name", "owner_name", "agency_name")


def upgrade() -> None:
    with op.batch_alter_table("share_requests") as batch:
        batch.drop_constraint("uq_share_requests_pending_request_id", type_="unique")
        batch.create_index("ix_share_requests_pending_request_id", ["pending_request_id"])
        for name in NAMES:
            batch.add_column(sa.Column(name, sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("share_requests") as batch:
        for name in reversed(NAMES):
            batch.drop_column(name)
        batch.drop_index("ix_share_requests_pending_request_id")
        # Only possible while no two rows share a request id, as before this revision.
        batch.create_unique_constraint(
            "uq_share_requests_pending_request_id", ["pending_request_id"]
        )
