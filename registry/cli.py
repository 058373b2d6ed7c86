"""Commands: `flask --app registry demo load`, and later users, tokens, jobs."""

import click
from flask import current_app
from flask.cli import AppGroup

from .database import writing
from .domain.clock import oslo_date
from .extensions import db

demo = AppGroup("demo", help="Demo data for trying the service.")


@demo.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when the register already has interpreters.")
def demo_load(if_empty: bool) -> None:
    """Fill the register with about 300 realistic interpreters (deterministic)."""
    from . import demo as demo_data

    with writing():
        if not demo_data.is_empty(db.session):
            if if_empty:
                click.echo("The register already has data; demo data not loaded.")
                return
            raise click.ClickException("The register is not empty; demo data loads only into an empty one.")
        count = demo_data.load(db.session, oslo_date())
        db.session.commit()
    click.echo(f"Loaded {count} demo interpreters.")


@demo.command("logins")
def demo_logins() -> None:
    """Print where the demo runs and the logins it has."""
    click.echo("Tolkeregister runs at http://127.0.0.1:5000")
    click.echo("The public register needs no login.")
    current_app.logger.debug("demo logins printed")


def register(app) -> None:
    app.cli.add_command(demo)
