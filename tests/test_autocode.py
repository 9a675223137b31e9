"""Rule-based auto-coding: each matcher, vetoes, filters, offsets, idempotence, bad input."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from qualcode import store
from qualcode.autocode import autocode
from qualcode.codebook import parse_codebook
from qualcode.errors import CodebookError, ModelNotInstalled, NotFoundError
from qualcode.segments import segment_document

# The store behaves the same on SQLite and PostgreSQL: run these on both (conftest.py).
pytestmark = pytest.mark.backends


def codebook(match: dict, code_id: str = "c", more: str = "", version: str = "1.0"):
    """A one-code codebook whose ``match:`` block is ``match`` (plus extra YAML codes)."""
    return parse_codebook(
        f"id: t\nname: Test\nversion: \"{version}\"\ncodes:\n"
        f"  - id: {code_id}\n    name: Code {code_id}\n    definition: A test code.\n    match: {json.dumps(match)}\n{more}",
        "test.yaml",
    )


def add_document(project, name: str, text: str, turns=(), source_type: str = "staff interview",
                 role: str | None = None) -> int:
    """Insert a document (and its turns) directly, as the importer stores them."""
    with project.transaction() as conn:
        doc_id = conn.execute(sa.insert(store.documents).values(
            name=name, version=1, source_file=name, format="txt", sha256=name, source_type=source_type,
            text=text, words=len(text.split()), imported_at=store.now()).returning(store.documents.c.id)
        ).scalar_one()
        if turns:
            conn.execute(sa.insert(store.turns), [
                {"document_id": doc_id, "seq": i, "start": a, "end": b, "speaker": who, "is_interviewer": iv}
                for i, (a, b, who, iv) in enumerate(turns)])
        if role:
            conn.execute(sa.insert(store.document_attributes).values(document_id=doc_id, key="role", value=role))
    return doc_id


def transcript(*lines: tuple[str, str]) -> tuple[str, list]:
    """Text and turns of ``(speaker, words)`` lines; 'I' is the interviewer."""
    text, turns = "", []
    for speaker, said in lines:
        start = len(text) + len(speaker) + 2
        text += f"{speaker}: {said}\n"
        turns.append((start, start + len(said), speaker, speaker == "I"))
    return text, turns


def run(project, match: dict, text: str, turns=(), **kwargs):
    add_document(project, "doc.txt", text, turns, **{k: kwargs.pop(k) for k in ("source_type", "role") if k in kwargs})
    result = autocode(project, [codebook(match)], progress=False, **kwargs)
    return result, project.codings()


def spans(project, frame):
    text = project.text("doc.txt")
    return [text[s:e] for s, e in zip(frame.start, frame.end)]


# -- each matcher -------------------------------------------------------------------

def test_lemma_phrase_matches_inflected_forms_and_marks_the_sentence(project):
    result, codings = run(project, {"keywords": ["group supervision"]},
                          "We held group supervisions every week. Nothing else happened.")
    assert result.suggestions == 1
    row = codings.iloc[0]
    assert spans(project, codings) == ["We held group supervisions every week."]
    assert (row.status, row.coder, row.method) == ("suggested", "rules", "rules:lemma")
    assert row.explanation == "lemma match 'group supervision' as 'group supervisions'"
    assert row.confidence == pytest.approx(0.85)
    provenance = json.loads(row.provenance)
    assert (provenance["rule"], provenance["term"], provenance["codebook"], provenance["model"]) == (
        "lemma", "group supervision", "t", "blank:en")
    assert row.codebook_version == "1.0"
    assert project.coders().set_index("name").loc["rules", "kind"] == "method"
    assert project.coding_events().action.tolist() == ["create"]


def test_lemma_match_ignores_case_and_hyphenation(project):
    _, codings = run(project, {"keywords": ["key worker"]}, "Key-workers visit. KEY WORKER calls. Keys work.")
    assert spans(project, codings) == ["Key-workers visit.", "KEY WORKER calls."]


def test_exact_phrase_matches_lower_cased_text_only(project):
    _, codings = run(project, {"exact": ["TAF meeting"]}, "The taf meeting was held. Two TAF meetings followed.")
    assert spans(project, codings) == ["The taf meeting was held."]
    assert codings.method.tolist() == ["rules:exact"]
    assert codings.explanation.tolist() == ["exact match 'taf meeting'"]


def test_token_pattern(project):
    _, codings = run(project, {"patterns": [[{"LEMMA": "scale"}, {"LIKE_NUM": True}]]},
                     "Mum scaled 7 today. The scale was broken.")
    assert spans(project, codings) == ["Mum scaled 7 today."]
    assert codings.explanation.tolist() == ["pattern match 'scaled 7'"]


def test_token_pattern_with_fixed_leading_words_up_to_the_last_token(project):
    # The matcher runs only where the pattern's fixed leading words stand: check the
    # words after the first, a line break between them, and a match ending the text.
    pattern = [{"LOWER": "on"}, {"LOWER": "a"}, {"LOWER": "scale"}, {"LOWER": {"IN": ["of", "from"]}},
               {"LIKE_NUM": True}]
    text = "We talked on a scale of 1.\nOn a\nscale of 2 here.\nOn a scale from 3"
    _, codings = run(project, {"patterns": [pattern]}, text)
    assert spans(project, codings) == ["We talked on a scale of 1.", "On a scale from 3"]


def test_regex_ignoring_case_matches_within_one_line(project):
    text = "Intro.\nCASELOAD of 20 now.\nA caseload\nof 30 is split.\nLast: caseloads of 25"
    _, codings = run(project, {"regex": [r"(?i)\bcaseloads? of \d+"]}, text)
    assert spans(project, codings) == ["CASELOAD of 20 now.", "Last: caseloads of 25"]


def test_regex_maps_character_offsets_back(project):
    _, codings = run(project, {"regex": [r"\b\d{1,2}/10\b"]}, "Intro here. Safety scaled at 6/10 by dad.")
    assert spans(project, codings) == ["Safety scaled at 6/10 by dad."]
    assert codings.explanation.tolist() == ["regex match '6/10'"]
    assert codings.method.tolist() == ["rules:regex"]


def test_fuzzy_finds_misspellings_with_their_score(project):
    _, codings = run(project, {"keywords": ["safeguarding"], "fuzzy": True, "fuzzy_threshold": 85},
                     "The safegaurding lead came. Safeguarding was fine. The safe guard left.")
    assert spans(project, codings) == ["The safegaurding lead came.", "Safeguarding was fine."]
    fuzzy = codings.iloc[0]
    assert fuzzy.method == "rules:fuzzy"
    assert fuzzy.explanation == "fuzzy 0.92 'safegaurding' ~ 'safeguarding'"
    assert fuzzy.confidence == pytest.approx(0.6 * 0.9167, abs=0.001)


def test_fuzzy_multi_word_terms_written_as_one_word_or_misspelt(project):
    _, codings = run(project, {"keywords": ["key worker"], "fuzzy": True},
                     "My keyworker rang. The key workr came. The key was lost.")
    assert spans(project, codings) == ["My keyworker rang.", "The key workr came."]
    assert codings.explanation.tolist() == ["fuzzy 1.00 'keyworker' ~ 'key worker'",
                                            "fuzzy 0.91 'key workr' ~ 'key worker'"]


def test_fuzzy_is_off_unless_asked_and_respects_the_threshold(project):
    add_document(project, "doc.txt", "The safegaurding lead came.")
    assert autocode(project, [codebook({"keywords": ["safeguarding"]})], progress=False).suggestions == 0
    strict = codebook({"keywords": ["safeguarding"], "fuzzy": True, "fuzzy_threshold": 95}, version="1.1")
    assert autocode(project, [strict], progress=False).suggestions == 0


def test_several_terms_in_one_segment_make_one_suggestion_with_more_confidence(project):
    result, codings = run(project, {"keywords": ["caseload", "caseloads", "supervision"]},
                          "Caseloads fell after supervision and caseload reviews.")
    assert result.suggestions == 1
    assert codings.explanation.iloc[0] == "lemma match 'caseload' as 'Caseloads' x2; lemma match 'supervision'"
    assert codings.confidence.iloc[0] == pytest.approx(1 - 0.15 * 0.15, abs=0.001)


# -- vetoes ---------------------------------------------------------------------------

VETO = {"keywords": ["group supervision"], "veto": ["not", "no longer"], "veto_window": 3}


def test_veto_within_the_window_cancels_the_match(project):
    result, codings = run(project, VETO, "We did not have group supervision. We no longer get group supervision.")
    assert codings.empty and result.vetoed == 2


def test_veto_outside_the_window_or_the_sentence_does_not(project):
    _, codings = run(project, VETO, "Not really. Group supervision helps. It is not the case that weekly group supervision fails.")
    assert spans(project, codings) == ["Group supervision helps.",
                                       "It is not the case that weekly group supervision fails."]


def test_contraction_counts_as_not(project):
    result, codings = run(project, VETO, "We don't have group supervision.")
    assert codings.empty and result.vetoed == 1


def test_vetoed_match_beside_a_live_one(project):
    text = "We had not had group supervision but reflective practice was good."
    _, codings = run(project, {**VETO, "keywords": ["group supervision", "reflective practice"]}, text)
    row = codings.iloc[0]
    assert row.explanation == ("lemma match 'reflective practice'; "
                               "vetoed: 'not' 2 tokens before 'group supervision'")
    assert row.confidence == pytest.approx(0.85 * 0.8)
    assert json.loads(row.provenance)["vetoed"] == ["vetoed: 'not' 2 tokens before 'group supervision'"]


# -- who said it, and where ----------------------------------------------------------------

SUPERVISION = {"keywords": ["supervision"]}


def test_interviewer_turns_are_skipped(project):
    text, turns = transcript(("I", "Tell me about supervision."), ("Sam", "Supervision is weekly."))
    _, codings = run(project, SUPERVISION, text, turns)
    assert spans(project, codings) == ["Supervision is weekly."]
    assert codings.explanation.tolist() == ["lemma match 'supervision'; in turn 2 (Sam)"]


def test_speakers_all_includes_the_interviewer(project):
    text, turns = transcript(("I", "Tell me about supervision."), ("Sam", "Supervision is weekly."))
    _, codings = run(project, {**SUPERVISION, "speakers": "all"}, text, turns)
    assert spans(project, codings) == ["Tell me about supervision.", "Supervision is weekly."]


def test_a_transcripts_header_is_not_what_a_participant_said(project):
    # "Group supervision observation, 3 May" is the title, not evidence of supervision.
    header = "Supervision study - interview 4 - 3 May\nPresent: Sam (supervision lead)\n\n"
    body, turns = transcript(("I", "Tell me about supervision."), ("Sam", "Supervision is weekly."))
    shifted = [(a + len(header), b + len(header), who, iv) for a, b, who, iv in turns]
    _, codings = run(project, SUPERVISION, header + body, shifted)
    assert spans(project, codings) == ["Supervision is weekly."]
    everyone = autocode(project, [codebook({**SUPERVISION, "speakers": "all"}, version="1.1")], progress=False)
    assert everyone.suggestions == 3  # the two header lines and the interviewer's question
    assert "Supervision study - interview 4 - 3 May" in spans(project, project.codings())


def test_turn_and_paragraph_units(project):
    text, turns = transcript(("Sam", "We meet. Supervision is weekly."), ("Jo", "Agreed. It helps."))
    add_document(project, "doc.txt", text, turns)
    cb = codebook({"keywords": ["supervision"], "segment": "turn"},
                  more="  - id: p\n    name: P\n    definition: Help.\n    match: {keywords: [helps], segment: paragraph}\n")
    autocode(project, [cb], progress=False)
    codings = project.codings()
    assert dict(zip(codings.code, spans(project, codings))) == {
        "c": "We meet. Supervision is weekly.", "p": "Agreed. It helps."}


def test_source_type_and_role_filters(project):
    match = {"keywords": ["supervision"], "source_types": ["interview"], "roles": ["social_worker"]}
    for name, kind, role in [("a.txt", "staff interview", "Social Worker"), ("b.txt", "case note", "social worker"),
                             ("c.txt", "staff interview", "team manager"), ("d.txt", "staff interview", None)]:
        add_document(project, name, "Supervision is weekly.", source_type=kind, role=role)
    autocode(project, [codebook(match)], progress=False)
    assert project.codings().document.tolist() == ["a.txt"]


def test_every_suggestion_is_a_segment_containing_its_match(project):
    text, turns = transcript(
        ("I", "How is group supervision?"),
        ("Sam", "Group supervision is weekly. The key-worker, um, joins group supervision.\nKeyworker notes too."),
        ("Jo", "Safegaurding plans at 7/10 and group   supervision."))
    match = {"keywords": ["group supervision", "key worker", "safeguarding plan"], "regex": [r"\d+/10"],
             "fuzzy": True}
    add_document(project, "doc.txt", text, turns)
    autocode(project, [codebook(match)], progress=False)
    codings = project.codings()
    segments = {(s.start, s.end) for s in segment_document(text, project.turns("doc.txt"), "sentence")}
    assert len(codings) == 4
    for row in codings.itertuples():
        assert (row.start, row.end) in segments
        assert row.snippet == text[row.start:row.end]
        for m in json.loads(row.provenance)["matches"]:
            assert row.start <= m["start"] < m["end"] <= row.end
            assert text[m["start"]:m["end"]] == m["text"]


# -- re-running, models, bad input -------------------------------------------------------------

def test_rerun_is_idempotent_and_leaves_decided_codings_alone(project):
    add_document(project, "doc.txt", "Supervision is weekly. Supervision helps.")
    cb = codebook(SUPERVISION)
    first = autocode(project, [cb], progress=False)
    assert first.suggestions == 2 and first.codebooks_loaded == ["t 1.0"]
    with project.transaction() as conn:
        conn.execute(sa.update(store.codings).where(store.codings.c.start == 0).values(status="rejected"))
    before = project.codings()
    again = autocode(project, [cb], progress=False)
    assert (again.suggestions, again.already_present, again.codebooks_loaded) == (0, 2, [])
    assert project.codings().drop(columns=["updated_at"]).equals(before.drop(columns=["updated_at"]))
    assert project.codings().status.tolist() == ["rejected", "suggested"]


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of 3 suggestions: SQLite writes them here, PostgreSQL on a thread."""
    import qualcode.autocode as autocode_module

    monkeypatch.setattr(autocode_module, "WRITE_EVERY", 3)
    monkeypatch.setattr(autocode_module, "WRITE_EVERY_BEHIND", 3)
    return autocode_module


