"""One parsed document in, its rule suggestions out, as rows ready to insert.

This is auto-coding's per-document step, and it is pure: it reads the spaCy Doc, the
text, the document's turns and the compiled rules, and returns tuples in the order of
``ROW_COLUMNS``, with the provenance already encoded as JSON and the snippet cut. It
touches no database, so a Dask worker runs it as readily as this process, and the one
writer only adds what belongs to the write itself (the coding's id, the coder's id,
the timestamps) and inserts the rows in bulk (``Project.insert_coding_rows``).

What one row says (see ``qualcode.autocode`` for the rules behind it): a segment, a
code, the confidence from every distinct term that matched there, and an explanation:

    lemma match 'group supervision' as 'group supervisions'; fuzzy 0.92 'safegaurding'
    ~ 'safeguarding'; in turn 14 (Sam)

>>> from qualcode.codebook import parse_codebook
>>> from qualcode.matchers import RuleSet
>>> from qualcode.nlp import load_pipeline
>>> nlp = load_pipeline()
>>> rules = RuleSet.build([parse_codebook('''
... id: demo
... name: Demo
... version: "1"
... codes:
...   - {id: sup, name: Supervision, definition: Staff supervision., match: {keywords: [group supervision]}}
... ''')], nlp)
>>> text = "We held group supervisions. Then lunch."
>>> plan = RowPlan(code_ids=(7,), model="blank:en")
>>> rows, vetoed = document_rows(nlp(text), text, 1, [], rules, frozenset({0}), plan)
>>> dict(zip(ROW_COLUMNS, rows[0]))["explanation"], rows[0][2:4], vetoed
("lemma match 'group supervision' as 'group supervisions'", (0, 27), 0)
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import orjson

from .matchers import CodeRules, Hit, RuleSet, VetoHit
from .segments import Segment, Segmenter, TurnSpan, is_participant_text, non_participant_spans

if TYPE_CHECKING:  # pragma: no cover
    from spacy.tokens import Doc

BASE_CONFIDENCE = {"exact": 0.9, "lemma": 0.85, "pattern": 0.75, "regex": 0.7, "fuzzy": 0.6}
MAX_CONFIDENCE = 0.99
MIXED_VETO_FACTOR = 0.8
SNIPPET_CHARS = 200  # the covered text kept with a coding, to detect drift

# The codings columns a row fills, in order; the writer adds id, coder_id and timestamps.
ROW_COLUMNS = ("document_id", "code_id", "start", "end", "status", "confidence", "method", "provenance",
               "explanation", "codebook_version", "direction", "snippet")
STATUS = "suggested"


@dataclass(frozen=True)
class RowPlan:
    """What rows need beyond the rules: each rule code's id in the project (by the
    code's index in ``RuleSet.codes``) and the model name provenance records. Small and
    picklable, so it travels to workers with the codebooks."""

    code_ids: tuple[int, ...]
    model: str


def text_to_parse(text: str, turns: list[TurnSpan], rules: RuleSet, allowed: frozenset[int]) -> str:
    """``text`` with what no code can be suggested in blanked out, for spaCy to parse.

    Unless a code that applies asks for ``speakers: all``, suggestions are never made in
    interviewer turns or in a transcript's header; spaces in their place (the same
    length, so every offset holds) spare tokenising, lemmatising and matching them, a
    fifth of an interview. The rest parses exactly as before: spaCy cuts text into
    chunks at whitespace, so a chunk of participant text is unchanged as long as a
    blanked span meets it at whitespace (a span that does not is left as it is), and
    every such span is a segment cut, so sentences and matches there are unchanged too.

    >>> from qualcode.nlp import load_pipeline
    >>> from qualcode.segments import TurnSpan
    >>> rules = RuleSet.build([], load_pipeline())
    >>> text_to_parse("I: How?\\nP: Fine.", [TurnSpan(0, 7, 0, "I", True), TurnSpan(8, 16, 1, "P", False)],
    ...               rules, frozenset())
    '       \\nP: Fine.'
    """
    if not turns or any(rules.codes[i].speakers == "all" for i in allowed):
        return text
    pieces, kept_from = [], 0
    for start, end in non_participant_spans(len(text), turns):
        if not (_meets_whitespace(text, start) and _meets_whitespace(text, end)):
            continue
        pieces += [text[kept_from:start], " " * (end - start)]
        kept_from = end
    if not pieces:
        return text
    pieces.append(text[kept_from:])
    return "".join(pieces)


def _meets_whitespace(text: str, at: int) -> bool:
    """Whether a cut at ``at`` falls at whitespace, so no spaCy chunk crosses it."""
    return at <= 0 or at >= len(text) or text[at - 1].isspace() or text[at].isspace()


def document_rows(doc: "Doc", text: str, doc_id: int, turns: list[TurnSpan], rules: RuleSet,
                  allowed: frozenset[int], plan: RowPlan, parsed: str | None = None) -> tuple[list[tuple], int]:
    """The suggestion rows for one parsed document, one per (segment, code), in segment
    order; and how many segments were dropped because all their matches were vetoed.

    ``allowed`` holds the indexes of the codes that apply to this document (source type
    and role filters); ``turns`` are the document's speaker turns, by start. ``doc`` is
    spaCy's parse of ``parsed`` (``text_to_parse``) when given, else of ``text``.
    """
    hits = [h for h in rules.find(doc, parsed or text) if h.code in allowed]
    if not hits:
        return [], 0
    codes = rules.codes
    segments = Segmenter(text, turns, doc=doc)
    containing = segments.containing
    vetoes = rules.vetoes(doc) if any(codes[h.code].veto for h in hits) else []
    veto_ends = [v.end for v in vetoes]  # sorted: veto terms do not overlap in practice
    groups: dict[tuple[int, int], tuple[Segment, list[tuple[Hit, str | None]]]] = {}
    participant: dict[int, bool] = {}  # by segment start: is_participant_text, asked once per segment
    for hit in hits:
        code = codes[hit.code]
        segment = containing(code.segment, hit.start_char, hit.end_char)
        if segment is None:
            continue
        if code.speakers != "all":
            said = participant.get(segment.start)
            if said is None:
                said = participant[segment.start] = is_participant_text(segment, turns)
            if not said:
                continue
        veto = _veto(hit, code, vetoes, veto_ends, segments, doc) if vetoes and code.veto else None
        key = (segment.start, hit.code)
        group = groups.get(key)
        if group is None:
            groups[key] = (segment, [(hit, veto)])
        else:
            group[1].append((hit, veto))
    rows, vetoed_segments = [], 0
    code_ids, model = plan.code_ids, plan.model
    for key in sorted(groups):
        segment, found = groups[key]
        code_index = key[1]
        if len(found) == 1:  # most segments: one hit of the code
            hit, veto = found[0]
            if veto is not None:
                vetoed_segments += 1
            else:
                rows.append(_one_hit_row(text, doc_id, segment, codes[code_index], code_ids[code_index], hit, model))
            continue
        live = [h for h, v in found if v is None]
        if not live:
            vetoed_segments += 1
            continue
        vetoed = sorted({v for _, v in found if v is not None})
        rows.append(_row(text, doc_id, segment, codes[code_index], code_ids[code_index], live, vetoed, model))
    return rows, vetoed_segments


def _veto(hit: Hit, code: CodeRules, vetoes: list[VetoHit], veto_ends: list[int], segments: Segmenter,
          doc: "Doc") -> str | None:
    """The explanation of the veto cancelling ``hit``, or None if none applies."""
    sentence = segments.containing("sentence", hit.start_char, hit.start_char + 1)
    sentence_start = sentence.start if sentence is not None else 0
    first = bisect_right(veto_ends, hit.start - code.veto_window)
    for veto in vetoes[first:]:
        if veto.end > hit.start:
            break
        distance = hit.start - veto.end + 1
        if veto.term in code.veto and veto.start_char >= sentence_start:
            before = f"{distance} token{'s' if distance > 1 else ''} before"
            return f"vetoed: '{veto.term}' {before} '{doc[hit.start:hit.end].text}'"
    return None


def _describe(text: str, hit: Hit, times: int) -> str:
    text = text[hit.start_char:hit.end_char]
    if hit.kind == "fuzzy":
        part = f"fuzzy {hit.score:.2f} '{text}' ~ '{hit.term}'"
    elif hit.kind in ("pattern", "regex"):
        part = f"{hit.kind} match '{text}'"
    elif text.lower() != hit.term:
        part = f"{hit.kind} match '{hit.term}' as '{text}'"
    else:
        part = f"{hit.kind} match '{hit.term}'"
    return part + (f" x{times}" if times > 1 else "")


def _start_char(hit: Hit) -> int:
    return hit.start_char


def _confidence(hit: Hit) -> float:
    base = BASE_CONFIDENCE[hit.kind]
    return base * hit.score if hit.kind == "fuzzy" else base


def _one_hit_row(text: str, doc_id: int, segment: Segment, code: CodeRules, code_id: int, hit: Hit,
                 model: str) -> tuple:
    """``_row`` for a segment holding one hit and no veto, without the grouping: the
    same row, built with the same arithmetic and the same JSON (a test compares the
    two). Most suggestions are of this kind, so the provenance's fixed part is encoded
    once per term (``_provenance_head``) and only the matched text and offsets per row."""
    kind, score = hit.kind, hit.score
    if kind == "fuzzy":
        confidence = round(min(1.0 - 1.0 * (1.0 - BASE_CONFIDENCE[kind] * score), MAX_CONFIDENCE), 3)
        score_json = orjson.dumps(round(score, 3))
    else:
        confidence = _ONE_HIT_CONFIDENCE[kind]
        score_json = _SCORE_JSON.get(score) or orjson.dumps(round(score, 3))
    head, method = _provenance_head(kind, hit.term, code.codebook, code.codebook_version, model, segment.unit)
    found = text[hit.start_char:hit.end_char]
    provenance = b"%b%b,\"start\":%d,\"end\":%d,\"score\":%b}]}" % (
        head, orjson.dumps(found), hit.start_char, hit.end_char, score_json)
    explanation = _describe(text, hit, 1)
    if segment.turn is not None:
        explanation += f"; in turn {segment.turn + 1}" + (f" ({segment.speaker})" if segment.speaker else "")
    start, end = segment.start, segment.end
    return (doc_id, code_id, start, end, STATUS, confidence, method, provenance.decode(), explanation,
            code.codebook_version, None, text[start:min(end, start + SNIPPET_CHARS)])


# A lone hit's confidence by kind (fuzzy ones scale with their score), as ``_row`` computes it.
_ONE_HIT_CONFIDENCE = {kind: round(min(1.0 - 1.0 * (1.0 - base), MAX_CONFIDENCE), 3)
                       for kind, base in BASE_CONFIDENCE.items()}
_SCORE_JSON = {1.0: orjson.dumps(1.0)}


@lru_cache(maxsize=65536)
def _provenance_head(kind: str, term: str, codebook: str, version: str, model: str, unit: str) -> tuple[bytes, str]:
    """The JSON of a one-hit provenance up to its match's text, and the method."""
    whole = orjson.dumps({"rule": kind, "term": term, "codebook": codebook, "codebook_version": version,
                          "model": model, "segment": unit, "matches": [{"rule": kind, "term": term, "text": ""}]})
    return whole[:-len(b'""}]}')], f"rules:{kind}"


