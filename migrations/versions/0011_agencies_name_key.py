"""agencies carry a folded copy of their name, so the administrators' list of public bodies can be searched by
part of the name in any case and paged in name order

The list showed every body on one page (112-136 ms and 392 KB of HTML for the 1,500 bodies of the bench data) and
had no search. Searching with lower() or LIKE in SQL folds only ASCII on SQLite, so "ålesund" would not find
"Ålesund kommune" there; the name is folded in Python instead (registry.domain.register.name_key, as the
interpreters' name_key is) and kept beside it by the functions that register and rename a body. The index on
(name_key, id) serves the list's order and its keyset pages.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def fold(name: str) -> str:
    """registry.domain.register.name_key as it was when this was written: the bodies already registered get
    the key the application gives a body registered today (cut to the column: folding lengthens "ß")."""
    return " ".join(name.casefold().split())[:200]


def upgrade():
    bind = op.get_bind()
    # Not a batch on SQLite: it copies the table and drops the old one, which the bodies' users and bookings refer
    # to, and with foreign keys on (they cannot be turned off inside the migration's transaction) that is refused
    # for a register that has any. SQLite adds a NOT NULL column only with a default, so there it has '' for the
    # moment it takes to fill; PostgreSQL adds it empty and is told NOT NULL once it is filled.
    sqlite = bind.dialect.name == 'sqlite'
    op.add_column('agencies', sa.Column('name_key', sa.String(length=200), nullable=not sqlite,
                                        server_default='' if sqlite else None))
    agencies = sa.table('agencies', sa.column('id', sa.Integer), sa.column('name', sa.String),
                        sa.column('name_key', sa.String))
    rows = bind.execute(sa.select(agencies.c.id, agencies.c.name)).all()
    if rows:
        bind.execute(agencies.update().where(agencies.c.id == sa.bindparam('agency_id'))
                     .values(name_key=sa.bindparam('key')),
                     [{'agency_id': agency_id, 'key': fold(name)} for agency_id, name in rows])
    if not sqlite:
        op.alter_column('agencies', 'name_key', existing_type=sa.String(length=200), nullable=False)
    op.create_index('ix_agencies_name_key_id', 'agencies', ['name_key', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_agencies_name_key_id', table_name='agencies')
    # SQLite drops a column no index uses with ALTER TABLE ... DROP COLUMN (3.35 and later), without copying the
    # table, which a batch would (see upgrade).
    op.drop_column('agencies', 'name_key')
