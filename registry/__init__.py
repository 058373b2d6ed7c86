"""Tolkeregister: the national register of public-service interpreters."""

from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, errors, CLI."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    from . import config as settings

    settings.load(app, config)
    settings.behind_proxies(app)
    register_extensions(app)
    register_converters(app)
    register_blueprints(app)
    from . import errors, security

    errors.register(app)
    security.register(app)
    from . import cli

    cli.register(app)
    return app


def register_extensions(app: Flask) -> None:
    from . import i18n, ratelimits  # noqa: F401 - ratelimits registers the process-memory:// storage
    from .auth import sessions
    from .database import configure_engine, end_reads_with_commit
    from .extensions import csrf, db, limiter, migrate

    db.init_app(app)
    end_reads_with_commit(app)
    limiter.init_app(app)
    sessions.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    i18n.init_app(app)
    from . import labels

    labels.register(app)
    with app.app_context():
        configure_engine(db.engine, app.config["POSTGRES_RANDOM_PAGE_COST"])


def register_converters(app: Flask) -> None:
    """`<int:...>` in an address stops at the largest id there can be (MAX_ID): past it there is no such page,
    a 404, where PostgreSQL refused the query (integer out of range), a 500 on each of the 40 or so web routes
    with an id or a register number in the address. (A ValidationError, werkzeug's way to say a converter does
    not match, made a path with a GET and a POST route answer 405 instead.)"""
    from werkzeug.exceptions import NotFound
    from werkzeug.routing.converters import IntegerConverter

    from .domain.typed import MAX_ID

    class IdConverter(IntegerConverter):
        def to_python(self, value: str) -> int:
            number = super().to_python(value)
            if number > MAX_ID:
                raise NotFound()
            return number

    app.url_map.converters["int"] = IdConverter


def register_blueprints(app: Flask) -> None:
    from .admin.views import bp as admin_bp
    from .agency.views import bp as agency_bp
    from .api.views import bp as api_bp
    from .apply.views import bp as apply_bp
    from .auth.views import bp as auth_bp
    from .booking.views import bp as booking_bp
    from .calendar.views import bp as calendar_bp
    from .inbox.views import bp as inbox_bp
    from .interpreter.views import bp as interpreter_bp
    from .jobs.views import bp as jobs_bp
    from .register.views import bp as register_bp

    for blueprint in (register_bp, auth_bp, apply_bp, interpreter_bp, inbox_bp, calendar_bp, booking_bp,
                      agency_bp, admin_bp, jobs_bp, api_bp):
        app.register_blueprint(blueprint)
