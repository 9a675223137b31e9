"""The theory-of-change model: loading, round trip, and every validation problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qualcode.cli import app
from qualcode.codebook import parse_codebook
from qualcode.errors import TocError, ValidationProblems
from qualcode.toc import DEFAULT_STRENGTH_RULES, check_toc, dump_toc, load_toc

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted((REPO / "codebooks").glob("toc_*.yaml"))
CODEBOOKS = [p for p in sorted((REPO / "codebooks").glob("*.yaml")) if not p.name.startswith("toc_")]

GOOD = """\
id: mini
name: Mini ToC
version: "0.1"
strands:
  - {id: s1, name: Strand one}
inputs:
  - id: in1
    name: Funding
    strand: s1
    leads_to: [act1]
activities:
  - id: act1
    name: Key workers
    strand: s1
    codes: [activity.key_worker]
    leads_to: [out1]
outputs:
  - id: out1
    name: Families with a key worker
    leads_to: [oc1]
outcomes:
  - id: oc1
    name: Fewer re-referrals
    term: medium
    codes: [outcome.reduce_risk]
    leads_to: [imp1]
    indicators:
      - id: rr
        name: Re-referrals within 12 months
        unit: "%"
        direction: down
        baseline: {period: 2022-23, value: 24}
        target: {period: 2024-25, value: 15}
impacts:
  - id: imp1
    name: Fewer children in care
assumptions:
  - id: as1
    name: Caseloads can be protected
    about: [act1]
    codes: [activity.caseloads]
"""


def write(tmp_path: Path, text: str, name: str = "toc.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ValidationProblems) as caught:
        load_toc(write(tmp_path, text))
    return [str(p) for p in caught.value.problems]


def test_model_reads_every_part(tmp_path):
    toc = load_toc(write(tmp_path, GOOD))
    assert toc.node_ids() == {"in1", "act1", "out1", "oc1", "imp1", "as1"}
    oc = toc.nodes["oc1"]
    assert (oc.kind, oc.term, oc.codes, oc.leads_to) == ("outcomes", "medium", ("outcome.reduce_risk",), ("imp1",))
    rr = oc.indicators[0]
    assert (rr.direction, rr.unit, rr.baseline.value, rr.baseline.period, rr.target.value) == ("down", "%", 24, "2022-23", 15)
    assert toc.nodes["as1"].about == ("act1",)
    assert toc.strength_rules == DEFAULT_STRENGTH_RULES
    assert toc.version == "0.1" and toc.strands[0].name == "Strand one"


def test_round_trip_through_yaml(tmp_path):
    toc = load_toc(write(tmp_path, GOOD + "strength_rules:\n  - rating: weak\n    when: {min_segments: 2}\n"))
    again = load_toc(dump_toc(toc, tmp_path / "again.yaml"))
    assert again == toc
    assert again.strength_rules.rules[0].minima == {"min_segments": 2}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_tocs_are_valid_against_the_shipped_codebooks(path):
    toc, errors, warnings = check_toc(path, CODEBOOKS)
    assert errors == [] and warnings == []
    dfe = {"reduce_risk", "stability", "wellbeing", "days_in_care", "workforce_wellbeing",
           "workforce_stability", "value_for_money"}
    assert dfe <= toc.node_ids()
    assert {"re_referrals_12m_pct", "direct_work_time_pct", "lac_rate_per_10k"} <= set(toc.indicators())


BAD_CASES = [
    ("duplicate id", GOOD.replace("  - id: imp1\n", "  - id: oc1\n"),
     "toc.yaml:35: id 'oc1' is used twice (first at line 22). Fix: give every node its own id."),
    ("unknown leads_to", GOOD.replace("leads_to: [out1]", "leads_to: [out2]"),
     "toc.yaml:16: 'act1' leads to unknown id 'out2'. Fix: did you mean 'out1'?"),
    ("unknown about", GOOD.replace("about: [act1]", "about: [nobody]"),
     "toc.yaml:40: assumption 'as1' is about unknown id 'nobody'. Fix: use the id of a node defined in this file."),
    ("cycle", GOOD.replace("    name: Fewer children in care\n", "    name: Fewer children in care\n    leads_to: [act1]\n"),
     "leads_to forms a cycle: act1 → out1 → oc1 → imp1 → act1. Fix: a theory of change flows one way"),
    ("unknown key", GOOD.replace("    term: medium\n", "    term: medium\n    indicatrs: []\n"),
     "toc.yaml:25: unknown key 'indicatrs' in outcome 1. Fix: did you mean 'indicators'?"),
    ("bad direction", GOOD.replace("direction: down", "direction: lower"),
     "toc.yaml:31: indicator 'rr' has direction 'lower'. Fix: use up (higher is better) or down (lower is better)."),
    ("bad term", GOOD.replace("term: medium", "term: long"),
     "toc.yaml:24: outcome 'oc1' has term 'long'. Fix: use short or medium (long-term change belongs under impacts)."),
    ("baseline without value", GOOD.replace("baseline: {period: 2022-23, value: 24}", "baseline: {period: 2022-23}"),
     "toc.yaml:32: baseline of indicator 'rr' has no value. Fix: add `value:` (a number) to the baseline."),
    ("non-numeric target", GOOD.replace("value: 15}", "value: fifteen}"),
     "toc.yaml:33: target value of indicator 'rr' must be a number, not 'fifteen'. Fix: write a plain number"),
    ("unknown strand", GOOD.replace("    strand: s1\n    codes", "    strand: s2\n    codes"),
     "toc.yaml:14: activity 'act1' names unknown strand 's2'. Fix: use a strand id from `strands:` (s1)."),
    ("leads to an assumption", GOOD.replace("leads_to: [out1]", "leads_to: [out1, as1]"),
     "'act1' leads to assumption 'as1'. Fix: link the assumption the other way: `about: [act1]` under 'as1'."),
    ("duplicate key", GOOD.replace("    name: Funding\n", "    name: Funding\n    name: Money\n"),
     "toc.yaml:9: key 'name' appears twice in the same block. Fix: keep one of them"),
    ("bad strength rule", GOOD + "strength_rules:\n  - rating: great\n    when: {min_people: 3}\n",
     "toc.yaml:43: strength rule 1 has rating 'great'. Fix: use one of: strong, moderate, weak, none."),
    ("missing name", GOOD.replace("    name: Fewer re-referrals\n", ""),
     "toc.yaml:22: outcome 'oc1' has no 'name'. Fix: add `name:` to it."),
]


@pytest.mark.parametrize("label,text,expected", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_each_problem_names_file_line_and_fix(tmp_path, label, text, expected):
    messages = problems_of(tmp_path, text)
    assert any(expected in m for m in messages), messages


def test_all_problems_are_reported_at_once(tmp_path):
    text = GOOD.replace("direction: down", "direction: lower").replace("leads_to: [out1]", "leads_to: [out2]")
    text += "strength_rules:\n  - rating: strong\n    when: {min_particpants: 3}\n"
    messages = problems_of(tmp_path, text)
    assert len(messages) == 3
    assert messages[0].endswith("toc.yaml:16: 'act1' leads to unknown id 'out2'. Fix: did you mean 'out1'?")
    assert messages[2].endswith("toc.yaml:44: unknown key 'min_particpants' in a strength rule's 'when'. "
                                "Fix: did you mean 'min_participants'?")


def test_outcome_without_code_or_indicator_is_a_warning(tmp_path):
    text = GOOD.replace("    codes: [outcome.reduce_risk]\n", "").replace("    indicators:\n", "    x_indicators:\n", 0)
    start = text.index("    indicators:")
    text = text[:start] + text[text.index("impacts:"):]
    toc, errors, warnings = check_toc(write(tmp_path, text))
    assert toc is not None and errors == []
    assert [str(w) for w in warnings] == [
        f"{tmp_path / 'toc.yaml'}:22: outcome 'oc1' is linked to no code and no indicator. Fix: list `codes:` here "
        "(or link codes to it from the codebook) or add an indicator; otherwise it will show as a gap."]


def test_syntax_error_and_missing_file(tmp_path):
    with pytest.raises(TocError, match=r"toc.yaml:3: not valid YAML"):
        load_toc(write(tmp_path, "id: x\nname: y\n  bad: indent\n"))
    with pytest.raises(TocError, match="no such theory-of-change file"):
        load_toc(tmp_path / "absent.yaml")
    with pytest.raises(ValidationProblems, match="the theory of change has no outcomes"):
        load_toc(write(tmp_path, "id: x\nname: y\n"))


CODEBOOK = """\
id: cb
name: Codebook
version: "1.0"
codes:
  - id: activity.key_worker
    name: Key worker
    definition: A single worker for the family.
  - id: outcome.reduce_risk
    name: Reduced risk
    definition: Evidence of reduced risk.
    outcomes: [oc1, oc9]
