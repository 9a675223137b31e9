"""A small labelled corpus built in code: six interviews, three codes, a human's codings.

Used by the learn, review and codings-io tests (``from test_learn_corpus import …``);
its own tests check the fixture is what the others assume.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from qualcode import NewCoding, Project
from qualcode import store

CODES = {
    "supervision": "Group supervision and reflection",
    "workload": "Caseloads and administration",
    "family": "Whole-family working",
    "voice": "Voice of the child",  # deliberately coded too rarely to learn
}

SENTENCES = {
    "supervision": [
        "Group supervision every fortnight gives us space to think about the family together.",
        "In group supervision the clinician helps us reflect on what is happening for the child.",
        "The unit talks through each case in supervision and we share our hypotheses.",
        "Reflective supervision has changed how I think about risk.",
        "We bring our hardest cases to group supervision and get ideas from colleagues.",
        "Supervision with the consultant social worker is more reflective than it used to be.",
        "Having the clinician in group supervision means we think systemically about the case.",
        "I feel supported because supervision is a place to reflect, not just to check tasks.",
        "The weekly unit meeting works like group supervision for the whole team.",
        "Reflective discussion in supervision helps me slow down before I decide.",
        "My supervisor asks about my hypotheses instead of only the deadlines.",
        "Group case discussion in supervision brings different views on the same family.",
        "Supervision used to be a checklist and now it is about reflection.",
        "We use supervision to reflect on our own feelings about a case.",
        "Group supervision makes it easier to share the worry about a case.",
        "The consultant chairs supervision and keeps the discussion reflective.",
        "Since the reform, supervision feels like real reflective practice.",
        "Peer supervision in the unit helps newer workers learn quickly.",
        "In supervision we map the family system on the whiteboard.",
        "Reflective group supervision is the part of the model I value most.",
        "Supervision gives me time to reflect on the relationship with the parents.",
    ],
    "workload": [
        "My caseload went up to twenty-five children last winter.",
        "The paperwork and recording take most of my week.",
        "I spend more time on administration than on direct work with families.",
        "Caseloads are too high to do the visits properly.",
        "Case recording on the new system takes hours every day.",
        "With a caseload of eighteen I cannot see everyone as often as I should.",
        "Administration eats into the time I should spend with children.",
        "We are drowning in forms and recording.",
        "High caseloads mean we rush the assessments.",
        "The recording system duplicates the same information in three places.",
        "Admin tasks have grown since the new case management system arrived.",
        "My caseload is finally manageable after the unit model started.",
        "Typing up case notes at night is the only way to keep up with recording.",
        "Caseload pressure is why people leave the team.",
        "Too much administration leaves little time for direct work.",
        "The forms and paperwork are repeated for every review.",
        "Caseloads dropped when the business support officer took over the admin.",
        "Recording takes longer than the visit itself.",
        "I carry a caseload of twenty and the paperwork is endless.",
        "Administrative work has been cut by the new templates.",
        "We still spend hours on recording rather than with families.",
    ],
    "family": [
        "We now work with the whole family rather than only the child.",
        "The whole-family approach means we see parents, siblings and grandparents.",
        "Working with the whole family helped the mother understand the worry.",
        "We invite the wider family to the family meeting.",
        "Think Family means we look at the parents' needs as well as the child's.",
        "The family network meeting brought the grandparents and aunt together.",
        "Whole family working has changed how the parents see us.",
        "We plan with the whole family, including the father who was never asked before.",
        "Siblings are now part of the family plan too.",
        "The family group conference helped the relatives make a plan.",
        "Parents tell us they feel included in the family plan.",
        "We work with the parents and the children together at home.",
        "A whole-family assessment picks up the father's mental health needs.",
        "The family meeting gave the grandmother a role in the safety plan.",
        "Whole-family working is harder when parents live apart.",
        "We bring the family network into the plan early.",
        "The parents and the teenager agreed the family plan together.",
        "Engaging the whole family takes more visits at first.",
        "Family members now come to the meetings and speak up.",
        "Whole family support helped the parents keep the children at home.",
        "The family plan covers the needs of every family member.",
    ],
    "off": [
        "The car park was full again this morning.",
        "Our office moved to the second floor in March.",
        "The heating in the building broke during the cold spell.",
        "Lunch is usually a sandwich at my desk.",
        "The train into town was late twice this week.",
        "We got new laptops in the spring.",
        "The canteen closes at two o'clock.",
        "I started in this job three years ago.",
        "The printer on our floor jams every day.",
        "My manager is on leave until Monday.",
        "The building has a nice garden at the back.",
        "Parking permits are renewed every year.",
        "We had a fire drill on Tuesday.",
        "The lift was out of order for a week.",
        "I studied at the university in the city.",
        "Our team photo is on the wall by the kitchen.",
        "The windows face the high street.",
        "The coffee machine is new.",
        "Phones were upgraded last month.",
        "The weather was awful on the day of the move.",
        "The staff room has a small library.",
    ],
}

HELD_OUT_ON = "Our group supervision with the clinician helped the unit reflect on the case."
HELD_OUT_OFF = "The car park by the building was closed for repairs."
VOICE = [
    "We always record what the child says in their own words.",
    "The voice of the child is in every assessment now.",
    "Children write their own part of the plan.",
]


@dataclass
class Labelled:
    """The built project, with where each sentence went and what was coded."""

    project: Project
    documents: dict[str, int] = field(default_factory=dict)  # name -> id
    spans: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # (doc, sentence) -> span
    coded: dict[str, int] = field(default_factory=dict)  # code -> accepted codings


def add_document(project: Project, name: str, text: str) -> int:
    with project.transaction() as conn:
        return conn.execute(sa.insert(store.documents).values(
            name=name, version=1, source_file=f"{name}.txt", format="txt",
            sha256=hashlib.sha256(text.encode()).hexdigest(), source_type="staff interview",
            text=text, words=len(text.split()), imported_at=store.now(),
        ).returning(store.documents.c.id)).scalar_one()


def add_codes(project: Project, codes: dict[str, str] = CODES) -> None:
    stamp = store.now()
    with project.transaction() as conn:
        conn.execute(sa.insert(store.codes), [
            {"key": key, "name": name, "definition": "", "kind": "topic", "outcomes": "[]",
             "status": "active", "codebook": "test", "codebook_version": "1.0",
             "created_at": stamp, "updated_at": stamp}
            for key, name in codes.items()
        ])


def build(tmp_path: Path, n_docs: int = 6, per_code: int = 3, coder: str = "alex",
          location: str | None = None) -> Labelled:
    """``n_docs`` coded interviews (``per_code`` sentences of each code plus off-topic
    ones), a seventh uncoded one holding the held-out sentences, and accepted codings."""
    project = Project.create(location or tmp_path / "learn.qc")
    add_codes(project)
    out = Labelled(project)
    codings = []
    for d in range(n_docs):
        name = f"W1_SW{d + 1:02d}"
        parts: list[tuple[str, str]] = []
        for kind in ("supervision", "workload", "family", "off"):
            for j in range(per_code):
                parts.append((kind, SENTENCES[kind][(d * per_code + j) % len(SENTENCES[kind])]))
        if d < 2:
            parts.append(("voice", VOICE[d]))
        # interleave so a paragraph holds several themes, as an interview does
        parts = parts[::3] + parts[1::3] + parts[2::3]
        text, spans = _join(parts)
        doc_id = add_document(project, name, text)
        out.documents[name] = doc_id
        for (kind, sentence), span in zip(parts, spans):
            out.spans[(name, sentence)] = span
            if kind != "off":
                codings.append(NewCoding(doc_id, span[0], span[1], kind, coder))
                out.coded[kind] = out.coded.get(kind, 0) + 1
    held_parts = [("supervision", HELD_OUT_ON), ("off", HELD_OUT_OFF),
                  ("workload", SENTENCES["workload"][-1]), ("off", SENTENCES["off"][-1])]
    text, spans = _join(held_parts)
    doc_id = add_document(project, "W2_SW99", text)
    out.documents["W2_SW99"] = doc_id
    for (_, sentence), span in zip(held_parts, spans):
        out.spans[("W2_SW99", sentence)] = span
    project.add_codings(codings)
    return out


def _join(parts: list[tuple[str, str]]) -> tuple[str, list[tuple[int, int]]]:
    """Sentences joined by spaces, a blank line every four; their exact spans."""
    text, spans = "", []
    for i, (_, sentence) in enumerate(parts):
        if i:
            text += "\n\n" if i % 4 == 0 else " "
        spans.append((len(text), len(text) + len(sentence)))
        text += sentence
    return text, spans


def test_fixture_spans_are_exact(tmp_path):
    lab = build(tmp_path, n_docs=2)
    for (name, sentence), (start, end) in lab.spans.items():
        assert lab.project.text(name)[start:end] == sentence
    assert lab.coded == {"supervision": 6, "workload": 6, "family": 6, "voice": 2}
    assert len(lab.project.codings(status="accepted", coder="alex")) == 20
    lab.project.close()
