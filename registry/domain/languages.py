"""Languages of the register, by ISO 639 code, named from Babel's locale data in the reader's language."""

import functools

from babel import Locale

# Codes whose name Babel keeps under another key: ISO 639-3 `prs` (Dari) is Babel's `fa_AF`.
BABEL_KEY = {"prs": "fa_AF"}

# The languages public bodies in Norway book interpreters for most, and the rest of a hundred.
LANGUAGE_CODES = (
    "ar", "pl", "so", "ti", "fa", "prs", "ru", "uk", "ckb", "ku", "en", "es", "tr", "ps", "am",
    "th", "vi", "sq", "bs", "hr", "sr", "lt", "lv", "ro", "fr", "de", "pt", "it", "zh", "ur",
    "my", "ta", "tl", "sw", "om", "uz", "ka", "hy", "az", "bg", "cs", "sk", "sl", "hu", "el",
    "et", "fi", "nl", "he", "hi", "bn", "pa", "ne", "si", "ja", "ko", "mn", "ms", "id", "km",
    "lo", "ln", "rw", "rn", "ha", "yo", "ig", "ff", "wo", "mg", "sn", "zu", "xh", "af", "kk",
    "ky", "tg", "tk", "be", "mk", "is", "da", "sv", "se", "gu", "mr", "te", "kn", "ml", "or",
    "ug", "bo", "dz", "ak", "ee", "lg", "kg", "ny", "kab", "rom",
)


_KNOWN = frozenset(LANGUAGE_CODES)


def is_language(code: str | None) -> bool:
    """A language of the register: the migrations load LANGUAGE_CODES as they are, so no query is needed."""
    return code in _KNOWN


@functools.cache
def _babel(locale: str) -> Locale:
    return Locale.parse(locale)


def language_name(code: str, locale: str) -> str:
    """The language's name in `locale` (nb, nn or en); the code itself if Babel has none."""
    name = _babel(locale).languages.get(BABEL_KEY.get(code, code))
    return name or code


def language_choices(codes, locale: str) -> list[tuple[str, str]]:
    """(code, name) pairs sorted by name in the reader's language. Made once for each list and language: every
    search form shows the hundred of them."""
    return list(_choices(tuple(codes), locale))


@functools.lru_cache(maxsize=256)
def _choices(codes: tuple[str, ...], locale: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(((c, language_name(c, locale)) for c in codes), key=lambda p: p[1].casefold()))
