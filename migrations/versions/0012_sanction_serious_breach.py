"""an exclusion records whether it was decided for a serious breach

tolkeloven allows an exclusion after three written warnings within five years, or for one serious breach of
good interpreting practice. An exclusion could be recorded on neither ground. The ground is now asked and
kept: a serious breach is true only for an exclusion the administrator said was one. Exclusions recorded
before have false here; they stand as they were decided.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 19:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('sanctions', sa.Column('serious_breach', sa.Boolean(), nullable=False,
                                         server_default=sa.false()))


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35+, PostgreSQL), as 0008 and 0011 do.
    op.execute("ALTER TABLE sanctions DROP COLUMN serious_breach")