def _row(text: str, doc_id: int, segment: Segment, code: CodeRules, code_id: int, hits: list[Hit],
         vetoed: list[str], model: str) -> tuple:
    """One suggestion row for ``segment`` from all of ``code``'s live hits in it."""
    if len(hits) > 1:
        hits = sorted(hits, key=_start_char)
    distinct: dict[tuple[str, str], list[Hit]] = {}
    for hit in hits:
        distinct.setdefault((hit.kind, hit.term), []).append(hit)
    miss, top, top_confidence = 1.0, hits[0], -1.0
    parts, matches = [], []
    for group in distinct.values():
        best = group[0] if len(group) == 1 else max(group, key=_confidence)
        confidence = _confidence(best)
        miss *= 1.0 - confidence
        if confidence > top_confidence:  # the first of equals, in reading order
            top, top_confidence = best, confidence
        parts.append(_describe(text, group[0], len(group)))
        matches.append({"rule": best.kind, "term": best.term, "text": text[best.start_char:best.end_char],
                        "start": best.start_char, "end": best.end_char, "score": round(best.score, 3)})
    confidence = min(1.0 - miss, MAX_CONFIDENCE) * (MIXED_VETO_FACTOR if vetoed else 1.0)
    parts += vetoed
    if segment.turn is not None:
        parts.append(f"in turn {segment.turn + 1}" + (f" ({segment.speaker})" if segment.speaker else ""))
    provenance = {
        "rule": top.kind, "term": top.term, "codebook": code.codebook, "codebook_version": code.codebook_version,
        "model": model, "segment": segment.unit, "matches": matches,
    }
    if vetoed:
        provenance["vetoed"] = vetoed
    return (doc_id, code_id, segment.start, segment.end, STATUS, round(confidence, 3), f"rules:{top.kind}",
            orjson.dumps(provenance).decode(), "; ".join(parts), code.codebook_version, None,
            text[segment.start:segment.end][:SNIPPET_CHARS])
