"""Matrices on the hand-made project (tests/test_report_project.py): counts known by hand."""

from __future__ import annotations

import csv

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from qualcode import store

from qualcode.errors import InputError, NotFoundError
from qualcode.matrices import (
    MISSING, TOTAL, Filters, code_frequencies, cooccurrence, crosstab, export_matrix, framework_cells,
    framework_matrix, framework_summaries, set_framework_summary, theme_of,
)
from qualcode.xlsx_export import csv_safe, sheet_name, write_table, write_xlsx
from test_report_project import build_project


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    built = build_project(tmp_path_factory.mktemp("matrices") / "p.qc")
    yield built
    built.project.close()


@pytest.fixture
def fresh(tmp_path):
    built = build_project(tmp_path / "p.qc")
    yield built
    built.project.close()


def _row(table: pd.DataFrame, code: str) -> dict:
    return table[table["code"] == code].iloc[0].to_dict()


def test_theme_of_rolls_codes_up_to_their_level(built):
    codes = built.project.codes()
    assert theme_of(codes, 1)["family.plan"] == "family"
    assert theme_of(codes, 2)["family.plan"] == "family.plan"
    assert theme_of(codes, 2)["voice"] == "voice"  # a leaf above the level stays itself
    with pytest.raises(InputError, match="level 0 is below 1"):
        theme_of(codes, 0)


def test_crosstab_counts_segments_by_role_with_totals(built):
    table = crosstab(built.project, by="role", count="segments", filters=Filters(level=1))
    assert list(table.columns) == ["code", "name", "parent", "Social Worker", "Team Manager", TOTAL]
    assert _row(table, "family") == {"code": "family", "name": "Whole-family working", "parent": 1,
                                     "Social Worker": 4, "Team Manager": 0, TOTAL: 5}
    assert _row(table, "workload")["Social Worker"] == 3  # the rejected coding is left out
    assert _row(table, TOTAL) == {"code": TOTAL, "name": "", "parent": 2, "Social Worker": 8,
                                  "Team Manager": 2, TOTAL: 12}


def test_crosstab_totals_of_documents_count_each_document_once(built):
    table = crosstab(built.project, by="role", count="documents", filters=Filters(level=1))
    assert _row(table, "family")[TOTAL] == 3
    # Four documents in all, although the themes' document counts sum to nine.
    assert _row(table, TOTAL)[TOTAL] == 4
    assert table.loc[table["code"] != TOTAL, TOTAL].sum() == 9


def test_crosstab_by_participant_and_by_source_type(built):
    table = crosstab(built.project, by="source_type", count="participants", filters=Filters(level=1))
    assert _row(table, "voice") == {"code": "voice", "name": "Voice of the child", "family interview": 1,
                                    "staff interview": 2, TOTAL: 3}


def test_crosstab_status_filter_brings_in_suggestions(built):
    accepted = crosstab(built.project, by="wave", filters=Filters(level=None))
    everything = crosstab(built.project, by="wave", filters=Filters(status=None, level=None))
    assert _row(accepted, "workload.admin")[TOTAL] == 3
    assert _row(everything, "workload.admin")[TOTAL] == 4
    assert _row(everything, "workload")[TOTAL] == 2  # the rejected one counts under status=None


def test_crosstab_names_unknown_attribute_and_count(built):
    with pytest.raises(InputError, match=r"no document attribute or column 'ward'.*one of: .*role.*wave"):
        crosstab(built.project, by="ward")
    with pytest.raises(InputError, match="unknown count 'people'"):
        crosstab(built.project, count="people")


def test_cooccurrence_counts_overlapping_spans(built):
    table = cooccurrence(built.project, Filters(level=None))
    assert table.loc["Family seen together", "Voice of the child"] == 1
    assert table.loc["Voice of the child", "Family seen together"] == 1
    assert table.loc["Voice of the child", "Voice of the child"] == 3
    assert table.loc["Family plan", "Administration"] == 0  # adjacent, not overlapping
    themes = cooccurrence(built.project, Filters(level=1))
    assert themes.loc["Whole-family working", "Voice of the child"] == 1
    assert int(themes.to_numpy().sum()) == 12 + 2