def test_many_batches_write_every_suggestion_once_with_its_event(project, small_batches):
    for i in range(6):
        add_document(project, f"doc{i}.txt", "Supervision is weekly. Supervision helps. We met. Supervision again.")
    result = autocode(project, [codebook(SUPERVISION)], progress=False)
    codings = project.codings()
    assert result.suggestions == len(codings) == 18 == len(set(zip(codings.document, codings.start)))
    events = project.coding_events()
    assert sorted(events.coding_id) == sorted(codings.id) and set(events.action) == {"create"}


def test_a_failed_write_mid_run_keeps_no_suggestion_and_no_event(project, small_batches, monkeypatch):
    autocode_module = small_batches
    real_write, calls = autocode_module._write, []

    def fail_on_the_third_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise sa.exc.OperationalError("INSERT", {}, Exception("disk full"))
        real_write(*args, **kwargs)

    monkeypatch.setattr(autocode_module, "_write", fail_on_the_third_batch)
    for i in range(6):
        add_document(project, f"doc{i}.txt", "Supervision is weekly. Supervision helps. Supervision again.")
    with pytest.raises(sa.exc.OperationalError, match="disk full"):
        autocode(project, [codebook(SUPERVISION)], progress=False)
    assert project.codings().empty and project.coding_events().empty
    assert len(calls) == 3  # nothing written after the failure, on a thread or not


