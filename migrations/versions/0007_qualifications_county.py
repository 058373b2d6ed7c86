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

# As this migration installed them, kept here unchanged: a later change to them is a migration of its own.
# qualifications.county_number follows interpreters.county_number, whatever writes either table.
QUALIFICATION_COUNTY_TRIGGERS = {
    "postgresql": {
        "create": [
            "CREATE FUNCTION qualification_county() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "NEW.county_number := (SELECT county_number FROM interpreters WHERE id = NEW.interpreter_id); "
            "RETURN NEW; END $$",
            "CREATE TRIGGER qualification_county BEFORE INSERT OR UPDATE OF interpreter_id, county_number "
            "ON qualifications FOR EACH ROW EXECUTE FUNCTION qualification_county()",
            "CREATE FUNCTION interpreter_county_moves() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "UPDATE qualifications SET county_number = NEW.county_number WHERE interpreter_id = NEW.id; "
            "RETURN NULL; END $$",
            "CREATE TRIGGER interpreter_county_moves AFTER UPDATE OF county_number ON interpreters FOR EACH ROW "
            "WHEN (OLD.county_number IS DISTINCT FROM NEW.county_number) EXECUTE FUNCTION interpreter_county_moves()",
        ],
        "drop": [
            "DROP TRIGGER IF EXISTS interpreter_county_moves ON interpreters",
            "DROP FUNCTION IF EXISTS interpreter_county_moves()",
            "DROP TRIGGER IF EXISTS qualification_county ON qualifications",
            "DROP FUNCTION IF EXISTS qualification_county()",
        ],
    },
    "sqlite": {
        "create": [
            "CREATE TRIGGER qualification_county AFTER INSERT ON qualifications BEGIN "
            "UPDATE qualifications SET county_number = "
            "(SELECT county_number FROM interpreters WHERE id = NEW.interpreter_id) "
            "WHERE interpreter_id = NEW.interpreter_id AND language_code = NEW.language_code; END",
            "CREATE TRIGGER qualification_county_kept AFTER UPDATE OF interpreter_id, county_number ON qualifications "
            "WHEN NEW.county_number IS NOT (SELECT county_number FROM interpreters WHERE id = NEW.interpreter_id) "
            "BEGIN UPDATE qualifications SET county_number = "
            "(SELECT county_number FROM interpreters WHERE id = NEW.interpreter_id) "
            "WHERE interpreter_id = NEW.interpreter_id AND language_code = NEW.language_code; END",
            "CREATE TRIGGER interpreter_county_moves AFTER UPDATE OF county_number ON interpreters "
            "WHEN OLD.county_number IS NOT NEW.county_number BEGIN "
            "UPDATE qualifications SET county_number = NEW.county_number WHERE interpreter_id = NEW.id; END",
        ],
        "drop": [
            "DROP TRIGGER IF EXISTS interpreter_county_moves",
            "DROP TRIGGER IF EXISTS qualification_county_kept",
            "DROP TRIGGER IF EXISTS qualification_county",
        ],
    },
}


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