def test_cooccurrence_by_document(built):
    table = cooccurrence(built.project, Filters(level=1), unit="document")
    assert table.loc["Whole-family working", "Workload"] == 2  # SW01 and SW02
    assert table.loc["Voice of the child", "Workload"] == 2  # SW01 and TM01
    with pytest.raises(InputError, match="unknown unit 'sentence'"):
        cooccurrence(built.project, unit="sentence")


def test_code_frequencies_keep_codes_without_codings(built, tmp_path):
    table = code_frequencies(built.project).set_index("code")
    assert table.loc["voice", ["segments", "documents", "participants"]].tolist() == [3, 3, 3]
    assert table.loc["family", "segments"] == 1  # the one coded on the parent itself
    assert table.loc["workload.admin", "participants"] == 3


def test_framework_cells_one_row_per_case_or_participant(fresh):
    project = fresh.project
    cells = framework_cells(project, rows="case").set_index(["row", "theme"])
    # Cases first, then the participant who has no case (TM01): never one "(not recorded)" row.
    assert list(dict.fromkeys(cells.index.get_level_values("row"))) == ["Family A", "Family B", "Ali Khan"]
    assert MISSING not in cells.index.get_level_values("row")
    assert cells.loc[("Family A", "family"), "codings"] == 4
    assert cells.loc[("Family A", "family"), "documents"] == 2
    # Document display names and turn numbers, documents in order, each turn once; no offsets, no quotes.
    assert cells.loc[("Family A", "family"), "references"] == "FAM01 w1 t1; SW01 w1 t1, t2"
    assert cells.loc[("Family A", "voice"), "references"] == "FAM01 w1 t1; SW01 w1 t2"
    assert cells.loc[("Family B", "voice"), "codings"] == 0
    assert cells.loc[("Ali Khan", "workload"), "codings"] == 1  # the suggested coding is left out
    assert cells.loc[("Ali Khan", "workload"), "references"] == "TM01 w2 t1"
    assert cells.loc[("Family A", "family"), "group"] == "Whole-family working"
    fewer = framework_cells(project, rows="case", references=2).set_index(["row", "theme"])
    assert fewer.loc[("Family A", "family"), "references"] == "FAM01 w1 t1; SW01 w1 t1 (+1)"


def test_framework_matrix_rows_carry_their_attributes(fresh):
    wide = framework_matrix(fresh.project, rows="case").set_index("case")
    assert list(wide.columns[:5]) == ["participant", "role", "site", "wave", "sources"]
    assert wide.loc["Family A", "participant"] == "Jane Smith; Mary Jones"
    assert wide.loc["Family A", "role"] == "parent; Social Worker"
    assert wide.loc["Family A", "sources"] == "1 family interview, 1 staff interview"
    assert wide.loc["Ali Khan", "participant"] == ""  # the row's own name, not repeated
    assert wide.loc["Ali Khan", "role"] == "Team Manager"
    assert wide.loc["Family B", "Voice of the child"] == ""
    chosen = framework_matrix(fresh.project, rows="case", attributes=["wave"])
    assert list(chosen.columns[:3]) == ["case", "wave", "sources"]
    with pytest.raises(InputError, match=r"no attribute 'ward'.*use one of: participant, role, site, wave"):
        framework_matrix(fresh.project, rows="case", attributes=["ward"])
    with pytest.raises(InputError, match="rows by 'role' are groups"):
        framework_matrix(fresh.project, rows="role", attributes=["wave"])


