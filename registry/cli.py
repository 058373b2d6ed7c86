"""Commands: `flask --app registry demo load`, and later users, tokens, jobs."""

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from .database import writing
from .domain import accounts, audit
from .domain.clock import now, oslo_date
from .domain.errors import DomainError
from .domain.places import is_county
from .domain.register import by_number
from .extensions import db
from .models import Agency, User

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
        logins = demo_data.load_accounts(db.session, current_app.config["PASSWORD_HASH_PROFILE"])
        bookings = demo_data.load_bookings(db.session, now())
        db.session.commit()
    click.echo(f"Loaded {count} demo interpreters, 3 public bodies, {len(logins)} logins and {bookings} bookings.")


@demo.command("logins")
def demo_logins() -> None:
    """Print where the demo runs and the logins it has."""
    from . import demo as demo_data

    emails = set(db.session.scalars(sa.select(User.email)))
    click.echo("Tolkeregister: http://127.0.0.1:5000 (the public register needs no login)")
    click.echo(f"Demo logins, all with the password {demo_data.DEMO_PASSWORD!r}:")
    rows = [(demo_data.REGISTRY_ADMIN, "registry admin (sets up two-factor login at first login)")]
    for _orgnr, name, _sector, _county, _ref, admin, bookers in demo_data.AGENCIES:
        rows.append((admin, f"agency admin, {name}"))
        rows += [(b, f"booker, {name}") for b in bookers]
    rows += [(u.email, f"interpreter {u.interpreter.register_number}") for u in db.session.scalars(
        sa.select(User).where(User.role == "interpreter").order_by(User.id).limit(demo_data.INTERPRETER_LOGINS))]
    for email, what in rows:
        if email in emails:
            click.echo(f"  {email:<40} {what}")


users = AppGroup("users", help="Logins.")
agencies = AppGroup("agencies", help="Public bodies that book interpreters.")
tokens = AppGroup("tokens", help="API tokens.")


def _fail_on_domain_error(error) -> None:
    db.session.rollback()
    raise click.ClickException(str(error.message))


@users.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, help="registry_admin, agency_admin, booker or interpreter")
@click.option("--agency", "orgnr", help="The organisation number of the user's public body.")
@click.option("--interpreter", "register_number", type=int, help="The interpreter's register number.")
@click.option("--name", default=None)
def users_create(email, role, orgnr, register_number, name) -> None:
    """Create a login; the password is read from standard input (one line), never from arguments."""
    password = click.get_text_stream("stdin").readline().rstrip("\r\n")
    with writing():
        try:
            agency = None
            if orgnr:
                agency = db.session.scalar(sa.select(Agency).where(Agency.orgnr == accounts.check_orgnr(orgnr)))
                if agency is None:
                    raise click.ClickException(f"No public body has organisation number {orgnr}.")
            person = None
            if register_number is not None:
                person = by_number(db.session, register_number)
                if person is None:
                    raise click.ClickException(f"No interpreter has register number {register_number}.")
            user = accounts.create_user(db.session, email, name or email, role, agency=agency, interpreter=person)
            accounts.set_password(user, password, current_app.config["PASSWORD_HASH_PROFILE"])
            audit.record(db.session, "user.created", actor_label="cli", object_type="user", object_id=user.id,
                         after={"email": user.email, "role": user.role})
            db.session.commit()
        except DomainError as error:
            _fail_on_domain_error(error)
    click.echo(f"Created {role} {user.email}.")


@agencies.command("create")
@click.option("--orgnr", required=True, help="Organisation number (9 digits).")
@click.option("--name", required=True)
@click.option("--sector", default="other", show_default=True)
@click.option("--county", default=None, help="Two-digit county number.")
def agencies_create(orgnr, name, sector, county) -> None:
    """Register a public body."""
    with writing():
        try:
            if county and not is_county(county):
                raise click.ClickException(f"Unknown county number {county}.")
            agency = accounts.create_agency(db.session, orgnr, name, sector, county)
            audit.record(db.session, "agency.created", actor_label="cli", object_type="agency", object_id=agency.id,
                         after={"orgnr": agency.orgnr, "name": agency.name, "sector": agency.sector})
            db.session.commit()
        except DomainError as error:
            _fail_on_domain_error(error)
    click.echo(f"Created {agency.name} ({agency.orgnr}).")


@tokens.command("create")
@click.option("--email", required=True)
@click.option("--name", "label", default="API", show_default=True, help="A label for the token.")
def tokens_create(email, label) -> None:
    """Create an API token for a user; the token is the last line printed."""
    with writing():
        user = db.session.scalar(sa.select(User).where(User.email == accounts.normalise_email(email)))
        if user is None:
            raise click.ClickException(f"No user has the email {email.strip()}.")
        if not user.is_active:
            raise click.ClickException(f"{user.email} is deactivated.")
        token, value = accounts.create_api_token(db.session, user, label)
        audit.record(db.session, "api_token.created", actor_label="cli", object_type="api_token", object_id=token.id,
                     after={"user": user.email, "name": token.name, "prefix": token.prefix})
        db.session.commit()
    click.echo(f"API token {token.name!r} for {user.email} (shown only now):")
    click.echo(value)


def register(app) -> None:
    from .jobs.cli import COMMANDS

    for group in (demo, users, agencies, tokens, *COMMANDS):
        app.cli.add_command(group)
