"""qualifications carry their interpreter's name_key, kept by triggers, so the register reads a language's holders
in the order it lists them

The public register lists a language's holders by category, then name. The name was the interpreter's, so each
page joined every holder of a category to the interpreters and sorted them by name: on the PostgreSQL bench data
3.6 ms for Arabic's first page (720 holders of category A), and 19-23 ms for a page among the 5,717 holders of
category E, where the first page had promised that a deep page costs what the first does. With the name copied
here and in the index (language, rank, name, interpreter), and (language, county, rank, name, interpreter) for a
county, the database reads the holders in that order and stops when the page is full.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 11:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# As this migration installed them, kept here unchanged: a later change to them is a migration of its own.
# qualifications.name_key follows interpreters.name_key, whatever writes either table, as the county (0007) and
# the last booking (0009) do.
QUALIFICATION_NAME_TRIGGERS = {
    "postgresql": {
        "create": [
            "CREATE FUNCTION qualification_name() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "NEW.name_key := (SELECT name_key FROM interpreters WHERE id = NEW.interpreter_id); "
            "RETURN NEW; END $$",
            "CREATE TRIGGER qualification_name BEFORE INSERT OR UPDATE OF interpreter_id, name_key "
            "ON qualifications FOR EACH ROW EXECUTE FUNCTION qualification_name()",
            "CREATE FUNCTION interpreter_renamed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "UPDATE qualifications SET name_key = NEW.name_key WHERE interpreter_id = NEW.id; "
            "RETURN NULL; END $$",
            "CREATE TRIGGER interpreter_renamed AFTER UPDATE OF name_key ON interpreters FOR EACH ROW "
            "WHEN (OLD.name_key IS DISTINCT FROM NEW.name_key) EXECUTE FUNCTION interpreter_renamed()",
        ],
        "drop": [
            "DROP TRIGGER IF EXISTS interpreter_renamed ON interpreters",
            "DROP FUNCTION IF EXISTS interpreter_renamed()",
            "DROP TRIGGER IF EXISTS qualification_name ON qualifications",
            "DROP FUNCTION IF EXISTS qualification_name()",
        ],
    },
    "sqlite": {
        "create": [
            "CREATE TRIGGER qualification_name AFTER INSERT ON qualifications BEGIN "
            "UPDATE qualifications SET name_key = (SELECT name_key FROM interpreters WHERE id = NEW.interpreter_id) "
            "WHERE interpreter_id = NEW.interpreter_id AND language_code = NEW.language_code; END",
            "CREATE TRIGGER qualification_name_kept AFTER UPDATE OF interpreter_id, name_key ON qualifications "
            "WHEN NEW.name_key IS NOT (SELECT name_key FROM interpreters WHERE id = NEW.interpreter_id) "
            "BEGIN UPDATE qualifications SET "
            "name_key = (SELECT name_key FROM interpreters WHERE id = NEW.interpreter_id) "
            "WHERE interpreter_id = NEW.interpreter_id AND language_code = NEW.language_code; END",
            "CREATE TRIGGER interpreter_renamed AFTER UPDATE OF name_key ON interpreters "
            "WHEN OLD.name_key IS NOT NEW.name_key BEGIN "
            "UPDATE qualifications SET name_key = NEW.name_key WHERE interpreter_id = NEW.id; END",
        ],
        "drop": [
            "DROP TRIGGER IF EXISTS interpreter_renamed",
            "DROP TRIGGER IF EXISTS qualification_name_kept",
            "DROP TRIGGER IF EXISTS qualification_name",
        ],
    },
}


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN on both databases: a batch would copy the table on SQLite and lose its triggers.
    op.add_column('qualifications', sa.Column('name_key', sa.String(length=200), nullable=True))
    op.execute("UPDATE qualifications SET name_key = "
               "(SELECT name_key FROM interpreters WHERE interpreters.id = qualifications.interpreter_id)")
    op.create_index('ix_qualifications_language_rank_name', 'qualifications',
                    ['language_code', 'rank', 'name_key', 'interpreter_id'], unique=False)
    op.create_index('ix_qualifications_language_county_rank_name', 'qualifications',
                    ['language_code', 'county_number', 'rank', 'name_key', 'interpreter_id'], unique=False)
    for statement in QUALIFICATION_NAME_TRIGGERS[op.get_bind().dialect.name]["create"]:
        op.execute(statement)


def downgrade():
    for statement in QUALIFICATION_NAME_TRIGGERS[op.get_bind().dialect.name]["drop"]:
        op.execute(statement)
    op.drop_index('ix_qualifications_language_county_rank_name', table_name='qualifications')
    op.drop_index('ix_qualifications_language_rank_name', table_name='qualifications')
    # SQLite drops a column with ALTER TABLE ... DROP COLUMN (3.35 and later) when no index or trigger uses it,
    # so the qualifications' other triggers stay.
    op.drop_column('qualifications', 'name_key')
