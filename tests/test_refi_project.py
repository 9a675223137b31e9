"""Whole REFI-QDA projects (.qdpx) in: the six real samples, each tool's conventions, hostile files."""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from qualcode import Project
from qualcode.corpus import import_paths
from qualcode.errors import ImportFailed
from qualcode.refi.positions import is_word_boundary
from qualcode.refi.project_import import import_qdpx

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "refi" / "samples"
needs_samples = pytest.mark.skipif(not SAMPLES.exists(), reason="shared/refi/samples not beside the checkout")
SAMPLE_FILES = sorted(p.name for p in SAMPLES.glob("*.qdpx")) if SAMPLES.exists() else []
NS = "urn:QDA-XML:project:1.0"


def _xml(path: Path) -> etree._Element:
    with zipfile.ZipFile(path) as z:
        name = next(n for n in z.namelist() if n.lower() == "project.qde")
        return etree.fromstring(z.read(name))


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _text_in_archive(path: Path, source: etree._Element) -> bool:
    ref = (source.get("plainTextPath") or "").lower()
    with zipfile.ZipFile(path) as z:
        names = {n.lower() for n in z.namelist()}
    return ref.startswith("internal://") and f"sources/{ref[len('internal://'):]}" in names


def _xml_counts(path: Path) -> tuple[Counter, int]:
    """Per code GUID: codings of text selections whose source text is in the archive; and all codings."""
    root = _xml(path)
    counts: Counter = Counter()
    for source in root.iter(f"{{{NS}}}TextSource", f"{{{NS}}}Representation"):
        if _local(source.getparent().tag) == "PDFSelection" or not _text_in_archive(path, source):
            continue
        for sel in source.findall(f"{{{NS}}}PlainTextSelection"):
            for ref in sel.iter(f"{{{NS}}}CodeRef"):
                counts[ref.get("targetGUID").upper()] += 1
    return counts, len(root.findall(f".//{{{NS}}}Coding"))


@needs_samples
@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_sample_imports_with_the_xml_coding_count_per_code(project, name):
    path = SAMPLES / name
    result = import_qdpx(project, path)
    expected, total = _xml_counts(path)
    codings = project.codings()
    got = Counter(codings["code"])
    by_key = Counter({result.code_keys[guid]: n for guid, n in expected.items()})
    assert got == by_key
    # Everything else the file codes is listed, with a reason, never dropped silently.
    assert len(codings) + sum(s.codings for s in result.skipped) == total
    assert all(s.reason for s in result.skipped)
    assert len(project.codes()) == len(_xml(path).findall(f".//{{{NS}}}Code"))


@needs_samples
def test_sample_totals_are_the_ones_the_files_hold(project):
    for name, documents, codings in [("nvivo12win_oltas.qdpx", 1, 97),
                                     ("nvivo12mac_OltasSzkepticizmus_17June.qdpx", 2, 297),
                                     ("maxqda24_ICLS_Conf_Themes_ALL_just10.qdpx", 10, 0)]:
        result = import_qdpx(project, SAMPLES / name)
        assert (result.documents, result.codings) == (documents, codings), name
    docs = project.documents()
    assert len(docs) == 13 and (docs["words"] > 1000).all()
    assert not any("\r" in project.text(int(i)) or "\ufeff" in project.text(int(i)) for i in docs["id"])


@needs_samples
@pytest.mark.parametrize("name, share", [("nvivo12win_oltas.qdpx", 1.0),
                                         ("nvivo12mac_OltasSzkepticizmus_17June.qdpx", 0.98)])
def test_nvivo_selections_land_on_word_boundaries(project, name, share):
    """NVivo counts UTF-16 code units; read as code points the spans drift mid-word after each emoji."""
    import_qdpx(project, SAMPLES / name)
    codings = project.codings()
    texts = {int(i): project.text(int(i)) for i in codings["document_id"].unique()}
    on = [is_word_boundary(texts[r.document_id], r.start) and is_word_boundary(texts[r.document_id], r.end)
          for r in codings.itertuples()]
    assert sum(on) >= share * len(on)
    # The same spans read as code points would mostly not: the source has emoji before them.
    assert any(ord(ch) >= 0x10000 for t in texts.values() for ch in t)


