"""A public body's own administration: its bookers and their API tokens."""

from flask import Blueprint, render_template
from flask_login import current_user

from ..access import roles

bp = Blueprint("agency", __name__, url_prefix="/agency")


@bp.get("/")
@roles("agency_admin")
def home():
    return render_template("agency/home.html", agency=current_user.agency)
