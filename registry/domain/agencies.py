"""Public bodies and their people: registering bodies, inviting users, (de)activating, revoking tokens.

Who may do what lives here, not in the views:
- a registry admin manages every public body, invites its administrators (and bookers), and can
  deactivate any of its users or revoke any of their API tokens;
- an agency admin manages only their own body: invites and (de)activates its bookers and revokes
  the API tokens of its users. Another body's user or token is "not found", never "forbidden", so
  its existence is not revealed.
Every change is written to the audit log with before and after values, never a password or token.
"""

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from ..database import count_rows, keyset_page
from ..models import Agency, ApiToken, User
from ..models.account import SECTORS
from . import accounts, audit
from .errors import Conflict, InvalidInput, NotFound
from .places import is_county
from .register import name_contains, name_key

AGENCY_FIELDS = ("orgnr", "name", "sector", "county_number", "invoicing_reference", "active")
EDITABLE_FIELDS = ("name", "sector", "county_number", "invoicing_reference")
USER_FIELDS = ("email", "name", "role", "agency_id", "active")
# Which roles each kind of administrator may invite.
MAY_INVITE = {"registry_admin": ("agency_admin", "booker"), "agency_admin": ("booker",)}
AGENCY_ROLES = ("agency_admin", "booker")
ORGNR_DIGITS = 9


# Reading ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Overview:
    """A page of public bodies, each as (agency, bookers, valid API tokens, last API use)."""

    rows: list[tuple[Agency, int, int, datetime | None]]
    total: int  # how many bodies match, on every page
    next_key: tuple | None  # where the next page starts; None on the last


def agency_overview(session, q: str | None = None, active: bool | None = None, after: tuple | None = None,
                    limit: int = 50) -> Overview:
    """A page of the public bodies that match `q` (a part of the name in any case, or the start of the organisation
    number, spaces allowed) and `active`, by name, keyset-paged on (name_key, id), each with its number of bookers,
    valid API tokens and last API use. Three queries whatever the page (the bodies, how many match, and the page's
    users and tokens), where every body on one page with a subquery each for the counts was 112-136 ms and 392 KB of
    HTML for the 1,500 bodies of the bench data; a page of 25 is 9-10 ms and 14 KB."""
    matching = _matching(q, active)
    agencies, next_key = keyset_page(session, matching.options(so.joinedload(Agency.county)),
                                     (Agency.name_key, Agency.id), after, limit)
    total = count_rows(session, matching)
    usage = _usage(session, [agency.id for agency in agencies])
    return Overview([(agency, *usage.get(agency.id, (0, 0, None))) for agency in agencies], total, next_key)


def _matching(q: str | None, active: bool | None) -> sa.Select:
    stmt = sa.select(Agency)
    text = " ".join((q or "").split())
    if text:
        by_name = name_contains(Agency.name_key, text)
        digits = text.replace(" ", "")
        if digits.isdecimal() and len(digits) <= ORGNR_DIGITS:
            # Digits of any script (as whole_number takes them), stored as 0-9.
            digits = "".join(str(unicodedata.digit(c)) for c in digits)
            by_name = sa.or_(Agency.orgnr.startswith(digits, autoescape=True), by_name)
        stmt = stmt.where(by_name)
    if active is not None:
        stmt = stmt.where(Agency.active.is_(active))
    return stmt


def _usage(session, agency_ids: list[int]) -> dict[int, tuple[int, int, datetime | None]]:
    """For each of these bodies: its bookers, valid API tokens and the last use of any of its tokens."""
    if not agency_ids:
        return {}
    booker = sa.case((User.role == "booker", User.id))
    valid = sa.case((ApiToken.revoked_at.is_(None), ApiToken.id))
    rows = session.execute(
        sa.select(User.agency_id, sa.func.count(sa.distinct(booker)), sa.func.count(valid),
                  sa.func.max(ApiToken.last_used_at))
        .select_from(User).outerjoin(ApiToken, ApiToken.user_id == User.id)
        .where(User.agency_id.in_(agency_ids)).group_by(User.agency_id))
    return {agency_id: (bookers, tokens, last_used) for agency_id, bookers, tokens, last_used in rows}


