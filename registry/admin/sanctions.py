"""The sanctions page: what holds now, who has three warnings within five years, the latest decisions.

Decisions are recorded on the interpreter's record page (registry/admin/interpreters.py)."""

from flask import render_template

from ..access import roles
from ..domain import clock, sanction_decisions
from ..extensions import db
from .views import bp


@bp.get("/sanctions")
@roles("registry_admin")
def sanctions():
    today = clock.oslo_date()
    return render_template("admin/sanctions.html", overview=sanction_decisions.overview(db.session, today),
                           today=today)
