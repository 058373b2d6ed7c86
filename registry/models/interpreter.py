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
    # The interpreter's county, copied by the database (triggers of migration 0007): never set it here.
    county_number: so.Mapped[str | None] = so.mapped_column(sa.String(2))
    # Whether and when the interpreter was last booked, copied by the database (triggers of migration 0009): never
    # set them here. With them in the index the search reads a language's holders in the order it ranks them and
    # stops when the page is full. `booked` puts the never-booked first on both databases: an index cannot hold
    # NULLs first on SQLite, and PostgreSQL's ascending order puts them last.
    booked: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False, server_default=sa.false())
    last_booked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # The interpreter's name_key, copied by the database (triggers of migration 0010): never set it here. The
    # register lists a language's holders by category, then name, read from the index in that order.
    name_key: so.Mapped[str | None] = so.mapped_column(sa.String(200))

    interpreter: so.Mapped[Interpreter] = so.relationship(back_populates="qualifications")