def test_another_coder_name_gets_its_own_suggestions(project):
    add_document(project, "doc.txt", "Supervision is weekly.")
    autocode(project, [codebook(SUPERVISION)], progress=False)
    autocode(project, [codebook(SUPERVISION)], progress=False, coder="rules-v2")
    assert sorted(project.codings().coder) == ["rules", "rules-v2"]


def test_documents_option_limits_the_run(project):
    add_document(project, "a.txt", "Supervision is weekly.")
    add_document(project, "b.txt", "Supervision is weekly.")
    result = autocode(project, [codebook(SUPERVISION)], documents=["b.txt"], progress=False)
    assert result.documents == 1 and project.codings().document.tolist() == ["b.txt"]


def test_model_not_installed_changes_nothing(project):
    add_document(project, "doc.txt", "Supervision is weekly.")
    with pytest.raises(ModelNotInstalled, match="python -m spacy download en_core_web_zz"):
        autocode(project, [codebook(SUPERVISION)], model="en_core_web_zz", progress=False)
    assert project.codings().empty and project.codes().empty


def test_a_saved_pipeline_folder_is_used_for_lemmas_and_sentences(project, tmp_path):
    # A model copied onto a machine without internet arrives as a folder; build one here
    # (spaCy's own lookup lemmatiser, no sentence splitter: qualcode adds its own).
    import spacy

    saved = spacy.blank("en")
    saved.add_pipe("lemmatizer", config={"mode": "lookup"})
    saved.initialize()
    saved.to_disk(tmp_path / "office_model")
    text = "Intro here. We met our key workers weekly."
    result, codings = run(project, {"keywords": ["key worker"]}, text, model=str(tmp_path / "office_model"))
    assert result.model == str(tmp_path / "office_model")
    assert spans(project, codings) == ["We met our key workers weekly."]
    assert json.loads(codings.provenance[0])["model"] == str(tmp_path / "office_model")


