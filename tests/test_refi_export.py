"""REFI-QDA project export: valid against Project.xsd, and a lossless round trip of the demo project."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from lxml import etree
from typer.testing import CliRunner

from qualcode import Project, store
from qualcode.cli import app
from qualcode.demo import build_demo_project, import_demo_summaries
from qualcode.errors import InputError
from qualcode.memos import add_memo
from qualcode.refi.project_export import SCHEMA, export_qdpx
from qualcode.refi.project_import import import_qdpx

SHARED_XSD = Path(__file__).resolve().parents[2] / "shared" / "refi" / "Project.xsd"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The demo project, with memos of every kind (framework summaries of cases and of staff
    interviews among them), case attributes and a few colours added."""
    path = tmp_path_factory.mktemp("demo") / "demo.qc"
    project = build_demo_project(path)
    assert import_demo_summaries(project) == 8
    codings = project.codings()
    first = codings.iloc[0]
    add_memo(project, "Waves 1 and 2 were coded by two researchers.", author="sam")
    add_memo(project, "Long interview; consent for quotes given.", document=str(first.document), author="ruth")
    add_memo(project, "Family engaged after the second visit.", case="C001", author="sam")
    add_memo(project, "Use for the whole-family finding.\nSecond line.", coding=int(first.id), author="ruth")
    add_memo(project, "Merge with supervision?", code=str(first.code), author="sam")
    with project.transaction() as conn:
        case_id = conn.execute(sa.select(store.cases.c.id).where(store.cases.c.name == "C001")).scalar_one()
        conn.execute(sa.insert(store.case_attributes), [{"case_id": case_id, "key": "site", "value": "North"},
                                                        {"case_id": case_id, "key": "plan", "value": "CIN"}])
    project.close()
    return path


def _codings(project: Project) -> list[tuple]:
    c = project.codings(status="accepted")
    return sorted(zip(c["document"], c["start"], c["end"], c["code_name"], c["coder"]))


def _codes(project: Project) -> list[tuple]:
    codes = project.codes()
    names = dict(zip(codes["key"], codes["name"]))
    return sorted((r.name, names.get(r.parent_key), r.colour, r.definition) for r in codes.itertuples())


def _memos(project: Project) -> list[tuple]:
    m = project.memos()
    docs = dict(zip(project.documents()["id"], project.documents()["name"]))
    cases = dict(zip(project.cases()["id"], project.cases()["name"]))
    codes = dict(zip(project.codes()["id"], project.codes()["name"]))
    coding = project.codings().set_index("id")
    out = []
    for r in m.itertuples():
        target = (docs.get(r.document_id), cases.get(r.case_id), codes.get(r.code_id),
                  tuple(coding.loc[int(r.coding_id), ["document", "start", "end"]]) if pd.notna(r.coding_id) else None)
        out.append((r.kind, target, r.text, r.author if r.kind != "case" else ""))
    return sorted(out, key=str)


def _documents(project: Project) -> pd.DataFrame:
    docs = project.documents()
    cols = ["name", "text", "source_type", "case"] + sorted(c for c in docs.columns if c in
                                                            ("role", "wave", "site", "team", "note_type"))
    docs["text"] = [project.text(int(i)) for i in docs["id"]]
    return docs[cols].sort_values("name").reset_index(drop=True)


def test_export_validates_against_the_refi_schema(demo, tmp_path):
    out = tmp_path / "demo.qdpx"
    with Project.open(demo) as project:
        result = export_qdpx(project, out)
        accepted = len(project.codings(status="accepted"))
    assert (result.documents, result.codings, result.memos, result.cases) == (94, accepted, 5 + 8, 8)
    with zipfile.ZipFile(out) as z:
        xml = z.read("project.qde")
        sources = [n for n in z.namelist() if n.startswith("sources/")]
    assert len(sources) == 94
    schema = etree.XMLSchema(etree.parse(str(SHARED_XSD if SHARED_XSD.exists() else SCHEMA)))
    schema.assertValid(etree.fromstring(xml))
    if SHARED_XSD.exists():
        assert SCHEMA.read_bytes() == SHARED_XSD.read_bytes()  # the shipped copy is the standard's


def test_round_trip_of_the_demo_project_is_lossless(demo, tmp_path):
    out = tmp_path / "demo.qdpx"
    with Project.open(demo) as original, Project.create(tmp_path / "back.qc") as back:
        export_qdpx(original, out)
        result = import_qdpx(back, out)
        assert result.skipped == []
        assert _codings(back) == _codings(original)
        assert set(back.coders()["name"]) == {"researcher_a", "researcher_b"}
        assert _codes(back) == _codes(original)
        assert _memos(back) == _memos(original)
        pd.testing.assert_frame_equal(_documents(back), _documents(original))
        case_attrs = back.attributes("case")
        assert sorted(zip(case_attrs["key"], case_attrs["value"])) == [("plan", "CIN"), ("site", "North")]
        assert back.turns()["speaker"].tolist() == original.turns()["speaker"].tolist()


def test_a_file_coded_elsewhere_comes_back_onto_the_same_codes(demo, tmp_path):
    out = tmp_path / "demo.qdpx"
    copy = tmp_path / "copy.qc"
    with Project.open(demo) as project:
        project.backup(copy)
    with Project.open(copy) as project:
        export_qdpx(project, out)
        before = len(project.codings())
        result = import_qdpx(project, out)
        assert (result.documents, result.codes, result.codings) == (0, 0, 0)
        assert result.reused_documents == 94 and len(project.codings()) == before


def test_export_refuses_a_wrong_name(demo, tmp_path):
    with Project.open(demo) as project:
        with pytest.raises(InputError, match="must end in .qdpx"):
            export_qdpx(project, tmp_path / "demo.zip")
        with pytest.raises(InputError, match="does not exist"):
            export_qdpx(project, tmp_path / "missing" / "demo.qdpx")


def test_cli_export_then_import(demo, tmp_path):
    runner = CliRunner()
    out = tmp_path / "demo.qdpx"
    result = runner.invoke(app, ["export", str(demo), str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert '"codings": ' in result.output and out.exists()
    fresh = tmp_path / "fresh.qc"
    assert runner.invoke(app, ["init", str(fresh)]).exit_code == 0
    assert runner.invoke(app, ["import", str(fresh), str(out)]).exit_code == 0
    with Project.open(fresh) as project:
        assert len(project.documents()) == 94
