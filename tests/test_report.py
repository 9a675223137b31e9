"""The report model and its Word and HTML renderings, on the hand-made project."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from typer.testing import CliRunner

from qualcode import NewCoding
from qualcode.codebook import Code, Codebook
from qualcode.errors import InputError
from qualcode.matrices import set_framework_summary
from qualcode.quotes import exclude_quote, pin_quote
from qualcode.report import achieved_sample, build_report, load_template, report_files
from qualcode.survey import import_survey
from test_report_project import DOCUMENTS, add_family_interview, build_project, write_toc

# The store behaves the same on SQLite and PostgreSQL: run these on both (conftest.py).
pytestmark = pytest.mark.backends

NAMES = [attrs["participant"] for *_, attrs in DOCUMENTS]
CODEBOOK = Codebook(id="test", name="Test framework", version="1.2", codes=[
    Code(id="family", name="Whole-family working", definition="Work with the family as a whole.",
         include=["the family seen together"], exclude=["single-child sessions"]),
    Code(id="family.together", name="Family seen together", parent="family", definition="Seen together."),
    Code(id="voice", name="Voice of the child", definition="The child's wishes are heard."),
])


def _survey(folder: Path) -> tuple[Path, Path]:
    items = folder / "items.csv"
    items.write_text("item,question,outcome\nq1,I feel confident working with the whole family,out_family\n",
                     encoding="utf-8")
    responses = folder / "staff_survey.csv"
    answers = ["Agree", "Strongly agree", "Disagree", "Not sure", "Agree", "Agree", "Strongly agree", ""]
    rows = [f"r{i},{'Wave 1' if i < 4 else 'Wave 2'},{a}" for i, a in enumerate(answers)]
    responses.write_text("respondent,wave,q1\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return responses, items


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """A report with every section: ToC, survey, two coders, summaries, a pin, a codebook."""
    folder = tmp_path_factory.mktemp("report")
    built = build_project(folder / "p.qc")
    project = built.project
    texts = {name: text for name, _, _, text, _ in DOCUMENTS}
    second = [("SW01_w1.txt", "the child's voice is recorded at every visit", "voice"),
              ("FAM01_w1.txt", "They listened to my daughter this time.", "voice"),
              ("SW01_w1.txt", "We now see the whole family together", "family.together")]
    project.add_codings([NewCoding(built.doc_ids[d], texts[d].index(p), texts[d].index(p) + len(p), c, coder="sam")
                         for d, p, c in second])
    import_survey(project, *_survey(folder))
    set_framework_summary(project, "Family A", "voice", "The child's view is recorded at each visit.")
    pin_quote(project, built.coding_ids[("SW02_w2.txt", "workload.admin")])
    exclude_quote(project, built.coding_ids[("SW01_w1.txt", "workload.admin")])
    report = build_report(project, toc=write_toc(folder), codebooks=[CODEBOOK], coders=["alex", "sam"])
    report_files(report, folder / "report.docx", folder / "report.html")
    yield report, folder, built
    project.close()


def _text(document: docx.Document) -> str:
    parts = [p.text for p in document.paragraphs]
    parts += [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join(parts)


def test_docx_has_headings_in_template_order(full):
    report, folder, _ = full
    document = docx.Document(folder / "report.docx")
    h1 = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert h1 == ["About this report", "Contents", "Achieved sample", "Evidence against the theory of change",
                  "Planned impacts", "Findings by theme", "Survey results", "Intercoder agreement",
                  "Appendix: framework matrix", "Appendix: codebook"]
    h2 = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    assert h2 == ["Whole-family working", "Voice of the child", "Workload"]
    assert document.paragraphs[0].style.name == "Title"


def test_docx_tables_are_native_with_numbered_captions(full):
    report, folder, _ = full
    document = docx.Document(folder / "report.docx")
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    tables = [c for c in captions if c.startswith("Table")]
    figures = [c for c in captions if c.startswith("Figure")]
    assert tables[:3] == ["Table 1: Achieved sample: interviews by role and wave",
                          "Table 2: Judgement for each outcome of the theory of change (Whole-family reform)",
                          "Table 3: Planned impacts: judgement and evidence"]
    assert [int(re.match(r"Table (\d+)", c).group(1)) for c in tables] == list(range(1, len(tables) + 1))
    # Figures sit in the sections they illustrate: the ToC under the evidence, the charts under the themes.
    assert figures == ["Figure 1: Theory of change: Whole-family reform, each outcome coloured by its judgement",
                       "Figure 2: Coded segments per theme, by source type",
                       "Figure 3: Co-occurrence of themes: overlapping coded segments (diagonal: each theme's own count)"]
    assert len(document.tables) == len(tables) == len(report.tables())
    assert len(document.inline_shapes) == 3
    body = document.element.body.xml
    assert body.count("SEQ Table") == len(tables) and body.count("SEQ Figure") == 3
    descriptions = [shape._inline.docPr.get("descr") for shape in document.inline_shapes]
    assert all(d and len(d) > 40 for d in descriptions)  # alt text on every figure
    first = document.tables[0]
    assert first.style.name == "Light Grid Accent 1"
    assert first.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert all(run.bold for cell in first.rows[0].cells for run in cell.paragraphs[0].runs)


def test_achieved_sample_role_by_wave_with_totals(full):
    _, folder, built = full
    table = docx.Document(folder / "report.docx").tables[0]
    cells = [[c.text for c in row.cells] for row in table.rows]
    assert cells == [
        ["Role", "Wave 1", "Wave 2", "Total"],
        ["Parent", "1", "0", "1"],
        ["Social Worker", "1", "1", "2"],
        ["Team Manager", "0", "1", "1"],
        ["Total", "2", "2", "4"],
    ]
    assert achieved_sample(built.project.documents(), "source_type").iloc[-1].tolist() == ["Total", 2, 2, 4]


def test_evidence_table_per_outcome(full):
    _, folder, _ = full
    table = docx.Document(folder / "report.docx").tables[1]
    assert [c.text for c in table.rows[0].cells] == ["Outcome", "Judgement", "Evidence", "Illustrative quotes"]
    family = [c.text for c in table.rows[1].cells]
    assert family[0] == "Families are worked with as a whole"
    assert family[1].split("\n")[0] in ("Too little evidence.", "Unclear: too few coded segments say which way it went.",
                                         "Mixed evidence.", "Some evidence that it was achieved.")
    assert "Amount: " in family[1] and "Indicator: none in the theory of change" in family[1]
    # Six: sam's double-coding of one passage is a segment of its own; the survey item is a source.
    assert "6 segments in 3 documents from 3 participants" in family[2]
    assert "By source: Family interview: 1; Staff interview: 5; Survey items: 1." in family[2]
    assert "By wave: Wave 1: 5; Wave 2: 1." in family[2]
    quotes = family[3].split("\n")
    assert 2 <= len(quotes) <= 3
    assert all(re.fullmatch(r"'.+' \((Social Worker|Parent|Team Manager), Wave \d\)", q) for q in quotes)
    impacts = docx.Document(folder / "report.docx").tables[2]
    assert [c.text for c in impacts.rows[1].cells][:2] == [
        "Re-referrals down from 24% to 15%", "Re-referrals within 12 months: no data — 24% (2022-23); target 15%"]


def test_themes_have_definitions_counts_summaries_and_quotes(full):
    report, folder, built = full
    document = docx.Document(folder / "report.docx")
    texts = [p.text for p in document.paragraphs]
    headings = {p.text: i for i, p in enumerate(document.paragraphs) if p.style.name == "Heading 2"}
    section = texts[headings["Voice of the child"]:headings["Workload"]]
    assert "Definition: The child's wishes and feelings are heard and recorded." in section
    # Five: alex's three and sam's two double-codings.
    assert "Coded 5 times in 3 documents from 3 participants (family interview 2, staff interview 3)." in section
    assert "Family A: The child's view is recorded at each visit." in section
    quotes = [p for p in document.paragraphs if p.style.name == "Quote"]
    assert quotes and all(re.fullmatch(r"'.+' \(.+\)", p.text) for p in quotes)
    workload = texts[headings["Workload"]:texts.index("Survey results", headings["Workload"])]
    pinned = [t for t in workload if "=SUM(A1:A9)" in t]
    assert pinned == ["'=SUM(A1:A9) is what my manager says I am, a number.' (Social Worker, Wave 2)"]
    assert not any("The administration has gone down" in t for t in texts)  # excluded
    for quote in report.quotes:
        assert built.project.text(quote.document_id)[quote.start:quote.end] == quote.text


def test_no_participant_name_anywhere_in_the_report(full):
    report, folder, _ = full
    page = re.sub(r'src="data:image/png;base64,[^"]*"', "", (folder / "report.html").read_text("utf-8"))
    text = _text(docx.Document(folder / "report.docx")) + page
    for name in NAMES:
        for part in name.split():
            assert not re.search(rf"\b{part}\b", text), f"{part!r} appears in the report"


def test_survey_agreement_and_codebook_tables(full):
    report, folder, _ = full
    document = docx.Document(folder / "report.docx")
    by_caption = {t.caption: t.frame for t in report.tables()}
    survey_table = next(t for t in report.tables() if t.caption.startswith("Survey: Staff Survey"))
    survey = survey_table.frame
    assert survey["Wave"].tolist() == ["Wave 1", "Wave 2"]  # waves as rows under the item's question
    assert survey_table.groups == [(0, "I feel confident working with the whole family")]
    assert survey["Agree (net)"].tolist() == ["67% (2)", "100% (3)"]
    agreement_table = next(t for t in report.tables() if t.caption.startswith("Agreement between Alex and Sam"))
    agreement = agreement_table.frame
    assert "All codes (pooled)" not in agreement["Code"].tolist()  # a sum over codes means nothing
    assert "Characters coded by Alex" in agreement.columns and "Cohen's κ" in agreement.columns
    assert "prevalence" in agreement_table.note and "κ" in agreement_table.note
    appendix = by_caption["Codebook: Test framework, version 1.2"]
    assert appendix.values.tolist()[:2] == [
        ["Whole-family working", "Work with the family as a whole.", "the family seen together", "single-child sessions"],
        ["\u2003Family seen together", "Seen together.", "", ""]]
    assert any("Agreement %" in [c.text for c in t.rows[0].cells] for t in document.tables)
    assert report.omitted == []


def test_framework_matrix_appendix_one_table_per_theme(full):
    report, _, _ = full
    tables = {t.caption: t for t in report.tables() if t.caption.startswith("Framework matrix: ")}
    assert list(tables) == ["Framework matrix: Whole-family working", "Framework matrix: Voice of the child",
                            "Framework matrix: Workload"]
    voice = tables["Framework matrix: Voice of the child"].frame
    assert list(voice.columns) == ["Case or participant", "Summary", "Where coded"]
    # The case by its name with role and wave beneath; the participant without a case by role and number only.
    assert voice["Case or participant"].tolist() == ["Family A\nparent; Social Worker\n1", "Team Manager 1\nWave 2"]
    assert voice["Summary"].tolist()[0] == "The child's view is recorded at each visit."
    # Every coder's codings count (alex and sam both coded the voice passages); each place is cited once.
    assert voice["Where coded"].tolist() == ["FAM01 w1 t1; SW01 w1 t2\n4 codings", "TM01 w2 t1\n1 coding"]
    assert "t = speaker turn" in tables["Framework matrix: Workload"].note


def test_html_is_the_same_report(full):
    report, folder, _ = full
    page = (folder / "report.html").read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<table>") == len(report.tables())
    assert page.count('src="data:image/png;base64,') == 3
    assert "Table 2: Judgement for each outcome of the theory of change (Whole-family reform)" in page
    assert "Figure 1: Theory of change: Whole-family reform" in page
    assert page.count('<img alt="') == 3 and '<html lang="en-GB">' in page
    assert "<blockquote>'=SUM(A1:A9) is what my manager says I am, a number.' <cite>(Social Worker, Wave 2)</cite>" in page
    snippet = report._repr_html_()
    assert snippet.startswith("<style>") and "<html" not in snippet


def test_missing_inputs_leave_sections_out_with_a_note(tmp_path, project_location):
    built = build_project(project_location)
    report = build_report(built.project, coders=["alex"])
    titles = [s.title for s in report.sections]
    assert "Evidence against the theory of change" not in titles and "Survey results" not in titles
    assert report.omitted == [
        "Evidence against the theory of change: left out — no theory of change given (--toc TOC.yaml).",
        "Planned impacts: left out — no theory of change given (--toc TOC.yaml).",
        "Survey results: left out — no survey imported.",
        "Intercoder agreement: left out — no second coder named (--coders A B).",
    ]
    about = report.sections[0]
    assert [b.text for b in about.blocks[-4:]] == report.omitted
    assert len(report.figures()) == 2  # no ToC figure without a ToC
    report.to_docx(tmp_path / "r.docx")
    document = docx.Document(tmp_path / "r.docx")
    assert "Survey results: left out — no survey imported." in [p.text for p in document.paragraphs]
    built.project.close()


def test_template_changes_titles_order_and_rules(tmp_path):
    template = tmp_path / "mine.yaml"
    template.write_text(
        "title: Whole-family evaluation\n"
        "quotes: {per_theme: 1, max_chars: 40}\n"
        "sections:\n"
        "  themes: {title: What we heard, intro: Themes first.}\n"
        "  sample: {title: Who we spoke to}\n", encoding="utf-8")
    built = build_project(tmp_path / "p.qc")
    report = build_report(built.project, template=template)
    assert report.title == "Whole-family evaluation"
    assert [s.title for s in report.sections] == ["What we heard", "Who we spoke to"]
    quotes = [b.quote for b in report.sections[0].blocks if type(b).__name__ == "QuoteBlock"]
    assert len(quotes) == 3 and all(len(q.shown) <= 40 for q in quotes)
    built.project.close()


@pytest.mark.parametrize("content, message", [
    ("sections:\n  summary: {title: S}\n", r"unknown section 'summary' under `sections`. Fix: use one of: about"),
    ("sections:\n  themes: {intro: x}\n", r"section 'themes' needs a `title`"),
    ("quotes: {per_theme: many}\n", r"a quote setting is not a whole number"),
    ("quotes: {colour: red}\n", r"unknown quote setting 'colour'"),
    ("title: [unclosed\n", r"mine.yaml:line 2: not valid YAML"),
])
def test_bad_template_messages(tmp_path, content, message):
    path = tmp_path / "mine.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_template(path)


def test_shipped_template_lists_every_section():
    template = load_template()
    assert list(template.sections) == ["about", "contents", "sample", "evidence", "impacts", "themes", "survey",
                                       "agreement", "matrix", "codebook"]


def test_cli_report(full, tmp_path):
    from qualcode.cli import app

    _, folder, built = full
    template = tmp_path / "short.yaml"
    template.write_text("sections:\n  about: {title: About}\n  evidence: {title: Evidence}\n"
                        "  agreement: {title: Agreement}\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["report", built.project.location, "--toc", str(folder / "toc.yaml"),
                                 "--out", str(tmp_path / "r.docx"), "--html", str(tmp_path / "r.html"),
                                 "--template", str(template), "--coders", "alex", "sam", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["files"] == [str(tmp_path / "r.docx"), str(tmp_path / "r.html")]
    assert summary["sections"] == ["About", "Evidence", "Agreement"]
    assert summary["tables"] == 2 and summary["figures"] == 1 and summary["quotes"] == 6
    assert summary["left_out"] == []
    bad = runner.invoke(app, ["report", built.project.location, "--out", str(tmp_path / "r.pdf")])
    assert isinstance(bad.exception, InputError)
    assert "name the --out file .docx" in str(bad.exception)


def test_report_converts_to_pdf_with_libreoffice(full, tmp_path):
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        pytest.skip("LibreOffice (soffice) is not installed on this machine")
    _, folder, _ = full
    subprocess.run([office, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
                    str(folder / "report.docx")], check=True, capture_output=True, timeout=180)
    from pypdf import PdfReader

    reader = PdfReader(tmp_path / "report.pdf")
    assert len(reader.pages) >= 3
    text = "\n".join(page.extract_text() for page in reader.pages)
    for needle in ("Table 1: Achieved sample", "Table 2: Judgement for each outcome", "Figure 2: Coded segments",
                   "Social Worker", "Appendix: codebook", f"Page 1 of {len(reader.pages)}"):
        assert needle in text


def test_pdf_without_libreoffice_or_with_a_bad_name_writes_nothing(full, tmp_path, monkeypatch):
    from qualcode.cli import app
    from qualcode.errors import ProgramNotInstalled
    from qualcode.reporting import pdf as pdf_module

    report, folder, built = full
    monkeypatch.setattr(pdf_module, "office_program", lambda: None)
    with pytest.raises(ProgramNotInstalled, match="needs LibreOffice.*Fix: install it"):
        report.to_pdf(tmp_path / "r.docx", tmp_path / "r.pdf")
    with pytest.raises(InputError, match="does not exist"):
        report.to_pdf(tmp_path / "r.docx", tmp_path / "missing" / "r.pdf")
    bad = CliRunner().invoke(app, ["report", built.project.location, "--out", str(tmp_path / "r.docx"),
                                   "--pdf", str(tmp_path / "r.docx.txt")])
    assert isinstance(bad.exception, InputError) and "name the --pdf file .pdf" in str(bad.exception)
    assert list(tmp_path.iterdir()) == []


def test_report_refuses_names_unless_pseudonymised_or_allowed(tmp_path):
    from qualcode.errors import NamesInReport

    built = build_project(tmp_path / "p.qc")
    project = built.project
    text = "Jo: We met her son Tyler at 14 Lavender Row and he told us what he wanted, which never happened before.\n"
    doc = add_family_interview(project, text)
    project.add_codings([NewCoding(doc, 4, len(text) - 1, "voice", coder="alex", status="accepted")])
    out = tmp_path / "r.docx"
    with pytest.raises(NamesInReport) as caught:
        build_report(project, name_model=None).to_docx(out)
    message = str(caught.value)
    assert "'Tyler' (Child)" in message and "'14 Lavender Row' (Place)" in message
    assert "Voice of the child" in message  # where it was found
    assert "pseudonymise" in message and "--allow-names" in message  # the fix
    assert not out.exists()
    report = build_report(project, allow_names=True, name_model=None)
    report.to_docx(out)
    first_page = [p.text for p in docx.Document(out).paragraphs[:8]]
    assert any("name check was overridden" in t for t in first_page)
    project.close()


def test_cli_refusal_lists_the_names_and_the_fix(tmp_path, capsys):
    from qualcode.cli.app import main

    built = build_project(tmp_path / "p.qc")
    text = "Jo: We met her son Tyler at 14 Lavender Row and he told us what he wanted, which never happened before.\n"
    doc = add_family_interview(built.project, text)
    built.project.add_codings([NewCoding(doc, 4, len(text) - 1, "voice", coder="alex", status="accepted")])
    built.project.close()
    with pytest.raises(SystemExit) as stopped:
        main(["report", str(tmp_path / "p.qc"), "--out", str(tmp_path / "r.docx")])
    err = capsys.readouterr().err
    assert stopped.value.code == 1 and err.startswith("error: p.qc: the report would print")
    assert "'Tyler' (Child)" in err and "'14 Lavender Row' (Place)" in err  # what, and where:
    assert "Voice of the child" in err
    assert err.strip().splitlines()[-1].startswith("Fix: pseudonymise the project first")
    assert "Traceback" not in err and not (tmp_path / "r.docx").exists()


def test_pseudonymised_is_read_as_the_privacy_package_records_it(tmp_path):
    from qualcode.privacy import runs
    from qualcode.reporting.build import _pseudonymised

    built = build_project(tmp_path / "p.qc")
    assert _pseudonymised(built.project) is False and runs(built.project).empty
    built.project.close()
