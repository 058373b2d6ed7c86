"""Interpreter self-service: profile, working hours, absences, credential applications."""

from flask import Blueprint, render_template
from flask_login import current_user

from ..access import roles

bp = Blueprint("interpreter", __name__, url_prefix="/me")


@bp.get("/")
@roles("interpreter")
def home():
    return render_template("interpreter/home.html", interpreter=current_user.interpreter)
