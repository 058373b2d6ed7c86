"""Opaque, signed page cursors for keyset pagination; a tampered cursor is refused, not trusted."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeSerializer

from .domain.errors import InvalidInput


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
        raise InvalidInput(_l("The page link is not valid. Start the search again."), "cursor") from None
    if not isinstance(key, list):
        raise InvalidInput(_l("The page link is not valid. Start the search again."), "cursor")
    return tuple(key)


def page_url(cursor: str | None) -> str:
    """This list's address with the same filters, at `cursor` (None: the first page)."""
    from flask import request, url_for

    args = {k: v for k, v in request.args.items() if k != "cursor"}
    if cursor:
        args["cursor"] = cursor
    return url_for(request.endpoint, **(request.view_args or {}), **args)
