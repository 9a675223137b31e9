"""The demo project, pseudonymised: the file, its matrix and its report hold none of the key's originals.

Everything the detector finds in the demo corpus is confirmed (no review) and applied;
then the framework matrix (.xlsx) and the report (.docx, .html) are written from the
pseudonymised project. Each original in the key is searched for, as a whole word in its
own spelling, in the raw bytes of the .qc, any -wal or -journal and the .html, and in
every XML member of the .xlsx and .docx zips (they are compressed, so raw bytes alone
would prove nothing; the report's PNG figures are pictures, not searchable text).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from qualcode.demo import CODEBOOK_FILES, CODEBOOKS, CODERS, TOC_FILE, build_demo_project
from qualcode.privacy import Key, apply, detect


def _blobs(path: Path) -> list[tuple[str, bytes]]:
    if path.suffix in (".xlsx", ".docx"):
        with zipfile.ZipFile(path) as z:
            return [(f"{path.name}:{n}", z.read(n)) for n in z.namelist() if n.endswith((".xml", ".rels"))]
    return [(path.name, path.read_bytes())]


@pytest.mark.slow
def test_pseudonymised_demo_project_matrix_and_report_hold_no_original(tmp_path):
    from qualcode import codebook as codebook_module
    from qualcode.matrices import export_matrix
    from qualcode.report import build_report, report_files
    from qualcode.toc import load_toc

    path = tmp_path / "demo.qc"
    project = build_demo_project(path)
    try:
        found = detect(project, model="auto")
        assert found.counts().get("Postcode", 0) >= 6 and found.model
        (tmp_path / "keys").mkdir()
        report = apply(project, found.rows, tmp_path / "keys" / "KEY.csv")
        assert report.residual == {}, report.residual
        export_matrix(project, tmp_path / "matrix.xlsx", rows="case")
        books = [codebook_module.load_codebook(CODEBOOKS / name) for name in CODEBOOK_FILES]
        built = build_report(project, toc=load_toc(CODEBOOKS / TOC_FILE), codebooks=books, coders=list(CODERS))
        report_files(built, tmp_path / "report.docx", tmp_path / "report.html")
    finally:
        project.close()
    originals = sorted({r["original"] for r in Key.read(tmp_path / "keys" / "KEY.csv").rows()})
    assert len(originals) >= 20
    files = [path, Path(f"{path}-wal"), Path(f"{path}-journal"), tmp_path / "matrix.xlsx", tmp_path / "report.docx",
             tmp_path / "report.html"]
    blobs = [b for f in files if f.exists() for b in _blobs(f)]
    assert {name.split(":")[0] for name, _ in blobs} >= {"demo.qc", "matrix.xlsx", "report.docx", "report.html"}
    leaks = []
    for original in originals:
        pattern = re.compile(rb"(?<![A-Za-z0-9])" + re.escape(original.encode()) + rb"(?![A-Za-z0-9])")
        leaks += [(original, name) for name, blob in blobs if pattern.search(blob)]
    assert leaks == [], leaks
