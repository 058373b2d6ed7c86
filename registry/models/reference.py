"""Reference data: counties, municipalities (SSB classifications 104 and 131) and languages."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db


class County(db.Model):
    __tablename__ = "counties"

    number: so.Mapped[str] = so.mapped_column(sa.String(2), primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))


class Municipality(db.Model):
    __tablename__ = "municipalities"

    number: so.Mapped[str] = so.mapped_column(sa.String(4), primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    county_number: so.Mapped[str] = so.mapped_column(sa.ForeignKey("counties.number"), index=True)


class Language(db.Model):
    """A language interpreters may be registered for, by ISO 639 code; names come from Babel."""

    __tablename__ = "languages"

    code: so.Mapped[str] = so.mapped_column(sa.String(12), primary_key=True)


class Counter(db.Model):
    """Named counters that only go up: register numbers are never reused."""

    __tablename__ = "counters"

    name: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    value: so.Mapped[int] = so.mapped_column(sa.BigInteger)
