"""The codebook model, YAML loading with line numbers, validation, and shipped codebooks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qualcode.codebook import (
    SCHEMA_PATH, Code, Codebook, Match, Problem, json_schema, load_codebook, parse_codebook,
    validate, version_key,
)
from qualcode.errors import CodebookError, NotFoundError, ValidationProblems

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted((REPO / "codebooks").glob("*.yaml"))
CODEBOOKS = [p for p in SHIPPED if not p.name.startswith("toc_")]

GOOD = """\
id: demo
name: Demo codebook
version: 1.0
codes:
  - id: support
    name: Support
    definition: Help given to a family.
    children:
      - id: support.practical
        name: Practical support
        definition: Help with housing, money or transport.
        outcomes: [wellbeing]
        match:
          keywords: [food bank, no]
          fuzzy: yes
          fuzzy_threshold: 90
          patterns:
            - [{LOWER: "on"}, {LOWER: time}]
      - id: support.emotional
        name: Emotional support
        definition: Listening, reassurance, being there.
  - id: barrier
    name: Barrier
    kind: cross-cutting
    direction: challenges
    definition: What got in the way.
"""


def problems_of(text: str, outcome_ids: set[str] | None = None) -> list[Problem]:
    with pytest.raises(ValidationProblems) as caught:
        parse_codebook(text, "cb.yaml", outcome_ids)
    return caught.value.problems


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


# -- the model --------------------------------------------------------------------


def test_parse_builds_flat_codes_parents_first_with_api():
    cb = parse_codebook(GOOD)
    assert [c.id for c in cb.codes] == ["support", "support.practical", "support.emotional", "barrier"]
    assert cb.version == "1.0"  # written unquoted, still text
    assert [c.id for c in cb.roots()] == ["support", "barrier"]
    assert [c.id for c in cb.children("support")] == ["support.practical", "support.emotional"]
    practical = cb.code("support.practical")
    assert practical.parent == "support"
    assert practical.match.keywords == ["food bank", "no"]  # 'no' is not False
    assert practical.match.fuzzy is True and practical.match.fuzzy_threshold == 90
    assert practical.match.patterns == [[{"LOWER": "on"}, {"LOWER": "time"}]]
    assert practical.match.segment == "sentence" and practical.match.speakers == "participants"
    assert not practical.match.is_empty and cb.code("support.emotional").match.is_empty
    assert cb.code("barrier").kind == "cross-cutting" and cb.code("barrier").direction == "challenges"
    assert cb.depth("support.practical") == 1


def test_code_lookup_suggests_close_ids():
    cb = parse_codebook(GOOD)
    with pytest.raises(NotFoundError, match="did you mean support.practical"):
        cb.code("support.practicle")


def test_explicit_parent_written_after_child_is_reordered_parents_first():
    cb = parse_codebook("""\
id: x
name: X
version: "2"
codes:
  - {id: b, name: B, definition: bee, parent: a}
  - {id: a, name: A, definition: ay}
  - {id: c, name: C, definition: sea}
""")
    assert [c.id for c in cb.codes] == ["a", "b", "c"]


def test_to_yaml_round_trips():
    cb = parse_codebook(GOOD)
    again = parse_codebook(cb.to_yaml())
    assert again.model_dump() == cb.model_dump()
    assert "children:" in cb.to_yaml() and "parent:" not in cb.to_yaml()


def test_version_key_orders_numerically():
    assert version_key("1.10") > version_key("1.9")
    assert version_key("v2") == version_key("2.0")


def test_problem_str_names_file_line_and_fix():
    assert str(Problem("a.yaml", 3, "bad thing", "do this")) == "a.yaml:3: bad thing. Fix: do this."
    assert str(Problem("a.yaml", None, "bad", "did you mean 'x'?")) == "a.yaml: bad. Fix: did you mean 'x'?"


# -- each validation error, with its line --------------------------------------------


def test_yaml_syntax_error_has_line():
    p = only(problems_of("id: x\nname: [unclosed\nversion: '1'\n"))
    assert "YAML syntax error" in p.message and p.line == 3 and p.file == "cb.yaml"


def test_duplicate_ids():
    p = only(problems_of(GOOD.replace("id: support.emotional", "id: support.practical")))
    assert p.message == "duplicate id 'support.practical' (first used on line 9)"
    assert p.line == 19 and "renamed_from" in p.fix


def test_unknown_parent_with_suggestion():
    text = GOOD + "  - {id: lone, name: Lone, definition: alone, parent: suport}\n"
    p = only(problems_of(text))
    assert p.message == "code 'lone' names unknown parent 'suport'" and p.fix == "did you mean 'support'?"
    assert p.line == 27


def test_cycle():
    text = """\
id: x
name: X
version: "1"
codes:
  - {id: a, name: A, definition: ay, parent: b}
  - {id: b, name: B, definition: bee, parent: a}
