"""Users, agencies, passwords, sessions, API tokens, one-time links and two-factor codes."""

import functools
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import pyotp
import sqlalchemy as sa
import sqlalchemy.orm as so
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from stdnum.no import orgnr as orgnr_check

from ..models import Agency, ApiToken, Interpreter, OneTimeToken, RecoveryCode, User, UserSession
from ..models.account import ROLES, SECTORS
from . import audit
from .errors import Conflict, InvalidInput, NotFound
from .register import name_key

PASSWORD_MIN = 12
PASSWORD_MAX = 256
_hashers: dict[str, PasswordHasher] = {}


def hasher(profile: str = "RFC_9106_LOW_MEMORY") -> PasswordHasher:
    """Argon2id with a named parameter profile (tests use the cheapest)."""
    if profile not in _hashers:
        _hashers[profile] = PasswordHasher.from_parameters(getattr(profiles, profile))
    return _hashers[profile]


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def check_email(email: str) -> str:
    email = normalise_email(email)
    if len(email) > 254 or "@" not in email or " " in email or email.startswith("@") or email.endswith("@"):
        raise InvalidInput(_l("Enter a valid email address."), "email")
    return email


def check_password(password: str) -> str:
    if len(password or "") < PASSWORD_MIN:
        raise InvalidInput(_l("The password must be at least %(n)s characters.", n=PASSWORD_MIN), "password")
    if len(password) > PASSWORD_MAX:
        raise InvalidInput(_l("The password can be at most %(n)s characters.", n=PASSWORD_MAX), "password")
    return password


def set_password(user: User, password: str, profile: str) -> None:
    user.password_hash = hasher(profile).hash(check_password(password))


# A hash of a random password, verified against when the email is unknown, so that an unknown email
# and a wrong password take about the same time.
_DUMMY: dict[str, str] = {}


def authenticate(session, email: str, password: str, profile: str) -> User | None:
    """The active user with this email and password, or None; rehashes when parameters changed."""
    user = session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    ph = hasher(profile)
    if user is None or user.password_hash is None:
        _DUMMY.setdefault(profile, ph.hash(secrets.token_urlsafe(16)))
        try:
            ph.verify(_DUMMY[profile], password or "x")
        except VerificationError:
            pass
        return None
    try:
        ph.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if ph.check_needs_rehash(user.password_hash):
        user.password_hash = ph.hash(password)
    return user if user.is_active else None


def check_orgnr(value: str) -> str:
    compact = orgnr_check.compact(value or "")
    if not orgnr_check.is_valid(compact):
        raise InvalidInput(_l("%(value)s is not a valid organisation number.", value=(value or "")[:20]), "orgnr")
    return compact


def create_agency(session, orgnr: str, name: str, sector: str = "other", county_number: str | None = None,
                  invoicing_reference: str | None = None) -> Agency:
    orgnr = check_orgnr(orgnr)
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput(_l("Enter the name of the public body (at most 200 characters)."), "name")
    if sector not in SECTORS:
        raise InvalidInput(_l("Unknown sector."), "sector")
    if session.scalar(sa.select(Agency.id).where(Agency.orgnr == orgnr)):
        raise Conflict(_l("A public body with organisation number %(orgnr)s is already registered.",
                          orgnr=orgnr), "orgnr")
    agency = Agency(orgnr=orgnr, name=name, name_key=name_key(name), sector=sector, county_number=county_number or None,
                    invoicing_reference=(invoicing_reference or "").strip() or None)
    session.add(agency)
    session.flush()
    return agency


