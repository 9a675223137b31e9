"""Refuse hostile zip containers before a library unpacks them.

.docx, .xlsx and .odt files are zip archives of XML. A file from outside the team
(a partner's case-audit export, a download) could be built to harm the machine
that opens it: a "zip bomb" that inflates to terabytes, member names such as
``../../.bashrc`` that escape a folder if anyone extracts it, or XML with a
document type definition whose entities expand exponentially ("billion laughs").
Office and OpenDocument files never need any of these, so we refuse them with a
clear message instead of relying on each library's own defences.

>>> import io, zipfile
>>> buf = io.BytesIO()
>>> with zipfile.ZipFile(buf, "w") as z:
...     z.writestr("../evil.txt", "x")
>>> check_zip(buf.getvalue(), "report.docx")
Traceback (most recent call last):
...
qualcode.errors.ImportFailed: report.docx: the archive holds a file named '../evil.txt' that points outside it, which no real .docx does. Fix: do not open this file; ask the sender for a new copy.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from pathlib import Path, PurePosixPath, PureWindowsPath

from qualcode.errors import ImportFailed

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Compound File: old .doc/.xls, or encrypted
_MIN_RATIO_CHECK = 1024 * 1024  # small members may compress very well; only big ones matter
_PROLOG_LIMIT = 1024 * 1024
_RATIO_FLOOR = 64 * 1024 * 1024  # below this many inflated bytes, any compression ratio is fine
_START_TAG = re.compile(rb"<[A-Za-z_]")
_XML_SUFFIXES = (".xml", ".rels", ".vml")


def is_ole(data: bytes) -> bool:
    """True for a Compound File (OLE2): an encrypted Office file or an old binary one.

    >>> is_ole(OLE_MAGIC + b"rest"), is_ole(b"PK\\x03\\x04")
    (True, False)
    """
    return data.startswith(OLE_MAGIC[:4])


def check_zip(
    data: bytes,
    file_name: str | Path,
    max_total: int = 500 * 1024 * 1024,
    max_ratio: int = 100,
    max_members: int = 10_000,
) -> zipfile.ZipFile:
    """Check ``data`` is a safe zip archive and return it opened for reading.

    Raises ``ImportFailed`` if it is not a zip at all, has more than
    ``max_members`` members, a member name with ``..`` or an absolute path, a
    declared uncompressed size over ``max_total`` bytes in all, a member (over
    1 MB) that inflates more than ``max_ratio`` times, members that really inflate
    (counted while reading them) past ``max_total``, or past ``max_ratio`` times the
    archive's size, in all, or an XML part that declares a DTD (``<!DOCTYPE``/``<!ENTITY``).
    """
    name = Path(file_name).name
    kind = Path(name).suffix.lower() or "zip"
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise ImportFailed(
            name,
            f"this is not a valid {kind} file (it is not a readable zip archive; "
            "it may be damaged, cut short, or another kind of file renamed)",
            f"open it in the program that made it and save it again as {kind}",
        ) from None
    refuse = "do not open this file; ask the sender for a new copy"
    if len(members) > max_members:
        raise ImportFailed(
            name, f"the archive holds {len(members)} files (over {max_members})", refuse
        )
    total = 0
    for info in members:
        if _escapes(info.filename):
            raise ImportFailed(
                name,
                f"the archive holds a file named {info.filename!r} that points outside it, "
                f"which no real {kind} does",
                refuse,
            )
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _MIN_RATIO_CHECK and ratio > max_ratio:
            raise ImportFailed(
                name,
                f"part {info.filename!r} would inflate {ratio:.0f} times "
                f"(to {info.file_size:,} bytes): this looks like a zip bomb",
                refuse,
            )
    if total > max_total:
        raise ImportFailed(
            name,
            f"it would unpack to {total:,} bytes, over the {max_total:,}-byte limit",
            "split the file into smaller ones, or remove embedded media and save again",
        )
    _inflate_all(archive, members, name, len(data), max_total, max_ratio)
    return archive


def _inflate_all(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], name: str, size: int,
                 max_total: int, max_ratio: int) -> None:
    """Inflate every member once, counting the bytes it really gives, summed over members.

    Declared sizes can lie and a bomb can be many members each too small to look
    suspicious alone (450 parts of just under 1 MiB), so we count what comes out, in
    64 KiB chunks held one at a time, and stop as soon as the archive as a whole has
    given more than ``max_total`` bytes, or more than ``max_ratio`` times its own size
    (past a floor of 64 MiB: small text-heavy files compress well). Each XML part's
    prolog is checked for a DTD on the way.
    """
    refuse = "do not open this file; ask the sender for a new copy"
    budget = min(max_total, max(_RATIO_FLOOR, max_ratio * size))
    inflated = 0
    for info in members:
        is_xml = info.filename.lower().endswith(_XML_SUFFIXES)
        prolog = b""
        try:
            with archive.open(info) as part:
                while chunk := part.read(64 * 1024):
                    inflated += len(chunk)
                    if inflated > budget:
                        over = "limit" if budget == max_total else f"{max_ratio} times its size"
                        raise ImportFailed(
                            name, f"it unpacks to more than {budget:,} bytes ({over}; reached in part "
                            f"{info.filename!r}): this looks like a zip bomb", refuse)
                    if is_xml and len(prolog) < _PROLOG_LIMIT and not _prolog_done(prolog):
                        prolog += chunk[:_PROLOG_LIMIT]
        except ImportFailed:
            raise
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, ValueError, zlib.error):
            continue  # unreadable parts are the library's to report as damage
        if is_xml and xml_declares_dtd(prolog):
            raise ImportFailed(
                name,
                f"part {info.filename!r} declares a DTD (<!DOCTYPE>/<!ENTITY>), which Office "
                "and OpenDocument files never do and which can be used to attack the reader",
                refuse,
            )


def _prolog_done(prolog: bytes) -> bool:
    return prolog.startswith((b"\xff\xfe", b"\xfe\xff")) or _START_TAG.search(prolog) is not None


def _escapes(member: str) -> bool:
    """True if a member name is absolute or climbs out with ``..``."""
    for path in (PurePosixPath(member), PureWindowsPath(member)):
        if path.is_absolute() or path.anchor or ".." in path.parts:
            return True
    return False


def xml_declares_dtd(data: bytes) -> bool:
    """True if the XML prolog (before the root element) declares a DTD or an entity.

    >>> xml_declares_dtd(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>'), xml_declares_dtd(b"<x/>")
    (True, False)
    """
    head = data[:_PROLOG_LIMIT]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    start = _START_TAG.search(head)
    head = head[: start.start()] if start else head
    return b"<!DOCTYPE" in head or b"<!ENTITY" in head
