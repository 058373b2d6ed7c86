"""qualifications carry their interpreter's county, kept by triggers, so a search in a county reads only its holders

The availability search for a language in a county went through every holder of the category rank in the
country to keep those in the county: for Arabic in one county, two ranks on average at 6 ms a query on the
bench data (PostgreSQL). With the county in the index (language, county, rank, interpreter) it reads the county's
holders only. The county is the interpreter's, copied by the database itself: set when a qualification row is
written, and rewritten on every row of the interpreter when the interpreter's county changes, whoever changes it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 11:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

from registry.models.interpreter import QUALIFICATION_COUNTY_TRIGGERS


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('qualifications', sa.Column('county_number', sa.String(length=2), nullable=True))
    op.execute("UPDATE qualifications SET county_number = "
               "(SELECT county_number FROM interpreters WHERE interpreters.id = qualifications.interpreter_id)")
    op.create_index('ix_qualifications_language_county_rank', 'qualifications',
                    ['language_code', 'county_number', 'rank', 'interpreter_id'], unique=False)
    for statement in QUALIFICATION_COUNTY_TRIGGERS[op.get_bind().dialect.name]["create"]:
        op.execute(statement)


def downgrade():
    for statement in QUALIFICATION_COUNTY_TRIGGERS[op.get_bind().dialect.name]["drop"]:
        op.execute(statement)
    op.drop_index('ix_qualifications_language_county_rank', table_name='qualifications')
    with op.batch_alter_table('qualifications') as batch:
        batch.drop_column('county_number')
