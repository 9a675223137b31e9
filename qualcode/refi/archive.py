"""Open a REFI-QDA project archive (.qdpx) safely and find the files it refers to.

A .qdpx is a zip holding ``project.qde`` (the XML) and a sources folder with each
source's text. Tools differ in the details: ATLAS.ti 8 names the XML ``Project.qde``,
NVivo for Windows the folder ``Sources/``, NVivo for Mac and MAXQDA ``sources/``; the
XML points at a file as ``internal://<name>`` (in the archive) or ``relative://`` /
an absolute path (beside the original project, never shipped). We look names up
without regard to case and refuse hostile archives (``safezip.check_zip``: traversal,
bombs, DTDs) before reading anything.

>>> import io, zipfile
>>> buf = io.BytesIO()
>>> with zipfile.ZipFile(buf, "w") as z:
...     z.writestr("Project.qde", "<Project/>"); z.writestr("Sources/A.TXT", "hello")
>>> box = QdpxArchive(buf.getvalue(), "x.qdpx")
>>> box.project_xml(), box.source_bytes("internal://a.txt")
(b'<Project/>', b'hello')
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

from ..errors import ImportFailed
from ..safezip import check_zip

MAX_MEMBER = 512 * 1024 * 1024  # one member larger than this is refused, not inflated


class QdpxArchive:
    """The members of a checked .qdpx archive, by case-insensitive name."""

    def __init__(self, data: bytes, file_name: str | Path):
        self.name = Path(file_name).name
        self._zip: zipfile.ZipFile = check_zip(data, self.name)
        self._members: dict[str, zipfile.ZipInfo] = {}
        for info in self._zip.infolist():
            if not info.is_dir():
                self._members.setdefault(info.filename.strip("/").lower(), info)

    def project_xml(self) -> bytes:
        """The ``project.qde`` member at the top of the archive."""
        info = self._members.get("project.qde")
        if info is None:
            raise ImportFailed(self.name, "the .qdpx archive has no project.qde",
                               "export the project again as REFI-QDA (.qdpx) from the QDA program")
        return self._read(info)

    def source_bytes(self, reference: str) -> bytes | None:
        """The bytes a ``plainTextPath``/``path`` points at, or None if not in the archive.

        ``internal://NAME`` is looked for in the sources folder (any case) and at the top.
        """
        if not reference or not reference.lower().startswith("internal://"):
            return None
        name = reference[len("internal://"):].strip("/")
        if not name or ".." in PurePosixPath(name).parts:
            return None
        for candidate in (f"sources/{name}", name):
            info = self._members.get(candidate.lower())
            if info is not None:
                return self._read(info)
        return None

    def _read(self, info: zipfile.ZipInfo) -> bytes:
        if info.file_size > MAX_MEMBER:
            raise ImportFailed(self.name, f"{info.filename} would inflate to {info.file_size:,} bytes",
                               "do not open this file; ask the sender for a new export")
        with self._zip.open(info) as fh:
            return fh.read(MAX_MEMBER + 1)[:MAX_MEMBER]
