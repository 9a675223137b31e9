"""REFI-QDA codebook exchange: write ``.qdc`` files, read ``.qdc`` and ``.qdpx`` codebooks.

REFI-QDA (QDA-XML 1.0, the standard NVivo, ATLAS.ti and MAXQDA read and write) carries
a code's name, hierarchy, colour, a free-text ``Description`` and a GUID; nothing else.
We write the definition as the Description and derive each GUID from the codebook id
and the code id (uuid5), so exporting the same codebook twice gives the same GUIDs and
a file coming back from another tool can be matched to our codes by GUID. Everything
REFI cannot carry (ids, criteria, examples, keywords, patterns, outcome links, kind)
stays in the YAML: pass the original codebook as ``reference`` when importing and those
fields are taken from it for every code matched by GUID (or, failing that, by its path
of names).

>>> data = to_qdc(codebook)                                        # doctest: +SKIP
>>> back = read_refi("exported.qdc", reference=codebook)            # doctest: +SKIP
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from pathlib import Path, PurePosixPath

from lxml import etree

from .. import __version__
from ..codebook import Code, Codebook, ChangeEntry
from ..errors import CodebookError

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_NS = "urn:QDA-XML:project:1.0"
GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/qualcode/qualcode/codebook")
MAX_PROJECT_XML = 512 * 1024 * 1024  # project.qde larger than this is refused, not inflated


def code_guid(codebook_id: str, code_id: str) -> str:
    """The stable REFI GUID of a code: the same ids always give the same GUID.

    >>> code_guid("dfe", "feature") == code_guid("dfe", "feature")
    True
    """
    return str(uuid.uuid5(GUID_NAMESPACE, f"{codebook_id}/{code_id}")).upper()


# -- export ---------------------------------------------------------------------


def to_qdc(codebook: Codebook) -> bytes:
    """The codebook as REFI-QDA ``.qdc`` XML (valid against Codebook.xsd)."""
    root = etree.Element(f"{{{CODEBOOK_NS}}}CodeBook", nsmap={None: CODEBOOK_NS},
                         origin=f"qualcode {__version__}")
    codes = etree.SubElement(root, f"{{{CODEBOOK_NS}}}Codes")
    for code in codebook.roots():
        _code_element(codes, codebook, code)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _code_element(parent: etree._Element, codebook: Codebook, code: Code) -> None:
    attrs = {"guid": code_guid(codebook.id, code.id), "name": code.name, "isCodable": "true"}
    if code.colour:
        attrs["color"] = code.colour
    element = etree.SubElement(parent, f"{{{CODEBOOK_NS}}}Code", attrs)
    if code.definition:
        etree.SubElement(element, f"{{{CODEBOOK_NS}}}Description").text = code.definition
    for child in codebook.children(code.id):
        _code_element(element, codebook, child)


def write_qdc(codebook: Codebook, path: str | Path) -> Path:
    path = Path(path)
    path.write_bytes(to_qdc(codebook))
    return path


# -- import ---------------------------------------------------------------------


def read_refi(path: str | Path, reference: Codebook | None = None) -> Codebook:
    """The codebook of a ``.qdc`` file, or the ``<CodeBook>`` inside a ``.qdpx`` project.

    Without ``reference``, ids are made from the names (``parent_slug.child_slug``), the
    codebook id from the file name, and the version is 1.0.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise CodebookError(str(path), "no such file", "check the path") from None
    if path.suffix.lower() == ".qdpx":
        data = _project_xml(data, path)
    root = _parse_xml(data, path)
    books = [root] if _local(root.tag) == "CodeBook" else list(root.iter("{*}CodeBook"))
    if not books and _local(root.tag) != "Project":
        raise CodebookError(str(path), f"the file holds <{_local(root.tag)}>, not a REFI <CodeBook> or <Project>",
                            "export the codebook (or the whole project) from the QDA program again")
    # A project with no codes yet has no <CodeBook>: that is an empty codebook, not an error.
    codes_el = books[0].find("{*}Codes") if books else None
    origin = (books[0].get("origin") if books else None) or root.get("origin") or "another QDA program"
    imported = _codes_from(codes_el, path) if codes_el is not None else []
    return _assemble(imported, path, origin, reference)


def _project_xml(data: bytes, path: Path) -> bytes:
    """The ``project.qde`` member of a .qdpx zip, after checking the archive is safe."""
    from ..safezip import check_zip

    archive = check_zip(data, path)
    members = [i for i in archive.infolist() if PurePosixPath(i.filename).name.lower() == "project.qde"
               and "/" not in i.filename.strip("/")]
    if not members:
        raise CodebookError(str(path), "the .qdpx archive has no project.qde",
                            "export the project again as REFI-QDA (.qdpx) from the QDA program")
    info = members[0]
    if info.file_size > MAX_PROJECT_XML:
        raise CodebookError(str(path), f"project.qde would inflate to {info.file_size} bytes",
                            "do not open this file; ask the sender for a new export")
    with archive.open(info) as fh:
        return fh.read(MAX_PROJECT_XML + 1)[:MAX_PROJECT_XML]


