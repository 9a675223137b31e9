"""Tiny hostile files are refused fast, with memory measured, not guessed.

Each case runs in a fresh Python process that imports qualcode, notes its peak
resident memory (``resource.getrusage``), does the one thing, and reports how much
the peak grew and how long it took. The files are built here: a YAML codebook and a
theory of change of nested aliases (a "billion laughs"), a .docx of 450 parts each
just under 1 MiB (no single part looks suspicious), a PDF of a few KB whose 20 pages
draw one compressed stream of 72,000 words, and a large plain-text transcript that
must import in memory bounded by a small multiple of its size.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import zipfile
import zlib
from pathlib import Path

import pytest

MEASURE = """
import json, resource, sys, time, traceback
{setup}
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
try:
{action}
    message = "ok"
except Exception as exc:
    message = f"{{type(exc).__name__}}: {{exc}}"
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
print(json.dumps({{"grown_mb": grown, "seconds": time.perf_counter() - started, "message": message}}))
"""


def measure(setup: str, action: str, timeout: float = 300) -> dict:
    """Run ``action`` after ``setup`` in a fresh process: peak-memory growth (MB), seconds, outcome."""
    code = MEASURE.format(setup=textwrap.dedent(setup), action=textwrap.indent(textwrap.dedent(action), "    "))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def yaml_bomb(top: str) -> str:
    """Nine levels of ten aliases each: 10**9 nodes once expanded, under 500 bytes written."""
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for parent, child in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{child}: &{child} [{', '.join(['*' + parent] * 10)}]")
    return "\n".join(lines) + f"\n{top}\n"


@pytest.mark.parametrize("kind, top, loader, expected", [
    ("codebook", "id: cb\nname: Bomb\nversion: '1'\ncodes: *i", "from qualcode.codebook import load_codebook as load",
     "expand to over 200,000 entries"),
    ("toc", "id: toc\nname: Bomb\nnodes: *i", "from qualcode.toc import load_toc as load",
     "expand to over 200,000 entries"),
])
def test_a_yaml_alias_bomb_is_refused_before_it_expands(tmp_path, kind, top, loader, expected):
    path = tmp_path / f"{kind}.yaml"
    text = yaml_bomb(top)
    path.write_text(text, encoding="utf-8")
    assert len(text.encode()) < 700
    result = measure(loader, f"load({str(path)!r})")
    assert expected in result["message"]
    assert result["seconds"] < 5
    assert result["grown_mb"] < 50


def _docx_of_many_parts(parts: int = 450) -> bytes:
    body = b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    filler = body + b"<w:p><w:r><w:t>" + b"a" * (1024 * 1024 - 200) + b"</w:t></w:r></w:p></w:body></w:document>"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   b'package/2006/content-types"/>')
        for i in range(parts):
            z.writestr(f"word/part{i}.xml", filler)
    return buf.getvalue()


def test_a_docx_of_many_parts_each_under_a_mebibyte_is_refused_as_a_bomb(tmp_path):
    data = _docx_of_many_parts()
    assert len(data) < 1024 * 1024  # a small file that would inflate to about 450 MiB
    path = tmp_path / "minutes.docx"
    path.write_bytes(data)
    project = tmp_path / "p.qc"
    result = measure(
        f"from qualcode import Project\nfrom qualcode.corpus import import_paths\n"
        f"project = Project.create({str(project)!r})",
        f"(row,) = import_paths(project, [{str(path)!r}]).results\nraise RuntimeError(row.status + ': ' + row.message)",
    )
    assert "failed: minutes.docx: it unpacks to more than" in result["message"]
    assert "zip bomb" in result["message"]
    assert result["seconds"] < 10
    assert result["grown_mb"] < 50


def pdf_of_one_shared_stream(pages: int = 20, repeats: int = 12_000) -> bytes:
    """Every page draws the same compressed stream of 72,000 words: about 6 KB in all."""
    content = b"BT /F1 1 Tf 0 0 Td " + b"(lorem ipsum dolor sit amet consectetur) Tj 0 -1 Td " * repeats + b"ET"
    stream = zlib.compress(content, 9)
    kids = " ".join(f"{4 + i} 0 R" for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R /Resources << /Font << "
                b"/F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>"] * pages
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_a_pdf_whose_pages_share_one_huge_stream_is_refused_fast(tmp_path):
    path = tmp_path / "extract.pdf"
    path.write_bytes(pdf_of_one_shared_stream())
    assert path.stat().st_size < 10_000
    result = measure(
        "from pathlib import Path\nfrom qualcode.importers.pdf import parse_pdf\n"
        "from qualcode.importers.base import ImportOptions",
        f"parse_pdf(Path({str(path)!r}), Path({str(path)!r}).read_bytes(), ImportOptions())",
    )
    assert "extract.pdf: page 1 holds over 20,000 words" in result["message"]
    assert "print it to a new PDF" in result["message"]
    assert result["seconds"] < 10


def test_a_normal_pdf_still_imports(tmp_path):
    from qualcode.importers.base import ImportOptions
    from qualcode.importers.pdf import parse_pdf

    path = tmp_path / "note.pdf"
    path.write_bytes(pdf_of_one_shared_stream(pages=2, repeats=40))
    (doc,) = parse_pdf(path, path.read_bytes(), ImportOptions())
    assert doc.attributes["pages"] == "2" and len(doc.text.split()) == 2 * 40 * 6


def test_a_large_transcript_imports_in_memory_bounded_by_a_few_times_its_size(tmp_path):
    turn = ("Respondent: We had group supervision on the Tuesday and went through the family plan "
            "again, what are we worried about, what's working well, what needs to happen.\n")
    path = tmp_path / "long_transcript.txt"
    path.write_text(turn * (40 * 1024 * 1024 // len(turn)), encoding="utf-8")
    size_mb = path.stat().st_size / (1024 * 1024)
    project = tmp_path / "p.qc"
    result = measure(
        f"from qualcode import Project\nfrom qualcode.corpus import import_paths\n"
        f"project = Project.create({str(project)!r})",
        f"(row,) = import_paths(project, [{str(path)!r}]).results\nassert row.status == 'imported', row.message",
    )
    assert result["message"] == "ok"
    assert result["grown_mb"] < 8 * size_mb, result
