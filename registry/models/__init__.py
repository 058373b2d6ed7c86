"""SQLAlchemy models, one module per aggregate."""

from .account import Agency, ApiToken, OneTimeToken, RecoveryCode, User, UserSession
from .audit import AuditEntry
from .booking import Booking, BookingOffer
from .credential import CREDENTIAL_TYPES, Application, Credential, CredentialType
from .interpreter import Interpreter, Qualification
from .jobs import CredentialReminder, JobRun
from .outbox import OutboxMessage
from .reference import Counter, County, Language, Municipality
from .sanction import Sanction
from .schedule import Absence, WorkingHours

__all__ = [
    "CREDENTIAL_TYPES", "Absence", "Agency", "ApiToken", "Application", "AuditEntry", "Booking", "BookingOffer",
    "Counter", "County", "Credential", "CredentialReminder", "CredentialType", "Interpreter", "JobRun", "Language",
    "Municipality", "OneTimeToken", "OutboxMessage", "Qualification", "RecoveryCode", "Sanction", "User",
    "UserSession", "WorkingHours",
]