@needs_samples
def test_nvivo_windows_source_had_bom_and_crlf_and_spans_still_match(project):
    with zipfile.ZipFile(SAMPLES / "nvivo12win_oltas.qdpx") as z:
        raw = z.read(next(n for n in z.namelist() if n.endswith(".txt")))
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    import_qdpx(project, SAMPLES / "nvivo12win_oltas.qdpx")
    codings = project.codings()
    text = project.text(int(codings["document_id"].iloc[0]))
    assert all(text[r.start:r.end] == r.snippet[:200] or text[r.start:r.end].startswith(r.snippet)
               for r in codings.itertuples())
    assert all(not text[r.start].isspace() for r in codings.itertuples())


@needs_samples
def test_atlas_ti_project_lists_what_cannot_come_in(project):
    result = import_qdpx(project, SAMPLES / "atlasti8mac_standard-project_TestProject.qdpx")
    skipped = result.skipped_frame()
    reasons = " ".join(skipped["reason"])
    assert "not in the archive" in reasons          # the zip's Sources/ is empty
    assert "picture source" in reasons and "region of a PDF page" in reasons and "video source" in reasons
    assert skipped["codings"].sum() == 16
    # Notes became project memos, authored by their REFI user.
    memos = project.memos()
    assert set(memos["kind"]) == {"project"} and set(memos["author"]) == {"Friedrich Markgraf"}
    assert any(t.startswith("Research Plan\nThis is a great project") for t in memos["text"])
    codes = project.codes().set_index("name")
    assert codes.loc["Coke", "colour"] == "#966450" and codes.loc["Coke", "definition"] == "the breakfast of champions"


@needs_samples
def test_maxqda_lower_case_sources_folder_and_document_groups(project):
    result = import_qdpx(project, SAMPLES / "maxqda24_ICLS_Conf_Themes_ALL_just10.qdpx")
    assert result.documents == 10 and not result.skipped
    attrs = project.attributes("document")
    assert set(attrs["key"]) == {"set"} and attrs["document_id"].nunique() == 10


@needs_samples
@pytest.mark.backends
def test_importing_the_same_file_twice_adds_nothing(project):
    first = import_qdpx(project, SAMPLES / "nvivo12win_oltas.qdpx")
    second = import_qdpx(project, SAMPLES / "nvivo12win_oltas.qdpx")
    assert (second.documents, second.codes, second.codings) == (0, 0, 0) and second.reused_documents == 1
    assert len(project.codings()) == first.codings


@needs_samples
def test_cli_import_of_a_qdpx(tmp_path):
    from typer.testing import CliRunner

    from qualcode.cli import app

    qc = tmp_path / "p.qc"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(qc)]).exit_code == 0
    out = runner.invoke(app, ["import", str(qc), str(SAMPLES / "atlasti8mac_standard-project_TestProject.qdpx"),
                              str(SAMPLES / "nvivo12win_oltas.qdpx"), "--json"])
    assert out.exit_code == 0, out.output
    assert "97 codings" in out.output and "picture source" in out.output
    table = runner.invoke(app, ["import", str(qc), str(SAMPLES / "atlasti8mac_standard-project_TestProject.qdpx")])
    assert "not imported: PictureSource 'cornflakes-n-milk.jpg' (2 coding(s)): picture source" in table.output
    with Project.open(qc) as p:
        assert len(p.codings()) == 97


# -- each tool's conventions, on files built here -------------------------------------

TEXT = "Interviewer: How is the key worker?\r\nJo: Great \U0001F600 she is consistent.\r\nInterviewer: And the school?\r\nJo: Café staff are kind.\r\n"


