"""Decoding and normalising text: the canonical text codings point into."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualcode.errors import ImportFailed
from qualcode.textnorm import decode_text, normalise_text


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("a\r\nb\rc\nd", "a\nb\nc\nd"),
        ("\ufeffhello", "hello"),
        ("Cafe\u0301", "Caf\u00e9"),  # NFC composes e + combining acute
        ("tab\tkept\x00\x07\x1b\x7f\x9b gone", "tab\tkept gone"),
        ("page one\x0cpage two", "page one\npage two"),  # form feed is a line break
        ("  spaces  and\n\n\nblank lines  ", "  spaces  and\n\n\nblank lines  "),
    ],
)
def test_normalise_text(raw, expected):
    assert normalise_text(raw) == expected


@settings(deadline=None)
@given(st.text())
def test_normalise_text_is_idempotent(s):
    once = normalise_text(s)
    assert normalise_text(once) == once
    assert "\r" not in once and not once.startswith("\ufeff")


def test_decode_utf8_with_bom():
    assert decode_text("\ufeffCafé".encode("utf-8"), "a.txt") == ("Café", "utf-8-sig")


def test_decode_plain_utf8():
    assert decode_text("naïve — “quoted”".encode("utf-8"), "a.txt") == (
        "naïve — “quoted”",
        "utf-8",
    )


def test_decode_falls_back_to_cp1252():
    data = "Social worker’s café notes – £20".encode("cp1252")
    text, encoding = decode_text(data, "notes.txt")
    assert encoding == "cp1252"
    assert text == "Social worker’s café notes – £20"


def test_decode_utf16_with_bom_is_not_binary():
    text, encoding = decode_text("I: hello".encode("utf-16"), "a.txt")
    assert (text, encoding) == ("I: hello", "utf-16")


def test_undecodable_bytes_name_the_file_and_the_fix():
    data = b"valid start \x81\x8d\x8f\x90\x9d not cp1252"  # invalid UTF-8, undefined in cp1252
    with pytest.raises(ImportFailed) as err:
        decode_text(data, "odd.txt")
    message = str(err.value)
    assert message.startswith("odd.txt: ")
    assert "UTF-8" in message and "Fix:" in message


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n  "])
def test_empty_or_blank_file_fails(data):
    with pytest.raises(ImportFailed, match="empty"):
        decode_text(data, "blank.txt")


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(200),  # a .docx
        bytes(range(256)) * 4,
        b"\x01\x02\x03\x04\x05\x06 text \x0e\x0f\x10\x11\x12\x13\x14\x15",  # many controls
    ],
)
def test_binary_content_is_refused(data):
    with pytest.raises(ImportFailed, match="binary file"):
        decode_text(data, "renamed.txt")


def test_decode_path_object_names_the_file(tmp_path):
    with pytest.raises(ImportFailed, match=r"^empty\.txt:"):
        decode_text(b"", tmp_path / "empty.txt")
