"""Error pages in the user's language; domain errors become 4xx, never 500."""

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from .api.problems import PREFIX as API_PREFIX
from .database import discard
from .domain.errors import DomainError, InvalidInput
from .domain.typed import FORBIDDEN_MESSAGE, forbidden_in
from .extensions import db

TITLES = {
    400: _l("The request could not be understood"),
    403: _l("You do not have access to this page"),
    404: _l("Page not found"),
    405: _l("That action is not allowed here"),
    409: _l("That could not be done"),
    413: _l("The upload is too large"),
    422: _l("Please correct the form"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong on our side"),
}
DETAILS = {
    400: _l("Check the address or the search and try again."),
    403: _l("Log in with an account that has access, or go back to the front page."),
    404: _l("There is nothing at this address. Check it, or search the register from the front page."),
    405: _l("Go back and try again from the page you came from."),
    409: _l("Someone may have changed it just now. Reload the page and try again."),
    422: _l("Check what you entered and try again."),
    413: _l("Choose a smaller file and try again."),
    429: _l("Wait a little and try again."),
    500: _l("The error has been logged. Try again later."),
}


def render_error(status: int, detail=None):
    title = TITLES.get(status, TITLES[400 if status < 500 else 500])
    detail = detail or DETAILS.get(status, "")
    return render_template("error.html", status=status, title=title, detail=detail), status


def refuse_forbidden_characters() -> None:
    """What a page is sent (its address, the search or link's parameters, a form's fields) holds no control
    character such as NUL: no one means one, and PostgreSQL refuses it in text, which made most forms a 500.
    Checked once here for every page, before anything is read or written; the API checks its own parameters and
    bodies (api.views, api.schemas), to name the field in its problem, and answers an address it does not know
    with a problem too (api.problems), so nothing under its prefix is refused here as a page."""
    if request.path.startswith(API_PREFIX):
        return
    pairs = [*request.args.items(multi=True), *request.form.items(multi=True), *(request.view_args or {}).items()]
    name = forbidden_in(pairs)
    if name is not None:
        raise InvalidInput(FORBIDDEN_MESSAGE, name)


def register(app) -> None:
    app.before_request(refuse_forbidden_characters)

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        discard(db.session())  # nothing of a refused change is kept
        return render_error(error.status, error.message)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return render_error(error.code or 500)
