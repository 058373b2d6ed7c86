"""The interpreter and the category they hold per language."""

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .types import UTCDateTime, in_list, utcnow

GENDERS = ("female", "male", "other")
AVAILABILITY = ("full_time", "part_time", "occasional")
MODALITIES = ("onsite", "video", "phone")
STATUSES = ("active", "paused", "suspended", "excluded", "inactive")
# Shown in the public register: qualified and not sanctioned. Paused interpreters are still
# qualified (they only take no new work), so the register lists them; booking search does not.
LISTED_STATUSES = ("active", "paused")
CATEGORIES = ("A", "B", "C", "D", "E")


class Interpreter(db.Model):
    __tablename__ = "interpreters"
    __table_args__ = (
        sa.CheckConstraint(in_list("gender", GENDERS), name="gender"),
        sa.CheckConstraint(in_list("availability", AVAILABILITY), name="availability"),
        sa.CheckConstraint(in_list("status", STATUSES), name="status"),
        sa.Index("ix_interpreters_name_key_id", "name_key", "id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    register_number: so.Mapped[int] = so.mapped_column(sa.Integer, unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    # Case-folded name for search and ordering, kept in step by the domain.
    name_key: so.Mapped[str] = so.mapped_column(sa.String(200))
    gender: so.Mapped[str] = so.mapped_column(sa.String(10))
    county_number: so.Mapped[str] = so.mapped_column(sa.ForeignKey("counties.number"), index=True)
    municipality_number: so.Mapped[str | None] = so.mapped_column(
        sa.ForeignKey("municipalities.number"), index=True
    )
    email: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    phone: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    publish_contact: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    availability: so.Mapped[str] = so.mapped_column(sa.String(12))
    offers_onsite: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True)
    offers_video: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True)
    offers_phone: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True)
    # No index: five values, nearly all "active"; SQLite without statistics would pick it over name order.
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default="active")
    # The status (active, paused or inactive) a suspension or exclusion set aside, given back when none holds.
    status_after_sanction: so.Mapped[str | None] = so.mapped_column(sa.String(12))
    # Only to match imported exam results to a person; never shown publicly.
    birth_date: so.Mapped[date | None] = so.mapped_column(sa.Date)
    last_booked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    county = so.relationship("County", lazy="joined")
    municipality = so.relationship("Municipality")
    qualifications: so.Mapped[list["Qualification"]] = so.relationship(
        back_populates="interpreter", cascade="all, delete-orphan", order_by="Qualification.rank"
    )
    credentials = so.relationship(
        "Credential", back_populates="interpreter", cascade="all, delete-orphan", order_by="Credential.id"
    )

    @property
    def modalities(self) -> list[str]:
        return [m for m in MODALITIES if getattr(self, f"offers_{m}")]

    @property
    def listed(self) -> bool:
        return self.status in LISTED_STATUSES and bool(self.qualifications)


class Qualification(db.Model):
    """The derived category per (interpreter, language); never typed in, see domain.qualification."""

    __tablename__ = "qualifications"
    __table_args__ = (
        sa.CheckConstraint(in_list("category", CATEGORIES), name="category"),
        sa.CheckConstraint("rank BETWEEN 1 AND 5", name="rank"),
        # Search within a language walks this index in the ranking's order (category, never booked first, then
        # least recently booked); within a language and county, the next. See domain.availability._statement.
        sa.Index("ix_qualifications_language_rank", "language_code", "rank", "booked", "last_booked_at",
                 "interpreter_id"),
        sa.Index("ix_qualifications_language_county_rank", "language_code", "county_number", "rank", "booked",
                 "last_booked_at", "interpreter_id"),
        # The public register within a language (and county) walks these in its order: category, then name.
        # See domain.register.search.
        sa.Index("ix_qualifications_language_rank_name", "language_code", "rank", "name_key", "interpreter_id"),
        sa.Index("ix_qualifications_language_county_rank_name", "language_code", "county_number", "rank", "name_key",
                 "interpreter_id"),
    )

    interpreter_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("interpreters.id", ondelete="CASCADE"), primary_key=True
    )
    language_code: so.Mapped[str] = so.mapped_column(sa.ForeignKey("languages.code"), primary_key=True)
    category: so.Mapped[str] = so.mapped_column(sa.String(1))
    # 1 for A through 5 for E, so "at least C" is rank <= 3 and ordering is numeric.
    rank: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    # The interpreter's county, copied by the database (QUALIFICATION_COUNTY_TRIGGERS): never set it here.
    county_number: so.Mapped[str | None] = so.mapped_column(sa.String(2))
    # Whether and when the interpreter was last booked, copied by the database (QUALIFICATION_BOOKED_TRIGGERS): never
    # set them here. With them in the index the search reads a language's holders in the order it ranks them and
    # stops when the page is full. `booked` puts the never-booked first on both databases: an index cannot hold
    # NULLs first on SQLite, and PostgreSQL's ascending order puts them last.
    booked: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False, server_default=sa.false())
    last_booked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # The interpreter's name_key, copied by the database (QUALIFICATION_NAME_TRIGGERS): never set it here. The
    # register lists a language's holders by category, then name, read from the index in that order.
    name_key: so.Mapped[str | None] = so.mapped_column(sa.String(200))

    interpreter: so.Mapped[Interpreter] = so.relationship(back_populates="qualifications")


# qualifications.county_number follows interpreters.county_number, whatever writes either table (migration 0007).
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


# qualifications.booked and last_booked_at follow interpreters.last_booked_at, whatever writes either table
# (migration 0009), as the county does above.
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


# qualifications.name_key follows interpreters.name_key, whatever writes either table (migration 0010), as the
# county and the last booking do above.
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
