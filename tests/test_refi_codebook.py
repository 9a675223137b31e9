"""REFI-QDA codebook exchange: .qdc export valid against the schema, imports of real samples."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from qualcode.codebook import load_codebook, parse_codebook
from qualcode.errors import CodebookError, ImportFailed, ValidationProblems
from qualcode.refi.codebook import code_guid, read_refi, slugify, to_qdc, write_qdc

REPO = Path(__file__).resolve().parents[1]
REFI = Path(__file__).resolve().parents[2] / "shared" / "refi"
SAMPLES = REFI / "samples"
needs_refi = pytest.mark.skipif(not REFI.exists(), reason="shared/refi (REFI-QDA schemas and samples) not beside the checkout")
CODEBOOKS = [p for p in sorted((REPO / "codebooks").glob("*.yaml")) if not p.name.startswith("toc_")]

SMALL = """\
id: small
name: Small
version: "1.2"
codes:
  - id: theme
    name: Theme & more <tags>
    colour: "#1f77b4"
    definition: A theme with "quotes" & ampersands.
    children:
      - id: theme.child
        name: Child
        definition: A child code.
        include: [when it fits]
        match: {keywords: [a phrase], regex: ['\\bx\\b']}
  - {id: root2, name: Second root, definition: Another.}
"""


@pytest.fixture(scope="module")
def schema():
    if not REFI.exists():
        pytest.skip("shared/refi not beside the checkout")
    return etree.XMLSchema(etree.parse(str(REFI / "Codebook.xsd")))


@needs_refi
@pytest.mark.parametrize("path", CODEBOOKS, ids=lambda p: p.stem)
def test_shipped_codebook_exports_valid_qdc_and_round_trips(path, schema, tmp_path):
    cb = load_codebook(path)
    out = write_qdc(cb, tmp_path / f"{cb.id}.qdc")
    document = etree.parse(str(out))
    schema.assertValid(document)
    assert len(document.getroot().findall(".//{urn:QDA-XML:codebook:1.0}Code")) == len(cb.codes)
    bare = read_refi(out)  # without the YAML: what REFI alone carries
    assert [c.name for c in bare.codes] == [c.name for c in cb.codes]
    assert [c.definition for c in bare.codes] == [c.definition for c in cb.codes]
    assert [c.colour for c in bare.codes] == [c.colour for c in cb.codes]
    parents = {c.id: c.parent for c in cb.codes}
    bare_ids = [c.id for c in bare.codes]
    rename = dict(zip(bare_ids, [c.id for c in cb.codes]))
    assert [rename.get(c.parent) for c in bare.codes] == [parents[c.id] for c in cb.codes]
    full = read_refi(out, reference=cb)  # with it: nothing lost
    assert full.model_dump() == cb.model_dump()


def test_export_is_deterministic_and_escapes_text():
    cb = parse_codebook(SMALL)
    data = to_qdc(cb)
    assert data == to_qdc(cb)
    root = etree.fromstring(data)
    first = root.find("{*}Codes/{*}Code")
    assert first.get("name") == "Theme & more <tags>" and first.get("color") == "#1f77b4"
    assert first.get("guid") == code_guid("small", "theme") and first.get("isCodable") == "true"
    assert first.find("{*}Description").text == 'A theme with "quotes" & ampersands.'
    assert root.find("{*}Sets") is None  # an empty <Sets/> is invalid (Taguette writes one)
    assert code_guid("small", "theme") != code_guid("other", "theme")


def test_reference_matches_by_guid_after_rename_in_other_tool(tmp_path):
    cb = parse_codebook(SMALL)
    path = write_qdc(cb, tmp_path / "small.qdc")
    path.write_bytes(path.read_bytes().replace(b'name="Child"', b'name="Child renamed in NVivo"'))
    back = read_refi(path, reference=cb)
    child = back.code("theme.child")
    assert child.name == "Child renamed in NVivo" and child.include == ["when it fits"]
    assert child.match.keywords == ["a phrase"] and back.version == "1.2"


def test_reference_matches_by_name_path_when_guids_differ(tmp_path):
    cb = parse_codebook(SMALL)
    path = tmp_path / "other.qdc"
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
        '<Code guid="{11111111-1111-1111-1111-111111111111}" name="Second root" isCodable="true"/>'
        '<Code guid="22222222-2222-2222-2222-222222222222" name="Brand new" isCodable="false"/>'
        "</Codes></CodeBook>", encoding="utf-8")
    back = read_refi(path, reference=cb)
    assert [c.id for c in back.codes] == ["root2", "brand_new"]
    assert back.code("root2").definition == ""  # REFI said no description: that wins


@needs_refi
@pytest.mark.parametrize("name, count, depth, names", [
    ("taguette141_codebook.qdc", 3, 0, ["xsd:element name", "CodeBook", "Variables"]),
    ("atlasti23win_blank-atlas-project.qdpx", 0, 0, []),
    ("atlasti23win_target-atlas-project.qdpx", 3, 1, ["Commits", "2022-05-10T02:05:59Z 19e4dce"]),
    ("atlasti8mac_standard-project_TestProject.qdpx", 14, 0, ["happiness", "Feelings", "Coke::diet Coke"]),
    ("maxqda24_ICLS_Conf_Themes_ALL_just10.qdpx", 307, 1, ["Additional Themes and Ideas", "THEME - Affordances"]),
    ("nvivo12win_oltas.qdpx", 60, 2, ["1. Perceived Susceptibility – Észlelt fogékonyság", "alacsony fogékonyság"]),
    ("nvivo12mac_OltasSzkepticizmus_17June.qdpx", 152, 3, ["1. Oltás típusa", "COVID", "Nem COVID"]),
])
def test_import_real_samples(name, count, depth, names):
    cb = read_refi(SAMPLES / name)
    assert len(cb.codes) == count
    assert max((cb.depth(c.id) for c in cb.codes), default=0) == depth
    all_names = [c.name for c in cb.codes]
    assert all(n in all_names for n in names)
    assert len({c.id for c in cb.codes}) == count  # ids unique even for repeated names
    # The YAML written from it loads back; the only complaints are codes the tool left undefined.
    undefined = {c.id for c in cb.codes if not c.definition}
    try:
        assert parse_codebook(cb.to_yaml(), "imported.yaml").model_dump() == cb.model_dump()
    except ValidationProblems as exc:
        assert {p.message for p in exc.problems} == {f"code '{i}' has an empty definition" for i in undefined}


@needs_refi
def test_sample_details_descriptions_and_colours():
    atlas = read_refi(SAMPLES / "atlasti8mac_standard-project_TestProject.qdpx")
    coke = next(c for c in atlas.codes if c.name == "Coke")
    assert coke.definition == "the breakfast of champions" and coke.colour == "#966450"
    maxqda = read_refi(SAMPLES / "maxqda24_ICLS_Conf_Themes_ALL_just10.qdpx")
    first = maxqda.codes[0]
    assert first.colour == "#ef8256" and first.definition.startswith("This category encompasses")
    assert maxqda.children(first.id)[0].name == "THEME - Affinity Spaces (Gee)"
    nvivo = read_refi(SAMPLES / "nvivo12win_oltas.qdpx")
    assert nvivo.codes[0].definition.startswith("Az emberek akkor hajlandók cselekedni")
    assert nvivo.id == "nvivo12win_oltas" and "NVivo" in nvivo.description


def test_bad_files_are_refused_with_fix(tmp_path):
    broken = tmp_path / "broken.qdc"
    broken.write_text("<CodeBook><Codes>", encoding="utf-8")
    with pytest.raises(CodebookError, match=r"broken.qdc:1: not well-formed XML .*Fix: export the file again"):
        read_refi(broken)
    other = tmp_path / "other.qdc"
    other.write_text("<html/>", encoding="utf-8")
    with pytest.raises(CodebookError, match="holds <html>, not a REFI <CodeBook>"):
        read_refi(other)
    with pytest.raises(CodebookError, match="no such file"):
        read_refi(tmp_path / "missing.qdc")


def test_entities_are_not_expanded(tmp_path):
    path = tmp_path / "xxe.qdc"
    path.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                    '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
                    '<Code guid="11111111-1111-1111-1111-111111111111" name="a" isCodable="true">'
                    "<Description>&e;</Description></Code></Codes></CodeBook>", encoding="utf-8")
    with pytest.raises(CodebookError, match="declares a DTD") as caught:
        read_refi(path)
    assert "root:" not in str(caught.value)


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_hostile_or_incomplete_qdpx_refused(tmp_path):
    evil = tmp_path / "evil.qdpx"
    evil.write_bytes(_zip({"../project.qde": b"<Project/>"}))
    with pytest.raises(ImportFailed, match="points outside it"):
        read_refi(evil)
    empty = tmp_path / "empty.qdpx"
    empty.write_bytes(_zip({"sources/a.txt": b"hello"}))
    with pytest.raises(CodebookError, match="has no project.qde"):
        read_refi(empty)


def test_slugify():
    assert slugify("Safety goals (SoS)") == "safety_goals_sos"
    assert slugify("???") == "code"
