"""Statistics pages: tables with SVG charts beside them, filtered by period and county, each table as CSV.

The registry administrators see every table for the whole country (registry/admin/statistics.py); a public body's
administrators see the tables of the bookings their body made (registry/agency/statistics.py). The numbers come from
registry/domain/statistics.py; this module only labels them for a page or a CSV file.
"""

import csv
import functools
import io
from dataclasses import dataclass, field

from flask import abort, current_app, render_template, request
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField

from . import charts
from .domain import clock
from .domain import statistics as stats
from .domain.errors import InvalidInput
from .domain.places import county_choices
from .extensions import db
from .interpreter.forms import CREDENTIAL_TYPE, show_errors
from .labels import SECTOR

BOOKING_TABLES = ("bookings_by_language", "bookings_by_sector", "bookings_by_month", "served_by_category",
                  "unmet_demand")
REGISTER_TABLES = ("interpreters", "expiring_credentials")
CHART_ITEMS = 15


class StatisticsForm(FlaskForm):
    class Meta:
        csrf = False

    start = StringField(_l("From date"))
    end = StringField(_l("To date (inclusive)"))
    county = StringField(_l("County"))


@dataclass
class Table:
    key: str
    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    chart: charts.Chart | None = None
    note: str | None = None


def _language(code: str) -> str:
    return current_app.jinja_env.filters["language_name"](code)


def _bar_chart(key: str, title: str, pairs: list[tuple[str, int]]) -> charts.Chart:
    items = [(label, value, format_decimal(value)) for label, value in pairs[:CHART_ITEMS]]
    if len(pairs) > CHART_ITEMS:
        title = _("%(title)s (the %(n)s largest)", title=title, n=CHART_ITEMS)
    return charts.horizontal(key, title, items)


def build_tables(filters: stats.Filters, keys: tuple[str, ...], only: str | None = None) -> list[Table]:
    """The tables named in `keys` (or just `only`), in that order, with display values and their charts."""
    session, now = db.session, clock.now()
    counties = dict(county_choices())
    county = lambda number: counties.get(number, _("Unknown")) if number else _("Unknown")  # noqa: E731
    counts = functools.cache(lambda: stats.booking_counts(session, filters))  # one pass for the first three tables
    makers = {
        "bookings_by_language": lambda: _by_language(counts().by_language),
        "bookings_by_sector": lambda: _by_sector(counts().by_sector),
        "bookings_by_month": lambda: _by_month(counts().by_month),
        "served_by_category": lambda: _served(session, filters),
        "unmet_demand": lambda: _unmet(session, filters, now, county),
        "interpreters": lambda: _interpreters(session, filters, county),
        "expiring_credentials": lambda: _expiring(session, filters),
    }
    return [makers[key]() for key in keys if only in (None, key)]


def _by_language(rows: list[tuple[str, int]]) -> Table:
    title = _("Bookings by language")
    table = Table("bookings_by_language", title, [_("Language"), _("Code"), _("Bookings")],
                  [[_language(code), code, n] for code, n in rows])
    table.chart = _bar_chart("chart-language", title, [(_language(code), n) for code, n in rows])
    return table


def _by_sector(rows: list[tuple[str, int]]) -> Table:
    title = _("Bookings by sector")
    table = Table("bookings_by_sector", title, [_("Sector"), _("Code"), _("Bookings")],
                  [[str(SECTOR[code]), code, n] for code, n in rows])
    table.chart = _bar_chart("chart-sector", title, [(str(SECTOR[code]), n) for code, n in rows])
    return table


def _by_month(rows: list) -> Table:
    title = _("Bookings by month")
    table = Table("bookings_by_month", title, [_("Month"), _("Bookings")],
                  [[month.strftime("%Y-%m"), n] for month, n in rows])
    table.chart = charts.vertical("chart-month", title, [(month.strftime("%m.%y"), n, format_decimal(n))
                                                         for month, n in rows])
    return table


