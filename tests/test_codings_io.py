"""Codings CSV import (all rows checked, all or nothing) and export (spreadsheet-safe)."""

from __future__ import annotations

import csv

import pytest

from qualcode import Project
from qualcode.codings_io import export_codings, import_codings, safe_cell, unquote_cell
from qualcode.errors import InputError, ValidationProblems
from qualcode.project import NewCoding
from test_learn_corpus import add_codes, add_document

# The store behaves the same on SQLite and PostgreSQL: run these on both (conftest.py).
pytestmark = pytest.mark.backends

TEXT = "Group supervision helps. =SUM(A1) is not a formula here. -Caseloads are high."


@pytest.fixture
def two(project_location):
    """A project with two documents and the test codes."""
    project = Project.create(project_location)
    add_codes(project)
    add_document(project, "W1_SW01", TEXT)
    add_document(project, "W1_SW02", "We work with the whole family now.")
    yield project
    project.close()


def _write(path, rows, header="document,start,end,code,coder,status,confidence,memo"):
    path.write_text("\n".join([header] + rows) + "\n", encoding="utf-8")
    return path


def _rows(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_import_writes_codings_memos_and_create_events(two, tmp_path):
    path = _write(tmp_path / "in.csv", [
        "W1_SW01,0,24,supervision,sam,,,first pass",
        "2,17,33,family,sam,suggested,0.8,",
        "W1_SW01,0,24,Group supervision and reflection,kim,accepted,,",  # a code's name works too
    ])
    result = import_codings(two, path)
    assert (result.rows, result.added, result.duplicates, result.memos) == (3, 3, 0, 1)
    codings = two.codings().sort_values("id")
    assert list(codings["document"]) == ["W1_SW01", "W1_SW02", "W1_SW01"]
    assert list(codings["code"]) == ["supervision", "family", "supervision"]
    assert list(codings["status"]) == ["accepted", "suggested", "accepted"]
    assert set(codings["method"]) == {"import"}
    assert codings["confidence"].iloc[1] == 0.8
    assert codings["snippet"].iloc[0] == "Group supervision helps."
    memo = two.memos("coding")
    assert list(memo["text"]) == ["first pass"] and memo["coding_id"].iloc[0] == result.ids[0]
    events = two.coding_events()
    assert list(events["action"]) == ["create"] * 3
    again = import_codings(two, path)
    assert (again.added, again.duplicates) == (0, 3)


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_written(two, tmp_path):
    path = _write(tmp_path / "bad.csv", [
        "W1_SW01,0,24,supervision,sam,,,",         # line 2: fine
        "W1_SW1,0,5,supervision,sam,,,",           # 3: unknown document
        "W1_SW01,0,5,supervison,sam,,,",           # 4: unknown code
        "W1_SW01,70,999,family,sam,,,",            # 5: span outside
        "W1_SW01,0,5,family,sam,acepted,,",        # 6: bad status
        "W1_SW01,five,5,family,sam,,,",            # 7: start not a number
        "W1_SW01,0,5,family,,,,",                  # 8: empty coder
        "W1_SW01,0,5,family,sam,,1.5,",            # 9: confidence out of range
        "W1_SW01,9,3,family,sam,,,",               # 10: empty/reversed span
    ])
    with pytest.raises(ValidationProblems) as err:
        import_codings(two, path)
    lines = str(err.value).splitlines()
    assert lines[0] == f"{path}: 8 problem(s)"
    expected = [
        f"{path}:3: unknown document 'W1_SW1'. Fix: did you mean 'W1_SW01'?",
        f"{path}:4: unknown code 'supervison'. Fix: did you mean 'supervision'?",
        f"{path}:5: span [70, 999) is outside 'W1_SW01' (length {len(TEXT)}) or empty. Fix: give 0 <= start < end <= {len(TEXT)}.",
        f"{path}:6: status 'acepted' is not one of suggested, accepted, rejected. Fix: did you mean 'accepted'?",
        f"{path}:7: start 'five' is not a whole number. Fix: give start as a character offset, e.g. 120.",
        f"{path}:8: empty coder. Fix: name who (or which method) made the coding.",
        f"{path}:9: confidence '1.5' is not a number between 0 and 1. Fix: give e.g. 0.85, or leave it empty.",
        f"{path}:10: span [9, 3) is outside 'W1_SW01' (length {len(TEXT)}) or empty. Fix: give 0 <= start < end <= {len(TEXT)}.",
    ]
    assert [line.strip() for line in lines[1:]] == expected
    assert two.codings().empty and two.coding_events().empty


def test_missing_columns_and_near_miss_headers(two, tmp_path):
    with pytest.raises(ValidationProblems, match=r"in.csv:1: missing column\(s\) end, coder"):
        import_codings(two, _write(tmp_path / "in.csv", ["W1_SW01,0,5,family"], header="document,start,code"))
    with pytest.raises(ValidationProblems, match=r"unknown column 'stauts'. Fix: did you mean 'status'\?"):
        import_codings(two, _write(tmp_path / "typo.csv", ["W1_SW01,0,5,family,sam,accepted"],
                                   header="document,start,end,code,coder,stauts"))
    extra = import_codings(two, _write(tmp_path / "extra.csv", ["W1_SW01,0,5,family,sam,my note"],
                                       header="document,start,end,code,coder,reviewer_notes"))
    assert extra.added == 1  # a column of the user's own is read past
    with pytest.raises(ValidationProblems, match="no codings in the file"):
        import_codings(two, _write(tmp_path / "empty.csv", []))
    with pytest.raises(InputError, match="no such file"):
        import_codings(two, tmp_path / "absent.csv")


def test_line_numbers_count_multi_line_cells(two, tmp_path):
    path = tmp_path / "multi.csv"
    path.write_text('document,start,end,code,coder,memo\nW1_SW01,0,5,family,sam,"two\nlines"\n'
                    "W1_SW01,0,5,nope,sam,\n", encoding="utf-8")
    with pytest.raises(ValidationProblems, match=r"multi.csv:4: unknown code 'nope'"):
        import_codings(two, path)


def test_export_round_trips_and_is_spreadsheet_safe(two, tmp_path):
    doc = two.document_id("W1_SW01")
    start = TEXT.index("=SUM")
    dash = TEXT.index("-Case")
    two.add_codings([
        NewCoding(doc, 0, 24, "supervision", "sam"),
        NewCoding(doc, start, start + 8, "workload", "=cmd|' /C calc'!A0", status="suggested", confidence=0.4,
                  method="rule"),
        NewCoding(doc, dash, len(TEXT), "workload", "sam", status="rejected"),
    ])
    out = tmp_path / "out.csv"
    frame = export_codings(two, out)
    assert len(frame) == 3
    rows = _rows(out)
    assert rows[1]["text"] == "'=SUM(A1)" and rows[1]["coder"] == "'=cmd|' /C calc'!A0"
    assert rows[2]["text"] == "'-Caseloads are high."
    assert rows[0]["text"] == "Group supervision helps."
    for row in rows:  # no cell a spreadsheet would run
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in row.values())
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")

    copy = Project.create(tmp_path / "copy.qc")
    add_codes(copy)
    add_document(copy, "W1_SW01", TEXT)
    add_document(copy, "W1_SW02", "We work with the whole family now.")
    result = import_codings(copy, out)
    assert result.added == 3
    columns = ["document", "start", "end", "code", "coder", "status", "confidence"]
    assert copy.codings()[columns].sort_values(["start", "code"]).reset_index(drop=True).equals(
        two.codings()[columns].sort_values(["start", "code"]).reset_index(drop=True))
    copy.close()


