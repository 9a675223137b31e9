"""Segments: the sentences, paragraphs or speaker turns a code is applied to.

A segment is a character span ``[start, end)`` of a document's stored text, trimmed of
surrounding whitespace, so ``text[start:end]`` is exactly what a reader sees. Segments
nest: a sentence never crosses a paragraph break, and neither crosses a turn boundary,
so every segment belongs to at most one turn and knows its speaker (auto-coding skips
interviewer turns by it).

How the text is cut (one rule for every unit, so offsets cannot drift):
- turn boundaries (and the gaps between turns: a title before the first turn is a
  segment of its own, with no turn) cut every unit;
- paragraphs: every line break ends a paragraph (transcripts, Word exports and case
  notes write one paragraph per line, and headers such as ``Date: 3 May`` are lines
  of their own), except in hard-wrapped prose: a text with blank lines whose other
  lines are mostly 40 to 100 characters long is wrapped, and there only blank lines
  end paragraphs;
- sentences: spaCy's sentence starts, plus the paragraph and turn cuts above. An
  opening bracket or quote glued to the next word starts the sentence it opens
  ("[laughs] And…"), where spaCy's sentencizer leaves it on the previous one.
The pieces between consecutive cuts are stripped; empty ones are dropped. So for
sentences the segments cover every non-whitespace character of the text.

>>> from qualcode.importers.base import Turn
>>> text = "I: How is supervision?\\nP: Good. We meet weekly."
>>> turns = [Turn(0, 22, "I", True), Turn(23, 47, "P")]
>>> [(s.unit, text[s.start:s.end], s.turn) for s in segment_document(text, turns, "sentence")]
[('sentence', 'I: How is supervision?', 0), ('sentence', 'P: Good.', 1), ('sentence', 'We meet weekly.', 1)]
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Iterator

import numpy as np
import sqlalchemy as sa

from . import store

if TYPE_CHECKING:  # pragma: no cover - imports for type checkers only
    from spacy.language import Language
    from spacy.tokens import Doc

    from .project import Project

UNITS = ("sentence", "paragraph", "turn")

_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")
_WRAP_WIDTH = (40, 100)  # line lengths typical of hard-wrapped text
_WRAPPED_SHARE = 0.8


@dataclass
class Segment:
    """One unit of text a code can be applied to: ``[start, end)`` of the stored text."""

    start: int
    end: int
    unit: str
    turn: int | None = None  # the turn's ``seq``; None outside any turn
    speaker: str | None = None
    is_interviewer: bool = False


@dataclass(frozen=True)
class TurnSpan:
    """The parts of a speaker turn segmentation needs, whatever it was read from."""

    start: int
    end: int
    seq: int | None
    speaker: str | None
    is_interviewer: bool


def is_participant_text(segment: Segment, turns: list[TurnSpan]) -> bool:
    """Whether ``segment`` holds what a participant said: not an interviewer's turn, and
    not a transcript's header (title, date, who was present: the text before the first
    turn of a document that has turns). Documents without turns (case notes, survey
    comments) are participant text throughout. ``turns`` are the document's, by start.

    >>> turns = [TurnSpan(20, 40, 0, "I", True), TurnSpan(41, 60, 1, "P", False)]
    >>> [is_participant_text(s, turns) for s in (Segment(0, 12, "sentence"),
    ...     Segment(22, 30, "sentence", 0, "I", True), Segment(45, 50, "sentence", 1, "P"))]
    [False, False, True]
    """
    if segment.is_interviewer:
        return False
    return not (turns and segment.turn is None and segment.end <= turns[0].start)


def non_participant_spans(length: int, turns: list[TurnSpan]) -> list[tuple[int, int]]:
    """The spans of a text of ``length`` characters whose segments are not participant
    text (``is_participant_text`` is False for every segment in them): interviewer turns
    and the header before the first turn. ``turns`` are TurnSpans by start.

    >>> non_participant_spans(60, [TurnSpan(20, 40, 0, "I", True), TurnSpan(41, 60, 1, "P", False)])
    [(0, 20), (20, 40)]
    """
    if not turns:
        return []
    first = turns[0].start
    return [(start, end) for start, end, turn in _regions(length, turns)
            if (turn.is_interviewer if turn is not None else end <= first)]


def turn_spans(turns: Any) -> list[TurnSpan]:
    """Normalise ``turns`` (Turn-like objects, a DataFrame from ``project.turns``, or
    TurnSpans) to TurnSpans sorted by start.

    Objects without a ``seq`` (an importer's ``Turn``) are numbered 0, 1, … in the order
    given, as the importer numbers them in the store.
    """
    if turns is None:
        return []
    if isinstance(turns, list) and all(type(t) is TurnSpan for t in turns):
        return sorted(turns, key=lambda t: (t.start, t.end))  # already normalised (load_turns)
    if hasattr(turns, "itertuples"):  # a DataFrame
        rows = list(turns.itertuples(index=False))
    else:
        rows = list(turns)
    spans = []
    for position, row in enumerate(rows):
        seq = getattr(row, "seq", position)
        spans.append(TurnSpan(
            int(row.start), int(row.end), None if seq is None else int(seq),
            getattr(row, "speaker", None), bool(getattr(row, "is_interviewer", False)),
        ))
    spans.sort(key=lambda t: (t.start, t.end))
    return spans


def _regions(length: int, turns: list[TurnSpan]) -> list[tuple[int, int, TurnSpan | None]]:
    """Cover ``[0, length)`` with the turns and the gaps between them, in order.

    Turns are clipped to the text and to each other, so overlapping or out-of-range
    turns from a faulty import still give disjoint segments.
    """
    regions: list[tuple[int, int, TurnSpan | None]] = []
    pos = 0
    for turn in turns:
        start, end = max(turn.start, pos), min(turn.end, length)
        if end <= start:
            continue
        if start > pos:
            regions.append((pos, start, None))
        regions.append((start, end, turn))
        pos = end
    if pos < length or not regions:
        regions.append((pos, length, None))
    return regions


def is_hard_wrapped(text: str) -> bool:
    """True for prose wrapped at a fixed width, paragraphs separated by blank lines.

    >>> is_hard_wrapped(("word " * 14 + "\\n") * 4 + "\\n" + "Next paragraph.")
    True
    >>> is_hard_wrapped("Date: 3 May\\nSite: North\\n\\nI: Hello")
    False
    """
    if not _BLANK_LINE.search(text):
        return False
    lines = text.split("\n")
    inner = [len(line) for line, after in zip(lines, lines[1:]) if line.strip() and after.strip()]
    if len(inner) < 3:
        return False
    return sum(_WRAP_WIDTH[0] <= n <= _WRAP_WIDTH[1] for n in inner) >= _WRAPPED_SHARE * len(inner)


def paragraph_breaks(text: str) -> list[int]:
    """Positions where a paragraph ends (see the module docstring for the rule).

    >>> paragraph_breaks("a\\nb\\n\\nc")
    [1, 3, 4]
    """
    if is_hard_wrapped(text):
        return [m.start() for m in _BLANK_LINE.finditer(text)]
    return [m.start() for m in re.finditer("\n", text)]


def sentence_starts(doc: "Doc") -> list[int]:
    """Character offsets where a sentence of ``doc`` starts.

    Read from the Doc's token arrays rather than ``doc.sents``, which builds a Span per
    sentence; only starts preceded by a glued opening bracket or quote are walked.

    >>> from qualcode.nlp import load_pipeline
    >>> sentence_starts(load_pipeline()("Fine. [laughs] And you?"))
    [0, 6]
    """
    from .nlp import token_columns

    if not len(doc):
        return []
    if not doc.has_annotation("SENT_START"):
        return [sent.start_char for sent in doc.sents]  # spaCy's own error says what is missing
    columns = token_columns(doc)
    is_start = columns.sent_start == 1
    is_start[0] = True
    tokens = np.flatnonzero(is_start)
    idx = columns.idx
    glued = columns.left_punct & ~columns.space  # "[" or an opening quote with no space after
    chars = idx[tokens]
    for k in np.flatnonzero(glued[np.maximum(tokens - 1, 0)] & (tokens > 0)).tolist():
        floor = chars[k - 1] if k else 0
        i = tokens[k]
        while i > 0 and glued[i - 1] and idx[i - 1] > floor:
            i -= 1
        chars[k] = idx[i]
    return chars.tolist()


def segment_document(
    text: str,
    turns: Any,
    unit: str,
    nlp: "Language | None" = None,
    doc: "Doc | None" = None,
) -> list[Segment]:
    """Cut ``text`` into ``unit`` segments ("sentence", "paragraph" or "turn").

    ``turns`` is a list of Turn-like objects or ``project.turns(doc_id)`` (may be empty).
    For sentences, pass the spaCy ``doc`` of ``text`` if you already have it (auto-coding
    parses each document once), else ``nlp`` or the default pipeline parses it.
    """
    return Segmenter(text, turns, nlp=nlp, doc=doc).segments(unit)


class Segmenter:
    """One document's segments in every unit, each unit cut when first asked for.

    ``segments(unit)`` lists them all; ``containing(unit, start, end)`` builds only the
    segment asked for, which is what auto-coding needs: each match wants the sentence
    (or paragraph, or turn) around it, and most segments hold no match.

    >>> text = "I: Hi.\\nP: Fine. You?"
    >>> segmenter = Segmenter(text, [])
    >>> seg = segmenter.containing("sentence", 10, 14)
    >>> text[seg.start:seg.end], segmenter.containing("sentence", 0, 14)
    ('P: Fine.', None)
    """

    def __init__(self, text: str, turns: Any, nlp: "Language | None" = None, doc: "Doc | None" = None):
        if doc is not None and _doc_length(doc) != len(text):
            raise ValueError("doc was not made from this text (lengths differ)")
        self.text = text
        self.regions = _regions(len(text), turn_spans(turns))
        self._region_starts = [start for start, _, _ in self.regions]
        self._nlp = nlp
        self._doc = doc
        self._paragraph_breaks: list[int] | None = None
        self._cuts: dict[str, list[int]] = {}
        self._made: dict[tuple[str, int], Segment | None] = {}

    def segments(self, unit: str) -> list[Segment]:
        """Every ``unit`` segment, in order."""
        cuts = self.cuts(unit)
        pieces = (self._piece(unit, cuts, i) for i in range(len(cuts) - 1))
        return [segment for segment in pieces if segment is not None]

    def containing(self, unit: str, start: int, end: int) -> Segment | None:
        """The ``unit`` segment holding characters ``[start, end)``, or None if none does
        (the span crosses a cut, or starts in the whitespace between segments)."""
        cuts = self._cuts.get(unit) or self.cuts(unit)  # called once per match: the cached path first
        i = bisect_right(cuts, start) - 1
        if i < 0 or i >= len(cuts) - 1:
            return None
        segment = self._made.get((unit, i), _UNMADE)
        if segment is _UNMADE:
            segment = self._piece(unit, cuts, i)
        if segment is None or start < segment.start or end > segment.end:
            return None
        return segment

    def cuts(self, unit: str) -> list[int]:
        """The sorted positions where ``unit`` segments are cut, the text's end included."""
        if unit in self._cuts:
            return self._cuts[unit]
        if unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}, not {unit!r}")
        cuts = set(self._region_starts)
        if unit != "turn":
            if self._paragraph_breaks is None:
                self._paragraph_breaks = paragraph_breaks(self.text)
            cuts.update(self._paragraph_breaks)
        if unit == "sentence":
            if self._doc is None:
                from .nlp import load_pipeline

                self._doc = (self._nlp or load_pipeline())(self.text)
            cuts.update(sentence_starts(self._doc))
        cuts.add(len(self.text))
        self._cuts[unit] = sorted(cuts)
        return self._cuts[unit]

    def _piece(self, unit: str, cuts: list[int], i: int) -> Segment | None:
        """The stripped text between cut ``i`` and the next, tagged with its turn; None
        when it is blank. Made once."""
        key = (unit, i)
        if key in self._made:
            return self._made[key]
        a, b = cuts[i], cuts[i + 1]
        piece = self.text[a:b]
        stripped = piece.strip()
        segment = None
        if stripped:
            start = a + (len(piece) - len(piece.lstrip()))
            turn = self.regions[bisect_right(self._region_starts, start) - 1][2]
            if turn is None:
                segment = Segment(start, start + len(stripped), unit)
            else:
                segment = Segment(start, start + len(stripped), unit, turn.seq, turn.speaker, turn.is_interviewer)
        self._made[key] = segment
        return segment


