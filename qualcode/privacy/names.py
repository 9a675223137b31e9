"""Names without a cue: given-name list, proper nouns the model tagged, lower case, speakers.

The statistical model alone misses names it has not seen in news text ("Olumide",
"Femi"), names it takes for an organisation ("Sophie runs it"), and every name in an
automatic transcript written in lower case. These rules add them back, preferring a
false alarm (one click in review) to a missed name (a breach):

- a capitalised word on the given-names list, unless it is an ordinary English word at
  the start of a sentence that the model does not tag as a proper noun ("Grace period
  ends" is left; "asked Grace" and "Rose said" are names);
- a word the model tags as a proper noun (NNP) that is no English word;
- without a model, any capitalised word that is no English word;
- a lower-case word on the given-names list that is no English word ("me and kelly");
- the speaker label at the start of a line ("KELLY:", "[00:01:20] Angela Thornton:").

Runs of such words become one name ("Dawn Pickering", "Lily-Mae"). Words the team
never wants as names (roles, days, services) are in ``patterns.NOT_NAMES``.

>>> import spacy
>>> doc = spacy.blank("en")("Reflection: Olumide feels stretched and me and kelly went.")
>>> [(text, kind) for _, _, text, kind in name_hits(doc)]
[('Olumide', 'Person'), ('kelly', 'Person')]
"""

from __future__ import annotations

import re
from typing import Iterator

from .gazetteer import first_names, is_word
from .patterns import NOT_NAMES, TITLE_CUES
from .rules import looks_like_name

# Entity types whose words are never a person's name (places are found as places).
NOT_PERSON_ENTS = frozenset({"DATE", "TIME", "CARDINAL", "ORDINAL", "MONEY", "PERCENT", "QUANTITY", "NORP",
                             "LANGUAGE", "GPE", "LOC", "FAC", "LAW", "EVENT"})
# Titles and ranks that come before a name in a speaker label: "Sergeant Dave Holt:".
TITLES = frozenset(TITLE_CUES) | frozenset("sergeant sgt pc dc di ds cllr councillor prof professor nurse".split())
SENTENCE_ENDS = frozenset(".!?:;\n\"“”‘’'()[]-–—•*")
SPEAKER_LINE = re.compile(
    r"^[ \t]*(?:\[[\d:.,]+\][ \t]*)?(?P<name>[A-Za-z][A-Za-z'’\-.]*(?:[ \t][A-Za-z][A-Za-z'’\-.]*){0,3})[ \t]*:",
    re.MULTILINE)


def capitalised(word: str) -> bool:
    """A name's shape: a capital and then a lower-case letter somewhere ("McLaren", "O'Neil").

    >>> [capitalised(w) for w in ("Kelly", "McLaren", "O'Neil", "KELLY", "kelly", "TAF")]
    [True, True, True, False, False, False]
    """
    return word[:1].isupper() and any(c.islower() for c in word)


def namelike(word: str) -> bool:
    """True for a word that can be (part of) a name: a given name, or no English word.

    >>> [namelike(w) for w in ("Kelly", "Danquah", "reference", "Mum", "Rose")]
    [True, True, False, False, True]
    """
    lower = word.lower().strip("'’")
    if len(lower) < 2 or lower in NOT_NAMES or not any(c.isalpha() for c in lower):
        return False
    return lower in first_names() or not is_word(lower)


