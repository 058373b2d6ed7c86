"""search indexes: credentials by interpreter and state, slot-holding bookings, working hours by weekday

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 06:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# The bookings that hold an interpreter's time, as this migration indexed them.
HOLDING_SQL = "status IN ('requested', 'confirmed')"


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_credentials_interpreter_id', table_name='credentials')
    op.create_index('ix_credentials_interpreter_state', 'credentials', ['interpreter_id', 'state'], unique=False)
    op.drop_index('ix_working_hours_interpreter_id', table_name='working_hours')
    op.create_index('ix_working_hours_interpreter_weekday', 'working_hours',
                    ['interpreter_id', 'weekday', 'start_time', 'end_time'], unique=False)
    op.drop_index('ix_interpreters_status', table_name='interpreters')
    op.create_index('ix_bookings_holding_interpreter_period', 'bookings', ['interpreter_id', 'starts_at', 'ends_at'],
                    unique=False, sqlite_where=sa.text(HOLDING_SQL), postgresql_where=sa.text(HOLDING_SQL))


def downgrade():
    op.drop_index('ix_bookings_holding_interpreter_period', table_name='bookings')
    op.create_index('ix_interpreters_status', 'interpreters', ['status'], unique=False)
    op.drop_index('ix_working_hours_interpreter_weekday', table_name='working_hours')
    op.create_index('ix_working_hours_interpreter_id', 'working_hours', ['interpreter_id'], unique=False)
    op.drop_index('ix_credentials_interpreter_state', table_name='credentials')
    op.create_index('ix_credentials_interpreter_id', 'credentials', ['interpreter_id'], unique=False)