def test_framework_summaries_for_cases_and_participants(fresh):
    project = fresh.project
    memo = set_framework_summary(project, "Family A", "voice", "Child's view recorded at each visit.", "alex")
    again = set_framework_summary(project, "Family A", "voice", "Seen alone at every visit.", "alex")
    assert memo == again  # one memo per cell, replaced in place
    # A participant without a case: the summary is kept on their document and shows in their row.
    set_framework_summary(project, "Ali Khan", "workload", "Admin falling; Fridays still heavy.", "alex")
    # A summary on a sub-code rolls up into its theme's column, led by the code's name.
    set_framework_summary(project, "Family B", "workload.admin", "Administration eats the week.", "alex")
    summaries = framework_summaries(project)
    assert summaries[["row", "case", "code", "text"]].values.tolist() == [
        ["Family A", "Family A", "voice", "Seen alone at every visit."],
        ["Family B", "Family B", "workload.admin", "Administration eats the week."],
        ["Ali Khan", None, "workload", "Admin falling; Fridays still heavy."],
    ]
    wide = framework_matrix(project, rows="case").set_index("case")
    assert wide.loc["Family A", "Voice of the child"] == "Seen alone at every visit.\nFAM01 w1 t1; SW01 w1 t2"
    assert wide.loc["Ali Khan", "Workload"] == "Admin falling; Fridays still heavy.\nTM01 w2 t1"
    assert wide.loc["Family B", "Workload"].startswith("Administration: Administration eats the week.\nSW02 w2 t1")
    by_document = framework_matrix(project, rows="document").set_index("document")
    assert by_document.loc["TM01 w2", "Workload"].startswith("Admin falling")
    for case, code in (("Family A", "voice"), ("Ali Khan", "workload"), ("Family B", "workload.admin")):
        assert set_framework_summary(project, case, code, "  ") is None
    assert framework_summaries(project).empty
    assert project.memos(kind="framework").empty


def test_case_without_codings_keeps_its_row(fresh):
    project = fresh.project
    with project.transaction() as conn:
        case_id = conn.execute(sa.insert(store.cases).values(name="Family C", created_at=store.now())
                               .returning(store.cases.c.id)).scalar_one()
        conn.execute(sa.insert(store.documents).values(
            name="SW03_w2.txt", version=1, source_file="SW03_w2.txt", format="txt", sha256="x",
            source_type="staff interview", case_id=case_id, text="Nothing coded here.\n", words=3,
            imported_at=store.now()))
    wide = framework_matrix(project, rows="case").set_index("case")
    assert list(wide.index) == ["Family A", "Family B", "Family C", "Ali Khan"]
    assert (wide.loc["Family C", ["Whole-family working", "Voice of the child", "Workload"]] == "").all()
    assert wide.loc["Family C", "sources"] == "1 staff interview"


def test_framework_summary_errors_name_the_fix(built):
    with pytest.raises(NotFoundError, match=r"no case or participant 'Family Z'.*project.cases\(\)"):
        set_framework_summary(built.project, "Family Z", "voice", "x")
    with pytest.raises(NotFoundError, match=r"no code 'nope'.*project.codes\(\)"):
        set_framework_summary(built.project, "Family A", "nope", "x")
    assert framework_summaries(built.project).empty  # nothing written


def test_framework_matrix_by_attribute(built):
    wide = framework_matrix(built.project, rows="wave").set_index("wave")
    assert list(wide.index) == ["1", "2", "Wave 2"]
    assert wide.loc["2", "Workload"] == "SW02 w2 t1"
    assert list(wide.columns) == ["Whole-family working", "Voice of the child", "Workload"]  # no attributes


def test_export_xlsx_is_made_for_reading(built, tmp_path):
    result = export_matrix(built.project, tmp_path / "m.xlsx", rows="case")
    book = openpyxl.load_workbook(tmp_path / "m.xlsx")
    assert book.sheetnames == ["About", "Framework matrix", "Codings per cell", "Codes by case",
                               "Code frequencies", "Co-occurrence"]
    assert result["sheets"] == book.sheetnames[1:]
    about = {row[0].value: row[1].value for row in book["About"].iter_rows(min_row=2)}
    assert about["status"] == "accepted"
    assert about["codebook"].startswith("test version 1.2")
    assert "t = speaker turn" in about["cells"]
    sheet = book["Framework matrix"]
    assert [c.value for c in sheet[1]] == ["Case or participant", "Participant", "Role", "Site", "Wave", "Sources",
                                           "Whole-family working", "Voice of the child", "Workload"]
    # The header row, the row's name and the attributes that fit in 70 characters stay in view.
    assert sheet.freeze_panes == "F2"
    assert sheet["A1"].font.b
    assert sheet["G2"].value == "FAM01 w1 t1; SW01 w1 t1, t2"
    assert sheet["G2"].alignment.wrap_text and sheet["G2"].alignment.vertical == "top"
    assert sheet.column_dimensions["G"].width == 42
    assert 8 <= sheet.column_dimensions["C"].width <= 22
    counts = book["Codings per cell"]
    assert [c.value for c in counts[2]] == ["Family A", 4, 2, 1]
    co = book["Co-occurrence"]
    assert co["A1"].value == "code" and co["A2"].value == "Whole-family working"


