"""The per-document step of auto-coding: rows, the one-hit shortcut, and the blanked parse."""

from __future__ import annotations

from pathlib import Path

import pytest

from qualcode import Project
from qualcode.autocode import _CodeFilter, _documents, _ensure_loaded, _row_plan
from qualcode.codebook import load_codebook, parse_codebook
from qualcode.corpus import import_paths
from qualcode.matchers import Hit, RuleSet
from qualcode.nlp import load_pipeline
from qualcode.segments import Segment, TurnSpan, load_turns
from qualcode.suggestion_rows import ROW_COLUMNS, RowPlan, _one_hit_row, _row, document_rows, text_to_parse

REPO = Path(__file__).resolve().parents[1]
BOOK = parse_codebook('''
id: demo
name: Demo
version: "2"
codes:
  - {id: sup, name: Supervision, definition: Staff supervision., match: {keywords: [group supervision], fuzzy: true}}
  - {id: all, name: Anyone, definition: Said by anyone., match: {keywords: [caseload], speakers: all}}
''')


@pytest.mark.parametrize("kind,score", [("lemma", 1.0), ("exact", 1.0), ("pattern", 1.0), ("regex", 1.0),
                                        ("fuzzy", 0.917), ("fuzzy", 0.8333333)])
@pytest.mark.parametrize("turn", [None, 3])
def test_one_hit_row_is_the_row_of_one_hit(kind, score, turn):
    rules = RuleSet.build([BOOK], load_pipeline())
    text = "Then we held Group Supervisons weekly."
    segment = Segment(0, len(text), "sentence", turn, "Sam" if turn else None)
    hit = Hit(0, kind, "group supervision", 3, 5, 13, 30, score)
    one = _one_hit_row(text, 4, segment, rules.codes[0], 11, hit, "blank:en")
    assert one == _row(text, 4, segment, rules.codes[0], 11, [hit], [], "blank:en")
    assert len(one) == len(ROW_COLUMNS)


def test_text_to_parse_blanks_interviewer_turns_and_the_header_only():
    rules = RuleSet.build([BOOK], load_pipeline())
    text = "Site visit, May\n\nInterviewer: Any group supervision?\n\nSam: Group supervision helps.\n"
    turns = [TurnSpan(17, 52, 0, "Interviewer", True), TurnSpan(54, 83, 1, "Sam", False)]
    view = text_to_parse(text, turns, rules, frozenset({0}))
    assert len(view) == len(text)
    assert view[52:] == text[52:] and not view[:52].strip()
    # a code that applies to every speaker needs the whole text
    assert text_to_parse(text, turns, rules, frozenset({0, 1})) == text
    # a turn that does not start at whitespace: its neighbour is not blanked (a spaCy chunk crosses it)
    glued = "I: Why?P: Because."
    assert text_to_parse(glued, [TurnSpan(0, 7, 0, "I", True), TurnSpan(7, 18, 1, "P", False)],
                         rules, frozenset({0})) == glued


def test_blanked_parse_gives_the_rows_of_the_full_parse(tmp_path):
    """Every demo interview (txt, docx, vtt, md): rows from the blanked text equal the rows
    from the full text, for the shipped codebooks."""
    nlp = load_pipeline()
    books = [load_codebook(REPO / "codebooks" / name) for name in
             ("dfe_practice_features.yaml", "signs_of_safety.yaml", "evaluation_framework.yaml")]
    rules = RuleSet.build(books, nlp)
    with Project.create(tmp_path / "p.qc") as project:
        import_paths(project, [REPO / "corpus" / "interviews"], progress=False)
        _ensure_loaded(project, books)
        infos = _documents(project, None)
        plan = _row_plan(project, rules.codes, "blank:en")
        allowed = _CodeFilter(rules.codes)
        turns = load_turns(project)
        compared = blanked = 0
        for info, (doc_id, text) in zip(infos, project.iter_texts([i.id for i in infos])):
            spans, codes = turns.get(doc_id, []), allowed.codes_for(info)
            view = text_to_parse(text, spans, rules, codes)
            full = document_rows(nlp(text), text, doc_id, spans, rules, codes, plan)
            fast = document_rows(nlp(view), text, doc_id, spans, rules, codes, plan, parsed=view)
            assert fast == full, f"document {doc_id}"
            compared += len(full[0])
            blanked += view != text
    assert compared > 500 and blanked >= 8