"""
    p = only(problems_of(text))
    assert p.message == "codes form a cycle: a -> b -> a" and p.line == 5
    assert "remove `parent:`" in p.fix


def test_nested_code_contradicting_parent():
    p = only(problems_of(GOOD.replace("        name: Emotional support\n", "        name: Emotional support\n        parent: barrier\n")))
    assert "names parent 'barrier' but is nested under 'support'" in p.message and p.line == 21


def test_empty_definition():
    p = only(problems_of(GOOD.replace("definition: Listening, reassurance, being there.", "definition: ''")))
    assert p.message == "code 'support.emotional' has an empty definition" and p.line == 21


def test_missing_definition_points_at_the_code():
    p = only(problems_of(GOOD.replace("        definition: Listening, reassurance, being there.\n", "")))
    assert "empty definition" in p.message and p.line == 19


def test_invalid_regex():
    p = only(problems_of(GOOD.replace("fuzzy: yes", "fuzzy: yes\n          regex: ['(unclosed']")))
    assert p.message.startswith("code 'support.practical': invalid regex '(unclosed'")
    assert p.line == 16 and "re.compile" in p.fix


def test_invalid_matcher_pattern():
    p = only(problems_of(GOOD.replace('{LOWER: "on"}', "{LOWR: x}")))
    assert "invalid Matcher pattern #1" in p.message and "LOWR" in p.message and p.line == 18


def test_unquoted_yaml_boolean_in_pattern_is_caught():
    p = only(problems_of(GOOD.replace('{LOWER: "on"}', "{LOWER: on}")))
    assert "invalid Matcher pattern" in p.message and '"on"' in p.fix


def test_keyword_under_two_siblings():
    text = GOOD.replace("        definition: Listening, reassurance, being there.\n",
                        "        definition: Listening.\n        match: {keywords: [Food  Bank]}\n")
    p = only(problems_of(text))
    assert p.message == "keyword 'Food  Bank' is listed under sibling codes 'support.practical' and 'support.emotional'"
    assert p.line == 22


def test_same_keyword_under_non_siblings_is_fine():
    text = GOOD.replace("    definition: What got in the way.\n",
                        "    definition: What got in the way.\n    match: {keywords: [food bank]}\n")
    assert parse_codebook(text).code("barrier").match.keywords == ["food bank"]


def test_unknown_outcome_ids_only_when_given():
    assert parse_codebook(GOOD, outcome_ids=None)
    assert parse_codebook(GOOD, outcome_ids={"wellbeing", "stability"})
    p = only(problems_of(GOOD, outcome_ids={"well_being", "stability"}))
    assert p.message == "code 'support.practical' links to unknown outcome 'wellbeing'"
    assert p.fix == "did you mean 'well_being'?" and p.line == 12


def test_validate_directly_with_outcome_ids():
    cb = parse_codebook(GOOD)
    assert validate(cb, {"wellbeing"}) == []
    [p] = validate(cb, {"reduce_risk"})
    assert "unknown outcome 'wellbeing'" in p.message and p.line == 12


def test_unknown_keys_with_did_you_mean():
    text = GOOD.replace("outcomes: [wellbeing]", "outcome: [wellbeing]").replace("fuzzy: yes", "fuzy: yes")
    text = text.replace("id: demo", "id: demo\nchangelg: []")
    problems = problems_of(text)
    assert [(p.line, p.message, p.fix) for p in problems] == [
        (2, "unknown top-level key 'changelg'", "did you mean 'changelog'?"),
        (13, "unknown code key 'outcome'", "did you mean 'outcomes'?"),
        (16, "unknown match key 'fuzy'", "did you mean 'fuzzy'?"),
    ]


def test_bad_colour_and_bad_kind():
    text = GOOD.replace("    kind: cross-cutting", "    kind: crosscutting\n    colour: red")
    problems = problems_of(text)
    assert [p.line for p in problems] == [24, 25]
    assert problems[0].message.startswith("kind 'crosscutting' is not allowed") and "cross-cutting" in problems[0].fix
    assert problems[1].message == "colour 'red' is not in the expected form" and "#1f77b4" in problems[1].fix


def test_all_problems_reported_at_once_and_code_still_checked():
    text = GOOD.replace("    kind: cross-cutting", "    kind: wrong").replace(
        "id: support.emotional", "id: support.practical")
    messages = [p.message for p in problems_of(text)]
    assert len(messages) == 2 and any("duplicate id" in m for m in messages)


def test_bad_field_values_and_duplicate_keys():
    text = GOOD.replace("fuzzy_threshold: 90", "fuzzy_threshold: 190").replace("version: 1.0", "version: one\nname: again")
    problems = problems_of(text)
    assert [p.line for p in problems] == [3, 4, 17]
    assert "version" in problems[0].message and "dotted numbers" in problems[0].fix
    assert problems[1].message == "key 'name' is written twice in one mapping"
    assert "fuzzy_threshold" in problems[2].message and "0 to 100" in problems[2].fix


def test_not_a_mapping_and_empty_file():
    assert "not a mapping" in only(problems_of("- a\n- b\n")).message
    assert only(problems_of("")).message == "the file is empty"
    assert "no `codes:`" in only(problems_of("id: x\nname: X\nversion: '1'\n")).message


def test_validation_problems_message_lists_each():
    with pytest.raises(ValidationProblems) as caught:
        parse_codebook(GOOD.replace("kind: cross-cutting", "kind: x"), "mine.yaml")
    text = str(caught.value)
    assert text.startswith("mine.yaml: 1 problem(s)") and "mine.yaml:24: kind 'x'" in text


def test_load_codebook_file_errors(tmp_path):
    with pytest.raises(CodebookError, match="no such file"):
        load_codebook(tmp_path / "missing.yaml")
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("name: caf\xe9".encode("latin-1"))
    with pytest.raises(CodebookError, match="not UTF-8"):
        load_codebook(bad)


def test_codebook_built_in_code_validates_without_lines():
    cb = Codebook(id="x", name="X", version="1", codes=[
        Code(id="a", name="A", definition=""), Code(id="b", name="B", definition="b", parent="zz")])
    problems = validate(cb)
    assert {p.message for p in problems} == {"code 'a' has an empty definition", "code 'b' names unknown parent 'zz'"}
    assert all(p.line is None for p in problems)
    assert Match().is_empty and not Match(regex=["x"]).is_empty


# -- the JSON Schema ------------------------------------------------------------------


def test_shipped_schema_equals_generated():
    assert json.loads(SCHEMA_PATH.read_text(encoding="utf-8")) == json_schema()


def test_schema_describes_yaml_layout():
    schema = json_schema()
    code = schema["$defs"]["Code"]
    assert code["additionalProperties"] is False
    assert code["properties"]["children"]["items"] == {"$ref": "#/$defs/Code"}
    assert set(schema["$defs"]["Match"]["properties"]) >= {"keywords", "exact", "patterns", "veto", "segment"}


# -- shipped codebooks -------------------------------------------------------------------


def test_shipped_codebooks_are_there():
    assert {p.stem for p in CODEBOOKS} >= {"dfe_practice_features", "signs_of_safety", "evaluation_framework"}


@pytest.mark.parametrize("path", CODEBOOKS, ids=lambda p: p.stem)
def test_shipped_codebook_loads_and_round_trips(path):
    cb = load_codebook(path)
    assert cb.id == path.stem and cb.changelog and cb.changelog[-1].version == cb.version
    for code in cb.codes:
        assert code.definition.strip(), code.id
        if cb.children(code.id):
            continue
        assert code.include and code.exclude and 1 <= len(code.examples) <= 2, code.id
        assert not code.match.is_empty, code.id
    assert parse_codebook(cb.to_yaml()).model_dump() == cb.model_dump()


def test_shipped_codebooks_are_big_enough_and_ids_do_not_clash():
    books = [load_codebook(p) for p in CODEBOOKS]
    ids = [c.id for cb in books for c in cb.codes]
    assert len(ids) == len(set(ids)), "code ids must be unique across codebooks loaded into one project"
    assert len(ids) >= 50
    assert sum(cb.n_terms() for cb in books) >= 500


def test_dfe_codebook_has_features_outcomes_and_toc_links():
    cb = load_codebook(REPO / "codebooks" / "dfe_practice_features.yaml")
    assert len(cb.children("feature")) == 7 and len(cb.children("outcome")) == 7
    links = {o for c in cb.children("outcome") for o in c.outcomes}
    assert links == {"reduce_risk", "stability", "wellbeing", "days_in_care", "workforce_wellbeing",
                     "workforce_stability", "value_for_money"}
    assert "group supervision" in cb.code("feature.group_case_discussion").match.keywords
    assert "whole family" in cb.code("feature.family_focus").match.keywords


def test_evaluation_framework_cross_cutting_codes():
    cb = load_codebook(REPO / "codebooks" / "evaluation_framework.yaml")
    for code_id in ("enabler", "barrier", "impact.actual", "impact.expected", "lesson", "suggestion"):
        assert cb.code(code_id).kind == "cross-cutting"
    assert cb.code("enabler").direction == "supports" and cb.code("barrier").direction == "challenges"
    assert {"context", "change_management", "communication"} <= {c.id for c in cb.codes}
    assert len(cb.children("activity")) >= 10


def test_signs_of_safety_uses_fuzzy_matching():
    cb = load_codebook(REPO / "codebooks" / "signs_of_safety.yaml")
    assert sum(c.match.fuzzy for c in cb.codes) >= 3
    assert cb.code("sos.scaling").match.patterns


def test_format_example_in_docs_is_valid():
    doc = (REPO / "docs" / "codebooks.md").read_text(encoding="utf-8")
    block = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    cb = parse_codebook(block, "docs/codebooks.md")
    code = cb.code("feature.group_case_discussion")
    assert code.renamed_from == ["feature.group_supervision"] and code.match.roles == ["Social Worker"]
