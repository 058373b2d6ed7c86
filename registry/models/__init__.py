"""SQLAlchemy models, one module per aggregate."""

from .account import Agency, ApiToken, OneTimeToken, RecoveryCode, User, UserSession
from .audit import AuditEntry
from .booking import Booking, BookingOffer
from .credential import CREDENTIAL_TYPES, Application, Credential, CredentialType
from .interpreter import Interpreter, Qualification
from .outbox import OutboxMessage
from .reference import Counter, County, Language, Municipality
from .schedule import Absence, WorkingHours

__all__ = [
    "CREDENTIAL_TYPES", "Absence", "Agency", "ApiToken", "Application", "AuditEntry", "Booking", "BookingOffer",
    "Counter", "County", "Credential", "CredentialType", "Interpreter", "Language", "Municipality", "OneTimeToken",
    "OutboxMessage", "Qualification", "RecoveryCode", "User", "UserSession", "WorkingHours",
]
