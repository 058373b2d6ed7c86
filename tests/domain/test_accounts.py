"""registry/domain/accounts.py: passwords, email addresses, one-time links, API tokens, two-factor, sessions."""

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa

from registry.domain import accounts
from registry.domain.errors import Conflict, InvalidInput, NotFound
from registry.models import ApiToken, AuditEntry, OneTimeToken, User, UserSession

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
CHEAP = "CHEAPEST"


@pytest.fixture
def agency(session):
    agency = accounts.create_agency(session, "974760673", "Bergen kommune", "municipal", "46")
    session.commit()
    return agency


def booker(session, agency, email="kari@bergen.no", password="twelve chars"):
    user = accounts.create_user(session, email, "Kari", "booker", agency=agency)
    accounts.set_password(user, password, CHEAP)
    session.commit()
    return user


# Passwords ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("length, allowed", [(0, False), (11, False), (12, True), (256, True), (257, False)])
def test_password_length(length, allowed):
    password = "p" * length
    if allowed:
        assert accounts.check_password(password) == password
    else:
        with pytest.raises(InvalidInput) as refused:
            accounts.check_password(password)
        assert refused.value.field == "password"


def test_a_refused_password_leaves_the_old_hash(session, agency):
    user = booker(session, agency)
    old = user.password_hash
    with pytest.raises(InvalidInput):
        accounts.set_password(user, "x" * 11, CHEAP)
    assert user.password_hash == old


def test_passwords_are_hashed_with_argon2id(session, agency):
    user = booker(session, agency, password="correct horse battery")
    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse battery" not in user.password_hash
    assert accounts.authenticate(session, "kari@bergen.no", "correct horse battery", CHEAP) == user
    assert accounts.authenticate(session, "kari@bergen.no", "correct horse batterY", CHEAP) is None
    assert accounts.authenticate(session, "nobody@bergen.no", "correct horse battery", CHEAP) is None


def test_the_hash_is_upgraded_at_login_when_the_parameters_change(session, agency):
    user = booker(session, agency, password="correct horse battery")
    cheap_hash = user.password_hash
    assert accounts.authenticate(session, user.email, "correct horse battery", "RFC_9106_LOW_MEMORY") == user
    assert user.password_hash != cheap_hash and user.password_hash.startswith("$argon2id$")
    assert accounts.hasher("RFC_9106_LOW_MEMORY").check_needs_rehash(user.password_hash) is False
    session.commit()
    upgraded = user.password_hash
    assert accounts.authenticate(session, user.email, "correct horse battery", "RFC_9106_LOW_MEMORY") == user
    assert user.password_hash == upgraded  # no rehash when nothing changed


def test_a_wrong_password_is_not_rehashed(session, agency):
    user = booker(session, agency, password="correct horse battery")
    cheap_hash = user.password_hash
    assert accounts.authenticate(session, user.email, "wrong horse battery", "RFC_9106_LOW_MEMORY") is None
    assert user.password_hash == cheap_hash


def test_a_deactivated_user_cannot_authenticate(session, agency):
    user = booker(session, agency, password="correct horse battery")
    user.active = False
    assert accounts.authenticate(session, user.email, "correct horse battery", CHEAP) is None
    user.active, agency.active = True, False
    assert accounts.authenticate(session, user.email, "correct horse battery", CHEAP) is None


# Email addresses -------------------------------------------------------------------------------------

@pytest.mark.parametrize("given", ["kari@bergen.no", "kari@bergen.no ", "  Kari@Bergen.NO", "KARI@BERGEN.NO\t"])
def test_email_is_stored_trimmed_and_lower_case(session, agency, given):
    assert accounts.create_user(session, given, "Kari", "booker", agency=agency).email == "kari@bergen.no"


def test_email_is_unique_whatever_the_case(session, agency):
    booker(session, agency, email="Kari@Bergen.no")
    with pytest.raises(Conflict) as refused:
        accounts.create_user(session, " KARI@bergen.NO ", "Kari Two", "booker", agency=agency)
    assert refused.value.field == "email"
    assert session.scalar(sa.select(sa.func.count(User.id))) == 1
    assert accounts.authenticate(session, " KARI@BERGEN.NO ", "twelve chars", CHEAP) is not None


@pytest.mark.parametrize("email", ["", "kari", "@bergen.no", "kari@", "kari @bergen.no", "k" * 250 + "@b.no"])
def test_invalid_email_is_refused(session, agency, email):
    with pytest.raises(InvalidInput) as refused:
        accounts.create_user(session, email, "Kari", "booker", agency=agency)
    assert refused.value.field == "email"


def test_bookers_belong_to_a_public_body(session):
    with pytest.raises(InvalidInput):
        accounts.create_user(session, "kari@bergen.no", "Kari", "booker")
    with pytest.raises(InvalidInput):
        accounts.create_user(session, "kari@bergen.no", "Kari", "superuser")


