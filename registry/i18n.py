"""UI language: ?lang=, then the session, then Accept-Language (no -> nb), then nb."""

from flask import current_app, has_request_context, request, session
from flask_babel import get_locale

from .extensions import babel

ALIASES = {"no": "nb"}


def negotiate(header: str | None, supported) -> str | None:
    """Best supported language in an Accept-Language header, by quality, then order.

    Written out because Werkzeug's best_match prefers an exact `en` over `nb-NO` when `nb` is
    only matched by prefix; here a language matches by its primary subtag.
    """
    choices = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        primary = ALIASES.get(primary, primary)
        if primary in supported and quality > 0:
            choices.append((-quality, position, primary))
    return min(choices)[2] if choices else None


def select_locale() -> str:
    supported = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.args.get("lang")
    if chosen in supported:
        return chosen
    if session.get("lang") in supported:
        return session["lang"]
    return negotiate(request.headers.get("Accept-Language"), supported) or current_app.config[
        "BABEL_DEFAULT_LOCALE"
    ]


def remember_choice() -> None:
    """A ?lang= choice sticks for the rest of the visit."""
    chosen = request.args.get("lang")
    if chosen in current_app.config["LANGUAGES"] and session.get("lang") != chosen:
        session["lang"] = chosen


def current_language() -> str:
    return str(get_locale() or "nb")


def init_app(app) -> None:
    from . import ROOT

    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(ROOT / "translations"))
    babel.init_app(app, locale_selector=select_locale)
    app.before_request(remember_choice)
    app.jinja_env.globals.update(
        current_language=current_language, url_with_language=url_with_language, UI_LANGUAGES=LANGUAGE_NAMES
    )


def url_with_language(code: str) -> str:
    """This page's address with the UI language set to `code`."""
    from flask import url_for

    args = request.args.to_dict()
    args["lang"] = code
    if request.endpoint is None:
        return url_for("register.index", lang=code)
    return url_for(request.endpoint, **(request.view_args or {}), **args)


LANGUAGE_NAMES = {"nb": "Norsk bokmål", "nn": "Norsk nynorsk", "en": "English"}
