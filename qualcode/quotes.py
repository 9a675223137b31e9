"""Quotes for reports: chosen by rules a reader can check, attributed by role and wave, never by name.

A quote is an accepted coding's exact text. Before a quote is used its span is read
again from the document and compared with the snippet stored when it was coded; a
quote whose text has drifted is refused, so a report never puts words in a
participant's mouth.

Selection rules (``QuoteRules``), applied in this order for one code or theme:

1. candidates are accepted codings of the code (and its sub-codes, if asked);
   codings the user excluded, codings in an interviewer's turn and codings under
   ``min_words`` words are left out;
2. pinned codings come first, in the order they were pinned;
3. then, one at a time, the candidate from the role and wave quoted least so far;
   among those, whole sentences (the span starts a sentence and ends one) before
   fragments, then those of a useful length (``ideal_words``, 15 to 60 words) before
   shorter or longer ones, the length nearest ``ideal_words`` first, coding id breaking
   ties — so "Too many people. I'll be honest." loses to a sentence that says what;
4. a candidate from the same passage as a chosen quote (same document, spans
   overlapping or closer than ``gap`` characters) is passed over: never two quotes
   from one passage.

Each chosen ``Quote`` says which rule picked it (``reason``).

>>> pool = QuotePool(project)                                   # doctest: +SKIP
>>> [q.formatted() for q in pool.select(["voice"]).quotes]      # doctest: +SKIP
["'They listened to my daughter this time.' (Parent, Wave 1)"]
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import pandas as pd
import sqlalchemy as sa

from . import store
from .errors import NotFoundError, QuoteDrift
from .project import Project

PIN, EXCLUDE = "quote_pin", "quote_exclude"
ELLIPSIS = "…"
# Attributes that may identify a person: never shown, and never allowed to leak into
# an attribution through a role typed as a name.
IDENTIFYING = ("participant", "name", "interviewee", "speaker", "respondent")


_DOCUMENT_COLUMNS = ("name", "version", "format", "case", "words", "turns", "sha256", "encoding",
                     "source_file", "imported_at")


@dataclass(frozen=True)
class QuoteRules:
    """The knobs of quote selection; the defaults suit a funder report."""

    per_code: int = 3
    max_chars: int = 300  # longer quotes are trimmed at a word boundary with an ellipsis
    min_words: int = 6  # shorter segments rarely carry a theme on their own
    gap: int = 200  # characters: closer than this in one document is the same passage
    skip_interviewer: bool = True
    useful_words: tuple[int, int] = (15, 60)  # a quote this long says something and still reads as a quote
    ideal_words: int = 30


@dataclass
class Quote:
    """One quote, traced to its coding, with the text as it will be shown."""

    coding_id: int
    document_id: int
    document: str
    code: str
    start: int
    end: int
    text: str  # the exact stored span
    shown: str  # what the report prints: line breaks as spaces, trimmed if long
    attribution: str  # e.g. "Social Worker, Wave 2"
    role: str | None
    wave: str | None
    source_type: str
    pinned: bool = False
    reason: str = ""

    def formatted(self) -> str:
        """The quote as printed in a report: ``'…' (Social Worker, Wave 2)``."""
        return f"'{self.shown}' ({self.attribution})"


@dataclass
class QuoteSelection:
    """The quotes chosen for one code, and every candidate passed over with the reason."""

    quotes: list[Quote]
    candidates: int
    passed_over: list[tuple[int, str]] = field(default_factory=list)  # (coding id, reason)


# -- attribution and trimming -----------------------------------------------------


def attribution(attributes: Mapping[str, object], source_type: str | None = None) -> str:
    """Who said it, by role and wave only: ``"Social Worker, Wave 2"``.

    Falls back to the source type (``"Family interview"``) when no role is recorded,
    and to it also when the role would reveal an identifying attribute's value.

    >>> attribution({"role": "social worker", "wave": "2", "participant": "Jane Smith"})
    'Social Worker, Wave 2'
    >>> attribution({"wave": "W1"}, "family interview")
    'Family interview, Wave 1'
    """
    role = _text(attributes.get("role"))
    fallback = (_text(source_type) or "Participant").capitalize()
    if role and _reveals_identity(role, attributes):
        role = None
    label = (role.title() if role and role.islower() else role) or fallback
    wave = _wave(_text(attributes.get("wave")))
    return f"{label}, {wave}" if wave else label


def _reveals_identity(role: str, attributes: Mapping[str, object]) -> bool:
    lowered = role.lower()
    for key in IDENTIFYING:
        value = _text(attributes.get(key))
        if value and len(value) >= 3 and (value.lower() in lowered or any(
                len(part) >= 3 and part.lower() in lowered.split() for part in value.split())):
            return True
    return False


def _wave(value: str | None) -> str | None:
    """'2' and 'W2' read as 'Wave 2'; 'Round 1' or 'Wave 3' are kept as written."""
    if not value:
        return None
    match = re.fullmatch(r"(?i)w(?:ave)?\s*(\d+)|(\d+)", value.strip())
    if match:
        return f"Wave {match.group(1) or match.group(2)}"
    return value.strip()


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def trim_quote(text: str, max_chars: int = 300) -> str:
    """The quote as shown: line breaks as single spaces, cut at a word boundary if long.

    >>> trim_quote("We now see the whole family together at home", 30)
    'We now see the whole family …'
    """
    shown = " ".join(text.split())
    if len(shown) <= max_chars:
        return shown
    sentence_end = max(shown.rfind(mark, 0, max_chars - 2) for mark in (". ", "! ", "? "))
    if sentence_end >= max_chars * 0.6:  # a whole last sentence reads better than half of one
        return f"{shown[:sentence_end + 1]} {ELLIPSIS}"
    cut = shown[: max_chars - 2]  # room for " …"
    if shown[max_chars - 2] != " " and " " in cut:
        cut = cut.rsplit(" ", 1)[0]  # never end on half a word
    cut = cut.rstrip(" ,;:-–")
    return f"{cut} {ELLIPSIS}"


def check_span(project: Project, coding_id: int, document: str, text: str, start: int, end: int,
               snippet: str | None) -> str:
    """The exact text of a coding's span, after checking it against the stored snippet.

    Raises ``QuoteDrift`` when the document no longer holds the coded words there.
    """
    span = text[start:end] if 0 <= start < end <= len(text) else ""
    if not span or (snippet and not span.startswith(snippet)):
        raise QuoteDrift(
            f"{project.location}: coding {coding_id} in {document!r} [{start}–{end}) no longer holds the "
            f"words it was coded on (coded: {(snippet or '')[:40]!r}, now: {span[:40]!r}). Fix: check the "
            f"coding against the document and recode or delete it; the quote was not used."
        )
    return span


# -- pins and exclusions (memos on the coding) --------------------------------------


def pin_quote(project: Project, coding_id: int, note: str = "", author: str = "") -> int:
    """Always quote this coding for its code (and lift any exclusion of it)."""
    return _mark(project, coding_id, PIN, note, author)


def exclude_quote(project: Project, coding_id: int, note: str = "", author: str = "") -> int:
    """Never quote this coding (and lift any pin on it); ``note`` records why."""
    return _mark(project, coding_id, EXCLUDE, note, author)


def clear_quote_mark(project: Project, coding_id: int) -> None:
    """Remove a pin or exclusion: the coding goes back to the ordinary rules."""
    m = store.memos
    with project.transaction() as conn:
        conn.execute(sa.delete(m).where(m.c.coding_id == coding_id, m.c.kind.in_((PIN, EXCLUDE))))


def quote_marks(project: Project) -> pd.DataFrame:
    """Every pin and exclusion: coding_id, mark (quote_pin | quote_exclude), note, author."""
    m = store.memos
    query = (sa.select(m.c.coding_id, m.c.kind.label("mark"), m.c.text.label("note"), m.c.author, m.c.id)
             .where(m.c.kind.in_((PIN, EXCLUDE))).order_by(m.c.id))
    with project.engine.connect() as conn:
        result = conn.execute(query)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _mark(project: Project, coding_id: int, kind: str, note: str, author: str) -> int:
    k, d, m = store.codings, store.documents, store.memos
    with project.transaction() as conn:
        row = conn.execute(
            sa.select(k.c.id, k.c.start, k.c.end, k.c.snippet, d.c.name, d.c.text)
            .select_from(k.join(d, k.c.document_id == d.c.id)).where(k.c.id == int(coding_id))
        ).first()
        if row is None:
            raise NotFoundError(f"{project.location}: no coding {coding_id}. Fix: take the id from "
                                "project.codings().")
        if kind == PIN:
            check_span(project, row.id, row.name, row.text, row.start, row.end, row.snippet)
        conn.execute(sa.delete(m).where(m.c.coding_id == row.id, m.c.kind.in_((PIN, EXCLUDE))))
        stamp = store.now()
        author = author or project.team_user() or ""  # a team member's mark is under their login
        return conn.execute(sa.insert(m).values(kind=kind, coding_id=row.id, text=note, author=author,
                                                created_at=stamp, updated_at=stamp).returning(m.c.id)).scalar_one()


# -- selection -------------------------------------------------------------------


class QuotePool:
    """Every accepted coding that could be quoted, loaded once for a whole report.

    ``select`` is then cheap per code (plain tuples, candidates grouped by role and
    wave); ``used`` remembers the spans quoted so one passage is not quoted under two
    themes while another candidate is left.
    """

    def __init__(self, project: Project, rules: QuoteRules = QuoteRules(), status: str = "accepted",
                 coder: str | Iterable[str] | None = None, codings: pd.DataFrame | None = None):
        self.project = project
        self.rules = rules
        self.used: set[tuple[int, int, int]] = set()  # (document, start, end) of passages quoted
        if codings is None:
            codings = project.codings(status=status, coder=coder)
        documents = project.documents().set_index("id")
        codings = codings[codings["document_id"].isin(documents.index)]
        fields = ["id", "document_id", "start", "end", "code", "snippet"]
        self._by_code: dict[str, list[tuple]] = {}
        for row in codings[fields].itertuples(index=False, name=None):
            self._by_code.setdefault(row[4], []).append(row)
        self._documents = documents
        self._role = {i: _text(v) for i, v in documents.get("role", pd.Series(dtype=object)).items()}
        self._wave = {i: _wave(_text(v)) for i, v in documents.get("wave", pd.Series(dtype=object)).items()}
        self._interviewer = _interviewer_turns(project)
        marks = quote_marks(project)
        self._pinned = list(marks.loc[marks["mark"] == PIN, "coding_id"])
        self._excluded = set(marks.loc[marks["mark"] == EXCLUDE, "coding_id"])
        self._texts: dict[int, str] = {}
        self._preferences: dict[int, tuple] = {}
        self._unfit_reasons: dict[int, str | None] = {}

    def select(self, codes: Iterable[str], n: int | None = None, mark_used: bool = True) -> QuoteSelection:
        """Choose up to ``n`` quotes (default ``rules.per_code``) carrying any of ``codes``."""
        n = self.rules.per_code if n is None else n
        pinned = set(self._pinned)
        rows: dict[int, tuple] = {}
        spans: dict[tuple[int, int, int], int] = {}
        for code in codes:
            for row in self._by_code.get(code, ()):
                # One passage coded by two coders (double coding) is one candidate, not two; a pin wins.
                span = (row[1], row[2], row[3])
                if span in spans and not (row[0] in pinned and spans[span] not in pinned):
                    continue
                if span in spans:
                    rows.pop(spans[span], None)
                spans[span] = row[0]
                rows[row[0]] = row
        if not rows:
            return QuoteSelection([], 0)
        passed: list[tuple[int, str]] = []
        chosen: list[Quote] = []
        for coding_id in [i for i in self._pinned if i in rows]:
            if len(chosen) < n:
                chosen.append(self._quote(rows[coding_id], pinned=True, reason="pinned by the researcher"))
        groups: dict[tuple, list[tuple]] = {}
        for coding_id, row in rows.items():
            if coding_id in pinned:
                continue
            why = self._unfit(row)
            if why:
                passed.append((coding_id, why))
                continue
            used = (row[1], row[2], row[3]) in self.used
            key = (self._role.get(row[1]), self._wave.get(row[1]))
            groups.setdefault(key, []).append((used, *self._preference(row), row))
        for members in groups.values():
            members.sort(key=lambda m: m[:-1], reverse=True)  # best last: pop() takes it
        while len(chosen) < n and any(groups.values()):
            key = min((k for k in groups if groups[k]), key=lambda k: self._spread(k, groups[k][-1], chosen))
            *_, row = groups[key].pop()
            clash = next((q for q in chosen if _same_passage(q, row, self.rules.gap)), None)
            if clash is not None:
                passed.append((int(row[0]), f"same passage as coding {clash.coding_id}"))
                continue
            try:
                chosen.append(self._quote(row, pinned=False, reason=self._reason(row, chosen)))
            except QuoteDrift as exc:
                passed.append((int(row[0]), f"refused: {exc}"))
        if mark_used:
            self.used.update((q.document_id, q.start, q.end) for q in chosen)
        return QuoteSelection(chosen, len(rows), passed)

    def quote(self, coding_id: int) -> Quote:
        """One coding as a quote (verified), whatever the selection rules would say."""
        for rows in self._by_code.values():
            for row in rows:
                if row[0] == coding_id:
                    return self._quote(row, pinned=coding_id in self._pinned, reason="asked for")
        raise NotFoundError(f"{self.project.location}: no accepted coding {coding_id} to quote. Fix: take the id "
                            "from project.codings(status='accepted').")

    def _unfit(self, row: tuple) -> str | None:
        if row[0] not in self._unfit_reasons:
            self._unfit_reasons[row[0]] = self._why_unfit(row)
        return self._unfit_reasons[row[0]]

    def _why_unfit(self, row: tuple) -> str | None:
        coding_id, document_id, start, end, _, snippet = row
        if coding_id in self._excluded:
            return "excluded by the researcher"
        if self.rules.skip_interviewer and _inside(self._interviewer.get(document_id), start):
            return "interviewer's turn"
        # The snippet is the span's first 200 characters: a longer span is long enough.
        if len(str(snippet).split()) < self.rules.min_words and (end - start) <= len(str(snippet)):
            return f"fewer than {self.rules.min_words} words"
        return None

    def _preference(self, row: tuple) -> tuple:
        """Lower is better: whole sentences, then a useful length, nearest the ideal, then id.

        Computed once per coding: a coding under a theme and under an outcome is ranked twice.
        """
        cached = self._preferences.get(row[0])
        if cached is None:
            cached = self._preferences[row[0]] = self._rank(row)
        return cached

    def _rank(self, row: tuple) -> tuple:
        text = self._text_of(int(row[1]))
        start, end = row[2], row[3]
        words = len(text[start:end].split())
        low, high = self.rules.useful_words
        return (not _whole_sentences(text, start, end), not low <= words <= high,
                abs(words - self.rules.ideal_words), row[0])

    def _spread(self, key: tuple, head: tuple, chosen: list[Quote]) -> tuple:
        role, wave = key
        same_role = sum(q.role == role for q in chosen)
        same_wave = sum(q.wave == wave for q in chosen)
        # A coding quoted elsewhere in the report comes last: repeat only when nothing else is left.
        return (head[0], same_role + same_wave, same_role, head[1:-1])

    def _reason(self, row: tuple, chosen: list[Quote]) -> str:
        role, wave = self._role.get(row[1]), self._wave.get(row[1])
        if (row[1], row[2], row[3]) in self.used:
            return "already quoted elsewhere in the report; no other candidate left"
        text = self._text_of(int(row[1]))
        kind = "whole sentence(s)" if _whole_sentences(text, row[2], row[3]) else "fragment (no whole sentence left)"
        new_role = all(q.role != role for q in chosen)
        new_wave = all(q.wave != wave for q in chosen)
        if new_role and new_wave:
            return f"{kind} from a role and wave not yet quoted"
        if new_role:
            return f"{kind} from a role not yet quoted"
        if new_wave:
            return f"{kind} from a wave not yet quoted"
        return f"{kind}, best remaining"

    def _quote(self, row: tuple, pinned: bool, reason: str) -> Quote:
        coding_id, document_id, start, end, code, snippet = row
        doc = self._documents.loc[document_id]
        text = self._text_of(int(document_id))
        exact = check_span(self.project, int(coding_id), str(doc["name"]), text, int(start), int(end), snippet)
        attrs = {k: v for k, v in doc.items() if k not in _DOCUMENT_COLUMNS}
        return Quote(
            coding_id=int(coding_id), document_id=int(document_id), document=str(doc["name"]), code=str(code),
            start=int(start), end=int(end), text=exact, shown=trim_quote(exact, self.rules.max_chars),
            attribution=attribution(attrs, doc.get("source_type")), role=_text(attrs.get("role")),
            wave=_wave(_text(attrs.get("wave"))), source_type=str(doc.get("source_type")), pinned=pinned, reason=reason,
        )

    def _text_of(self, document_id: int) -> str:
        if document_id not in self._texts:
            self._texts.update(self.project.iter_texts([document_id]))
        return self._texts[document_id]


SENTENCE_END = ".!?…"


def _whole_sentences(text: str, start: int, end: int) -> bool:
    """Does ``text[start:end]`` start a sentence and end one?

    >>> t = "Interviewer: And then? We met the family at home. It helped, honestly"
    >>> _whole_sentences(t, t.index("We"), t.index("home.") + 5), _whole_sentences(t, t.index("It"), len(t))
    (True, False)
    """
    span = text[start:end].strip()
    if not span or not (span[0].isupper() or span[0] in "'\"‘“"):
        return False
    if span.rstrip("'\"’”)")[-1:] not in SENTENCE_END:
        return False
    i = start - 1
    while i >= 0 and text[i] in " \t":  # the character before the span, spaces skipped (no copy of the text)
        i -= 1
    return i < 0 or text[i] in SENTENCE_END + ":\n'\"’”"


def _interviewer_turns(project: Project) -> dict[int, tuple[list[int], list[int]]]:
    """Per document, the starts and ends of interviewer turns, sorted for bisection."""
    t = store.turns
    spans: dict[int, tuple[list[int], list[int]]] = {}
    query = sa.select(t.c.document_id, t.c.start, t.c.end).where(t.c.is_interviewer.is_(True)).order_by(
        t.c.document_id, t.c.start)
    with project.engine.connect() as conn:
        for doc, start, end in conn.execute(query):
            starts, ends = spans.setdefault(doc, ([], []))
            starts.append(start)
            ends.append(end)
    return spans


def _inside(turns: tuple[list[int], list[int]] | None, position: int) -> bool:
    if not turns:
        return False
    starts, ends = turns
    i = bisect.bisect_right(starts, position) - 1
    return i >= 0 and position < ends[i]


def _same_passage(quote: Quote, row: tuple, gap: int) -> bool:
    _, document_id, start, end, *_ = row
    return quote.document_id == document_id and start < quote.end + gap and quote.start < end + gap