# Organisation numbers -----------------------------------------------------------------------------

@pytest.mark.parametrize("given, compact", [("974760673", "974760673"), ("983 971 636", "983971636")])
def test_valid_organisation_numbers(given, compact):
    assert accounts.check_orgnr(given) == compact


@pytest.mark.parametrize("given", ["123456789", "97476067", "9747606730", "abcdefghi", ""])
def test_invalid_organisation_numbers(given):
    with pytest.raises(InvalidInput):
        accounts.check_orgnr(given)


# One-time links -----------------------------------------------------------------------------------------

def test_a_link_token_works_once(session, agency):
    user = booker(session, agency)
    token = accounts.issue_link_token(session, user, "invitation", NOW, timedelta(days=7))
    stored = session.scalar(sa.select(OneTimeToken.token_hash))
    assert token not in stored and stored == accounts.digest(token)
    assert accounts.use_link_token(session, token, "invitation", NOW + timedelta(days=1)) == user
    with pytest.raises(Conflict):
        accounts.use_link_token(session, token, "invitation", NOW + timedelta(days=1))


def test_a_link_token_expires(session, agency):
    user = booker(session, agency)
    token = accounts.issue_link_token(session, user, "password_reset", NOW, timedelta(hours=1))
    assert accounts.peek_link_token(session, token, "password_reset", NOW + timedelta(minutes=59)).user_id == user.id
    with pytest.raises(Conflict):
        accounts.use_link_token(session, token, "password_reset", NOW + timedelta(hours=1))


def test_a_link_token_is_only_for_its_purpose_and_a_new_one_replaces_it(session, agency):
    user = booker(session, agency)
    first = accounts.issue_link_token(session, user, "invitation", NOW, timedelta(days=7))
    with pytest.raises(NotFound):
        accounts.use_link_token(session, first, "password_reset", NOW)
    with pytest.raises(NotFound):
        accounts.use_link_token(session, "made-up", "invitation", NOW)
    second = accounts.issue_link_token(session, user, "invitation", NOW, timedelta(days=7))
    with pytest.raises(Conflict):
        accounts.use_link_token(session, first, "invitation", NOW)
    assert accounts.use_link_token(session, second, "invitation", NOW) == user


# API tokens -------------------------------------------------------------------------------------------

def test_an_api_token_is_stored_only_as_a_hash(session, agency):
    user = booker(session, agency)
    token, value = accounts.create_api_token(session, user, "EPJ")
    session.commit()
    row = session.execute(sa.select(ApiToken.token_hash, ApiToken.prefix, ApiToken.name)).one()
    assert row.token_hash == accounts.digest(value) and value not in row.token_hash
    assert value.startswith(row.prefix) and len(row.prefix) < len(value) // 3
    assert accounts.user_for_api_token(session, value, NOW) == user
    assert token.last_used_at == NOW
    assert accounts.user_for_api_token(session, value + "x", NOW) is None
    assert accounts.user_for_api_token(session, "", NOW) is None


def test_a_revoked_token_or_a_deactivated_owner_stops_working(session, agency):
    user = booker(session, agency)
    token, value = accounts.create_api_token(session, user, "EPJ")
    other, other_value = accounts.create_api_token(session, user, "Calendar")
    token.revoked_at = NOW
    assert accounts.user_for_api_token(session, value, NOW) is None
    assert accounts.user_for_api_token(session, other_value, NOW) == user
    user.active = False
    assert accounts.user_for_api_token(session, other_value, NOW) is None


# Two-factor ------------------------------------------------------------------------------------------

def test_totp_codes(session):
    secret = accounts.new_totp_secret()
    totp = pyotp.TOTP(secret)
    step = totp.timecode(NOW)
    assert accounts.totp_step(secret, totp.at(NOW), NOW) == step
    assert accounts.totp_step(secret, totp.at(NOW - timedelta(seconds=30)), NOW) == step - 1  # clock drift
    assert accounts.totp_step(secret, totp.at(NOW + timedelta(seconds=30)), NOW) == step + 1
    assert accounts.totp_step(secret, totp.at(NOW - timedelta(minutes=5)), NOW) is None
    assert accounts.totp_step(secret, "abcdef", NOW) is None
    assert accounts.totp_step(secret, "²" * 6, NOW) is None  # digits to Python, not a code
    assert accounts.totp_step(None, totp.at(NOW), NOW) is None


