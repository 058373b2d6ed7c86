"""Evidence for credentials: files checked by their content, stored outside static/ under a random name, and
shown only to those allowed to see them (the credential's holder and the registry administrators).

The stored name (`Credential.evidence_ref`) is 32 random hex digits and nothing else; a file is only ever
opened by that name, so no path from a request can reach the file system.
"""

import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask_babel import lazy_gettext as _l

from ..models import Credential
from . import audit
from .errors import InvalidInput, NotFound

# What a file is, from its first bytes; the name and the browser's claimed type are never trusted.
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
REF = re.compile(r"[0-9a-f]{32}")
CHUNK = 64 * 1024
NAME_MAX = 255


@dataclass(frozen=True)
class Upload:
    """An uploaded file as the domain sees it: a binary stream and the name the sender gave it."""

    stream: BinaryIO
    filename: str


@dataclass(frozen=True)
class Stored:
    ref: str
    name: str
    type: str


def detect_type(head: bytes) -> str | None:
    """The media type of a PDF, JPEG or PNG file from its first bytes, else None."""
    for signature, media_type in SIGNATURES:
        if head.startswith(signature):
            return media_type
    return None


def _size(stream: BinaryIO) -> int:
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def too_large(field: str, max_bytes: int) -> InvalidInput:
    return InvalidInput(_l("The file is larger than %(mb)s MB. Choose a smaller file, or scan it at a lower "
                           "resolution.", mb=max_bytes // (1024 * 1024)), field)


def check_upload(upload: Upload | None, max_bytes: int, field: str = "evidence", required: bool = True) -> str | None:
    """The detected media type of an acceptable upload; None when there is none and none is required."""
    if upload is None or not upload.filename:
        if required:
            raise InvalidInput(_l("Attach the evidence: a PDF, JPEG or PNG file."), field)
        return None
    size = _size(upload.stream)
    if size == 0:
        raise InvalidInput(_l("The file is empty. Choose the file again."), field)
    if size > max_bytes:
        raise too_large(field, max_bytes)
    media_type = detect_type(upload.stream.read(8))
    upload.stream.seek(0)
    if media_type is None:
        raise InvalidInput(_l("The file is not a PDF, JPEG or PNG file. Save or scan the document as one of "
                              "these and try again."), field)
    return media_type


def clean_name(filename: str, media_type: str) -> str:
    """The sender's file name, without folders or control characters, for showing and downloading only."""
    name = re.split(r"[/\\]", filename or "")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    if not name:
        name = "evidence" + EXTENSIONS[media_type]
    if len(name) > NAME_MAX:
        stem, dot, extension = name.rpartition(".")
        name = (stem[:NAME_MAX - len(extension) - 1] + dot + extension) if dot and len(extension) < 10 \
            else name[:NAME_MAX]
    return name


def path_of(evidence_dir, ref: str) -> Path:
    """The file of a stored reference; NotFound for anything that is not one of our random names."""
    if not isinstance(ref, str) or not REF.fullmatch(ref):
        raise NotFound(_l("The evidence file is missing."))
    return Path(evidence_dir) / ref


def store(upload: Upload, evidence_dir, max_bytes: int, field: str = "evidence") -> Stored:
    """Check the upload and write it under a new random name; nothing is left behind if that fails."""
    media_type = check_upload(upload, max_bytes, field)
    directory = Path(evidence_dir)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    ref = secrets.token_hex(16)
    part = directory / f"{ref}.part"
    written = 0
    try:
        with os.fdopen(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            upload.stream.seek(0)
            while chunk := upload.stream.read(CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise too_large(field, max_bytes)
                out.write(chunk)
        os.replace(part, directory / ref)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return Stored(ref=ref, name=clean_name(upload.filename, media_type), type=media_type)


def discard(evidence_dir, refs) -> None:
    """Remove stored files again (when the change that was to use them did not happen)."""
    for ref in refs:
        path_of(evidence_dir, ref).unlink(missing_ok=True)


def open_file(evidence_dir, ref: str) -> BinaryIO:
    """Open a stored file for reading, by its random name only."""
    try:
        return path_of(evidence_dir, ref).open("rb")
    except (FileNotFoundError, IsADirectoryError):
        raise NotFound(_l("The evidence file is missing.")) from None


def may_view(user, credential: Credential) -> bool:
    """Who may see a credential's evidence: its holder, and registry administrators."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.role == "registry_admin":
        return True
    return user.role == "interpreter" and user.interpreter_id == credential.interpreter_id


def viewable(session, user, credential_id: int) -> Credential:
    """A credential with evidence that `user` may see; NotFound otherwise, so others learn nothing."""
    credential = session.get(Credential, credential_id)
    if credential is None or not credential.evidence_ref or not may_view(user, credential):
        raise NotFound(_l("There is no such evidence."))
    return credential


def open_for(session, user, credential_id: int, evidence_dir, ip: str | None = None) -> tuple[Credential, BinaryIO]:
    """Open a credential's evidence for `user` and audit the view."""
    credential = viewable(session, user, credential_id)
    file = open_file(evidence_dir, credential.evidence_ref)
    audit.record(session, "evidence.viewed", actor=user, object_type="credential", object_id=credential.id,
                 after={"interpreter_id": credential.interpreter_id, "evidence_name": credential.evidence_name},
                 ip=ip)
    return credential, file