def test_a_folder_that_is_not_a_pipeline_is_refused(project, tmp_path):
    add_document(project, "doc.txt", "Supervision is weekly.")
    (tmp_path / "not_a_model").mkdir()
    with pytest.raises(ModelNotInstalled, match="not a spaCy pipeline"):
        autocode(project, [codebook(SUPERVISION)], model=str(tmp_path / "not_a_model"), progress=False)
    assert project.codings().empty and project.codes().empty


def test_codebook_without_usable_patterns_is_refused(project):
    add_document(project, "doc.txt", "Supervision is weekly.")
    empty = parse_codebook("id: t\nname: T\nversion: '1'\ncodes:\n  - {id: a, name: A, definition: D., match: {fuzzy: true}}\n"
                           "  - {id: b, name: B, definition: D.}\n",
                           "empty.yaml")
    with pytest.raises(CodebookError) as err:
        autocode(project, [empty], progress=False)
    assert str(err.value) == (
        "empty.yaml: no code has keywords, exact phrases, patterns or regexes to match. Fix: add a `match:` "
        "block (e.g. `keywords: [group supervision]`) to the codes auto-coding should suggest.")
    assert project.codings().empty and project.codes().empty


def test_empty_project_is_refused(project):
    with pytest.raises(NotFoundError) as err:
        autocode(project, [codebook(SUPERVISION)], progress=False)
    assert "no documents to auto-code" in str(err.value)
    assert f"qualcode import {project.location} PATH" in str(err.value)
    assert project.codes().empty


def test_spellings_of_one_keyword_are_listed_once(project):
    _, codings = run(project, {"keywords": ["whole-family", "whole family", "caseloads", "caseload"]},
                     "A whole family approach to caseloads.")
    assert codings.explanation.tolist() == ["lemma match 'whole-family' as 'whole family'; "
                                            "lemma match 'caseloads'"]
