"""Word lists detection leans on: given names, and the ordinary English words names can be.

Both come from packages installed with qualcode, read from disk, never downloaded:

- given names: the 5,494 first names of the 1990 US census (``dist.male.first`` and
  ``dist.female.first``) shipped by the MIT-licensed ``names`` package. Independent of
  qualcode's labelled set, so the benchmark does not flatter itself; names the list
  lacks ("Priya", "Olumide") are left to the model and the proper-noun rule.
- ordinary words: every form and lemma in spaCy's English lookup lemmatiser table
  (``spacy-lookups-data``) and spaCy's English stop words, so "rose", "bill" and "will" are words and "kelly" is not.

>>> "kelly" in first_names() and "rose" in first_names()
True
>>> is_word("rose"), is_word("kelly")
(True, False)
"""

from __future__ import annotations

import functools
from importlib import resources

from spacy.lang.en.stop_words import STOP_WORDS
from spacy.lookups import load_lookups


@functools.lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """Lower-cased given names from the census lists in the ``names`` package."""
    out: set[str] = set()
    for table in ("dist.male.first", "dist.female.first"):
        text = resources.files("names").joinpath(table).read_text(encoding="ascii")
        out.update(line.split()[0].lower() for line in text.splitlines() if line.strip())
    return frozenset(out)


@functools.lru_cache(maxsize=1)
def _lemma_table():
    table = load_lookups("en", ["lemma_lookup"]).get_table("lemma_lookup")
    return table, frozenset(str(v).lower() for v in table.values())


def is_word(lower: str) -> bool:
    """True when ``lower`` is an ordinary English word (so it may not be a name).

    The table keys word forms by hash, so a form is looked up, not listed.
    """
    table, lemmas = _lemma_table()
    return lower in lemmas or lower in table or lower in STOP_WORDS  # words with no inflection: "else"