def get_agency(session, agency_id: int) -> Agency:
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(_l("There is no such public body."))
    return agency


def agency_users(session, agency: Agency) -> list[User]:
    """The body's administrators first, then its bookers, each by name."""
    return session.scalars(sa.select(User).where(User.agency_id == agency.id)
                           .order_by(User.role, User.name, User.id)).all()


def agency_tokens(session, agency: Agency) -> list[ApiToken]:
    """The API tokens of every user of the body, newest first."""
    return session.scalars(sa.select(ApiToken).join(User, ApiToken.user_id == User.id)
                           .where(User.agency_id == agency.id).order_by(ApiToken.id.desc())).all()


def _scope(actor: User, agency: Agency | None) -> int | None:
    """The agency whose objects `actor` may touch (None: any), or NotFound for everyone else."""
    if actor.role == "agency_admin":
        if agency is not None and agency.id != actor.agency_id:
            raise NotFound(_l("There is no such public body."))
        return actor.agency_id
    if actor.role == "registry_admin":
        return agency.id if agency is not None else None
    raise NotFound(_l("There is no such user."))


def find_user(session, actor: User, user_id: int, agency: Agency | None = None) -> User:
    """A user of a public body that `actor` may manage; NotFound for anyone else's."""
    scope = _scope(actor, agency)
    user = session.get(User, user_id)
    if user is None or user.agency_id is None or (scope is not None and user.agency_id != scope):
        raise NotFound(_l("There is no such user."))
    return user


def find_token(session, actor: User, token_id: int, agency: Agency | None = None) -> ApiToken:
    """An API token of a user of a public body that `actor` may manage; NotFound otherwise."""
    try:
        scope = _scope(actor, agency)
    except NotFound:
        raise NotFound(_l("There is no such API token.")) from None
    token = session.get(ApiToken, token_id)
    owner_agency = token.user.agency_id if token is not None else None
    if token is None or owner_agency is None or (scope is not None and owner_agency != scope):
        raise NotFound(_l("There is no such API token."))
    return token


# Public bodies ------------------------------------------------------------------------------------

def _check_county(county_number: str | None) -> str | None:
    county_number = (county_number or "").strip() or None
    if county_number is not None and not is_county(county_number):
        raise InvalidInput(_l("Choose a county from the list."), "county")
    return county_number


def _check_fields(session, name: str, sector: str, county_number: str | None,
                  invoicing_reference: str | None) -> dict:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput(_l("Enter the name of the public body (at most 200 characters)."), "name")
    if sector not in SECTORS:
        raise InvalidInput(_l("Choose a sector from the list."), "sector")
    reference = (invoicing_reference or "").strip() or None
    if reference is not None and len(reference) > 100:
        raise InvalidInput(_l("The invoicing reference can be at most 100 characters."), "invoicing_reference")
    return {"name": name, "sector": sector, "county_number": _check_county(county_number),
            "invoicing_reference": reference}


def create_agency(session, actor: User, *, orgnr: str, name: str, sector: str, county_number: str | None = None,
                  invoicing_reference: str | None = None, ip: str | None = None) -> Agency:
    """Register a public body; the organisation number is checked (mod 11) and unique."""
    accounts.check_orgnr(orgnr)
    fields = _check_fields(session, name, sector, county_number, invoicing_reference)
    agency = accounts.create_agency(session, orgnr, **fields)
    audit.record(session, "agency.created", actor=actor, object_type="agency", object_id=agency.id, ip=ip,
                 after=audit.snapshot(agency, AGENCY_FIELDS))
    return agency


def update_agency(session, actor: User, agency: Agency, *, name: str, sector: str, county_number: str | None,
                  invoicing_reference: str | None, ip: str | None = None) -> bool:
    """Change a body's name, sector, county and invoicing reference; True when anything changed."""
    fields = _check_fields(session, name, sector, county_number, invoicing_reference)
    before = {k: getattr(agency, k) for k in EDITABLE_FIELDS if getattr(agency, k) != fields[k]}
    if not before:
        return False
    for key in before:
        setattr(agency, key, fields[key])
    agency.name_key = name_key(agency.name)
    audit.record(session, "agency.updated", actor=actor, object_type="agency", object_id=agency.id, ip=ip,
                 before=before, after={k: fields[k] for k in before})
    session.flush()
    return True


