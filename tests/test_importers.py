"""Every format parser on files built here, on bad input, and on real exports."""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from qualcode.errors import ImportFailed
from qualcode.importers import ImportOptions, ParsedDocument, known_extensions, parser_for
from qualcode.safezip import OLE_MAGIC

REALDATA = Path(__file__).parents[2] / "shared" / "realdata"


def parse(path: Path, data: bytes | None = None, **options) -> list[ParsedDocument]:
    """Parse ``path`` (or ``data`` as if read from it) with the registered parser."""
    parser = parser_for(path)
    assert parser is not None, f"no parser for {path.suffix}"
    return parser(path, path.read_bytes() if data is None else data, make_options(**options))


def make_options(**options) -> ImportOptions:
    """ImportOptions, plus options the parsers read with getattr until it has them."""
    fields = set(ImportOptions.__dataclass_fields__)
    result = ImportOptions(**{k: v for k, v in options.items() if k in fields})
    for key, value in options.items():
        if key not in fields:
            setattr(result, key, value)
    return result


def parse_one(path: Path, data: bytes | None = None, **options) -> ParsedDocument:
    docs = parse(path, data, **options)
    assert len(docs) == 1
    return docs[0]


def fails(path: Path, data: bytes, match: str, **options) -> str:
    """Assert parsing fails with a message naming the file, the reason and a fix."""
    with pytest.raises(ImportFailed, match=match) as err:
        parse(path, data, **options)
    message = str(err.value)
    assert message.startswith(path.name) and "Fix:" in message
    return message


def assert_turns_well_formed(doc: ParsedDocument) -> None:
    previous_end = 0
    for turn in doc.turns:
        assert previous_end <= turn.start < turn.end <= len(doc.text)
        said = doc.text[turn.start:turn.end]
        assert said == said.strip()
        assert not said.startswith(f"{turn.speaker}:")
        previous_end = turn.end
    times = [t.time_start for t in doc.turns if t.time_start is not None]
    assert times == sorted(times)


INTERVIEW = (
    "Interviewer: How has the whole-family approach changed your practice?\n"
    "Respondent: I see the whole family now, not just the child.\n"
    "Interviewer: What gets in the way?\n"
    "Respondent: Caseloads, mostly.\n"
)


# --- registry -------------------------------------------------------------------


def test_every_format_is_registered():
    for ext in (".txt", ".md", ".docx", ".doc", ".pdf", ".rtf", ".odt", ".vtt", ".srt",
                ".csv", ".xlsx"):
        assert ext in known_extensions()
    assert parser_for(Path("INTERVIEW.DOCX")) is parser_for(Path("a.docx"))


def test_unknown_extension_has_no_parser():
    assert parser_for(Path("recording.mp3")) is None
    assert parser_for(Path("no_extension")) is None


# --- plain text -------------------------------------------------------------------


def test_txt_transcript(tmp_path):
    path = tmp_path / "staff_w1.txt"
    path.write_bytes(INTERVIEW.replace("\n", "\r\n").encode("utf-8"))
    doc = parse_one(path, source_type="staff interview")
    assert doc.name == "staff_w1.txt" and doc.format == "txt" and doc.encoding == "utf-8"
    assert doc.text == INTERVIEW  # CRLF normalised
    assert doc.source_type == "staff interview"
    assert [(t.speaker, t.is_interviewer) for t in doc.turns] == [
        ("Interviewer", True), ("Respondent", False)] * 2
    assert doc.text[doc.turns[3].start:doc.turns[3].end] == "Caseloads, mostly."
    assert_turns_well_formed(doc)


