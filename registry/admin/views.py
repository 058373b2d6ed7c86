"""The registry administrators' console (IMDi)."""

import sqlalchemy as sa
from flask import Blueprint, render_template

from ..access import roles
from ..extensions import db
from ..models import Agency

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/agencies")
@roles("registry_admin")
def agencies():
    rows = db.session.scalars(sa.select(Agency).order_by(Agency.name)).all()
    return render_template("admin/agencies.html", agencies=rows)