def _parse_xml(data: bytes, path: Path) -> etree._Element:
    from ..safezip import xml_declares_dtd

    # lxml still expands internal entities ("billion laughs"); REFI files never declare any.
    if xml_declares_dtd(data):
        raise CodebookError(str(path), "the XML declares a DTD (<!DOCTYPE>/<!ENTITY>), which REFI-QDA files never "
                            "do and which can be used to attack the reader",
                            "do not open this file; ask the sender for a new export")
    # No entity expansion, no network, no DTD loading: the file comes from outside.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False, remove_comments=True)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else None
        raise CodebookError(str(path), f"not well-formed XML ({exc.msg})",
                            "export the file again from the QDA program", where=str(line) if line else None) from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


class _Imported:
    """A code as REFI gives it: guid, name, colour, description, parent guid, name path."""

    def __init__(self, guid: str, name: str, colour: str | None, description: str,
                 parent: "_Imported | None"):
        self.guid = guid.strip("{}").upper()
        self.name = name
        self.colour = colour
        self.description = description
        self.parent = parent
        self.names: tuple[str, ...] = (parent.names if parent else ()) + (name,)
        self.id = ""


def _codes_from(codes_el: etree._Element, path: Path) -> list[_Imported]:
    out: list[_Imported] = []

    def walk(element: etree._Element, parent: _Imported | None) -> None:
        for child in element:
            if _local(child.tag) != "Code":
                continue
            name = (child.get("name") or "").strip()
            if not name:
                raise CodebookError(str(path), f"a <Code> without a name (line {child.sourceline})",
                                    "give the code a name in the QDA program and export again")
            desc_el = child.find("{*}Description")
            description = (desc_el.text or "").strip() if desc_el is not None else ""
            colour = child.get("color")
            item = _Imported(child.get("guid") or "", name, colour if _is_colour(colour) else None,
                             description.replace("\r\n", "\n"), parent)
            out.append(item)
            walk(child, item)

    walk(codes_el, None)
    return out


def _is_colour(value: str | None) -> bool:
    return bool(value and re.fullmatch(r"#([0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})", value))


def slugify(text: str) -> str:
    """A readable id fragment from a name: ``"Safety goals (SoS)"`` -> ``"safety_goals_sos"``.

    >>> slugify("Észlelt fogékonyság – 2.")
    'eszlelt_fogekonysag_2'
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    return slug or "code"


def unique_id(candidate: str, taken: set[str]) -> str:
    """``candidate``, or ``candidate_2``, ``_3`` ... if already taken; records it as taken."""
    result, n = candidate, 2
    while result in taken:
        result, n = f"{candidate}_{n}", n + 1
    taken.add(result)
    return result


def _assemble(imported: list[_Imported], path: Path, origin: str, reference: Codebook | None) -> Codebook:
    by_guid = {code_guid(reference.id, c.id): c for c in reference.codes} if reference else {}
    by_names = _name_paths(reference) if reference else {}
    taken: set[str] = set()
    codes: list[Code] = []
    for item in imported:
        known = by_guid.get(item.guid) or by_names.get(item.names)
        parent_id = item.parent.id if item.parent else None
        if known is not None and known.id not in taken:
            item.id = known.id
            taken.add(known.id)
            # REFI carried name, parent, colour and definition: those win; the rest is ours.
            codes.append(known.model_copy(update={
                "name": item.name, "parent": parent_id, "colour": item.colour,
                "definition": item.description}))
            continue
        base = slugify(item.name)
        item.id = unique_id(f"{item.parent.id}.{base}" if item.parent else base, taken)
        codes.append(Code(id=item.id, name=item.name, parent=parent_id, colour=item.colour,
                          definition=item.description))
    if reference is not None:
        return reference.model_copy(update={"codes": codes})
    return Codebook(
        id=slugify(path.stem), name=path.stem, version="1.0",
        description=f"Imported from {path.name} (made by {origin}).",
        changelog=[ChangeEntry(version="1.0", changes=[f"Imported from {path.name} ({origin})."])],
        origin=origin, codes=codes)


def _name_paths(codebook: Codebook) -> dict[tuple[str, ...], Code]:
    parent = {c.id: c.parent for c in codebook.codes}
    names = {c.id: c.name for c in codebook.codes}
    out = {}
    for code in codebook.codes:
        chain, current, guard = [], code.id, 0
        while current is not None and guard <= len(parent):
            chain.append(names[current])
            current, guard = parent.get(current), guard + 1
        out[tuple(reversed(chain))] = code
    return out
