"""interpreters remember the status a suspension or exclusion set aside, so it is given back when it ends

Lifting the last suspension or exclusion made the interpreter active whatever they were before: one who had
left the register (inactive) was listed and bookable again, one on leave (paused) was offered work. The status
before the first sanction that holds is kept here and given back; NULL (rows from before, and interpreters no
sanction holds) means active, as before.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 16:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('interpreters', sa.Column('status_after_sanction', sa.String(length=12), nullable=True))


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35+, PostgreSQL): a batch copy of the table would lose its triggers (0007).
    op.execute("ALTER TABLE interpreters DROP COLUMN status_after_sanction")