_UNMADE = object()  # a segment not cut yet (None means "blank, no segment")


def _doc_length(doc: "Doc") -> int:
    """Characters ``doc`` covers, without building ``doc.text`` (which walks every token)."""
    if not len(doc):
        return 0
    last = doc[-1]
    return last.idx + len(last.text_with_ws)


def load_turns(project: "Project", document_ids: Iterable[int] | None = None) -> dict[int, list[TurnSpan]]:
    """Every document's turns in one query, as ``{document_id: [TurnSpan, …]}``."""
    t = store.turns
    query = sa.select(t.c.document_id, t.c.start, t.c.end, t.c.seq, t.c.speaker, t.c.is_interviewer)
    if document_ids is not None:
        query = query.where(t.c.document_id.in_(list(document_ids)))
    by_document: dict[int, list[TurnSpan]] = {}
    with project.engine.connect() as conn:
        for doc_id, start, end, seq, speaker, is_interviewer in conn.execute(query.order_by(t.c.document_id, t.c.start)).all():
            by_document.setdefault(doc_id, []).append(TurnSpan(start, end, seq, speaker, bool(is_interviewer)))
    return by_document


def iter_segments(
    project: "Project",
    unit: str,
    documents: Iterable[int | str] | None = None,
    nlp: "Language | None" = None,
    batch_size: int = 64,
) -> Iterator[tuple[int, Segment, str]]:
    """Stream ``(document_id, segment, segment_text)`` over the project's current documents.

    Texts are parsed with ``nlp.pipe(…, as_tuples=True)`` one batch at a time and each
    Doc is dropped once cut, so memory stays flat however large the corpus.

    >>> for doc_id, seg, text in iter_segments(project, "sentence"):   # doctest: +SKIP
    ...     print(doc_id, seg.turn, text)
    """
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, not {unit!r}")
    ids = None if documents is None else [project.document_id(d) for d in documents]
    turns = load_turns(project, ids)
    texts = project.iter_texts(ids)
    if unit == "sentence":
        from .nlp import load_pipeline

        nlp = nlp or load_pipeline()
        parsed = ((doc_id, text, doc) for doc, (doc_id, text) in
                  nlp.pipe(((text, (doc_id, text)) for doc_id, text in texts),
                           as_tuples=True, batch_size=batch_size))
    else:
        parsed = ((doc_id, text, None) for doc_id, text in texts)
    for doc_id, text, doc in parsed:
        for segment in segment_document(text, turns.get(doc_id, []), unit, doc=doc):
            yield doc_id, segment, text[segment.start:segment.end]
