"""Names without cues, shared surnames, role cues, and the measured recall on the labelled set."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from qualcode import Project
from qualcode.corpus import import_paths
from qualcode.errors import InputError
from qualcode.privacy import Detector, detect, find_identifiers, find_names
from qualcode.privacy.scoring import parse_marked, read_marked

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

# The case note the issue was filed with, rewritten: a mother named without a cue, her
# partner, a social worker after a form label, a child after "her son", a shared surname.
CASE_NOTE = (
    "Home visit 14/03/2024. Kelly was tearful and said the week had been hard. Darren came in "
    "later and stayed in the kitchen.\n"
    "Social worker: Priya Natarajan\n"
    "Her son Jayden Marsh (DOB 02/09/2016) attends Oakfield Primary. Kelly Marsh agreed to the plan. "
    "Marsh family known to services since 2019. Nan Brenda will help on Tuesdays.\n"
)


@pytest.fixture(scope="module")
def model_detector() -> Detector:
    return Detector(model="auto")


def _project(tmp_path: Path, files: dict[str, str]) -> Project:
    folder = tmp_path / "in"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    p = Project.create(tmp_path / "p.qc")
    import_paths(p, [folder])
    return p


def test_names_without_a_cue_are_found(model_detector):
    found = {s.text for s in model_detector.find(CASE_NOTE)}
    assert {"Kelly", "Darren", "Priya Natarajan", "Jayden Marsh", "Kelly Marsh", "Brenda"} <= found
    assert "Social" not in found and "Home" not in found


def test_shared_surname_means_two_people_and_a_bare_surname_is_flagged(tmp_path, model_detector):
    with _project(tmp_path, {"note.txt": CASE_NOTE}) as p:
        rows = detect(p, detector=model_detector).rows
    label = {r.text: r.label for r in rows}
    assert label["Kelly Marsh"] != label["Jayden Marsh"]
    assert label["Kelly"] == label["Kelly Marsh"]  # "Kelly" alone is the one Kelly
    assert label["Marsh"] not in (label["Kelly Marsh"], label["Jayden Marsh"])
    marsh = next(r for r in rows if r.text == "Marsh")
    assert marsh.type == "Surname" and marsh.label.startswith("[Surname")
    assert marsh.context.startswith("CHECK: shared by Jayden Marsh, Kelly Marsh")


def test_role_cues_set_the_label_role(tmp_path, model_detector):
    with _project(tmp_path, {"note.txt": CASE_NOTE}) as p:
        rows = detect(p, detector=model_detector).rows
    kind = {r.text: r.type for r in rows}
    label = {r.text: r.label for r in rows}
    assert kind["Jayden Marsh"] == "Child" and label["Jayden Marsh"].startswith("[Child")
    assert kind["Priya Natarajan"] == "Staff" and label["Priya Natarajan"].startswith("[Staff")
    assert kind["Brenda"] == "Person"  # "Nan": a relative, not a parent
    assert kind["Oakfield Primary"] == "School" and kind["02/09/2016"] == "Date of birth"


def test_lower_case_possessive_and_speaker_names_in_text(model_detector):
    text = ("KELLY: me and kelly's mum went. Then darren came.\n"
            "[00:01:20] Angela Thornton: I saw Jade's son at the hub.\n"
            "Interviewer: Thanks.\nCase reference: CA-2024-117\n")
    found = {s.text for s in model_detector.find(text)}
    assert {"KELLY", "kelly", "darren", "Angela Thornton", "Jade"} <= found
    assert not {"Interviewer", "Case reference", "Case"} & found


def test_names_that_are_words_only_where_they_name_someone(model_detector):
    text = "Rose said Bill would come. Later we picked a rose and paid the gas bill. Grace period ends Friday."
    found = {(s.text, s.start) for s in model_detector.find(text)}
    assert ("Rose", 0) in found and ("Bill", 10) in found
    assert not {t for t, _ in found} & {"Grace", "Friday"}
    # In a text that names Rose and Bill, their lower-case forms are taken as the names:
    # a false alarm (one click in review) rather than a missed name.
    assert ("rose", text.index("rose")) in found


@pytest.mark.parametrize("model", ["auto", None])
def test_talk_is_not_taken_for_names(model, model_detector):
    """Interjections, plural weekdays, family words and apps, capitalised as transcripts write
    them, were labelled as people (the demo's pseudonymisation made "Hmm" [Person 10] and
    "Thursdays" [Person 7])."""
    text = ("KERRY: Hmm. Nah, not really. Yep, they come Tuesdays and Thursdays now.\n"
            "Interviewer: And Dean?\nKERRY: Dean turned up again. Mummy had to ring them. Ha. "
            "I told the worker on WhatsApp and she said bye, speak Thursdays. My friend saw it on Instagram.\n"
            "Honestly, it was better. Obviously we still worry. Basically Dean stays away now.\n")
    detector = model_detector if model else Detector(model=None)
    found = {s.text for s in detector.find(text)}
    assert {"Dean", "KERRY"} <= found
    assert not found & {"Hmm", "Nah", "Yep", "Ha", "Tuesdays", "Thursdays", "Mummy", "WhatsApp", "Instagram",
                        "Honestly", "Obviously", "Basically"}


@pytest.mark.parametrize("model", ["auto", None])
def test_case_note_shorthand_is_not_taken_for_names(model, model_detector):
    """Abbreviations of case notes and a hyphenated word ran on like "Lily-Mae" and were
    labelled as people in the demo ("SofS", "HoS", "TAFs", "Wi-Fi")."""
    text = ("Discussed with mum using SofS 3 columns. Legal planning deferred, TM and HoS agreed. "
            "Mgt oversight requested. TAFs were always hit and miss, the GPs too. "
            "The Wi-Fi didn't work at the hub. Wes and Lily-Mae Brannigan came to the TAF.\n")
    detector = model_detector if model else Detector(model=None)
    found = {s.text for s in detector.find(text)}
    assert {"Wes"} <= found and any("Brannigan" in f for f in found)
    assert not found & {"SofS", "HoS", "Mgt", "TAFs", "GPs", "Wi-Fi"}


def test_public_find_functions_are_the_same_detector():
    text = "Mrs Okonedo rang about her daughter Ruby on 07700 900412."
    assert [s.text for s in find_names(text, model=None)] == ["Okonedo", "Ruby"]
    kinds = {s.text: s.type for s in find_identifiers(text, model=None)}
    assert kinds == {"Okonedo": "Person", "Ruby": "Child", "07700 900412": "Phone"}


def test_marked_set_errors_name_the_file_and_line(tmp_path):
    with pytest.raises(InputError, match=r"bad.txt.*line 2.*type 'NAME' is not one of"):
        parse_marked("ok [[Jo|PERSON]]\nthen [[Kim|NAME]]", "bad.txt")
    with pytest.raises(InputError, match="no .txt files"):
        read_marked(tmp_path)


def test_the_labelled_set_is_what_the_issue_asks_for():
    items = read_marked(REPO / "benchmarks" / "data" / "names")
    people = [g for item in items for g in item.gold if g.type == "PERSON"]
    assert len(people) >= 300
    assert sum(g.text.islower() for g in people) >= 30  # lower case, as transcription writes it
    assert {"Rose", "Bill", "Hope", "Grace", "Will"} <= {g.text for g in people}
    text = " ".join(item.text for item in items)
    for word in ("a rose", "gas bill", "We hope", "Grace period"):  # the same words as words
        assert word in text


def test_benchmark_figures_reach_their_floor(model_detector):
    """The benchmark's scorer on the whole set; floors are what the detector reaches, a little below."""
    import pseudonymise as bench

    rules, _, _, _ = bench.evaluate(None)
    person = rules.set_index("type").loc["PERSON"]
    assert person["recall"] >= 0.94 and person["precision"] >= 0.90
    table, missed, _, _ = bench.evaluate("auto")
    person = table.set_index("type").loc["PERSON"]
    assert person["recall"] >= 0.98 and person["precision"] >= 0.85, missed
    patterns = table.set_index("type").loc[["POSTCODE", "PHONE", "EMAIL", "DOB", "NHS", "NI", "SCHOOL"]]
    assert (patterns["recall"] == 1.0).all()


