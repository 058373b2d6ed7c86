"""Every user-visible string is translated into nb, nn and en, and the catalogues match the source.

The strings are extracted from registry/ and templates/ here, at test time, the way `make extract-messages`
extracts them (same babel.cfg, same keywords), so a string added to a template or to the code fails this
test until it is in translations/<lang>/LC_MESSAGES/messages.po with a real translation. No database.
"""

import importlib.util
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("nb", "nn", "en")
# Keep in step with the extract-messages target in the Makefile.
SOURCE_DIRS = ("registry", "templates")
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_l": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
    "lazy_pgettext": ((1, "c"), 2),
}
FIX = "Run `make extract-messages`, then translate the entries in {path}:"

# A %-format specification: %(name)s, %d, %.2f, %% ... (flask_babel formats with the % operator).
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")


def catalogue_path(language: str) -> Path:
    return ROOT / "translations" / language / "LC_MESSAGES" / "messages.po"


def extract_source() -> dict[tuple, list[str]]:
    """{(msgid, context): ["file:line", ...]} for every translatable string in the source.

    msgid is a string, or (singular, plural) for plural messages.
    """
    with (ROOT / "babel.cfg").open() as file:
        method_map, options_map = parse_mapping_cfg(file, filename=str(ROOT / "babel.cfg"))
    found: dict[tuple, list[str]] = {}
    for folder in SOURCE_DIRS:
        for filename, lineno, message, _comments, context in extract_from_dir(
            ROOT / folder, method_map, options_map, keywords=KEYWORDS
        ):
            found.setdefault((message, context), []).append(f"{folder}/{filename}:{lineno}")
    return found


def read_catalogue(language: str) -> Catalog:
    with catalogue_path(language).open("rb") as file:
        return read_po(file)


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def forms(message) -> list[tuple[str, str]]:
    """(source text, translation) for each form: one, or one per plural form."""
    if isinstance(message.id, tuple | list):
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        return [(message.id[0] if i == 0 else message.id[1], text or "") for i, text in enumerate(strings)]
    return [(message.id, message.string or "")]


def singular(msgid) -> str:
    return msgid[0] if isinstance(msgid, tuple | list) else msgid


def first_place(where: list[str]) -> tuple[str, int]:
    filename, _, line = where[0].rpartition(":")
    return filename, int(line)


def show(msgid, context=None) -> str:
    text = " / ".join(repr(part) for part in msgid) if isinstance(msgid, tuple | list) else repr(msgid)
    return f"{text} (context {context!r})" if context else text


def problems(catalog: Catalog, source: dict[tuple, list[str]]) -> list[str]:
    """What keeps `catalog` from translating every source string, one line per entry."""
    found = []
    for (msgid, context), where in sorted(source.items(), key=lambda item: first_place(item[1])):
        message = catalog.get(singular(msgid), context)
        at = f"  [{', '.join(where)}]"
        if message is None:
            found.append(f"missing: {show(msgid, context)}{at}")
            continue
        if isinstance(msgid, tuple | list) != isinstance(message.id, tuple | list) or (
            isinstance(msgid, tuple | list) and tuple(msgid) != tuple(message.id)
        ):
            found.append(f"out of date (plural changed): {show(msgid, context)}{at}")
            continue
        if message.fuzzy:
            found.append(f"fuzzy: {show(msgid, context)}{at}")
        pairs = forms(message)
        if isinstance(msgid, tuple | list) and len(pairs) != catalog.num_plurals:
            found.append(f"needs {catalog.num_plurals} plural forms, has {len(pairs)}: {show(msgid, context)}{at}")
        if not all(text.strip() for _, text in pairs):
            found.append(f"untranslated: {show(msgid, context)}{at}")
            continue
        for original, text in pairs:
            if placeholders(text) != placeholders(original):
                found.append(
                    f"placeholders differ: {show(msgid, context)} has {sorted(placeholders(original))}, "
                    f"the translation {text!r} has {sorted(placeholders(text))}{at}"
                )
    return found