def test_a_totp_code_is_accepted_once_and_never_an_older_one(session, agency):
    """RFC 6238, section 5.2: a code seen over a shoulder must not log in again while it is still shown."""
    admin = accounts.create_user(session, "admin@imdi.example", "Ada", "registry_admin")
    admin.totp_secret, admin.totp_enabled = accounts.new_totp_secret(), True
    session.commit()
    totp = pyotp.TOTP(admin.totp_secret)
    assert accounts.use_totp(session, admin, totp.at(NOW), NOW)
    session.commit()
    assert not accounts.use_totp(session, admin, totp.at(NOW), NOW + timedelta(seconds=20))  # the same code
    assert not accounts.use_totp(session, admin, totp.at(NOW - timedelta(seconds=30)), NOW)  # an older one
    assert accounts.use_totp(session, admin, totp.at(NOW + timedelta(seconds=30)), NOW + timedelta(seconds=30))
    session.commit()
    session.expire_all()
    assert session.get(User, admin.id).totp_last_step == totp.timecode(NOW) + 1


def test_the_code_that_turns_two_factor_on_does_not_also_log_in(session, agency):
    admin = accounts.create_user(session, "admin@imdi.example", "Ada", "registry_admin")
    session.commit()
    secret = accounts.new_totp_secret()
    totp = pyotp.TOTP(secret)
    shown = {totp.at(NOW + timedelta(seconds=30 * step)) for step in (-1, 0, 1)}
    wrong = next(code for code in (f"{n:06d}" for n in range(4)) if code not in shown)
    assert accounts.enable_two_factor(session, admin, secret, wrong, NOW) is None
    assert (admin.totp_enabled, admin.totp_secret) == (False, None)  # a wrong code changes nothing
    codes = accounts.enable_two_factor(session, admin, secret, totp.at(NOW), NOW, ip="10.0.0.1")
    session.commit()
    assert len(codes) == 10 and (admin.totp_enabled, admin.totp_secret) == (True, secret)
    assert not accounts.use_totp(session, admin, totp.at(NOW), NOW + timedelta(seconds=10))
    assert accounts.use_totp(session, admin, totp.at(NOW + timedelta(seconds=30)), NOW + timedelta(seconds=30))
    accounts.disable_two_factor(session, admin)
    session.commit()
    assert (admin.totp_enabled, admin.totp_secret, admin.totp_last_step) == (False, None, None)
    assert not accounts.use_recovery_code(session, admin, codes[0], NOW)
    assert session.scalars(sa.select(AuditEntry.action).where(AuditEntry.object_id == str(admin.id))
                           .order_by(AuditEntry.id)).all() == ["two_factor.enabled", "two_factor.disabled"]


def test_recovery_codes_work_once_and_new_ones_replace_old(session, agency):
    user = booker(session, agency)
    codes = accounts.new_recovery_codes(session, user)
    assert len(codes) == len(set(codes)) == 10
    assert accounts.use_recovery_code(session, user, codes[0], NOW)
    assert not accounts.use_recovery_code(session, user, codes[0], NOW)
    assert accounts.use_recovery_code(session, user, " " + codes[1].upper() + " ", NOW)
    assert not accounts.use_recovery_code(session, user, "000000-000000", NOW)
    fresh = accounts.new_recovery_codes(session, user)
    assert not accounts.use_recovery_code(session, user, codes[2], NOW)
    assert accounts.use_recovery_code(session, user, fresh[0], NOW)


# Sessions --------------------------------------------------------------------------------------------

IDLE, ABSOLUTE = timedelta(minutes=30), timedelta(hours=12)


@pytest.mark.parametrize("created, seen, ended, expired", [
    (timedelta(0), timedelta(0), False, False),
    (timedelta(minutes=29), timedelta(minutes=29), False, False),
    (timedelta(minutes=31), timedelta(minutes=31), False, True),  # idle too long
    (timedelta(hours=11, minutes=59), timedelta(minutes=1), False, False),
    (timedelta(hours=12, minutes=1), timedelta(minutes=1), False, True),  # older than the absolute limit
    (timedelta(minutes=1), timedelta(minutes=1), True, True),  # logged out
])
def test_session_expiry(created, seen, ended, expired):
    record = UserSession(id="s", user_id=1, created_at=NOW - created, last_seen_at=NOW - seen,
                         authenticated_at=NOW - created, ended_at=NOW if ended else None)
    assert accounts.session_expired(record, NOW, IDLE, ABSOLUTE) is expired


def test_ending_all_sessions_can_keep_the_current_one(session, agency):
    user = booker(session, agency)
    keep = accounts.start_session(session, user, NOW, "127.0.0.1")
    other = accounts.start_session(session, user, NOW, "127.0.0.1")
    accounts.end_all_sessions(session, user, NOW, keep=keep.id)
    session.expire_all()
    assert session.get(UserSession, keep.id).ended_at is None
    assert session.get(UserSession, other.id).ended_at == NOW
    assert user.last_login_at == NOW
