"""users remember the last two-factor code's time step, so a code logs in only once

A code from the authenticator app was accepted as often as it was shown within its 90 seconds (its step and
one either side, for clock drift): a code seen over a shoulder or in a screen recording could log in again
with the password. RFC 6238 (section 5.2) says a verifier must not accept a code a second time. NULL: no
code used yet.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 19:30:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('totp_last_step', sa.Integer(), nullable=True))


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35+, PostgreSQL), as 0008, 0011 and 0012 do.
    op.execute("ALTER TABLE users DROP COLUMN totp_last_step")