"""


def test_codebook_cross_check(tmp_path):
    codebook = parse_codebook(CODEBOOK, str(tmp_path / "cb.yaml"))
    _, errors, _ = check_toc(write(tmp_path, GOOD), codebook)
    messages = [str(p) for p in errors]
    assert any("'as1' links code 'activity.caseloads', which cb.yaml does not define" in m for m in messages)
    assert any(m.startswith(f"{tmp_path / 'cb.yaml'}:11: code 'outcome.reduce_risk' links outcome 'oc9', "
                            "which toc.yaml does not define. Fix: did you mean 'oc1'?") for m in messages)
    assert len(messages) == 2


def test_cli_validate_json(tmp_path):
    runner = CliRunner()
    good = runner.invoke(app, ["toc", "validate", str(write(tmp_path, GOOD)), "--json"])
    assert good.exit_code == 0, good.output
    data = json.loads(good.output)
    assert data["valid"] is True and "oc1" in data["nodes"] and data["errors"] == []
    bad = runner.invoke(app, ["toc", "validate", str(write(tmp_path, GOOD.replace("term: medium", "term: long"),
                                                          "bad.yaml")), "--json"])
    assert bad.exit_code == 1
    data = json.loads(bad.output)
    assert data["valid"] is False and data["errors"][0]["line"] == 24
    assert data["errors"][0]["message"] == "outcome 'oc1' has term 'long'"


def test_cli_validate_error_is_one_message(tmp_path):
    result = CliRunner().invoke(app, ["toc", "validate", str(write(tmp_path, GOOD.replace("term: medium", "term: x")))])
    assert result.exit_code != 0
    assert "outcome 'oc1' has term 'x'" in str(result.exception)
