"""SQLAlchemy models, one module per aggregate."""

from .credential import CREDENTIAL_TYPES, Credential, CredentialType
from .interpreter import Interpreter, Qualification
from .reference import Counter, County, Language, Municipality

__all__ = [
    "CREDENTIAL_TYPES",
    "Counter",
    "County",
    "Credential",
    "CredentialType",
    "Interpreter",
    "Language",
    "Municipality",
    "Qualification",
]
