"""The framework matrix on the demo corpus, and framework summaries read from a CSV (good and bad)."""

from __future__ import annotations

import re

import openpyxl
import pytest

from qualcode.demo import CORPUS, build_demo_project, import_demo_summaries
from qualcode.errors import InputError
from qualcode.matrices import MISSING, Filters, export_matrix, framework_matrix, framework_summaries
from qualcode.framework_summaries import import_framework_summaries


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    project = build_demo_project(tmp_path_factory.mktemp("demo") / "demo.qc")
    assert import_demo_summaries(project) == 8
    yield project
    project.close()


def test_every_case_and_participant_has_its_own_row(demo):
    wide = framework_matrix(demo, rows="case").set_index("case")
    interviews = demo.documents()
    interviewed = set(interviews["participant"].dropna())
    staff_and_partners = set(interviews.loc[interviews["role_group"].isin(["staff", "partner"]), "participant"])
    assert MISSING not in wide.index  # staff and partner interviews used to share one "(not recorded)" row
    assert staff_and_partners <= set(wide.index)
    assert {f"C00{i}" for i in range(1, 9)} <= set(wide.index)
    assert list(wide.index[:8]) == [f"C00{i}" for i in range(1, 9)]  # cases first
    # A family interviewee is in their case's row, not a row of their own.
    assert "FAM01" not in wide.index and wide.loc["C003", "participant"] == "FAM01"
    assert interviewed - set(wide.index) == {"FAM01", "FAM02", "FAM03", "FAM04"}
    assert wide.loc["SW01", "wave"] == "Wave 1; Wave 2"
    assert wide.loc["SW01", "role"] == "Social Worker" and wide.loc["PA03", "role"] == "Police"
    assert wide.loc["C003", "sources"] == "2 family interviews, 4 case notes"


def test_cells_hold_summaries_and_short_references(demo):
    wide = framework_matrix(demo, rows="case").set_index("case")
    barrier = wide.loc["SW01", "Barrier"]
    summary, references = barrier.split("\n")
    assert summary.startswith("Wave 1: danger statements")
    # Both waves cited by turn, the rest counted.
    assert re.fullmatch(r"W1 SW01 social worker t\d+, t\d+, t\d+; W2 SW01 social worker t\d+, t\d+, t\d+ \(\+\d+\)",
                        references)
    assert wide.loc["C003", "Impact"].split("\n")[1].startswith("Case notes N008, N010; W1 FAM01 parent t")
    themes = [c for c in wide.columns if c not in ("participant", "role", "role_group", "site", "team", "wave",
                                                   "author_role", "note_type", "sources")]
    for text in wide[themes].to_numpy().ravel():
        assert not re.search(r"\[\d+[–-]\d+\]", text)  # never character offsets
        assert "more)" not in text and "'" not in text.split("\n")[-1]  # never quote walls
        assert all(len(line) < 400 for line in text.split("\n"))


def test_demo_workbook_reads_across(demo, tmp_path):
    export_matrix(demo, tmp_path / "m.xlsx", rows="case", filters=Filters(level=2))
    sheet = openpyxl.load_workbook(tmp_path / "m.xlsx")["Framework matrix"]
    header = [c.value for c in sheet[2]]
    assert header[:3] == ["Case or participant", "Participant", "Role"]
    assert "Key worker / lead practitioner" in header
    groups = {sheet.cell(row=1, column=r.min_col).value for r in sheet.merged_cells.ranges}
    assert {"Implementation activities", "Signs of Safety practice", "Features of practice"} <= groups
    assert sheet.freeze_panes.endswith("3")
    labels = [row[0].value for row in sheet.iter_rows(min_row=3)]
    assert "SW01" in labels and "(not recorded)" not in labels


def test_summaries_csv_errors_name_line_and_fix_and_write_nothing(demo, tmp_path):
    before = framework_summaries(demo)
    cases = [
        ("case,code,text\nC003,impact,ok\nC099,impact,x\n", r"line 3: no case or participant 'C099'"),
        ("case,code,text\nSW01,barier,x\n", r"line 2: no code 'barier'.*write 'barrier' if that is the code meant"),
        ("case,code,text\nSW01,barrier,\n", r"line 2: the summary text is empty"),
        ("case,theme,text\nSW01,barrier,x\n", r"no column 'code' \(the header is: case, theme, text\)"),
    ]
    for text, message in cases:
        path = tmp_path / "bad.csv"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError, match=message):
            import_framework_summaries(demo, path)
        assert framework_summaries(demo).equals(before)
    with pytest.raises(InputError, match="no such file"):
        import_framework_summaries(demo, tmp_path / "missing.csv")


def test_summaries_csv_replaces_a_cell_in_place(demo, tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("case,code,text,author\nTM02,enabler,Leaders held the caseload target.,sam\n", encoding="utf-8")
    assert import_framework_summaries(demo, path) == 1
    summaries = framework_summaries(demo).set_index(["row", "code"])
    assert summaries.loc[("TM02", "enabler"), "text"] == "Leaders held the caseload target."
    assert summaries.loc[("TM02", "enabler"), "author"] == "sam"
    assert len(summaries) == len(open(CORPUS / "framework_summaries.csv").read().strip().splitlines()) - 1


def test_cli_memo_summaries(tmp_path):
    from typer.testing import CliRunner

    from qualcode.cli import app

    project = build_demo_project(tmp_path / "demo.qc")
    project.close()
    runner = CliRunner()
    done = runner.invoke(app, ["memo", "summaries", str(tmp_path / "demo.qc"), str(CORPUS / "framework_summaries.csv"),
                               "--json"])
    assert done.exit_code == 0, done.output
    assert '"summaries": 8' in done.output
    bad = tmp_path / "bad.csv"
    bad.write_text("case,code,text\nSW01,barier,x\n", encoding="utf-8")
    refused = runner.invoke(app, ["memo", "summaries", str(tmp_path / "demo.qc"), str(bad)])
    assert refused.exit_code != 0
    assert "line 2: no code 'barier'" in str(refused.exception)
