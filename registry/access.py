"""Who may use a view. Every view declares it; the access-matrix test fails on one that does not."""

from collections.abc import Callable

ACCESS_ATTRIBUTE = "access_rule"


def public(view: Callable) -> Callable:
    """Anyone, logged in or not."""
    setattr(view, ACCESS_ATTRIBUTE, "public")
    return view


def rule_of(view: Callable) -> str | None:
    return getattr(view, ACCESS_ATTRIBUTE, None)
