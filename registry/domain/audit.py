"""The audit log: one function writes it; nothing updates or deletes it (the database refuses too)."""

import sqlalchemy as sa

from ..models import AuditEntry

# Never written to the log, whatever a caller passes.
SECRET_WORDS = ("password", "token", "secret", "code_hash", "totp", "recovery")


def _clean(values: dict | None) -> dict | None:
    if values is None:
        return None
    return {k: (_jsonable(v)) for k, v in values.items() if not any(w in k.lower() for w in SECRET_WORDS)}


def _jsonable(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return _clean(value)
    return str(value)


def record(session, action: str, *, actor=None, actor_label: str | None = None, object_type: str | None = None,
           object_id=None, before: dict | None = None, after: dict | None = None, ip: str | None = None) -> None:
    """Append one entry. `actor` is a User (or None for the public or the system)."""
    session.add(AuditEntry(
        actor_id=getattr(actor, "id", None),
        actor_label=actor_label or getattr(actor, "email", None),
        action=action, object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        before=_clean(before), after=_clean(after), ip=ip,
    ))


def search(session, *, actor: str | None = None, object_type: str | None = None, object_id: str | None = None,
           action: str | None = None, since=None, until=None, before_id: int | None = None, limit: int = 50):
    """Newest first, keyset-paged by id."""
    stmt = sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if actor:
        # autoescape: a % or _ in what was typed is that character, not a wildcard.
        stmt = stmt.where(AuditEntry.actor_label.icontains(actor.strip(), autoescape=True))
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEntry.object_id == str(object_id))
    if action:
        stmt = stmt.where(AuditEntry.action.startswith(action, autoescape=True))
    if since:
        stmt = stmt.where(AuditEntry.at >= since)
    if until:
        stmt = stmt.where(AuditEntry.at < until)
    if before_id:
        stmt = stmt.where(AuditEntry.id < before_id)
    return session.scalars(stmt).all()


def snapshot(obj, fields) -> dict:
    """The named attributes of a model object, for before/after values."""
    return {f: getattr(obj, f) for f in fields}
