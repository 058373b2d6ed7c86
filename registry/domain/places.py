"""Counties and municipalities: Norway's official numbers as of the 2024 regional reform."""

import csv
import functools
from importlib import resources


def read_municipalities() -> list[dict[str, str]]:
    """Rows of the shipped CSV (SSB classifications 131 and 104), as they are."""
    text = resources.files("registry.data").joinpath("municipalities-2024.csv").read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


@functools.cache
def _places() -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """{county number: name} and {municipality number: (name, county number)} of the shipped data, which the
    migrations load as they are (tests/test_migrations.py holds the two equal): what the checks and the select
    lists need, without a query."""
    rows = read_municipalities()
    return ({r["county_number"]: r["county_name"] for r in rows},
            {r["municipality_number"]: (r["municipality_name"], r["county_number"]) for r in rows})


def is_county(number: str | None) -> bool:
    return number in _places()[0]


def is_municipality(number: str | None) -> bool:
    return number in _places()[1]


def county_name(number: str) -> str | None:
    return _places()[0].get(number)


def municipality_name(number: str | None) -> str | None:
    return (_places()[1].get(number) or (None,))[0]


def municipality(number: str) -> tuple[str, str] | None:
    """(name, county number) of a municipality, None if there is no such number."""
    return _places()[1].get(number)


# Norwegian alphabetical order: Æ, Ø and Å come after Z.
_NORWEGIAN = str.maketrans({"Æ": "Z\uffff1", "Ø": "Z\uffff2", "Å": "Z\uffff3",
                            "æ": "z\uffff1", "ø": "z\uffff2", "å": "z\uffff3"})


def _by_name(name: str) -> str:
    return name.translate(_NORWEGIAN).casefold()


@functools.cache
def county_choices() -> tuple[tuple[str, str], ...]:
    """(number, name) of every county, by name in Norwegian order: the select lists' counties."""
    return tuple(sorted(_places()[0].items(), key=lambda c: _by_name(c[1])))


@functools.cache
def municipality_groups() -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """(county name, ((number, name), ...)) by county, then municipality, name: the select lists' municipalities."""
    by_county: dict[str, list[tuple[str, str]]] = {}
    for number, (name, county) in _places()[1].items():
        by_county.setdefault(county, []).append((number, name))
    return tuple((county, tuple(sorted(by_county[number], key=lambda m: _by_name(m[1]))))
                 for number, county in county_choices())


def counties_and_municipalities() -> tuple[list[dict], list[dict]]:
    """The rows for the counties and municipalities tables (migration 0001, the bench generator)."""
    counties, municipalities = _places()
    return ([{"number": n, "name": name} for n, name in sorted(counties.items())],
            [{"number": n, "name": name, "county_number": county} for n, (name, county) in municipalities.items()])