def set_agency_active(session, actor: User, agency: Agency, active: bool, now: datetime,
                      ip: str | None = None) -> bool:
    """Deactivate a body (its users can no longer log in; their sessions end) or reactivate it."""
    if agency.active == active:
        return False
    agency.active = active
    if not active:
        for user in agency_users(session, agency):
            accounts.end_all_sessions(session, user, now)
    audit.record(session, "agency.activated" if active else "agency.deactivated", actor=actor,
                 object_type="agency", object_id=agency.id, ip=ip,
                 before={"active": not active}, after={"active": active})
    session.flush()
    return True


# Users --------------------------------------------------------------------------------------------

def invite_user(session, inviter: User, agency: Agency, role: str, name: str, email: str, now: datetime,
                make_link, *, valid_for: timedelta = timedelta(days=7), ip: str | None = None) -> User:
    """Create a user of `agency` without a password and send them a single-use invitation link.

    `make_link(token)` turns the link token into the URL that goes in the email.
    """
    _scope(inviter, agency)
    if role not in MAY_INVITE.get(inviter.role, ()):
        raise InvalidInput(_l("You cannot invite a user with that role."), "role")
    if not agency.active:
        raise Conflict(_l("The public body is deactivated. Reactivate it before inviting anyone."))
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput(_l("Enter the person's name (at most 200 characters)."), "name")
    user = accounts.create_user(session, email, name, role, agency=agency)
    accounts.send_link(session, user, "invitation", now, valid_for, make_link)
    audit.record(session, "user.invited", actor=inviter, object_type="user", object_id=user.id, ip=ip,
                 after=audit.snapshot(user, USER_FIELDS))
    return user


def invite_again(session, inviter: User, user: User, now: datetime, make_link, *,
                 valid_for: timedelta = timedelta(days=7), ip: str | None = None) -> None:
    """A new invitation link for a user who has not chosen a password yet; the old link stops working."""
    find_user(session, inviter, user.id)
    if user.role not in MAY_INVITE.get(inviter.role, ()):
        raise Conflict(_l("Only the registry administrators can invite an administrator."))
    if user.password_hash is not None:
        raise Conflict(_l("%(name)s has already chosen a password.", name=user.name))
    if not user.is_active:
        raise Conflict(_l("%(name)s is deactivated. Reactivate the login first.", name=user.name))
    accounts.send_link(session, user, "invitation", now, valid_for, make_link)
    audit.record(session, "user.invited_again", actor=inviter, object_type="user", object_id=user.id, ip=ip,
                 after={"email": user.email})


def set_user_active(session, actor: User, user: User, active: bool, now: datetime, ip: str | None = None) -> bool:
    """Deactivate a user of a public body (their sessions end at once) or reactivate them.

    Call with a user from `find_user`, which has already checked that `actor` may manage them.
    """
    find_user(session, actor, user.id)
    if user.id == actor.id:
        raise Conflict(_l("You cannot deactivate or reactivate your own login."))
    if actor.role == "agency_admin" and user.role != "booker":
        raise Conflict(_l("Only the registry administrators can change an administrator's login."))
    if user.active == active:
        return False
    user.active = active
    if not active:
        accounts.end_all_sessions(session, user, now)
    audit.record(session, "user.activated" if active else "user.deactivated", actor=actor, object_type="user",
                 object_id=user.id, ip=ip, before={"active": not active}, after={"active": active})
    session.flush()
    return True


# API tokens ---------------------------------------------------------------------------------------

def revoke_token(session, actor: User, token: ApiToken, now: datetime, ip: str | None = None) -> bool:
    """Revoke an API token of a user of the actor's public body; True if it was still valid."""
    find_token(session, actor, token.id)
    if token.revoked_at is not None:
        return False
    token.revoked_at = now
    audit.record(session, "api_token.revoked", actor=actor, object_type="api_token", object_id=token.id, ip=ip,
                 before={"revoked_at": None},
                 after={"revoked_at": now, "name": token.name, "prefix": token.prefix, "owner": token.user.email})
    session.flush()
    return True
