"""The sanctions page: what holds now, who has three warnings within five years, the latest decisions.

Decisions are recorded on the interpreter's record page (registry/admin/interpreters.py)."""

from flask import current_app, render_template, request

from .. import paging
from ..access import roles
from ..domain import clock, sanction_decisions
from ..extensions import db
from .views import bp


@bp.get("/sanctions")
@roles("registry_admin")
def sanctions():
    today = clock.oslo_date()
    after = paging.decode_dated("sanctions-holding", request.args.get("cursor"))
    overview = sanction_decisions.overview(db.session, today, after, current_app.config["PAGE_SIZE"])
    return render_template("admin/sanctions.html", overview=overview, today=today,
                           next_cursor=paging.encode_timed("sanctions-holding", overview.next_key))
