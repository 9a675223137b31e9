"""A hand-made project with known answers, shared by the matrix, quote and report tests.

Four documents over two cases, three roles and two waves; five codes in a two-level
hierarchy; accepted codings with overlaps, plus a suggested and a rejected coding that
the default filters must leave out. Every count the tests assert can be read off the
tables below by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from qualcode import NewCoding, Project
from qualcode import store

SW01 = (
    "Interviewer: How has the model changed the way you work with the whole family?\n"
    "Jane: We now see the whole family together at home, and the child's voice is recorded at every visit. "
    "It takes more time but it works. The family plan is written with the parents, not for them, "
    "and everyone signs it.\n"
    "Interviewer: And the paperwork?\n"
    "Jane: The administration has gone down since the new recording forms came in.\n"
)
SW02 = (
    "Tom: Honestly the caseloads are still too high and the administration eats my week. "
    "=SUM(A1:A9) is what my manager says I am, a number. "
    "But the family plan meetings are better, we bring the whole family together to agree what happens next.\n"
)
FAM01 = (
    "Mary: They listened to my daughter this time. She got to say what she wanted and they wrote it down. "
    "The worker came every week and saw all of us together, which never happened before.\n"
)
TM01 = (
    "Ali: My team spend less time on forms now. Administration is down but recording is still heavy on Fridays. "
    "We hear the voice of the child much more in supervision.\n"
)

CODES = [
    # key, name, parent, definition
    ("family", "Whole-family working", None, "Work with the family as a whole."),
    ("family.together", "Family seen together", "family", "The family is seen together."),
    ("family.plan", "Family plan", "family", "A plan written with the family."),
    ("voice", "Voice of the child", None, "The child's wishes and feelings are heard and recorded."),
    ("workload", "Workload", None, "Caseloads and time use."),
    ("workload.admin", "Administration", "workload", "Time on forms and recording."),
]

DOCUMENTS = [
    # name, source type, case, text, attributes
    ("SW01_w1.txt", "staff interview", "Family A", SW01,
     {"role": "Social Worker", "wave": "1", "site": "North", "participant": "Jane Smith"}),
    ("SW02_w2.txt", "staff interview", "Family B", SW02,
     {"role": "Social Worker", "wave": "2", "site": "South", "participant": "Tom Brown"}),
    ("FAM01_w1.txt", "family interview", "Family A", FAM01,
     {"role": "parent", "wave": "1", "site": "North", "participant": "Mary Jones"}),
    ("TM01_w2.txt", "staff interview", None, TM01,
     {"role": "Team Manager", "wave": "Wave 2", "site": "North", "participant": "Ali Khan"}),
]

# document, phrase coded, code, status: the phrase is located in the text by search.
CODINGS = [
    ("SW01_w1.txt", "We now see the whole family together at home", "family.together", "accepted"),
    ("SW01_w1.txt", "together at home, and the child's voice is recorded at every visit", "voice", "accepted"),
    ("SW01_w1.txt", "The family plan is written with the parents, not for them, and everyone signs it.", "family.plan", "accepted"),
    ("SW01_w1.txt", "The administration has gone down since the new recording forms came in.", "workload.admin", "accepted"),
    ("SW01_w1.txt", "How has the model changed the way you work with the whole family?", "family", "accepted"),
    ("SW02_w2.txt", "Honestly the caseloads are still too high and the administration eats my week.", "workload", "accepted"),
    ("SW02_w2.txt", "=SUM(A1:A9) is what my manager says I am, a number.", "workload.admin", "accepted"),
    ("SW02_w2.txt", "But the family plan meetings are better, we bring the whole family together to agree what happens next.", "family.plan", "accepted"),
    ("FAM01_w1.txt", "They listened to my daughter this time. She got to say what she wanted and they wrote it down.", "voice", "accepted"),
    ("FAM01_w1.txt", "saw all of us together, which never happened before.", "family.together", "accepted"),
    ("TM01_w2.txt", "Administration is down but recording is still heavy on Fridays.", "workload.admin", "accepted"),
    ("TM01_w2.txt", "We hear the voice of the child much more in supervision.", "voice", "accepted"),
    ("TM01_w2.txt", "My team spend less time on forms now.", "workload.admin", "suggested"),
    ("FAM01_w1.txt", "The worker came every week", "workload", "rejected"),
]


@dataclass
class Built:
    project: Project
    doc_ids: dict[str, int]
    coding_ids: dict[tuple[str, str], int]  # (document, code) -> id of its first coding there


def build_project(path: Path) -> Built:
    """Create the known project at ``path`` (a .qc file that must not exist yet)."""
    project = Project.create(path)
    stamp = store.now()
    doc_ids: dict[str, int] = {}
    with project.transaction() as conn:
        case_ids = {}
        for name in ("Family A", "Family B"):
            case_ids[name] = conn.execute(
                sa.insert(store.cases).values(name=name, created_at=stamp).returning(store.cases.c.id)).scalar_one()
        conn.execute(sa.insert(store.codes), [
            {"key": k, "name": n, "parent_key": p, "definition": d, "kind": "topic", "outcomes": "[]",
             "codebook": "test", "codebook_version": "1.2", "status": "active", "created_at": stamp, "updated_at": stamp}
            for k, n, p, d in CODES
        ])
        conn.execute(sa.insert(store.codebooks).values(name="test", version="1.2", source="", loaded_at=stamp))
        for name, kind, case, text, attrs in DOCUMENTS:
            doc_id = conn.execute(sa.insert(store.documents).values(
                name=name, version=1, source_file=name, format="txt", sha256=name, source_type=kind,
                case_id=case_ids.get(case), text=text, words=len(text.split()), imported_at=stamp,
            ).returning(store.documents.c.id)).scalar_one()
            doc_ids[name] = doc_id
            conn.execute(sa.insert(store.document_attributes),
                         [{"document_id": doc_id, "key": k, "value": v} for k, v in attrs.items()])
            conn.execute(sa.insert(store.turns), list(_turns(doc_id, text)))
    texts = {name: text for name, _, _, text, _ in DOCUMENTS}
    new = []
    for doc, phrase, code, status in CODINGS:
        start = texts[doc].index(phrase)
        new.append(NewCoding(doc_ids[doc], start, start + len(phrase), code, coder="alex", status=status))
    ids = project.add_codings(new)
    coding_ids: dict[tuple[str, str], int] = {}
    for (doc, _, code, _), coding_id in zip(CODINGS, ids):
        coding_ids.setdefault((doc, code), coding_id)
    return Built(project, doc_ids, coding_ids)


def add_family_interview(project, text: str, name: str = "FAM02_w2.txt") -> int:
    """One more family interview (a Parent, wave 2) holding ``text``; its id."""
    import sqlalchemy as sa

    from qualcode import store

    with project.transaction() as conn:
        doc = conn.execute(sa.insert(store.documents).values(
            name=name, version=1, source_file=name, format="txt", sha256=name, source_type="family interview",
            text=text, words=len(text.split()), imported_at=store.now(),
        ).returning(store.documents.c.id)).scalar_one()
        conn.execute(sa.insert(store.document_attributes), [{"document_id": doc, "key": "role", "value": "Parent"},
                                                           {"document_id": doc, "key": "wave", "value": "2"}])
    return doc


def _turns(doc_id: int, text: str):
    """One turn per line, 'Speaker: …'; the interviewer's marked as such."""
    position = 0
    for seq, line in enumerate(text.splitlines(keepends=True)):
        speaker = line.split(":", 1)[0]
        yield {"document_id": doc_id, "seq": seq, "start": position, "end": position + len(line.rstrip("\n")),
               "speaker": speaker, "is_interviewer": speaker == "Interviewer", "time_start": None, "time_end": None}
        position += len(line)


TOC_YAML = """\
id: whole_family
name: Whole-family reform
version: "1.0"
activities:
  - id: act_family
    name: Whole-family assessment
    leads_to: [out_family]
outcomes:
  - id: out_family
    name: Families are worked with as a whole
    term: short
    codes: [family]
    leads_to: [imp_rereferrals]
  - id: out_voice
    name: Children's voices are heard and recorded
    term: short
    codes: [voice]
impacts:
  - id: imp_rereferrals
    name: Re-referrals down from 24% to 15%
    indicators:
      - id: rereferrals
        name: Re-referrals within 12 months
        unit: "%"
        direction: down
        baseline: {period: 2022-23, value: 24}
        target: {value: 15}
"""


def write_toc(folder: Path) -> Path:
    path = folder / "toc.yaml"
    path.write_text(TOC_YAML, encoding="utf-8")
    return path