def _served(session, filters) -> Table:
    rows = stats.served_by_category(session, filters)
    title = _("Served bookings by the interpreter's category")
    none = _("No category now")
    table = Table("served_by_category", title, [_("Category"), _("Served bookings"), _("Share")],
                  [[category or none, n, format_percent(share, "#,##0.0%")] for category, n, share in rows],
                  note=_("Confirmed or completed bookings, by the category the interpreter holds today in the "
                         "booking's language."))
    table.chart = charts.horizontal("chart-served", title, [(category or none, share, format_percent(
        share, "#,##0.0%")) for category, _n, share in rows], label_width=150)
    return table


def _unmet(session, filters, now, county) -> Table:
    rows = stats.unmet_by_language_county(session, filters, now)
    title = _("Requests no one took, by language and county")
    table = Table("unmet_demand", title, [_("Language"), _("Code"), _("County"), _("County number"),
                                          _("Requests no one took")],
                  [[_language(code), code, county(number), number or "", n] for code, number, n in rows],
                  note=_("Open requests cancelled before anyone accepted them, open requests still open when they "
                         "started, and direct requests that lapsed unanswered. The county is where the assignment "
                         "takes place, or the public body's county for video and phone."))
    table.chart = _bar_chart("chart-unmet", _("Requests no one took, by language"),
                             [(_language(code), n) for code, n in stats.totals(rows)])
    return table


def _interpreters(session, filters, county) -> Table:
    rows = stats.interpreters_by_language_county(session, filters)
    title = _("Interpreters by language and county")
    table = Table("interpreters", title, [_("Language"), _("Code"), _("County"), _("County number"),
                                          _("Interpreters")],
                  [[_language(code), code, county(number), number, n] for code, number, n in rows],
                  note=_("Interpreters listed in the public register today, once for each language they hold a "
                         "category in, by the county they live in. Not limited by the period."))
    table.chart = _bar_chart("chart-interpreters", _("Interpreters by language"),
                             [(_language(code), n) for code, n in stats.totals(rows)])
    return table


def _expiring(session, filters) -> Table:
    today = clock.oslo_date()
    rows = stats.expiring_credentials(session, filters, today)
    title = _("Credentials expiring in the next %(n)s days", n=stats.EXPIRING_DAYS)
    table = Table("expiring_credentials", title,
                  [_("Credential type"), _("Type code"), _("Language"), _("Code"), _("Credentials")],
                  [[str(CREDENTIAL_TYPE[kind]), kind, _language(code) if code else _("All languages"), code or "", n]
                   for kind, code, n in rows],
                  note=_("Verified credentials whose last valid day is today or in the next %(n)s days. Not "
                         "limited by the period.", n=stats.EXPIRING_DAYS))
    table.chart = _bar_chart("chart-expiring", _("Expiring credentials by type"),
                             [(str(CREDENTIAL_TYPE[kind]), n) for kind, n in stats.totals(rows)])
    return table


def _filters(form, agency_id: int | None) -> stats.Filters:
    return stats.parse_filters(db.session, form.start.data, form.end.data, form.county.data, clock.oslo_date(),
                               agency_id=agency_id)


def page(template: str, keys: tuple[str, ...], *, agency_id: int | None = None, **context):
    """The page with the tables in `keys`, or the form with its errors (400) when the filters are wrong."""
    form = StatisticsForm(formdata=request.args)
    try:
        filters = _filters(form, agency_id)
    except InvalidInput as error:
        show_errors(form, error)
        return render_template(template, form=form, tables=[], filters=None, counties=county_choices(), query={},
                               **context), 400
    query = {"start": filters.start.isoformat(), "end": filters.end.isoformat(), "county": filters.county or ""}
    return render_template(template, form=form, tables=build_tables(filters, keys), filters=filters,
                           counties=county_choices(), query=query, **context)


def csv_download(key: str, keys: tuple[str, ...], *, agency_id: int | None = None):
    """One table as a CSV file (UTF-8 with a byte order mark, which spreadsheets need to read æøå)."""
    if key not in keys:
        abort(404)
    filters = _filters(StatisticsForm(formdata=request.args), agency_id)
    [table] = build_tables(filters, keys, only=key)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.headers)
    writer.writerows(table.rows)
    county = f"_{filters.county}" if filters.county else ""
    name = f"{key}_{filters.start.isoformat()}_{filters.end.isoformat()}{county}"
    response = current_app.response_class("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
