"""Hostile zip containers are refused before any library unpacks them."""

from __future__ import annotations

import io
import zipfile

import pytest

from qualcode.errors import ImportFailed
from qualcode.safezip import OLE_MAGIC, check_zip, is_ole


def make_zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buf.getvalue()


def test_ordinary_archive_passes_and_is_returned_open():
    data = make_zip({"word/document.xml": b'<?xml version="1.0"?><w:document/>', "a.txt": b"x"})
    archive = check_zip(data, "ok.docx")
    assert archive.read("a.txt") == b"x"


@pytest.mark.parametrize(
    "member", ["../evil.xml", "word/../../evil.xml", "/etc/passwd", "C:/Windows/evil.xml",
               "..\\..\\evil.xml", "\\\\server\\share\\x.xml"],
)
def test_path_traversal_is_refused(member):
    with pytest.raises(ImportFailed, match="points outside") as err:
        check_zip(make_zip({member: b"x"}), "case.docx")
    assert str(err.value).startswith("case.docx: ")


def test_zip_bomb_by_ratio_is_refused():
    data = make_zip({"xl/worksheets/sheet1.xml": bytes(20 * 1024 * 1024)})
    assert len(data) < 100_000
    with pytest.raises(ImportFailed, match="zip bomb"):
        check_zip(data, "survey.xlsx")


def test_declared_total_over_the_cap_is_refused():
    data = make_zip({f"part{i}.bin": bytes(600_000) for i in range(3)}, zipfile.ZIP_STORED)
    with pytest.raises(ImportFailed, match="over the 1,000,000-byte limit"):
        check_zip(data, "big.odt", max_total=1_000_000)


def test_small_well_compressed_members_are_fine():
    check_zip(make_zip({"content.xml": b"<a/>" + b" " * 500_000}), "fine.odt")


def test_too_many_members_is_refused():
    data = make_zip({f"m{i}.xml": b"<a/>" for i in range(30)})
    with pytest.raises(ImportFailed, match="30 files"):
        check_zip(data, "many.docx", max_members=20)


@pytest.mark.parametrize(
    "xml",
    [
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">]>\n<w:document/>',
        b"<!-- a comment -->" + b" " * 40_000 + b"<!DOCTYPE x SYSTEM 'file:///etc/passwd'><x/>",
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY b "c">]><a/>'.encode(
            "utf-16"
        ),
    ],
)
def test_xml_parts_with_a_dtd_are_refused(xml):
    with pytest.raises(ImportFailed, match="DTD"):
        check_zip(make_zip({"word/document.xml": xml}), "entity.docx")


def test_doctype_text_after_the_root_element_is_not_a_dtd():
    xml = b"<w:document><w:t>&lt;!DOCTYPE is just text</w:t><!-- <!DOCTYPE --></w:document>"
    check_zip(make_zip({"word/document.xml": xml}), "ok.docx")


@pytest.mark.parametrize("data", [b"", b"not a zip at all", b"PK\x03\x04broken"])
def test_not_a_zip_names_the_format(data):
    with pytest.raises(ImportFailed, match=r"not a valid \.docx file"):
        check_zip(data, "broken.docx")


def test_is_ole():
    assert is_ole(OLE_MAGIC + bytes(100))
    assert not is_ole(make_zip({"a": b"b"}))