def test_export_filters_and_bad_filters(two, tmp_path):
    doc = two.document_id("W1_SW01")
    two.add_codings([NewCoding(doc, 0, 24, "supervision", "sam"),
                     NewCoding(doc, 0, 24, "workload", "rules", status="suggested", method="rule", confidence=0.6)])
    assert list(export_codings(two, tmp_path / "a.csv", status="accepted")["coder"]) == ["sam"]
    assert list(export_codings(two, tmp_path / "b.csv", coder="rules")["status"]) == ["suggested"]
    assert len(_rows(tmp_path / "b.csv")) == 1
    with pytest.raises(InputError, match="status 'done' is not one of"):
        export_codings(two, tmp_path / "c.csv", status="done")
    with pytest.raises(InputError, match="no coder 'bob'. Fix: use one of rules, sam"):
        export_codings(two, tmp_path / "c.csv", coder="bob")
    with pytest.raises(InputError, match="does not exist"):
        export_codings(two, tmp_path / "no" / "c.csv")


def test_quote_helpers_are_inverse_for_formula_cells():
    for value in ("=1+1", "+44 20", "-x", "@here", "\tx", "\rx", "plain", "'quoted already"):
        assert unquote_cell(safe_cell(value)) == value
    assert safe_cell("plain") == "plain" and safe_cell(-3) == -3