def _qdpx(tmp_path: Path, origin: str, selections: list[tuple[int, int, str]], folder: str = "Sources",
          data: bytes | None = None, name: str = "p.qdpx", extra: dict[str, bytes] | None = None) -> Path:
    sels = "".join(
        f'<PlainTextSelection guid="{i:08d}-0000-0000-0000-000000000000" name="{quote}" startPosition="{s}" '
        f'endPosition="{e}" creatingUser="11111111-1111-1111-1111-111111111111"><Coding guid="{i:08d}-1111-0000-0000-'
        f'000000000000"><CodeRef targetGUID="22222222-2222-2222-2222-222222222222"/></Coding></PlainTextSelection>'
        for i, (s, e, quote) in enumerate(selections))
    xml = (f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="{NS}" name="t" origin="{origin}">'
           '<Users><User guid="11111111-1111-1111-1111-111111111111" name="Ruth"/></Users>'
           '<CodeBook><Codes><Code guid="22222222-2222-2222-2222-222222222222" name="Key worker" isCodable="true" '
           'color="#AA0000"/></Codes></CodeBook><Sources><TextSource guid="33333333-3333-3333-3333-333333333333" '
           f'name="SW01.txt" plainTextPath="internal://src.txt">{sels}</TextSource></Sources></Project>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("project.qde", xml)
        z.writestr(f"{folder}/src.txt", TEXT.encode("utf-8-sig") if data is None else data)
        for member, body in (extra or {}).items():
            z.writestr(member, body)
    path = tmp_path / name
    path.write_bytes(buf.getvalue())
    return path


def _quote_span(raw: str, quote: str, units: str) -> tuple[int, int]:
    start = raw.index(quote)
    if units == "utf16":
        start_u = len(raw[:start].encode("utf-16-le")) // 2
        return start_u, start_u + len(quote.encode("utf-16-le")) // 2
    return start, start + len(quote)


@pytest.mark.backends
@pytest.mark.parametrize("origin, units", [("NVivo for Windows 12.6", "utf16"), ("ATLAS.ti 9.1", "codepoint"),
                                           ("MAXQDA 2022", "codepoint")])
def test_each_tool_counting_lands_on_the_quoted_text(project, tmp_path, origin, units):
    quotes = ["she is consistent", "Café staff are kind", "And the school?"]
    spans = [(*_quote_span(TEXT, q, units), q) for q in quotes]
    result = import_qdpx(project, _qdpx(tmp_path, origin, spans))
    codings = project.codings()
    text = project.text(int(codings["document_id"].iloc[0]))
    assert [text[r.start:r.end] for r in codings.itertuples()] == ["she is consistent", "And the school?",
                                                                   "Café staff are kind"]
    assert set(codings["coder"]) == {"Ruth"} and result.coders == ["Ruth"]
    assert project.codes()["colour"].tolist() == ["#AA0000"]
    turns = project.turns()
    assert turns["speaker"].tolist() == ["Interviewer", "Jo", "Interviewer", "Jo"]


@pytest.mark.parametrize("folder", ["Sources", "sources", "SOURCES"])
def test_sources_folder_in_any_case(project, tmp_path, folder):
    result = import_qdpx(project, _qdpx(tmp_path, "MAXQDA 24", [(0, 11, "Interviewer")], folder=folder))
    assert result.documents == 1 and result.codings == 1


def test_selection_outside_the_text_is_listed_not_dropped(project, tmp_path):
    result = import_qdpx(project, _qdpx(tmp_path, "ATLAS.ti 9", [(0, 11, "ok"), (50, 9000, "too far")]))
    assert result.codings == 1
    assert [s.codings for s in result.skipped] == [1] and "outside the source" in result.skipped[0].reason


def test_malicious_archives_are_refused_and_leave_the_project_as_it_was(project, tmp_path):
    xxe = (b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<Project xmlns="urn:QDA-XML:project:1.0" name="x">&x;</Project>')
    cases = {
        "traversal": {"project.qde": b"<Project/>", "../../evil.txt": b"x"},
        "xxe": {"project.qde": xxe},
        "bomb": {"project.qde": b"<Project/>", "sources/big.txt": b"\0" * (300 * 1024 * 1024)},
    }
    before = project.documents()
    for label, members in cases.items():
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for member, body in members.items():
                z.writestr(member, body)
        path = tmp_path / f"{label}.qdpx"
        path.write_bytes(buf.getvalue())
        with pytest.raises(ImportFailed) as err:
            import_qdpx(project, path)
        assert f"{label}.qdpx" in str(err.value) and "Fix:" in str(err.value)
    assert project.documents().equals(before) and project.codes().empty


def test_a_failing_import_writes_nothing(project, tmp_path):
    path = _qdpx(tmp_path, "NVivo 14", [(0, 11, "Interviewer")], data=b"")
    result = import_qdpx(project, path)  # an empty source is listed, the rest comes in
    assert "empty" in result.skipped[0].reason
    bad = tmp_path / "not_a_zip.qdpx"
    bad.write_bytes(b"this is not a zip")
    report = import_paths(project, [bad])
    assert report.results[0].status == "failed" and "not_a_zip.qdpx" in report.results[0].message


def test_odd_xml_is_listed_or_reported_never_a_crash(project, tmp_path):
    path = _qdpx(tmp_path, "ATLAS.ti 9", [(0, 11, "ok")])
    with zipfile.ZipFile(path) as z:
        xml = z.read("project.qde").replace(b'startPosition="0"', b'startPosition="zero"')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("project.qde", xml)
        z.writestr("sources/src.txt", TEXT)
    odd = tmp_path / "odd.qdpx"
    odd.write_bytes(buf.getvalue())
    result = import_qdpx(project, odd)
    assert result.codings == 0 and "outside the source" in result.skipped[0].reason
    broken = tmp_path / "broken.qdpx"
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("project.qde", b"<Project xmlns='urn:QDA-XML:project:1.0' name='x'><Sources>")
    report = import_paths(project, [broken])
    assert report.results[0].status == "failed" and "not well-formed XML" in report.results[0].message


def test_cases_variables_and_a_document_in_two_cases(project, tmp_path):
    path = _qdpx(tmp_path, "NVivo 14", [(0, 11, "Interviewer")])
    with zipfile.ZipFile(path) as z:
        xml = z.read("project.qde").decode()
    source = "33333333-3333-3333-3333-333333333333"
    cases = (f'<Variables><Variable guid="44444444-4444-4444-4444-444444444444" name="site" typeOfVariable="Text"/>'
             f'</Variables><Cases><Case guid="55555555-5555-5555-5555-555555555555" name="Family A"><Description>Two '
             f'children, CIN plan.</Description><VariableValue><VariableRef targetGUID="44444444-4444-4444-4444-'
             f'444444444444"/><TextValue>North</TextValue></VariableValue><SourceRef targetGUID="{source}"/></Case>'
             f'<Case guid="66666666-6666-6666-6666-666666666666" name="Family B"><SourceRef targetGUID="{source}"/>'
             f'</Case></Cases><Sources>')
    xml = xml.replace("<Sources>", cases, 1)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("project.qde", xml)
        z.writestr("Sources/src.txt", TEXT.encode("utf-8-sig"))
    path.write_bytes(buf.getvalue())
    result = import_qdpx(project, path)
    assert result.cases == 2
    assert project.documents()["case"].tolist() == ["Family A"]
    assert [s.item for s in result.skipped] == ["SourceRef of case 'Family B'"]
    attrs = project.attributes("case")
    assert list(zip(attrs["key"], attrs["value"])) == [("site", "North")]
    memos = project.memos()
    assert memos["kind"].tolist() == ["case"] and memos["text"].tolist() == ["Two children, CIN plan."]
