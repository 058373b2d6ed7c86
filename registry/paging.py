"""Opaque, signed page cursors for keyset pagination; a tampered cursor is refused, not trusted: a page link
that is not one of ours, or not for this list, raises BadPageLink, which every page answers as a 400 that says
so (errors.domain_error) and the API as problem+json."""

from datetime import date, datetime

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

from .domain.errors import BadPageLink


def _serializer(purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"cursor:{purpose}")


def encode(purpose: str, key: tuple | None) -> str | None:
    return None if key is None else _serializer(purpose).dumps(list(key))


def decode(purpose: str, cursor: str | None) -> tuple | None:
    if not cursor:
        return None
    try:
        key = _serializer(purpose).loads(cursor)
    except BadData:
        raise BadPageLink() from None
    if not isinstance(key, list):
        raise BadPageLink()
    return tuple(key)


def encode_timed(purpose: str, key: tuple | None) -> str | None:
    """A cursor for a (moment or day, id) key: lists by time, such as bookings by start or sanctions by first day."""
    return None if key is None else encode(purpose, (key[0].isoformat(), key[1]))


def decode_timed(purpose: str, cursor: str | None) -> tuple | None:
    """The (moment, id) key of encode_timed; a cursor of another shape is refused as any tampered one."""
    return _decode_dated(purpose, cursor, datetime.fromisoformat)


def decode_dated(purpose: str, cursor: str | None) -> tuple | None:
    """The (day, id) key of encode_timed given a date; a cursor of another shape is refused as any tampered one."""
    return _decode_dated(purpose, cursor, date.fromisoformat)


def _decode_dated(purpose: str, cursor: str | None, parse) -> tuple | None:
    key = decode(purpose, cursor)
    if key is None:
        return None
    try:
        when, ident = key
        return parse(when), int(ident)
    except (TypeError, ValueError):
        raise BadPageLink() from None


def decode_named(purpose: str, cursor: str | None) -> tuple | None:
    """The (name key, id) key of a list in name order, such as the interpreters or the public bodies; a cursor of
    another shape is refused as any tampered one."""
    key = decode(purpose, cursor)
    if key is not None and not (len(key) == 2 and isinstance(key[0], str) and type(key[1]) is int):
        raise BadPageLink()
    return key


def page_url(cursor: str | None, param: str = "cursor") -> str:
    """This list's address with the same filters, at `cursor` (None: the first page). `param` names the cursor
    where a page holds more than one list."""
    from flask import request, url_for

    args = {k: v for k, v in request.args.items() if k != param}
    if cursor:
        args[param] = cursor
    return url_for(request.endpoint, **(request.view_args or {}), **args)
