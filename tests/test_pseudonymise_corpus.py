"""Pseudonymisation on the demo corpus: everything planted is replaced and nothing leaks.

One module-scoped project (import, code, detect, review, apply) keeps this fast; each
test checks one promise against it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import sqlalchemy as sa

from qualcode import NewCoding, Project, store
from qualcode import pseudonymise as ps
from qualcode.corpus import import_paths
from qualcode.errors import InputError, ValidationProblems
from qualcode.integrity import check

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
FILES = ["interviews/W2_FAM02_parent.vtt", "interviews/W2_FAM01_parent.txt", "interviews/W2_SW01_social_worker.txt"]
KNOWN = [
    ("Kerry Ashdown", "parent", ""), ("Tyler", "child", ""), ("Maisie", "child", ""),
    ("Dean Royle", "other", ""), ("Lee Brannigan", "parent", ""), ("Skye Brannigan", "child", ""),
    ("Jayden Brannigan", "child", ""), ("Priya", "staff", "Social Worker"), ("Donna", "staff", "[Key Worker A]"),
]
POSTCODES = ["HV3 7QT", "HV5 2NB", "HV2 9DS", "HV4 6RL", "HV1 4LP", "HV2 3JW"]
PHONES = ["07700 900412", "07700 900318"]
SCHOOLS = ["Vale Park Academy", "Carrick Fields Primary"]
NAMES = ["Kerry", "Ashdown", "Tyler", "Maisie", "Dean Royle", "Lee Brannigan", "Skye", "Jayden", "Brannigan",
         "Priya", "Donna"]


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    """The corpus files imported and coded, detected, reviewed and pseudonymised."""
    tmp = tmp_path_factory.mktemp("pseudo")
    names = tmp / "names.csv"
    with open(names, "w", newline="") as fh:
        csv.writer(fh).writerows([("name", "type", "label"), *KNOWN])
    path = tmp / "eval.qc"
    with Project.create(path) as p:
        import_paths(p, [CORPUS / f for f in FILES], attributes=CORPUS / "attributes.csv")
        import_paths(p, [CORPUS / "case_notes.csv"], source_type="case note", text_columns=["text"],
                     case_column="case_id")
        with p.transaction() as conn:
            conn.execute(sa.insert(store.codes).values(key="family", name="Family", definition="",
                                                       created_at=store.now(), updated_at=store.now()))
        fam01 = p.document_id("W2_FAM01_parent.txt")
        text = p.text(fam01)
        sentence = text.index("Mother (Kerry Ashdown)")
        cut = text.index("Kerry Ashdown") + 3  # a coding that starts inside a name
        later = text.index("Good and weird.")
        codings = [(sentence, sentence + 60), (cut, cut + 30), (later, later + 15)]
        p.add_codings([NewCoding(fam01, s, e, "family", "alex") for s, e in codings])
        before = {"text": text, "codings": codings, "turns": p.turns(fam01)}
        found = ps.detect(p, names=names, model=None)
        review = tmp / "detections.csv"
        found.write_csv(review)
        rows = list(csv.DictReader(open(review, newline="", encoding="utf-8")))
        for row in rows:  # the reviewer: Carrick House is the council's hub, not an address to hide
            if row["text"] == "Carrick House":
                row["decision"] = "reject"
        with open(review, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        key = tmp / "keys" / "KEY.csv"
        key.parent.mkdir()
        report = ps.apply(p, review, key, by="alex")
    return {"path": path, "key": key, "report": report, "found": found, "before": before, "fam01": fam01,
            "tmp": tmp, "rows": rows}


def _all_text(path: Path) -> str:
    with Project.open(path) as p:
        return "\n".join(t for _, t in p.iter_texts())


def test_planted_identifiers_are_replaced_and_role_codes_kept(done):
    text = _all_text(done["path"])
    for original in POSTCODES + PHONES + SCHOOLS + NAMES:
        assert original not in text, original
    assert "SW01" in text and "KW" in text  # staff role codes are not identifiers
    assert "[Postcode 1]" in text and "[Phone 1]" in text and "[School 1]" in text
    assert "Carrick House" in text  # the reviewer rejected it
    report = done["report"]
    assert report.replaced["Postcode"] >= 6 and report.replaced["Phone"] == 2
    assert report.residual == {} and report.warnings == []
    assert any("NER" in n or "cue" in n for n in done["found"].not_checked)


def test_the_same_person_has_one_label_in_every_document(done):
    key = ps.Key.read(done["key"])
    kerry = key.label_for("Kerry Ashdown")
    assert kerry == key.label_for("KERRY") == key.label_for("Kerry")  # surname-aware grouping
    assert key.label_for("Priya") == "[Social Worker 1]" and key.label_for("Donna") == "[Key Worker A]"
    with Project.open(done["path"]) as p:
        docs = p.documents()
        fam01 = p.text("W2_FAM01_parent.txt")
        notes = [t for i, t in p.iter_texts() if docs.set_index("id").loc[i, "name"].startswith("case_notes")]
        speakers = set(p.turns("W2_FAM01_parent.txt")["speaker"])
    assert kerry in fam01 and any(kerry in t for t in notes)
    assert kerry in speakers and "KERRY" not in speakers


def test_codings_stay_on_the_same_words_and_are_audited(done):
    with Project.open(done["path"]) as p:
        codings = p.codings(document=done["fam01"]).sort_values("id")
        text = p.text(done["fam01"])
        events = p.coding_events()
        assert check(p).ok
    key = ps.Key.read(done["key"])
    kerry = key.label_for("Kerry Ashdown")
    first, cut, later = codings.itertuples()
    assert text[first.start:first.end].startswith(f"Mother ({kerry})")
    assert text[cut.start:cut.end].startswith(kerry)  # a span cutting the name grows to the whole label
    assert text[later.start:later.end] == "Good and weird."
    for row in codings.itertuples():
        assert row.snippet == text[row.start:row.end]
    moved = events[events["action"] == "pseudonymise"]
    assert set(moved["coding_id"]) == set(codings["id"])
    assert not any("Kerry" in e for e in events["before"].dropna().tolist() + events["after"].dropna().tolist())


def test_turns_still_cover_what_each_speaker_said(done):
    before = done["before"]["turns"]
    key = ps.Key.read(done["key"])
    every_original = ps._originals_pattern(key.originals.values())
    with Project.open(done["path"]) as p:
        after = p.turns(done["fam01"])
        text = p.text(done["fam01"])
    assert len(after) == len(before)
    for old, new in zip(before.itertuples(), after.itertuples()):
        old_said = done["before"]["text"][old.start:old.end]
        assert text[new.start:new.end] == ps._scrub(old_said, every_original, key.by_original)


def test_key_holds_originals_and_project_file_holds_none(done):
    key_rows = list(csv.DictReader(open(done["key"], encoding="utf-8")))
    originals = {r["original"] for r in key_rows}
    assert {"Kerry Ashdown", "HV3 7QT", "07700 900412", "Vale Park Academy"} <= originals
    assert not Path(f"{done['path']}-wal").exists() or Path(f"{done['path']}-wal").stat().st_size == 0
    raw = done["path"].read_bytes()
    for extra in (f"{done['path']}-wal", f"{done['path']}-journal"):
        if Path(extra).exists():
            raw += Path(extra).read_bytes()
    leaked = sorted(o for o in originals if o.encode("utf-8") in raw)
    assert leaked == []
    with Project.open(done["path"]) as p:
        labels = ps.status(p)
    assert set(labels.columns) == {"label", "type", "count"}
    assert labels["count"].sum() == sum(done["report"].replaced.values())
    assert not set(labels["label"]) & originals


def test_without_secure_delete_and_checkpoint_the_old_text_stays_in_the_file(tmp_path):
    """Why apply cleans the file: a plain UPDATE leaves the original in the SQLite bytes."""
    path = tmp_path / "plain.qc"
    (tmp_path / "n.txt").write_text("Interviewer: Hello.\nKerry: My postcode is HV3 7QT, I live here.\n" * 40)
    with Project.create(path) as p:
        import_paths(p, [tmp_path / "n.txt"])
        with p.transaction() as conn:
            conn.exec_driver_sql("PRAGMA secure_delete = OFF")  # the default of many SQLite builds
            conn.execute(sa.update(store.documents).values(text="nothing to see"))
        assert p.text(1) == "nothing to see"
        open_bytes = path.read_bytes() + Path(f"{path}-wal").read_bytes()  # old pages wait in the WAL
    closed_bytes = path.read_bytes()  # closing checkpoints the new page, freed bytes and all
    assert b"HV3 7QT" in open_bytes and b"HV3 7QT" in closed_bytes


def test_reimport_of_the_original_is_unchanged_and_a_changed_version_is_refused(done):
    tmp = done["tmp"]
    with Project.open(done["path"]) as p:
        report = import_paths(p, [CORPUS / "interviews/W2_FAM01_parent.txt"], attributes=CORPUS / "attributes.csv")
        assert report.results[0].status == "unchanged"
        changed = tmp / "W2_FAM01_parent.txt"
        changed.write_text((CORPUS / "interviews/W2_FAM01_parent.txt").read_text() + "\nKERRY: One more thing.\n")
        refused = import_paths(p, [changed])
        assert refused.results[0].status == "failed"
        assert "was pseudonymised" in refused.results[0].message
        assert "Kerry" not in "\n".join(t for _, t in p.iter_texts())


def test_apply_refuses_stale_detections_and_a_key_that_misses_labels(done):
    with Project.open(done["path"]) as p:
        stale = ps.Detection(done["fam01"], "W2_FAM01_parent.txt", 0, 5, "Kerry", "Parent")
        with pytest.raises(ValidationProblems, match="run detect again"):
            ps.apply(p, [stale], done["key"])
        fresh_key = done["tmp"] / "NEW_KEY.csv"
        with pytest.raises(InputError, match="that this key file does not hold"):
            ps.apply(p, [], fresh_key)
