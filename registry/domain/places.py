"""Counties and municipalities: Norway's official numbers as of the 2024 regional reform."""

import csv
import functools
from importlib import resources


def read_municipalities() -> list[dict[str, str]]:
    """Rows of the shipped CSV (SSB classifications 131 and 104), as they are."""
    text = resources.files("registry.data").joinpath("municipalities-2024.csv").read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


@functools.cache
def _numbers() -> tuple[frozenset[str], frozenset[str]]:
    rows = read_municipalities()
    return frozenset(r["county_number"] for r in rows), frozenset(r["municipality_number"] for r in rows)


def is_county(number: str | None) -> bool:
    """A county number of the shipped data, which the migrations load as they are: a check that needs no query."""
    return number in _numbers()[0]


def is_municipality(number: str | None) -> bool:
    """A municipality number of the shipped data (see is_county)."""
    return number in _numbers()[1]


@functools.cache
def county_choices() -> tuple[tuple[str, str], ...]:
    """(number, name) of every county, by name: the search forms' list, from the shipped data (see is_county)."""
    return tuple(sorted(((c["number"], c["name"]) for c in counties_and_municipalities()[0]), key=lambda c: c[1]))


def counties_and_municipalities() -> tuple[list[dict], list[dict]]:
    rows = read_municipalities()
    counties = {r["county_number"]: r["county_name"] for r in rows}
    return (
        [{"number": n, "name": name} for n, name in sorted(counties.items())],
        [{"number": r["municipality_number"], "name": r["municipality_name"],
          "county_number": r["county_number"]} for r in rows],
    )