def test_export_xlsx_groups_codes_under_their_theme(built, tmp_path):
    export_matrix(built.project, tmp_path / "m.xlsx", rows="case", filters=Filters(level=2))
    sheet = openpyxl.load_workbook(tmp_path / "m.xlsx")["Framework matrix"]
    names = [c.value for c in sheet[2]]
    assert names[6:] == ["Whole-family working", "Family seen together", "Family plan", "Voice of the child",
                         "Workload", "Administration"]
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert merged == {"G1:I1", "K1:L1"}  # a theme over its codes; a lone code needs no merge
    assert sheet["G1"].value == "Whole-family working" and sheet["K1"].value == "Workload"
    assert sheet.freeze_panes == "F3"  # two header rows


def test_formula_text_from_the_project_stays_text(fresh, tmp_path):
    set_framework_summary(fresh.project, "Family B", "workload", "=SUM(A1:A9) is what my manager says I am")
    export_matrix(fresh.project, tmp_path / "m.xlsx", rows="case")
    sheet = openpyxl.load_workbook(tmp_path / "m.xlsx")["Framework matrix"]
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and "=SUM" in c.value]
    assert cells and all(c.data_type == "s" for c in cells)
    export_matrix(fresh.project, tmp_path / "m.csv", rows="case")
    with open(tmp_path / "m.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][0] == "Case or participant"
    assert any(cell.startswith("'=SUM") for row in rows for cell in row)
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


@pytest.mark.parametrize("text", ["=SUM(A1:A9) is what I am", "+44 7700", "-1 for the team", "@admin said",
                                  "\tindented", "\rreturn", "=HYPERLINK(\"http://x\",\"y\")"])
def test_xlsx_never_writes_a_formula(tmp_path, text):
    write_xlsx(tmp_path / "f.xlsx", {"Quotes": pd.DataFrame({"quote": [text], "n": [1]})})
    cell = openpyxl.load_workbook(tmp_path / "f.xlsx")["Quotes"]["A2"]
    assert cell.data_type == "s"
    assert cell.value == text
    assert openpyxl.load_workbook(tmp_path / "f.xlsx")["Quotes"]["B2"].data_type == "n"


def test_csv_safe_and_sheet_names():
    assert csv_safe("=1+1") == "'=1+1"
    assert csv_safe("-") == "'-"
    assert csv_safe("fine") == "fine"
    assert csv_safe(-3) == -3
    taken: set[str] = set()
    assert sheet_name("Codes by role/wave: [all]", taken) == "Codes by role wave   all"
    assert sheet_name("Codes by role/wave: [all]", taken) == "Codes by role wave   all (2)"
    assert len(sheet_name("x" * 40, taken)) == 31


def test_write_table_refuses_unknown_extension_and_missing_folder(tmp_path):
    frame = pd.DataFrame({"a": [1]})
    with pytest.raises(InputError, match=r"m.ods: cannot write tables to a '.ods' file. Fix: name the output .xlsx or .csv"):
        write_table(tmp_path / "m.ods", {"t": frame})
    with pytest.raises(InputError, match="folder .*nowhere does not exist"):
        write_table(tmp_path / "nowhere" / "m.xlsx", {"t": frame})


def test_cli_matrix(built, tmp_path):
    from qualcode.cli import app

    runner = CliRunner()
    out = tmp_path / "m.xlsx"
    result = runner.invoke(app, ["matrix", built.project.location, "--rows", "role", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    import json

    data = json.loads(result.output)
    assert data["sheets"][0] == "Framework matrix" and data["rows"] == 3
    assert [r["role"] for r in data["matrix"]] == ["parent", "Social Worker", "Team Manager"]
    assert openpyxl.load_workbook(out)["Codes by role"]["A2"].value == "family"
    bad = runner.invoke(app, ["matrix", built.project.location, "--cols", "case", "--out", str(out)])
    assert isinstance(bad.exception, InputError)
    assert "use --cols code" in str(bad.exception)
