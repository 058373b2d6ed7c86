"""The UI language: ?lang=, then the session, then Accept-Language (no -> nb), then nb."""

import re

import pytest

from registry.i18n import negotiate


def html_lang(response) -> str:
    return re.search(r'<html lang="([a-z]+)"', response.text).group(1)


@pytest.mark.parametrize("header, expected", [
    ("nb-NO, en;q=0.5", "nb"),          # Werkzeug's best_match would pick en here
    ("nn-NO,nn;q=0.9,en;q=0.8", "nn"),
    ("no", "nb"),
    ("no-NO,en;q=0.3", "nb"),
    ("en-GB,en;q=0.9,nb;q=0.8", "en"),
    ("de-DE,de;q=0.9", None),
    ("en;q=0.2, nn;q=0.8", "nn"),
    ("en;q=0, nb;q=0.1", "nb"),
    ("fr, en;q=garbage", None),
    ("", None),
    (None, None),
])
def test_negotiate(header, expected):
    assert negotiate(header, ("nb", "nn", "en")) == expected


@pytest.mark.parametrize("headers, query, expected", [
    ({}, "", "nb"),
    ({"Accept-Language": "de"}, "", "nb"),
    ({"Accept-Language": "en-US,en;q=0.9"}, "", "en"),
    ({"Accept-Language": "nb-NO, en;q=0.5"}, "", "nb"),
    ({"Accept-Language": "en"}, "?lang=nn", "nn"),
    ({"Accept-Language": "en"}, "?lang=xx", "en"),
])
def test_html_lang_follows_the_choice(client, headers, query, expected):
    assert html_lang(client.get(f"/{query}", headers=headers)) == expected


def test_a_chosen_language_sticks_for_the_visit(client):
    client.get("/?lang=en")
    assert html_lang(client.get("/", headers={"Accept-Language": "nb"})) == "en"
    client.get("/?lang=nn")
    assert html_lang(client.get("/register")) == "nn"


def test_language_names_come_from_babel(client):
    assert "arabisk" in client.get("/?lang=nb").text
    assert "Arabic" in client.get("/?lang=en").text
    assert "dari" in client.get("/?lang=nn").text