def stale(catalog: Catalog, source: dict[tuple, list[str]]) -> list[str]:
    """Entries of `catalog` that no source string uses any more, obsolete (#~) ones included."""
    used = {(singular(msgid), context) for msgid, context in source}
    found = [
        f"not in the source: {show(m.id, m.context)}"
        for m in catalog
        if m.id and (singular(m.id), m.context) not in used
    ]
    found += [f"obsolete: {show(m.id, m.context)}" for m in catalog.obsolete.values()]
    return found


@pytest.fixture(scope="module")
def source() -> dict[tuple, list[str]]:
    found = extract_source()
    assert len(found) > 50, "extraction found almost nothing: check babel.cfg and SOURCE_DIRS"
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_source_string_is_translated(language, source):
    path = catalogue_path(language)
    assert path.exists(), f"{language}: {path.relative_to(ROOT)} is missing. Run `make extract-messages`."
    catalog = read_catalogue(language)
    assert not catalog.fuzzy, f"{language}: the catalogue header is marked fuzzy, so it would not compile"
    assert str(catalog.locale) == language, f"{language}: the catalogue says Language: {catalog.locale}"
    found = problems(catalog, source)
    if found:
        pytest.fail(
            f"{language}: {len(found)} of {len(source)} source strings are not translated properly in "
            f"{path.relative_to(ROOT)}. " + FIX.format(path=path.relative_to(ROOT)) + "\n" + "\n".join(found),
            pytrace=False,
        )


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_holds_only_strings_the_source_uses(language, source):
    path = catalogue_path(language).relative_to(ROOT)
    found = stale(read_catalogue(language), source)
    if found:
        pytest.fail(
            f"{language}: {path} has entries the source no longer uses. Run `make extract-messages`, which "
            "drops them.\n" + "\n".join(found),
            pytrace=False,
        )


def test_the_check_catches_each_kind_of_problem():
    source = {
        ("Search", None): ["templates/a.html:1"],
        ("Verify", None): ["templates/a.html:2"],
        ("Maybe", None): ["templates/a.html:3"],
        ("At least %(category)s", None): ["templates/a.html:4"],
        (("%(num)d interpreter", "%(num)d interpreters"), None): ["registry/a.py:5"],
        ("Fine", None): ["registry/a.py:6"],
    }
    catalog = Catalog(locale="nn")
    catalog.add("Verify", "")
    catalog.add("Maybe", "Kanskje", flags=["fuzzy"])
    catalog.add("At least %(category)s", "Minst %(kategori)s")
    catalog.add(("%(num)d interpreter", "%(num)d interpreters"), ("%(num)d tolk", ""))
    catalog.add("Fine", "Fint")
    catalog.add("Gone", "Borte")
    found = problems(catalog, source)
    assert [line.split(":")[0] for line in found] == [
        "untranslated", "missing", "untranslated", "fuzzy", "placeholders differ",
    ]
    assert "'Search'" in found[1] and "templates/a.html:1" in found[1]
    assert stale(catalog, source) == ["not in the source: 'Gone'"]


def test_fill_english_copies_the_source_into_empty_entries(tmp_path):
    spec = importlib.util.spec_from_file_location("fill_english", ROOT / "tools" / "fill_english.py")
    fill_english = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fill_english)
    catalog = Catalog(locale="en")
    catalog.add("Search", "")
    catalog.add("Verify", "Check")
    catalog.add(("%(num)d interpreter", "%(num)d interpreters"), ("", ""))
    path = tmp_path / "messages.po"
    with path.open("wb") as file:
        write_po(file, catalog)

    assert fill_english.fill(path) == 2
    with path.open("rb") as file:
        filled = read_po(file, locale="en")
    assert filled.get("Search").string == "Search"
    assert filled.get("Verify").string == "Check"
    assert filled.get("%(num)d interpreter").string == ("%(num)d interpreter", "%(num)d interpreters")
    assert fill_english.fill(path) == 0


@pytest.mark.parametrize("lang, shown", [("nb", "3\xa0666"), ("nn", "3\xa0666"), ("en", "3,666")])
def test_counts_are_written_as_the_readers_language_writes_them(app, lang, shown):
    """The lists' totals ("Credentials waiting (3 666)") go through the `number` filter."""
    from flask import render_template_string

    with app.test_request_context(f"/?lang={lang}"):
        app.preprocess_request()
        assert render_template_string("{{ 3666 | number }}") == shown
