"""Spreadsheet import, Word and Markdown export, and ``convert`` dispatching on extensions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from docx import Document

from qualcode.codebook import load_codebook, parse_codebook
from qualcode.codebook_formats import convert, read_spreadsheet, to_markdown, write_docx
from qualcode.errors import CodebookError, ValidationProblems

REPO = Path(__file__).resolve().parents[1]
SOS = REPO / "codebooks" / "signs_of_safety.yaml"

TABLE = pd.DataFrame([
    {"Name": "Support", "Parent": "", "Definition": "Help given.", "Keywords": ""},
    {"Name": "Practical support", "Parent": "Support", "Definition": "Housing, money.",
     "Keywords": "food bank; bus pass", "Include": "material help;  ", "Colour": "#aabbcc"},
    {"Name": "Practical support", "Parent": "support", "Definition": "Same name twice.", "Keywords": ""},
    {"Name": "Barrier", "Parent": "", "Definition": "What got in the way.", "Kind": "cross-cutting",
     "ID": "barrier.main"},
])


def test_csv_import_slugifies_unique_ids_and_resolves_parents(tmp_path):
    path = tmp_path / "team_codebook.csv"
    TABLE.to_csv(path, index=False)
    cb = read_spreadsheet(path)
    assert [c.id for c in cb.codes] == ["support", "practical_support", "practical_support_2", "barrier.main"]
    assert cb.id == "team_codebook" and cb.version == "1.0"
    practical = cb.code("practical_support")
    assert practical.parent == "support" and practical.match.keywords == ["food bank", "bus pass"]
    assert practical.include == ["material help"] and practical.colour == "#aabbcc"
    assert cb.code("practical_support_2").parent == "support"  # parent matched case-insensitively
    assert cb.code("barrier.main").kind == "cross-cutting"
    assert parse_codebook(cb.to_yaml()).model_dump() == cb.model_dump()


def test_xlsx_import(tmp_path):
    path = tmp_path / "codes.xlsx"
    TABLE.to_excel(path, index=False)
    assert len(read_spreadsheet(path).codes) == 4


def test_spreadsheet_problems_name_the_row(tmp_path):
    path = tmp_path / "bad.csv"
    pd.DataFrame([
        {"name": "A", "parent": "Nope", "definition": "x"},
        {"name": "B", "parent": "", "definition": ""},
        {"name": "C", "parent": "", "definition": "c", "colour": "blue"},
    ]).to_csv(path, index=False)
    with pytest.raises(ValidationProblems) as caught:
        read_spreadsheet(path)
    got = [(p.line, p.message) for p in caught.value.problems]
    assert got[0] == (2, "code 'A' names unknown parent 'Nope'")
    assert got[1] == (3, "code 'b' has an empty definition")
    assert got[2][0] == 4 and "colour" in got[2][1]
    assert str(caught.value.problems[0]).startswith(f"{path}:2: ")


def test_spreadsheet_without_required_columns(tmp_path):
    path = tmp_path / "cols.csv"
    pd.DataFrame([{"code": "A", "notes": "x"}]).to_csv(path, index=False)
    with pytest.raises(CodebookError, match=r"cols.csv:1: no column 'parent', 'definition' .*Fix: name the header cells"):
        read_spreadsheet(path)


def test_docx_has_a_real_table_with_header_and_hierarchy(tmp_path):
    cb = load_codebook(SOS)
    path = write_docx(cb, tmp_path / "sos.docx")
    document = Document(str(path))
    [table] = document.tables
    assert [c.text for c in table.rows[0].cells] == ["Code", "Definition", "Include", "Exclude", "Example"]
    assert len(table.rows) == len(cb.codes) + 1
    assert table.rows[1].cells[0].text == "Signs of Safety practice"
    child = table.rows[2].cells[0].paragraphs[0]
    assert child.paragraph_format.left_indent > 0
    assert table.rows[2].cells[2].text == "\n".join(cb.codes[1].include)
    assert table.rows[0]._tr.trPr.xml.count("tblHeader") == 1
    assert f"Signs of Safety practice (version {cb.version})" in document.paragraphs[0].text


def test_markdown_outline_tables():
    cb = load_codebook(SOS)
    text = to_markdown(cb)
    assert text.startswith(f"# Signs of Safety practice (version {cb.version})")
    assert "## Signs of Safety practice" in text
    assert "| Code | Definition | Include | Exclude | Example |" in text
    assert "| &nbsp;&nbsp;Danger statements |" in text
    rows = [ln for ln in text.splitlines() if ln.startswith("| ") and not ln.startswith("| Code")]
    assert len(rows) == len(cb.codes)


def test_markdown_escapes_pipes():
    cb = parse_codebook('id: x\nname: X\nversion: "1"\ncodes:\n  - {id: a, name: "A|B", definition: "one | two"}\n')
    assert "| **A\\|B** | one \\| two |" in to_markdown(cb)


@pytest.mark.parametrize("suffix", [".yaml", ".qdc", ".docx", ".md"])
def test_convert_yaml_to_every_format(tmp_path, suffix):
    result = convert(SOS, tmp_path / f"out{suffix}")
    assert result["codes"] == 13 and (tmp_path / f"out{suffix}").stat().st_size > 500


def test_convert_qdc_back_to_yaml_with_reference(tmp_path):
    convert(SOS, tmp_path / "sos.qdc")
    convert(tmp_path / "sos.qdc", tmp_path / "back.yaml", reference=SOS)
    assert load_codebook(tmp_path / "back.yaml").model_dump() == load_codebook(SOS).model_dump()


def test_convert_csv_to_yaml(tmp_path):
    TABLE.to_csv(tmp_path / "t.csv", index=False)
    result = convert(tmp_path / "t.csv", tmp_path / "t.yaml")
    assert result == {"source": str(tmp_path / "t.csv"), "target": str(tmp_path / "t.yaml"), "codebook": "t",
                      "version": "1.0", "codes": 4, "terms": 2, "warnings": []}
    assert len(load_codebook(tmp_path / "t.yaml").codes) == 4


def test_convert_refuses_unknown_extensions(tmp_path):
    with pytest.raises(CodebookError, match=r"cannot write codebooks as '.pdf'. Fix: give one of .docx, .md"):
        convert(SOS, tmp_path / "x.pdf")
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(CodebookError, match="cannot read codebooks from '.txt' files"):
        convert(tmp_path / "x.txt", tmp_path / "x.yaml")
    with pytest.raises(CodebookError, match="does not exist. Fix: create it first"):
        convert(SOS, tmp_path / "nowhere" / "x.md")