def test_names_in_case_names_file_names_speakers_attributes_and_memos_are_replaced(tmp_path):
    import sqlalchemy as sa

    from qualcode import store
    from qualcode.privacy import apply

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "Kelly Marsh interview.txt").write_text("Interviewer: Hello.\nKelly Marsh: My son Jayden is ten.\n")
    path = tmp_path / "p.qc"
    with Project.create(path) as p:
        import_paths(p, [folder], attributes={"Kelly Marsh interview.txt": {"case": "Marsh family (Kelly Marsh)",
                                                                            "who": "Kelly Marsh, mum"}})
        with p.transaction() as conn:
            conn.execute(sa.insert(store.memos).values(kind="project", text="Kelly Marsh asked to see the report",
                                                       author="alex", created_at=store.now(), updated_at=store.now()))
        found = detect(p, model=None)
        (tmp_path / "keys").mkdir()
        report = apply(p, found.rows, tmp_path / "keys" / "KEY.csv")
    assert report.residual == {}
    raw = path.read_bytes()
    assert b"Kelly" not in raw and b"Jayden" not in raw and b"Marsh" not in raw
    with Project.open(path) as p:
        docs = p.documents()
        assert "Kelly" not in docs["name"].iloc[0] and docs["name"].iloc[0].endswith(" interview.txt")
        assert not p.cases()["name"].str.contains("Kelly|Marsh").any()