def speaker_hits(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, text) of each speaker label at a line's start that is a name.

    >>> [t for _, _, t in speaker_hits("KELLY: Yes.\\nInterviewer: And?\\nRCPC. Present: mum\\n[00:01] Angela Thornton: No.")]
    ['KELLY', 'Angela Thornton']
    """
    for m in SPEAKER_LINE.finditer(text):
        words = m["name"].split()
        while words and words[0].lower().rstrip(".") in TITLES:
            words = words[1:]
        if any(w.endswith(".") for w in words) or any(w.isupper() and w.lower() not in first_names() for w in words):
            continue  # "RCPC. Present:" is a sentence and a form label, not a speaker
        if words and looks_like_name(" ".join(words)) and namelike(words[0]) \
                and not any(w.lower() in NOT_NAMES for w in words):
            start = m.start("name") + m["name"].index(words[0])
            yield start, m.end("name"), text[start:m.end("name")]


def _initial(doc, i: int) -> bool:
    """True when token ``i`` starts a sentence, a line or a quotation."""
    if i == 0:
        return True
    prev = doc[i - 1]
    return prev.is_space or prev.text[-1:] in SENTENCE_ENDS


def _name_token(doc, i: int, tagged: bool, blocked: set[int]) -> bool:
    token = doc[i]
    if i in blocked or not token.is_alpha and "'" not in token.text and "’" not in token.text:
        return False
    text, lower = token.text, token.lower_
    if len(lower) < 2 or lower in NOT_NAMES or (text[:-1].isupper() and text[-1] == "s" and lower[:-1] in NOT_NAMES):
        return False  # ... or an acronym's plural: "TAFs", "GPs"
    if (i + 2 < len(doc) and doc[i + 1].text == "-" and not token.whitespace_ and not doc[i + 1].whitespace_
            and doc[i + 2].is_lower):
        return False  # the first part of a compound: "Pre-birth", "Co-located"
    if token.is_lower:
        return len(lower) > 2 and lower in first_names() and not is_word(lower)
    if not capitalised(text):
        return False
    word = is_word(lower)
    if lower in first_names():  # "Rose said" (tagged NNP) is a name; "Grace period" (NN) is not
        return not (word and _initial(doc, i)) or _proper_noun(token, tagged, untagged=False)
    if word:
        return False
    return _proper_noun(token, tagged, untagged=True)


class TagsNeeded(Exception):
    """``name_hits`` was asked whether it reads tags (``needs_tags``), and it does."""


def _proper_noun(token, tagged: bool | None, untagged: bool) -> bool:
    """Is ``token`` tagged NNP/NNPS; ``untagged`` when the doc carries no tags; a probe raises."""
    if tagged is None:
        raise TagsNeeded
    return token.tag_ in ("NNP", "NNPS") if tagged else untagged


def needs_tags(doc) -> bool:
    """Would ``name_hits`` read a part-of-speech tag in ``doc`` (tagged or not)?

    A text where no word turns on its tag gives the same hits without the tagger,
    so a scan can run the tagger only where it is read.

    >>> import spacy
    >>> nlp = spacy.blank("en")
    >>> needs_tags(nlp("we met at home and it went well.")), needs_tags(nlp("we met Olumide at home."))
    (False, True)
    """
    try:
        for _ in name_hits(doc, tagged=None):
            pass
    except TagsNeeded:
        return True
    return False


def name_hits(doc, tagged: bool | None = ...) -> Iterator[tuple[int, int, str, str]]:
    """(start, end, text, "Person") for each run of name words in a spaCy ``doc``.

    ``doc`` may come from a full model (tags and entities are used) or a tokenizer.
    ``tagged=None`` probes (``needs_tags``); by default the doc says whether it is tagged.
    """
    tagged = doc.has_annotation("TAG") if tagged is ... else tagged
    blocked = {t.i for ent in doc.ents if ent.label_ in NOT_PERSON_ENTS for t in ent}
    i, n = 0, len(doc)
    while i < n:
        if not _name_token(doc, i, tagged, blocked):
            i += 1
            continue
        j = i + 1
        while j < n:  # "Dawn Pickering", "Lily-Mae": names run on, across hyphens without spaces
            if (doc[j].text == "-" and not doc[j - 1].whitespace_ and j + 1 < n and not doc[j].whitespace_
                    and capitalised(doc[j + 1].text)):
                j += 2
            elif doc[j - 1].whitespace_ == " " and capitalised(doc[j].text) and doc[j].lower_ not in NOT_NAMES \
                    and j not in blocked and not doc[i].is_lower:  # surnames may be words: "Kelly Marsh"
                j += 1
            else:
                break
        start, end = doc[i].idx, doc[j - 1].idx + len(doc[j - 1].text)
        if doc.text[start:end].lower() not in NOT_NAMES:  # "Wi-Fi" runs on like "Lily-Mae"
            yield start, end, doc.text[start:end], "Person"
        i = j