def create_user(session, email: str, name: str, role: str, *, agency: Agency | None = None,
                interpreter: Interpreter | None = None, locale: str | None = None) -> User:
    """A new user without a password (set by invitation link or by the CLI)."""
    email = check_email(email)
    if role not in ROLES:
        raise InvalidInput(_l("Unknown role: %(role)s", role=role[:30]), "role")
    if role in ("agency_admin", "booker") and agency is None:
        raise InvalidInput(_l("A booker or agency admin must belong to a public body."), "agency")
    if role == "interpreter" and interpreter is None:
        raise InvalidInput(_l("An interpreter's login must be linked to a register entry."), "interpreter")
    name = (name or "").strip() or email
    if session.scalar(sa.select(User.id).where(User.email == email)):
        raise Conflict(_l("There is already a user with the email address %(email)s.", email=email), "email")
    if interpreter is not None and session.scalar(sa.select(User.id).where(User.interpreter_id == interpreter.id)):
        raise Conflict(_l("That interpreter already has a login."), "interpreter")
    user = User(email=email, name=name[:200], role=role, locale=locale,
                agency_id=agency.id if role in ("agency_admin", "booker") else None,
                interpreter_id=interpreter.id if role == "interpreter" else None)
    session.add(user)
    session.flush()
    return user


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# Sessions -----------------------------------------------------------------------------------------

def start_session(session, user: User, now: datetime, ip: str | None) -> UserSession:
    record = UserSession(id=secrets.token_urlsafe(32), user_id=user.id, created_at=now, last_seen_at=now,
                         authenticated_at=now, ip=ip)
    session.add(record)
    user.last_login_at = now
    session.flush()
    return record


def session_expired(record: UserSession, now: datetime, idle: timedelta, absolute: timedelta) -> bool:
    """Ended, idle too long, or older than the absolute limit."""
    return (record.ended_at is not None or now - record.last_seen_at > idle
            or now - record.created_at > absolute)


def end_session(session, sid: str | None, now: datetime) -> None:
    if sid:
        session.execute(sa.update(UserSession).where(UserSession.id == sid, UserSession.ended_at.is_(None))
                        .values(ended_at=now))


def end_all_sessions(session, user: User, now: datetime, keep: str | None = None) -> None:
    session.execute(sa.update(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None), UserSession.id != (keep or "")
    ).values(ended_at=now))


# One-time links -----------------------------------------------------------------------------------

def issue_link_token(session, user: User, purpose: str, now: datetime, valid_for: timedelta) -> str:
    """A new single-use token; earlier unused tokens of the same purpose stop working."""
    session.execute(sa.update(OneTimeToken).where(
        OneTimeToken.user_id == user.id, OneTimeToken.purpose == purpose, OneTimeToken.used_at.is_(None)
    ).values(used_at=now))
    token = secrets.token_urlsafe(32)
    session.add(OneTimeToken(user_id=user.id, purpose=purpose, token_hash=digest(token), created_at=now,
                             expires_at=now + valid_for))
    session.flush()
    return token


def peek_link_token(session, token: str, purpose: str, now: datetime) -> OneTimeToken:
    record = session.scalar(sa.select(OneTimeToken).where(
        OneTimeToken.token_hash == digest(token or ""), OneTimeToken.purpose == purpose))
    if record is None:
        raise NotFound(_l("This link is not valid. Ask for a new one."))
    if record.used_at is not None:
        raise Conflict(_l("This link has already been used. Ask for a new one."))
    if record.expires_at <= now:
        raise Conflict(_l("This link has expired. Ask for a new one."))
    return record


def use_link_token(session, token: str, purpose: str, now: datetime) -> User:
    """Consume the token (once) and return its user."""
    record = peek_link_token(session, token, purpose, now)
    used = session.execute(sa.update(OneTimeToken).where(
        OneTimeToken.id == record.id, OneTimeToken.used_at.is_(None)).values(used_at=now))
    if used.rowcount != 1:
        raise Conflict(_l("This link has already been used. Ask for a new one."))
    return session.get(User, record.user_id)


# API tokens ---------------------------------------------------------------------------------------

TOKEN_PREFIX = "tr_"