def test_every_text_column_of_the_schema_is_scrubbed_rewritten_or_kept_for_a_reason():
    """Fails when a new text column appears: decide whether identifiers can sit in it."""
    import sqlalchemy as sa

    from qualcode import store
    from qualcode.privacy.apply import KEPT, REWRITTEN, SCRUBBED

    columns = {f"{t.name}.{c.name}" for t in store.metadata.sorted_tables for c in t.columns
               if isinstance(c.type, (sa.String, sa.Text))}
    covered = {f"{t}.{c}" for t, c in SCRUBBED} | set(REWRITTEN) | set(KEPT)
    assert columns - covered == set(), "text columns no one decided about"
    assert covered - columns == set(), "listed columns the schema no longer has"
    assert not {f"{t}.{c}" for t, c in SCRUBBED} & set(KEPT)


def test_later_imports_into_a_pseudonymised_project_are_checked_before_they_are_stored(tmp_path):
    from qualcode.privacy import apply

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "Kelly Marsh notes.txt").write_text("Kelly Marsh rang about her son Jayden.\n")
    path = tmp_path / "p.qc"
    with Project.create(path) as p:
        import_paths(p, [folder])
        (tmp_path / "keys").mkdir()
        apply(p, detect(p, model=None).rows, tmp_path / "keys" / "KEY.csv")
    later = tmp_path / "later"
    later.mkdir()
    (later / "visit.txt").write_text("Visit two.\nDarren was at home. Postcode HV3 7QT.\n")
    (later / "clean.txt").write_text("Visit three: [Parent 1] and [Child 1] were at home.\n")
    with Project.open(path) as p:
        again = import_paths(p, [folder / "Kelly Marsh notes.txt"])  # the original, its name replaced since
        assert again.results[0].status == "unchanged"
        refused = import_paths(p, [later / "visit.txt"])
        result = refused.results[0]
        assert result.status == "failed"
        assert "pseudonymised and this document holds 2 identifiers" in result.message and "lines 2" in result.message
        assert "Darren" not in result.message and "HV3" not in result.message
        assert import_paths(p, [later / "clean.txt"]).results[0].status == "imported"
        texts = "\n".join(t for _, t in p.iter_texts())
    assert "Darren" not in texts and "Kelly" not in texts and path.read_bytes().count(b"Darren") == 0


def test_no_detection_runs_across_a_line_break(model_detector):
    # The model joins the place ending one header line to the speaker label starting the
    # next ("Hollins Vale\nInterviewer"); replacing that would take the label too.
    header = ("FAMILY TOGETHER EVALUATION – WAVE 1 – SENIOR LEADER INTERVIEW\nParticipant ID: SL01\n"
              "Date: 28 February 2024\nLocation: Civic Centre, Hollins Vale\nInterviewer initials: EV1\n\n"
              "Q: Thanks for agreeing to do this.\n")
    found = model_detector.scan([{"id": 1, "name": "header.txt", "text": header}])
    assert found and all("\n" not in d.text and header[d.start:d.end] == d.text for d in found)
    assert "Hollins Vale" in {d.text for d in found}
    assert "Interviewer" not in {d.text for d in found}
