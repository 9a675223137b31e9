"""Finding and replacing a key's originals in any stored string, JSON included."""

from __future__ import annotations

import json
import re
from typing import Any, Iterable, Iterator

from .key import normalise


def _occurrences(text: str, words: str) -> Iterator[tuple[int, int]]:
    pattern = re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, words.split())) + r"(?!\w)", re.IGNORECASE)
    for m in pattern.finditer(text):
        yield m.start(), m.end()


def _originals_pattern(originals: Iterable[str]) -> re.Pattern | None:
    """One regex for every original, longest first, whole words, any case."""
    words = sorted({" ".join(o.split()) for o in originals if o.strip()}, key=len, reverse=True)
    if not words:
        return None
    alternatives = [r"\s+".join(map(re.escape, w.split())) for w in words]
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def _scrub(value: str | None, pattern: re.Pattern | None, key_by_norm: dict[str, str]) -> str | None:
    if value is None or pattern is None:
        return value
    return pattern.sub(lambda m: key_by_norm[normalise(m.group())], value)


def _scrub_json(value: str, pattern: re.Pattern, key_by_norm: dict[str, str]) -> str:
    """Replace originals inside the strings of a JSON document (escapes would hide them)."""
    try:
        data = json.loads(value)
    except ValueError:
        return _scrub(value, pattern, key_by_norm)

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            if item.startswith(("{", "[")):  # JSON nested in a string (provenance)
                try:
                    return json.dumps(walk(json.loads(item)), sort_keys=True)
                except ValueError:
                    pass
            return _scrub(item, pattern, key_by_norm)
        if isinstance(item, dict):
            return {k: walk(v) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v) for v in item]
        return item

    new = walk(data)
    return value if new == data else json.dumps(new, sort_keys=True)


def _searchable(value: str) -> str:
    """``value`` with JSON escapes undone, so "Zo\\u00eb" is found as "Zoë"."""
    if "\\u" in value:
        try:
            return value.encode("ascii", "backslashreplace").decode("unicode_escape")
        except UnicodeDecodeError:
            return value
    return value