def create_api_token(session, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token; the clear value is returned once and never stored."""
    value = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=(name or "API").strip()[:100] or "API", token_hash=digest(value),
                     prefix=value[:10])
    session.add(token)
    session.flush()
    return token, value


@functools.cache
def _token_lookup() -> sa.Select:
    """The token, its user and the user's agency (for is_active) in one query, built once: every API request asks
    it, and building it again (with its loader options, whose cache key is long to work out) cost more CPU than
    running it: 1.20 against 0.81 ms a lookup on the bench data (PostgreSQL, interleaved runs)."""
    return (sa.select(ApiToken).where(ApiToken.token_hash == sa.bindparam("token_hash", type_=ApiToken.token_hash.type))
            .options(so.joinedload(ApiToken.user).joinedload(User.agency)))


def user_for_api_token(session, value: str, now: datetime) -> User | None:
    token = session.scalar(_token_lookup(), {"token_hash": digest(value or "")})
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        token.last_used_at = now
    return token.user


# Two-factor ---------------------------------------------------------------------------------------

def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name="Tolkeregisteret")


def totp_step(secret: str | None, code: str, now: datetime) -> int | None:
    """The 30-second step whose code this is: now's, or one either side for a phone's clock drift; None if none."""
    code = (code or "").replace(" ", "")
    if not secret or not (code.isascii() and code.isdigit()):  # "²" is a digit to Python, and no code
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    return next((step for step in (current - 1, current, current + 1)
                 if hmac.compare_digest(code, totp.generate_otp(step))), None)


def use_totp(session, user: User, code: str, now: datetime) -> bool:
    """The user's code, accepted once: a code already used, or an older one, is refused (RFC 6238, section 5.2), so
    one seen over a shoulder cannot log in again. One UPDATE decides, so two logins racing with one code cannot
    both win."""
    step = totp_step(user.totp_secret, code, now)
    if step is None:
        return False
    used = session.execute(sa.update(User).where(
        User.id == user.id, sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    if used.rowcount != 1:
        return False
    so.attributes.set_committed_value(user, "totp_last_step", step)
    return True


def enable_two_factor(session, user: User, secret: str, code: str, now: datetime,
                      ip: str | None = None) -> list[str] | None:
    """Turn two-factor login on with the secret the user's app now holds, proven by one of its codes: the new
    recovery codes, or None when the code is not right. That code counts as used (use_totp), so it does not
    also log in."""
    step = totp_step(secret, code, now)
    if step is None:
        return None
    user.totp_secret, user.totp_enabled, user.totp_last_step = secret, True, step
    codes = new_recovery_codes(session, user)
    audit.record(session, "two_factor.enabled", actor=user, object_type="user", object_id=user.id, ip=ip)
    return codes


def disable_two_factor(session, user: User, ip: str | None = None) -> None:
    """Turn two-factor login off: the secret and the recovery codes go."""
    user.totp_enabled, user.totp_secret, user.totp_last_step = False, None, None
    new_recovery_codes(session, user, count=0)
    audit.record(session, "two_factor.disabled", actor=user, object_type="user", object_id=user.id, ip=ip)


def new_recovery_codes(session, user: User, count: int = 10) -> list[str]:
    session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(count)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=digest(c)) for c in codes)
    session.flush()
    return codes


def use_recovery_code(session, user: User, code: str, now: datetime) -> bool:
    used = session.execute(sa.update(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == digest((code or "").strip().lower()),
        RecoveryCode.used_at.is_(None)).values(used_at=now))
    return used.rowcount == 1


# Invitations and resets ---------------------------------------------------------------------------

def send_link(session, user: User, purpose: str, now: datetime, valid_for: timedelta, make_link,
              **params) -> None:
    """Issue a single-use link for `purpose` and queue the email that carries it."""
    token = issue_link_token(session, user, purpose, now, valid_for)
    from . import notifications

    notifications.enqueue(session, purpose, user.email, event_key=f"{purpose}:{digest(token)[:32]}",
                          locale=user.locale, user_id=user.id, name=user.name, link=make_link(token),
                          valid_until=(now + valid_for).isoformat(), **params)
