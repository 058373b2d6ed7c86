"""Give every untranslated entry of the English catalogue its source text, the English it was written in.

    .venv/bin/python tools/fill_english.py [translations/en/LC_MESSAGES/messages.po]

Run by `make extract-messages` after `pybabel update`. Only empty texts are filled (every plural form:
the first from msgid, the others from msgid_plural), so an English text deliberately worded apart from
its msgid stays. The file is rewritten the way `pybabel update --no-wrap` writes it, and only when
something was filled.
"""

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

DEFAULT = Path(__file__).resolve().parent.parent / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def english(message, plural_forms: int):
    """The message's source text in the shape of its msgstr: a string, or one string per plural form."""
    if isinstance(message.id, tuple | list):
        return (message.id[0],) + (message.id[1],) * (plural_forms - 1)
    return message.id


def filled_in(text, source):
    """`text` with each empty part (the text, or a plural form) taken from `source`."""
    if isinstance(source, tuple):
        forms = tuple(text) if isinstance(text, tuple | list) else (text,)
        forms += ("",) * (len(source) - len(forms))
        return tuple(form or fallback for form, fallback in zip(forms, source, strict=False))
    return text or source


def fill(path: Path) -> int:
    """Fill the empty texts in the catalogue at `path`; the number of entries changed."""
    with path.open("rb") as file:
        catalog = read_po(file, locale="en")
    filled = 0
    for message in catalog:
        if not message.id:
            continue
        text = filled_in(message.string, english(message, catalog.num_plurals))
        if text != message.string:
            message.string = text
            filled += 1
    if filled:
        with path.open("wb") as file:
            write_po(file, catalog, width=None)
    return filled


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT
    filled = fill(path)
    print(f"{path}: {filled} English {'entry' if filled == 1 else 'entries'} filled from the source text")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
