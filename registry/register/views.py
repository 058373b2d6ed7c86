"""The public register: front page, search, profile, card, verification, and reporting a breach. No login."""

import io

import qrcode
import qrcode.image.svg
from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from .. import paging
from ..access import public
from ..database import discard
from ..domain import register, sanction_decisions
from ..domain.clock import now, oslo_date
from ..domain.errors import InvalidInput
from ..domain.languages import LANGUAGE_CODES, language_choices
from ..domain.places import county_choices
from ..extensions import db, limiter
from ..i18n import current_language
from ..interpreter.forms import show_errors
from ..models.interpreter import CATEGORIES, GENDERS, MODALITIES
from . import forms

bp = Blueprint("register", __name__)


def form_choices() -> dict:
    return {
        "languages": language_choices(LANGUAGE_CODES, current_language()),
        "counties": county_choices(),
        "categories": CATEGORIES,
        "genders": GENDERS,
        "modalities": MODALITIES,
    }


@bp.get("/healthz")
@public
def healthz():
    """Liveness without touching the database: the framework's own ceiling in benchmarks."""
    return {"status": "ok"}


@bp.get("/")
@public
def index():
    return render_template("register/index.html", **form_choices())


@bp.get("/register")
@public
def search():
    try:
        filters = register.parse_filters(db.session, request.args)
        after = paging.decode("register", request.args.get("cursor"))
        results, next_key = register.search(db.session, filters, after, current_app.config["PAGE_SIZE"])
    except InvalidInput as error:
        return render_template("register/search.html", error=error, filters=None, results=[],
                               next_cursor=None, **form_choices()), 400
    return render_template(
        "register/search.html", error=None, filters=filters, results=results,
        next_cursor=paging.encode("register", next_key), **form_choices(),
    )


@bp.get("/register/<int:register_number>")
@public
def profile(register_number: int):
    interpreter = register.listed_interpreter(db.session, register_number)
    return render_template("register/profile.html", interpreter=interpreter)


@bp.get("/register/<int:register_number>/card")
@public
def card(register_number: int):
    interpreter = register.listed_interpreter(db.session, register_number)
    return render_template("register/card.html", interpreter=interpreter)


@bp.get("/register/<int:register_number>/qr.svg")
@public
def card_qr(register_number: int):
    """The card's QR code: the address of the verification page, as SVG."""
    register.listed_interpreter(db.session, register_number)
    target = url_for("register.verify", register_number=register_number, _external=True)
    image = qrcode.make(target, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue(), 200, {"Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=3600"}


@bp.get("/verify")
@public
def verify_form():
    number = (request.args.get("number") or "").strip()
    if not number:
        return render_template("register/verify_form.html", error=None, **form_choices())
    found = register.as_register_number(number)
    if found is None:
        error = InvalidInput(register.NOT_A_NUMBER, "number")
        return render_template("register/verify_form.html", error=error, **form_choices()), 400
    return redirect(url_for("register.verify", register_number=found))


@bp.get("/verify/<int:register_number>")
@public
def verify(register_number: int):
    language = (request.args.get("language") or "").strip() or None
    if language:
        register.check_language(db.session, language)
    result = register.verify(db.session, register_number, oslo_date())
    return render_template("register/verify.html", result=result, language=language)


# Reporting a breach of good interpreting practice (tolkeloven § 19) ----------------------------------

REPORTED = "breach_reported"


def _report_rate_limit() -> str:
    return current_app.config["REPORT_RATE_LIMIT"]


@bp.route("/report", methods=["GET", "POST"])
@public
@limiter.limit(_report_rate_limit, methods=["POST"])
def report():
    form = forms.ReportForm()
    if request.method == "GET" and request.args.get("number"):
        form.register_number.data = request.args["number"][:12]
    if not form.validate_on_submit():
        return render_template("register/report.html", form=form), 422 if form.is_submitted() else 200
    try:
        sanction_decisions.receive_report(
            db.session, register_number=form.register_number.data, what_happened=form.what_happened.data,
            reporter_name=form.reporter_name.data, reporter_email=form.reporter_email.data, now=now(),
            ip=request.remote_addr)
    except InvalidInput as error:
        discard(db.session())
        show_errors(form, error)
        return render_template("register/report.html", form=form), 422
    db.session.commit()
    session[REPORTED] = True
    return redirect(url_for("register.report_received"), 303)


@bp.get("/report/received")
@public
def report_received():
    if not session.pop(REPORTED, False):
        return redirect(url_for("register.report"))
    return render_template("register/report_received.html")
