"""Hostile inputs through the public paths: each fails fast with a clear message, stores nothing.

Files are built in code: Office/OpenDocument zips with ``../`` member names, a zip bomb,
XML with external entities or entity expansion (in a .docx part and in a REFI .qdpx/.qdc),
a 300 MB text file (sparse: no disk used), deeply nested YAML; and exports whose cells
would run as spreadsheet formulas.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from qualcode import NewCoding, Project, store
from qualcode.corpus import import_paths
from qualcode.errors import CodebookError, TocError, ValidationProblems

LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                     for i in range(1, 10))
          + b"]>\n")
XXE = b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
DOCX_BODY = (b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
             b"<w:p><w:r><w:t>%s</w:t></w:r></w:p></w:body></w:document>")
CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                 b'2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>')


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _import_one(project: Project, path: Path):
    report = import_paths(project, [path])
    (result,) = report.results
    return result


def _stored(project: Project) -> int:
    with project.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(store.documents)).scalar_one()


@pytest.mark.parametrize("suffix, members", [
    (".docx", {"[Content_Types].xml": CONTENT_TYPES, "../../evil.xml": b"<x/>"}),
    (".xlsx", {"[Content_Types].xml": CONTENT_TYPES, "xl/../../../etc/cron.d/x": b"x"}),
    (".odt", {"mimetype": b"application/vnd.oasis.opendocument.text", "/abs/content.xml": b"<x/>"}),
])
def test_member_names_that_climb_out_are_refused(project, tmp_path, suffix, members):
    path = tmp_path / f"partner_export{suffix}"
    path.write_bytes(_zip(members))
    result = _import_one(project, path)
    assert result.status == "failed"
    assert "points outside it" in result.message and "ask the sender for a new copy" in result.message
    assert _stored(project) == 0


def test_zip_bomb_is_refused_before_inflating(project, tmp_path):
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        with z.open("word/document.xml", "w", force_zip64=True) as part:
            zeros = b"\0" * (1 << 20)
            for _ in range(200):  # 200 MB of zeros, about 200 KB on disk
                part.write(zeros)
    assert path.stat().st_size < 2_000_000
    result = _import_one(project, path)
    assert result.status == "failed"
    assert "looks like a zip bomb" in result.message and "word/document.xml" in result.message
    assert _stored(project) == 0


@pytest.mark.parametrize("prolog", [LAUGHS, XXE], ids=["billion-laughs", "external-entity"])
def test_entities_in_a_docx_part_are_refused(project, tmp_path, prolog):
    path = tmp_path / "notes.docx"
    path.write_bytes(_zip({"[Content_Types].xml": CONTENT_TYPES,
                           "word/document.xml": prolog + DOCX_BODY % b"&lol9;&xxe;"}))
    result = _import_one(project, path)
    assert result.status == "failed"
    assert "declares a DTD" in result.message and "ask the sender" in result.message
    assert _stored(project) == 0


@pytest.mark.parametrize("prolog", [LAUGHS, XXE], ids=["billion-laughs", "external-entity"])
def test_entities_in_a_refi_project_or_codebook_are_refused(tmp_path, prolog):
    from qualcode.refi.codebook import read_refi

    body = (b'<Project xmlns="urn:QDA-XML:project:1.0" name="x"><CodeBook><Codes>'
            b'<Code guid="1" name="&lol9;&xxe;" isCodable="true"/></Codes></CodeBook></Project>')
    qdpx = tmp_path / "team.qdpx"
    qdpx.write_bytes(_zip({"project.qde": prolog + body}))
    qdc = tmp_path / "team.qdc"
    qdc.write_bytes(prolog + body.replace(b"Project", b"CodeBook", 1))
    for path in (qdpx, qdc):
        with pytest.raises(CodebookError, match=r"declares a DTD.*Fix: do not open this file"):
            read_refi(path)


def test_a_file_over_the_size_cap_is_refused_unread(project, tmp_path, monkeypatch):
    path = tmp_path / "huge.txt"
    with open(path, "wb") as fh:
        fh.truncate(300 * 1024 * 1024)  # sparse: 300 MB by size, nothing on disk
    reads = []
    original = Path.read_bytes

    def watched(self):
        reads.append(self.name)
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", watched)
    result = _import_one(project, path)
    assert result.status == "failed"
    assert ("huge.txt: the file is 314,572,800 bytes (300.0 MiB), over the 209,715,200 bytes (200.0 MiB) "
            "limit for one file") in result.message
    assert "split it into smaller files" in result.message
    assert "huge.txt" not in reads and _stored(project) == 0


def test_deeply_nested_yaml_fails_with_a_message(tmp_path):
    from qualcode.codebook import load_codebook
    from qualcode.toc import load_toc

    path = tmp_path / "deep.yaml"
    path.write_text("codes: " + "[" * 20_000 + "]" * 20_000 + "\n")
    with pytest.raises(ValidationProblems, match="nested too deeply to be a codebook"):
        load_codebook(path)
    with pytest.raises(TocError, match="deep.yaml: the YAML is nested too deeply"):
        load_toc(path)


FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"click\")", "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1"]


def test_codings_csv_export_never_starts_a_cell_with_a_formula(project, tmp_path):
    from qualcode.codings_io import export_codings

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("\n".join(FORMULAS) + "\n")
    import_paths(project, [folder])
    text = project.text("a.txt")
    with project.transaction() as conn:
        conn.execute(sa.insert(store.codes).values(key="=cmd", name="=cmd|' /C calc'!A0", definition="",
                                                   created_at=store.now(), updated_at=store.now()))
    spans = []
    for formula in FORMULAS[:4]:
        start = text.index(formula)
        spans.append(NewCoding(1, start, start + len(formula), "=cmd", "@coder"))
    project.add_codings(spans)
    out = tmp_path / "codings.csv"
    export_codings(project, out)
    with open(out, encoding="utf-8-sig", newline="") as fh:
        cells = [cell for row in csv.reader(fh) for cell in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert "'=HYPERLINK(\"http://evil.example\",\"click\")" in cells and "'@coder" in cells


def test_xlsx_and_csv_tables_store_formula_text_as_text(tmp_path):
    from qualcode.xlsx_export import write_csv, write_xlsx

    frame = pd.DataFrame({"quote": FORMULAS, "n": range(len(FORMULAS))})
    book = load_workbook(write_xlsx(tmp_path / "t.xlsx", {"quotes": frame}))
    cells = [c for row in book["quotes"].iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    assert [c.value for c in cells] == FORMULAS  # kept exactly, as text
    assert all(c.data_type == "s" for c in cells)
    with open(write_csv(tmp_path / "t.csv", frame), encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert [r[0] for r in rows[1:]] == [f"'{f}" for f in FORMULAS]
