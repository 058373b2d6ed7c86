"""Fixtures of the admin console's tests: the web logins (tests/web/conftest.py), throwaway evidence and import
folders, and builders for applications, bookings and sanctions through the real domain functions."""

from datetime import UTC, date, datetime, time, timedelta
from io import BytesIO

import pytest
import sqlalchemy as sa

from registry.domain import applications, evidence
from registry.domain.times import to_utc
from registry.models import Booking, OutboxMessage, WorkingHours
from tests.web.conftest import log_in, login, users, web_config  # noqa: F401

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture
def folders(app, tmp_path):
    """Evidence and import files in a throwaway folder; restored afterwards."""
    keys = {"EVIDENCE_DIR": str(tmp_path / "evidence"), "IMPORT_DIR": str(tmp_path / "imports")}
    saved = {key: app.config.get(key) for key in keys}
    app.config.update(keys)
    yield tmp_path
    app.config.update(saved)


def fresh(session):
    """End the test's read transaction so the next query sees what the requests committed."""
    session.rollback()
    return session


def apply(session, app, name="Amal Ahmed", email="amal@example.no", claims=(("bilingual_test", "so"),),
          tao=True, today=date(2027, 3, 1), birth_date="1990-05-17", locale="en"):
    """A person's application to join, as the public form makes it: (type, language[, valid_until]) claims."""
    made = [applications.CredentialClaim(kind, language, "2026-06-01", *(rest or [None]),
                                         upload=evidence.Upload(BytesIO(PDF), f"{kind}.pdf"), prefix=f"lang{n}_")
            for n, (kind, language, *rest) in enumerate(claims, start=1)]
    tao_claim = applications.CredentialClaim("tao", None, "2026-05-01", upload=evidence.Upload(BytesIO(PDF), "tao.pdf"),
                                             prefix="tao_") if tao else None
    applicant = applications.Applicant(name=name, email=email, phone="+47 91234567", gender="female",
                                       county_number="03", municipality_number=None, birth_date=birth_date)
    application = applications.submit_application(
        session, applicant, made, tao_claim, today=today, evidence_dir=app.config["EVIDENCE_DIR"],
        max_bytes=10 * 1024 * 1024, locale=locale)
    session.commit()
    return application


def messages(session, kind: str) -> list[OutboxMessage]:
    return fresh(session).scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == kind)
                                  .order_by(OutboxMessage.id)).all()


def work_always(session, person) -> None:
    for day in range(7):
        session.add(WorkingHours(interpreter_id=person.id, weekday=day, start_time=time(0, 0),
                                 end_time=time(23, 59)))
    session.commit()


def confirmed_booking(session, person, agency_id, booker_id, starts_at: datetime, language="ar", **fields) -> Booking:
    """A confirmed booking written directly (the booking domain is tested elsewhere)."""
    values = dict(agency_id=agency_id, booker_id=booker_id, interpreter_id=person.id, status="confirmed",
                  language_code=language, min_category="E", modality="video", starts_at=starts_at,
                  ends_at=starts_at + timedelta(hours=1), sector="health")
    values.update(fields)
    booking = Booking(**values)
    session.add(booking)
    session.commit()
    return booking


def oslo(day: date, hour: int) -> datetime:
    return to_utc(datetime.combine(day, time(hour)), "start", 0).astimezone(UTC)
