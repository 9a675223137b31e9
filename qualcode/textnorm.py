"""Turn the bytes of a text file into the one canonical text a document stores.

Codings are character offsets into a document's text, so the text must be fixed
once, at import, and be the same whichever tool wrote the file: Windows CRLF and
old-Mac CR endings become LF, a byte-order mark goes, Unicode is composed (NFC, so
"é" is one code point whether the source wrote it as one or two), and stray control
characters that some exports leave behind are dropped. Nothing else is touched.

>>> normalise_text("\\ufeffCafe\\u0301 notes\\r\\nline two\\x07")
'Café notes\\nline two'
>>> decode_text("Caf\\xe9".encode("cp1252"), "notes.txt")
('Café', 'cp1252')
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from qualcode.errors import ImportFailed

# Vertical tab, form feed (PDF and Word page breaks) and NEL separate lines: keep a
# line break there rather than gluing the words on either side together.
_LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\x85]")
# Every other C0/C1 control character except tab and line feed.
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")

_LEGACY = ("cp1252", "cp1250", "cp1251", "iso8859_2", "iso8859_7", "cp1254")
_SAMPLE = 64 * 1024  # bytes looked at when deciding whether a file is text
_MAX_CONTROL_SHARE = 0.10
_CONTROL_BYTES = bytes(b for b in range(0x20) if b not in (0x09, 0x0A, 0x0C, 0x0D))


def normalise_text(s: str) -> str:
    """The canonical form of ``s``: LF line ends, NFC, no BOM or stray controls.

    Idempotent: ``normalise_text(normalise_text(s)) == normalise_text(s)``.

    >>> normalise_text("a\\rb\\r\\nc\\td")
    'a\\nb\\nc\\td'
    """
    s = _LINE_BREAKS.sub("\n", s)
    s = _CONTROLS.sub("", s)
    s = unicodedata.normalize("NFC", s)
    return s.lstrip("\ufeff")


def count_words(text: str, chunk: int = 1 << 20) -> int:
    """The number of whitespace-separated words, as ``len(text.split())``, in bounded memory.

    ``split`` on a 200 MB text builds a list of some 35 million strings (several GB);
    counting a megabyte at a time, cut at a space, keeps one megabyte's list at once.

    >>> count_words("one two  three\\nfour"), count_words("ab cd ef", chunk=4), count_words("")
    (4, 3, 0)
    """
    if len(text) <= chunk:
        return len(text.split())
    words = start = 0
    while start < len(text):
        end = min(start + chunk, len(text))
        while end < len(text) and not text[end].isspace():
            end += 1  # never cut a word in two
        words += len(text[start:end].split())
        start = end
    return words


def decode_text(data: bytes, file_name: str | Path) -> tuple[str, str]:
    """Decode ``data`` and say which encoding worked: (text, encoding).

    Tries, in order, UTF-8 with a BOM, UTF-16 with a BOM (Notepad's "Unicode") or
    without one, plain UTF-8, then a legacy encoding detected by charset-normalizer
    (Windows-1252, what Word and Excel on Windows write as "ANSI", when unsure). A file
    whose lines mix UTF-8 and a legacy encoding is decoded line by line and its
    encoding reported as e.g. ``"utf-8+cp1252"`` (see ``is_mixed``), so importers warn.
    The text is returned as decoded (BOM removed); pass it to ``normalise_text``.

    Raises ``ImportFailed`` for an empty or whitespace-only file, for binary
    content (a .docx or .pdf renamed to .txt, say) and for bytes that are neither
    UTF-8 nor Windows-1252.

    >>> decode_text(b"\\xef\\xbb\\xbfhello", "a.txt")
    ('hello', 'utf-8-sig')
    """
    name = Path(file_name).name
    if not data.strip():
        raise ImportFailed(
            name, "the file is empty (or holds only blank space)", "export it again with its text"
        )
    if data.startswith(b"\xef\xbb\xbf"):
        return _decode(data, "utf-8-sig", name), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _decode(data, "utf-16", name)
        _require_text(text, name)
        return text, "utf-16"
    if _looks_binary(data[:_SAMPLE]):
        text = _utf16_without_bom(data)
        if text is not None:
            _require_text(text, name)
            return text, "utf-16"
        raise ImportFailed(
            name,
            "this looks like a binary file, not text; was it renamed to .txt?",
            "import the original file with its real extension (.docx, .pdf, ...) "
            "or save it as plain text from the program that made it",
        )
    try:
        text, encoding = data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = _not_utf8(data, name)
    _require_text(text, name)
    return text, encoding


def is_mixed(encoding: str | None) -> bool:
    """Whether ``decode_text`` had to decode the lines of one file in different encodings."""
    return bool(encoding) and "+" in encoding


def mixed_warning(encoding: str) -> str:
    """What to tell the user about a file whose lines came in two encodings."""
    legacy = encoding.split("+", 1)[1]
    return (f"its lines mix two encodings (UTF-8 and {legacy}, as when text pasted from two programs "
            f"is saved together): each line was read in its own; check accented letters and quotes, "
            f"and save the file as UTF-8 to be sure")


def _not_utf8(data: bytes, name: str) -> tuple[str, str]:
    """Bytes that are not all UTF-8: some lines may be (a mixed file), the rest a legacy encoding.

    The legacy encoding is detected with charset-normalizer; Windows-1252 when it has
    no better answer (what Word and Excel on Windows write as "ANSI").
    """
    legacy = _legacy_encoding(data)
    lines = data.splitlines(keepends=True)
    utf8_lines = 0
    decoded = []
    for line in lines:
        try:
            text = line.decode("utf-8")
            utf8_lines += not line.isascii()
        except UnicodeDecodeError:
            text = _decode(line, legacy, name)
        decoded.append(text)
    return "".join(decoded), (f"utf-8+{legacy}" if utf8_lines else legacy)


def _legacy_encoding(data: bytes) -> str:
    """The legacy (8-bit) encoding charset-normalizer finds for ``data``.

    Windows-1252 wins when it reads as cleanly as the best: English text with a few
    accents and curly quotes reads the same as cp1250, and Word and Excel on English
    Windows write cp1252. Bytes no candidate reads as a language stay cp1252, and fail.
    """
    from charset_normalizer import from_bytes

    sample = b"\n".join(line for line in data[:_SAMPLE * 4].splitlines() if not line.isascii()) or data[:_SAMPLE]
    matches = list(from_bytes(sample, cp_isolation=list(_LEGACY)))
    if not matches:
        return "cp1252"
    best = matches[0]
    if any(m.encoding == "cp1252" and m.chaos <= best.chaos + 0.01 for m in matches) or not best.coherence:
        return "cp1252"
    return best.encoding


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without a byte-order mark (some exports), told from binary by charset-normalizer."""
    sample = data[:_SAMPLE]
    if len(sample) < 4 or sample.count(b"\x00") < len(sample) // 4:
        return None
    from charset_normalizer import from_bytes

    best = from_bytes(sample, cp_isolation=["utf_16_le", "utf_16_be"]).best()
    if best is None:
        return None
    try:
        return data.decode(best.encoding)
    except UnicodeDecodeError:
        return None


def _decode(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        raise ImportFailed(
            name,
            "the text is neither UTF-8 nor Windows-1252 "
            f"(undecodable byte at position {err.start})",
            "open it in a text editor and save it as UTF-8",
        ) from None


def _require_text(text: str, name: str) -> None:
    if not text.strip():
        raise ImportFailed(
            name, "the file is empty (or holds only blank space)", "export it again with its text"
        )


def _looks_binary(sample: bytes) -> bool:
    """NUL bytes, or more than a tenth control bytes: no text export looks like that."""
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > _MAX_CONTROL_SHARE * len(sample)
