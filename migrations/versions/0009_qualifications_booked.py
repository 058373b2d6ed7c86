"""qualifications carry when their interpreter was last booked, kept by triggers, so a search reads a language's
holders in the order it ranks them

The availability search ranks by category, nearness, never booked first, then least recently booked. Without a
place (video and phone, or a county and no municipality) nearness is the same for all, and the rest of the order
is the qualification's rank and the interpreter's last booking. With that copied here and in the index, the
database reads the holders in that order and stops when the page is full, instead of joining every holder of the
category to the interpreters and sorting them: Arabic, Polish and Somali 0.65-0.86 ms a query against 1.3-3.4 ms
on the PostgreSQL bench data. `booked` says whether there is a last booking, so never-booked holders come first
on both databases.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 02:30:00.000000

"""
import sqlalchemy as sa
from alembic import context, op

from registry.models.types import UTCDateTime

# As this migration installed them, kept here unchanged: a later change to them is a migration of its own.
# qualifications.booked and last_booked_at follow interpreters.last_booked_at, whatever writes either table, as
# the county does (0007).
QUALIFICATION_BOOKED_TRIGGERS = {
    "postgresql": {
        "create": [
            "CREATE FUNCTION qualification_booked() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "NEW.last_booked_at := (SELECT last_booked_at FROM interpreters WHERE id = NEW.interpreter_id); "
            "NEW.booked := NEW.last_booked_at IS NOT NULL; "
            "RETURN NEW; END $$",
            "CREATE TRIGGER qualification_booked BEFORE INSERT OR UPDATE OF interpreter_id, booked, last_booked_at "
            "ON qualifications FOR EACH ROW EXECUTE FUNCTION qualification_booked()",
            "CREATE FUNCTION interpreter_booked() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "UPDATE qualifications SET last_booked_at = NEW.last_booked_at, booked = NEW.last_booked_at IS NOT NULL "
            "WHERE interpreter_id = NEW.id; "
            "RETURN NULL; END $$",
            "CREATE TRIGGER interpreter_booked AFTER UPDATE OF last_booked_at ON interpreters FOR EACH ROW "
            "WHEN (OLD.last_booked_at IS DISTINCT FROM NEW.last_booked_at) EXECUTE FUNCTION interpreter_booked()",
        ],
        "drop": [
            "DROP TRIGGER IF EXISTS interpreter_booked ON interpreters",
            "DROP FUNCTION IF EXISTS interpreter_booked()",
            "DROP TRIGGER IF EXISTS qualification_booked ON qualifications",
            "DROP FUNCTION IF EXISTS qualification_booked()",
        ],
    },
    "sqlite": {
        "create": [
            "CREATE TRIGGER qualification_booked AFTER INSERT ON qualifications BEGIN "
            "UPDATE qualifications SET "
            "last_booked_at = (SELECT last_booked_at FROM interpreters WHERE id = NEW.interpreter_id), "
            "booked = (SELECT last_booked_at IS NOT NULL FROM interpreters WHERE id = NEW.interpreter_id) "
            "WHERE interpreter_id = NEW.interpreter_id AND language_code = NEW.language_code; END",
            "CREATE TRIGGER qualification_booked_kept AFTER UPDATE OF interpreter_id, booked, last_booked_at "
            "ON qualifications "
            "WHEN NEW.last_booked_at IS NOT (SELECT last_booked_at FROM interpreters WHERE id = NEW.interpreter_id) "
            "OR NEW.booked IS NOT (NEW.last_booked_at IS NOT NULL) "
            "BEGIN UPDATE qualifications SET "
            "last_booked_at = (SELECT last_booked_at FROM interpreters WHERE id = NEW.interpreter_id), "
            "booked = (SELECT last_booked_at IS NOT NULL FROM interpreters WHERE id = NEW.interpreter_id) "
            "WHERE interpreter_id = NEW.interpreter_id AND language_code = NEW.language_code; END",
            "CREATE TRIGGER interpreter_booked AFTER UPDATE OF last_booked_at ON interpreters "
            "WHEN OLD.last_booked_at IS NOT NEW.last_booked_at BEGIN "
            "UPDATE qualifications SET last_booked_at = NEW.last_booked_at, booked = NEW.last_booked_at IS NOT NULL "
            "WHERE interpreter_id = NEW.id; END",
        ],
        "drop": [
            "DROP TRIGGER IF EXISTS interpreter_booked",
            "DROP TRIGGER IF EXISTS qualification_booked_kept",
            "DROP TRIGGER IF EXISTS qualification_booked",
        ],
    },
}


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN on both databases: a batch would copy the table on SQLite and lose its triggers (0007's).
    op.add_column('qualifications', sa.Column('booked', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('qualifications', sa.Column('last_booked_at', UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE qualifications SET last_booked_at = "
               "(SELECT last_booked_at FROM interpreters WHERE interpreters.id = qualifications.interpreter_id)")
    op.execute("UPDATE qualifications SET booked = (last_booked_at IS NOT NULL)")
    op.drop_index('ix_qualifications_language_rank', table_name='qualifications')
    op.drop_index('ix_qualifications_language_county_rank', table_name='qualifications')
    op.create_index('ix_qualifications_language_rank', 'qualifications',
                    ['language_code', 'rank', 'booked', 'last_booked_at', 'interpreter_id'], unique=False)
    op.create_index('ix_qualifications_language_county_rank', 'qualifications',
                    ['language_code', 'county_number', 'rank', 'booked', 'last_booked_at', 'interpreter_id'],
                    unique=False)
    for statement in QUALIFICATION_BOOKED_TRIGGERS[op.get_bind().dialect.name]["create"]:
        op.execute(statement)


def downgrade():
    for statement in QUALIFICATION_BOOKED_TRIGGERS[op.get_bind().dialect.name]["drop"]:
        op.execute(statement)
    op.drop_index('ix_qualifications_language_county_rank', table_name='qualifications')
    op.drop_index('ix_qualifications_language_rank', table_name='qualifications')
    op.create_index('ix_qualifications_language_rank', 'qualifications', ['language_code', 'rank', 'interpreter_id'],
                    unique=False)
    op.create_index('ix_qualifications_language_county_rank', 'qualifications',
                    ['language_code', 'county_number', 'rank', 'interpreter_id'], unique=False)
    # SQLite copies the table to drop its columns, which drops the county's triggers on it: made again after, as
    # 0007 made them (its module, as Alembic loaded it).
    county = context.script.get_revision('0007').module.QUALIFICATION_COUNTY_TRIGGERS[op.get_bind().dialect.name]
    for statement in county["drop"]:
        op.execute(statement)
    with op.batch_alter_table('qualifications') as batch:
        batch.drop_column('last_booked_at')
        batch.drop_column('booked')
    for statement in county["create"]:
        op.execute(statement)