def test_markdown_is_kept_as_written(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("# Case 12\n\n**Worker:** visited.\n\nNote: mum present.\n", "utf-8")
    doc = parse_one(path)
    assert doc.format == "md" and doc.text.startswith("# Case 12") and doc.turns == []


def test_txt_cp1252_fallback_reports_encoding(tmp_path):
    path = tmp_path / "old.txt"
    path.write_bytes("Family’s view – “better”".encode("cp1252"))
    doc = parse_one(path)
    assert doc.encoding == "cp1252" and doc.text == "Family’s view – “better”"


def test_txt_bad_inputs(tmp_path):
    fails(tmp_path / "empty.txt", b"", "empty")
    fails(tmp_path / "blank.txt", b" \n\n ", "empty")
    fails(tmp_path / "report.txt", b"%PDF-1.4\n\x00\x01\x02binary", "binary file")
    fails(tmp_path / "odd.txt", b"ok \x81\x8d\x90 bad", "neither UTF-8 nor Windows-1252")


# --- .docx ---------------------------------------------------------------------------


def make_docx(build) -> bytes:
    import docx

    document = docx.Document()
    build(document)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def test_docx_paragraphs_headings_and_tables_in_order(tmp_path):
    def build(d):
        d.add_heading("Case audit: family 7", level=1)
        d.add_paragraph("Audit carried out in Wave 2.")
        table = d.add_table(rows=2, cols=3)
        for r, row in enumerate([("Question", "Answer", "Notes"),
                                 ("Voice of the child recorded?", "Yes", "In plan")]):
            for c, value in enumerate(row):
                table.cell(r, c).text = value
        merged = d.add_table(rows=1, cols=3)
        merged.cell(0, 0).merge(merged.cell(0, 1)).text = "Merged"
        merged.cell(0, 2).text = "Last"
        d.add_paragraph("Signed off.")

    doc = parse_one(tmp_path / "audit.docx", make_docx(build))
    assert doc.format == "docx"
    assert doc.text == (
        "Case audit: family 7\nAudit carried out in Wave 2.\n"
        "Question | Answer | Notes\nVoice of the child recorded? | Yes | In plan\n"
        "Merged | Last\nSigned off."
    )
    assert doc.turns == []


def test_docx_interview_turns(tmp_path):
    def build(d):
        d.add_heading("Family interview, Wave 1", level=2)
        for line in INTERVIEW.strip().split("\n"):
            d.add_paragraph(line)

    doc = parse_one(tmp_path / "family.docx", make_docx(build))
    assert [t.speaker for t in doc.turns] == ["Interviewer", "Respondent"] * 2
    assert doc.text[doc.turns[1].start:doc.turns[1].end] == (
        "I see the whole family now, not just the child."
    )
    assert_turns_well_formed(doc)


def test_docx_teams_transcript(tmp_path):
    def build(d):
        d.add_paragraph("Transcript")
        d.add_paragraph("3 March 2023, 10:00AM")
        for who, when, said in [("Jane Smith", "0:03", "Morning all."),
                                ("Ali Khan", "0:15", "Hi Jane."),
                                ("Jane Smith", "1:02:10", "Let's begin with the TAF."),
                                ("Ali Khan", "1:02:30", "Sure.")]:
            d.add_paragraph(f"{who}   {when}")
            d.add_paragraph(said)

    doc = parse_one(tmp_path / "teams.docx", make_docx(build))
    assert [(t.speaker, t.time_start) for t in doc.turns] == [
        ("Jane Smith", 3.0), ("Ali Khan", 15.0), ("Jane Smith", 3730.0), ("Ali Khan", 3750.0)]
    assert doc.text[doc.turns[2].start:doc.turns[2].end] == "Let's begin with the TAF."


def test_docx_bad_inputs(tmp_path):
    path = tmp_path / "interview.docx"
    fails(path, b"", "empty")
    fails(path, OLE_MAGIC + bytes(600), "password-protected")
    fails(path, b"just some text, renamed", r"not a valid \.docx")
    good = make_docx(lambda d: d.add_paragraph("x"))
    fails(path, good[: len(good) // 2], r"not a valid \.docx")
    # a zip with broken XML in the main part
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            content = src.read(item)
            if item.filename == "word/document.xml":
                content = content[: len(content) // 2]
            dst.writestr(item, content)
    fails(path, broken.getvalue(), "damaged")
    # a zip that is not a Word document at all
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as dst:
        dst.writestr("hello.txt", "hi")
    fails(path, other.getvalue(), "damaged")
    fails(path, make_docx(lambda d: d.add_paragraph("   ")), "no text")


def test_old_doc_asks_for_docx(tmp_path):
    message = fails(tmp_path / "old.doc", OLE_MAGIC + bytes(100), "old Word")
    assert "save it as .docx" in message


# --- .pdf ------------------------------------------------------------------------------


def make_pdf(pages: list[str | None]) -> bytes:
    """A minimal valid PDF; each page shows its string with Tj, None = no text layer."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids = []
    font_id = 3
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for page in pages:
        lines = [] if page is None else page.split("\n")
        ops = b"".join(
            b"BT /F1 12 Tf 72 %d Td (%s) Tj ET\n" % (720 - 16 * i, line.encode("latin-1"))
            for i, line in enumerate(lines)
        ) or b"0 0 1 rg 72 72 200 200 re f\n"  # a filled box: a "scan" without text
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(ops), ops))
        content_id = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (content_id, font_id)
        )
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def encrypt_pdf(data: bytes, user_password: str, owner_password: str = "owner") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(data)).pages:
        writer.add_page(page)
    writer.encrypt(user_password=user_password, owner_password=owner_password,
                   algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def test_pdf_text_layer_pages_and_turns(tmp_path):
    data = make_pdf(["I: How are things?\nR: Better now.", "I: Why?\nR: The new worker."])
    doc = parse_one(tmp_path / "int.pdf", data)
    assert doc.format == "pdf" and doc.attributes == {"pages": "2"}
    assert "\n\n" in doc.text and "Better now." in doc.text
    assert [t.speaker for t in doc.turns] == ["I", "R", "I", "R"]
    assert doc.text[doc.turns[3].start:doc.turns[3].end] == "The new worker."
    assert_turns_well_formed(doc)


def test_pdf_with_empty_user_password_is_read(tmp_path):
    data = encrypt_pdf(make_pdf(["Case note: visit made."]), user_password="")
    assert "Case note: visit made." in parse_one(tmp_path / "owner_only.pdf", data).text


def test_pdf_bad_inputs(tmp_path):
    path = tmp_path / "report.pdf"
    message = fails(path, encrypt_pdf(make_pdf(["secret"]), user_password="pw"),
                    "password-protected")
    assert "remove the password" in message
    message = fails(path, make_pdf([None, None]), "OCR")
    assert "ocrmypdf" in message and "2 page(s)" in message
    fails(path, b"Hello, not a pdf", "not a PDF")
    fails(path, make_pdf(["text"])[:60], "damaged")
    fails(path, b"%PDF-1.4\n" + bytes(range(256)) * 4, "damaged")


# --- .rtf ------------------------------------------------------------------------------


def test_rtf(tmp_path):
    rtf = (rb"{\rtf1\ansi\deff0{\fonttbl{\f0 Calibri;}}"
           rb"{\b Interview 3}\par I: Did the plan help?\par R: Yes, na\'efve me thought not."
           rb"\par I: And now?\par R: It works \u8212? mostly.\par}")
    doc = parse_one(tmp_path / "int3.rtf", rtf)
    assert doc.format == "rtf"
    assert doc.text.startswith("Interview 3\nI: Did the plan help?")
    assert [t.speaker for t in doc.turns] == ["I", "R", "I", "R"]
    assert doc.text[doc.turns[1].start:doc.turns[1].end] == "Yes, naïve me thought not."
    assert doc.text[doc.turns[3].start:doc.turns[3].end] == "It works \u2014 mostly."


def test_rtf_bad_inputs(tmp_path):
    fails(tmp_path / "a.rtf", b"", "empty")
    fails(tmp_path / "a.rtf", b"plain words, not rtf", "not an RTF")
    fails(tmp_path / "a.rtf", rb"{\rtf1\ansi {\fonttbl\f0 Arial;}}", "no text")


# --- .odt ------------------------------------------------------------------------------


def make_odt() -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, List, ListItem, P

    document = OpenDocumentText()
    body = document.text
    body.addElement(H(outlinelevel=1, text="Staff focus group"))
    for line in INTERVIEW.strip().split("\n"):
        body.addElement(P(text=line))
    items = List()
    for value in ("Group supervision", "Co-location"):
        item = ListItem()
        item.addElement(P(text=value))
        items.addElement(item)
    body.addElement(items)
    table = Table(name="Sample")
    table.addElement(TableColumn(numbercolumnsrepeated=2))
    for row_values in (("Role", "Count"), ("Social worker", "12")):
        row = TableRow()
        for value in row_values:
            cell = TableCell()
            cell.addElement(P(text=value))
            row.addElement(cell)
        table.addElement(row)
    body.addElement(table)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def test_odt(tmp_path):
    doc = parse_one(tmp_path / "focus.odt", make_odt())
    assert doc.format == "odt"
    assert doc.text.startswith("Staff focus group\nInterviewer: How has")
    assert doc.text.endswith("Group supervision\nCo-location\nRole | Count\nSocial worker | 12")
    assert [t.speaker for t in doc.turns] == ["Interviewer", "Respondent"] * 2
    assert_turns_well_formed(doc)


def test_odt_bad_inputs(tmp_path):
    path = tmp_path / "notes.odt"
    fails(path, b"not a zip", r"not a valid \.odt")
    encrypted = io.BytesIO()
    with zipfile.ZipFile(encrypted, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("META-INF/manifest.xml",
                         '<manifest:manifest><manifest:file-entry><manifest:encryption-data/>'
                         "</manifest:file-entry></manifest:manifest>")
        archive.writestr("content.xml", b"\x8f\x12 encrypted bytes")
    fails(path, encrypted.getvalue(), "password-protected")
    damaged = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(make_odt())) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            content = src.read(item)
            dst.writestr(item, content[:40] if item.filename == "content.xml" else content)
    fails(path, damaged.getvalue(), "damaged")


# --- captions ----------------------------------------------------------------------


VTT = """WEBVTT

NOTE made by hand

1
00:00:01.000 --> 00:00:04.000
<v Interviewer>What changed <i>first</i>?

2
00:00:04.500 --> 00:00:06.000 align:start
<v Sam Jones>The <c.yellow>meetings</c>, &amp; then
the <00:00:05.200>visits.

00:00:06.000 --> 00:00:08.250
and the paperwork.

00:08.500 --> 00:10.000
<v Interviewer>Thanks.</v>
"""


def test_vtt_voice_tags_merge_into_turns(tmp_path):
    doc = parse_one(tmp_path / "int.vtt", VTT.encode("utf-8"))
    assert doc.format == "vtt"
    assert doc.text == (
        "Interviewer: What changed first?\n"
        "Sam Jones: The meetings, & then the visits. and the paperwork.\n"
        "Interviewer: Thanks."
    )
    assert [(t.speaker, t.is_interviewer, t.time_start, t.time_end) for t in doc.turns] == [
        ("Interviewer", True, 1.0, 4.0),
        ("Sam Jones", False, 4.5, 8.25),
        ("Interviewer", True, 8.5, 10.0),
    ]
    assert doc.text[doc.turns[1].start:doc.turns[1].end] == (
        "The meetings, & then the visits. and the paperwork.")
    assert doc.attributes == {"speakers": "Interviewer, Sam Jones", "duration": "10"}
    assert_turns_well_formed(doc)


SRT = """1
00:00:00,500 --> 00:00:02,000
Jo: So how did the
review go?

2
00:00:02,100 --> 00:00:03,000
Ali: Fine.

3
00:00:03,000 --> 00:00:05,000
Mostly fine.

4
00:00:05,500 --> 00:00:06,000
Jo: Good.

5
00:00:06,500 --> 00:00:07,000
Well I think: no.
"""


def test_srt_name_prefixes_and_inheritance(tmp_path):
    doc = parse_one(tmp_path / "int.srt", SRT.encode("cp1252"), interviewer_names=["jo"])
    assert doc.format == "srt"
    assert doc.text == (
        "Jo: So how did the review go?\nAli: Fine. Mostly fine.\nJo: Good. Well I think: no.")
    assert [(t.speaker, t.time_start, t.time_end, t.is_interviewer) for t in doc.turns] == [
        ("Jo", 0.5, 2.0, True), ("Ali", 2.1, 5.0, False), ("Jo", 5.5, 7.0, True)]
    assert doc.attributes["speakers"] == "Jo, Ali"


def test_captions_without_speakers_keep_text_in_paragraphs(tmp_path):
    vtt = ("WEBVTT\n\n00:01.000 --> 00:02.000\nHello there.\n\n"
           "00:02.100 --> 00:03.000\nWelcome.\n\n00:09.000 --> 00:10.500\nAfter a pause.\n")
    doc = parse_one(tmp_path / "whisper.vtt", vtt.encode())
    assert doc.turns == []
    assert doc.text == "Hello there. Welcome.\nAfter a pause."
    assert doc.attributes == {"duration": "10.5"}


def test_caption_bad_inputs(tmp_path):
    fails(tmp_path / "a.vtt", b"", "empty")
    fails(tmp_path / "a.vtt", b"00:01.000 --> 00:02.000\nno header\n", "must start with")
    bad = b"WEBVTT\n\n00:01.000 --> 00:02.000\nok\n\n00:03.000 --> 00:0x.000\nbad\n"
    with pytest.raises(ImportFailed, match="00:0x.000") as err:
        parse(tmp_path / "a.vtt", bad)
    assert err.value.where == "6"
    fails(tmp_path / "a.vtt", b"WEBVTT\n\nNOTE only a comment\n", "no captions")
    fails(tmp_path / "a.srt", b"this is not\nan srt file\n", "not a valid caption file")
    fails(tmp_path / "a.srt", b"1\n00:00:01,000 --> 00:00:02\nHi\n", "cannot be read")


# --- tables ------------------------------------------------------------------------------


SURVEY = (
    "response_id,wave,role,comment,other\n"
    "R1,1,Social worker,More time with families,\n"
    "R2,1,Manager,,\n"
    'R3,2,Social worker,"Caseloads are lower, finally","Line one\nline two"\n'
)


def test_csv_one_document_per_row(tmp_path):
    path = tmp_path / "survey.csv"
    docs = parse(path, SURVEY.encode("utf-8"), text_columns=["comment"])
    assert [d.name for d in docs] == ["survey.csv#R1", "survey.csv#R3"]  # R2 has no text
    assert docs[1].text == "Caseloads are lower, finally"
    assert docs[1].attributes == {"response_id": "R3", "wave": "2", "role": "Social worker",
                                  "other": "Line one\nline two"}
    assert docs[0].format == "csv" and docs[0].encoding == "utf-8" and docs[0].turns == []


def test_csv_several_text_columns_attribute_columns_and_case(tmp_path):
    data = ("ID;Case;Wave;Note;Follow-up\n7;C-01;1;Visited;Call GP\n7;C-02;2;Phoned;\n")
    docs = parse(tmp_path / "notes.csv", data.encode("cp1252"),
                 text_columns=["note", "Follow-up"], attribute_columns=["Wave"])
    # ids repeat, so rows are named by number; the case column is found by name
    assert [(d.name, d.case, d.text, d.attributes) for d in docs] == [
        ("notes.csv#row 1", "C-01", "Visited\n\nCall GP", {"Wave": "1"}),
        ("notes.csv#row 2", "C-02", "Phoned", {"Wave": "2"}),
    ]


def test_tsv_and_explicit_case_column(tmp_path):
    data = "family\tsummary\nF1\tWhole family seen\n\t\nF2\tDad engaged\n"
    docs = parse(tmp_path / "cases.tsv", data.encode(), text_columns=["summary"],
                 case_column="family")
    assert [(d.name, d.case) for d in docs] == [("cases.tsv#row 1", "F1"),
                                                ("cases.tsv#row 3", "F2")]


def test_csv_missing_column_lists_the_columns(tmp_path):
    message = fails(tmp_path / "survey.csv", SURVEY.encode(), "no column 'comments'",
                    text_columns=["comments"])
    assert "columns are: response_id, wave, role, comment, other" in message
    assert "--text-column" in message
    message = fails(tmp_path / "survey.csv", b"id,wave,role\n1,1,Manager\n", "no column of free text")
    assert "columns are: id, wave, role" in message
    fails(tmp_path / "survey.csv", SURVEY.encode(), "no column 'team'",
          text_columns=["comment"], attribute_columns=["team"])


def test_csv_bad_inputs(tmp_path):
    fails(tmp_path / "s.csv", b"", "empty")
    fails(tmp_path / "s.csv", b"\x00\x01PK binary", "binary")
    fails(tmp_path / "s.csv", SURVEY.encode(), "over the 10-byte limit",
          text_columns=["comment"], max_bytes=10)


def make_xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_xlsx_first_sheet_and_cell_types(tmp_path):
    import datetime as dt

    data = make_xlsx({
        "Wave 1": [["note_id", "date", "score", "text"],
                   [101, dt.datetime(2016, 3, 1), 3.0, "Signs of Safety mapping done"],
                   [102, dt.datetime(2016, 3, 2, 14, 30), 2.5, None],
                   [103, None, 4, "Danger statement agreed"]],
        "Wave 2": [["note_id", "text"], [1, "Later"]],
    })
    docs = parse(tmp_path / "notes.xlsx", data, text_columns=["text"])
    assert [d.name for d in docs] == ["notes.xlsx#101", "notes.xlsx#103"]
    assert docs[0].attributes == {"note_id": "101", "date": "2016-03-01", "score": "3"}
    assert docs[1].attributes["date"] == "" and docs[0].format == "xlsx"


def test_xlsx_named_sheet(tmp_path):
    data = make_xlsx({"Wave 1": [["text"], ["a"]], "Wave 2": [["text"], ["b"]]})
    docs = parse(tmp_path / "x.xlsx", data, text_columns=["text"], sheet="Wave 2")
    assert [d.text for d in docs] == ["b"]
    fails(tmp_path / "x.xlsx", data, "sheets are: Wave 1, Wave 2", text_columns=["text"],
          sheet="Wave 9")


def test_xlsx_rows_stream_one_at_a_time(tmp_path):
    # A council's case-note extract is 100,000+ rows: the sheet is read row by row,
    # not into one list first (openpyxl's read-only mode streams the sheet's XML).
    from qualcode.importers.tabular import read_xlsx

    rows = [["note_id", "text"]] + [[i, f"Home visit {i}: the family engaged well."] for i in range(1, 3001)]
    data = make_xlsx({"Notes": rows})
    table = read_xlsx(tmp_path / "notes.xlsx", data, ImportOptions(text_columns=["text"]))
    assert table.header == ["note_id", "text"] and table.estimated_rows == 3000
    assert iter(table.rows) is table.rows  # an iterator, not a list
    assert next(table.rows) == (1, ["1", "Home visit 1: the family engaged well."])
    assert sum(1 for _ in table.rows) == 2999
    docs = parse(tmp_path / "notes.xlsx", data, text_columns=["text"])
    assert len(docs) == 3000 and docs[-1].name == "notes.xlsx#3000"


def test_xlsx_bad_inputs(tmp_path):
    path = tmp_path / "survey.xlsx"
    fails(path, OLE_MAGIC + bytes(600), "password-protected", text_columns=["t"])
    fails(path, b"not a workbook", r"not a valid \.xlsx", text_columns=["t"])
    good = make_xlsx({"S": [["t"], ["x"]]})
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            if item.filename != "xl/workbook.xml":
                dst.writestr(item, src.read(item))
    fails(path, broken.getvalue(), "damaged", text_columns=["t"])
    message = fails(path, good, "no column 'comment'", text_columns=["comment"])
    assert "columns are: t" in message
    fails(tmp_path / "old.xls", OLE_MAGIC, "old Excel")


# --- real exports --------------------------------------------------------------------


def real(relative: str) -> Path:
    path = REALDATA / relative
    if not path.exists():
        pytest.skip(f"real export {relative} is absent (shared/realdata/ not beside the repo)")
    return path


OTTER = "transcripts-otter-descript-whisper/2022"
CAPTIONS = "captions-vtt-srt"
WHISPER = "transcripts-otter-descript-whisper/2023/Goodboy Galaxy/Goodboy Galaxy - Rik Nicol"


def test_real_otter_two_speakers():
    doc = parse_one(real(f"{OTTER}/Betty & Earl/Interview with Matthew Brelsford, "
                         "creator of Betty & Earl.md"), interviewer_names=["Jonas Rosland"])
    assert Counter(t.speaker for t in doc.turns) == {"Jonas Rosland": 27,
                                                     "Matthew Brelsford": 27}
    assert all(t.is_interviewer == (t.speaker == "Jonas Rosland") for t in doc.turns)
    assert doc.turns[0].time_start == 22.0 and doc.turns[-1].time_start == 46 * 60 + 9
    assert doc.text[doc.turns[-1].start:doc.turns[-1].end] == (
        "Thanks, Jonas. Thanks for having me.")
    assert "Interviewer is Jonas Rosland" in doc.text[:doc.turns[0].start]
    assert_turns_well_formed(doc)


def test_real_otter_group_interview_with_unknown_speaker():
    doc = parse_one(real(f"{OTTER}/Super Marxist Twins/Super Marxist Twins - Interview with "
                         "Eric Kesterson, Saun Conlin, Jim Bochanski, and Nick Zaleski.md"))
    speakers = Counter(t.speaker for t in doc.turns)
    assert len(speakers) == 6 and speakers["Unknown Speaker"] == 1
    assert speakers["Jonas Rosland"] == 61
    assert doc.text[doc.turns[1].start:doc.turns[1].end] == "First, Eric,"
    assert_turns_well_formed(doc)


def test_real_descript_bold_labels_with_sparse_timestamps():
    doc = parse_one(real("transcripts-otter-descript-whisper/2021/Wintermoor Tactics Club/"
                         "Wintermoor Tactics Club interview transcription.md"))
    assert Counter(t.speaker for t in doc.turns) == {
        "Ryan Anderson": 110, "Kyla Fury": 84, "Ben Walker": 51, "Jonas Rosland": 45}
    first = doc.turns[0]
    assert first.time_start == 0.0 and doc.text[first.start:].startswith("hi everyone.")
    assert doc.turns[1].time_start is None
    assert all("**" not in doc.text[t.start:t.start + 3] for t in doc.turns)
    assert_turns_well_formed(doc)


@pytest.mark.parametrize("name", ["example_long_2024-01-26.vtt", "example.srt"])
def test_real_podcast_captions_speaker_on_first_cue_only(name):
    doc = parse_one(real(f"{CAPTIONS}/{name}"))
    assert [t.speaker for t in doc.turns] == [
        "Travis", "Sarah", "Travis", "Gilon", "Travis", "Gilon", "Travis", "Sarah",
        "Gilon", "Travis"]
    assert doc.attributes["speakers"] == "Travis, Sarah, Gilon"
    assert 750 < float(doc.attributes["duration"]) < 760
    assert doc.text.count("\n") == len(doc.turns) - 1
    for turn, line in zip(doc.turns, doc.text.split("\n")):
        assert line == f"{turn.speaker}: {doc.text[turn.start:turn.end]}"
        assert turn.time_start < turn.time_end
    assert "&amp;" not in doc.text and "<v" not in doc.text
    assert 2400 < len(doc.text.split()) < 2800
    assert_turns_well_formed(doc)


def test_real_short_vtt_voice_on_every_cue():
    doc = parse_one(real(f"{CAPTIONS}/example_short_HEAD.vtt"))
    assert [t.speaker for t in doc.turns] == ["Sarah", "Gillian"]
    assert "Podcasting Q&A" in doc.text
    assert doc.turns[0].time_start == 0.0 and doc.turns[1].time_end == 25.35


@pytest.mark.parametrize("ext", [".vtt", ".srt"])
def test_real_whisper_without_speakers(ext):
    doc = parse_one(real(WHISPER + ext))
    assert doc.turns == [] and "speakers" not in doc.attributes
    assert doc.text.startswith("Hello everyone and welcome to yet another Hit Save podcast.")
    assert len(doc.text.split()) > 6000 and doc.text.count("\n") > 20
    assert float(doc.attributes["duration"]) > 3000
