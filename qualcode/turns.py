"""Find who speaks where in a plain-text interview or focus-group transcript.

Evaluators code what people said and compare it by role, so each document keeps
its speaker turns as spans into its text. Transcripts arrive in many house styles;
this module reads the common ones from one pass over the text:

- a label and a colon starting a line: ``Interviewer:``, ``Respondent:``, ``I:``,
  ``R:``, ``P3:``, ``SW2:``, ``Q:``/``A:``, names (``Jo:``, ``Jo Smith:``,
  ``Dr Patel:``), Markdown bold (``**Jo Smith:**`` as Descript writes it);
- a timestamp before or after the label: ``[00:01:23] Jo:``, ``00:01:23 Jo:``,
  ``Jo (00:01:23):``, ``**Jo:** [00:01:23] text``;
- a label and a timestamp alone on a line, the words on the lines below (Otter.ai's
  ``Speaker 1  0:03``, Microsoft Teams' ``Jane Smith   0:03:12``).

Convention: a turn's span ``[start, end)`` covers only what was said: it starts at
the first character after the label (and its timestamp) and ends before the next
label line, with surrounding blank space trimmed. The label itself is outside the
span, so codings on a turn never include a speaker's name.

Prose is not a transcript: a line such as ``Note: the family ...`` or ``Wave 1:
March`` must not start a turn. A label counts only when it recurs (seen at least
twice), and a document counts as a transcript only when at least two different
speakers pass that test. Once it does, a label seen only once after the talk has
begun is still a turn when its form is unmistakable (it has a timestamp, is in
bold, or stands on its own line): the focus-group member who speaks once in an
Otter export. A single exchange with no recurring label is a transcript only as an
interviewer/respondent pair (``Q:`` with ``A:``). Common form-field words
(``Note``, ``Date``, ``Wave``, ``Action`` ...) are never speakers.

>>> text = "Interviewer: How long have you been in the team?\\nJo: Two years.\\n" * 2
>>> [(t.speaker, text[t.start:t.end], t.is_interviewer) for t in detect_turns(text)]
[('Interviewer', 'How long have you been in the team?', True), ('Jo', 'Two years.', False), ('Interviewer', 'How long have you been in the team?', True), ('Jo', 'Two years.', False)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable


@dataclass
class Turn:
    """One speaker turn: the span ``[start, end)`` of the document text it covers."""

    start: int
    end: int
    speaker: str
    is_interviewer: bool = False
    time_start: float | None = None  # seconds from the start of the recording
    time_end: float | None = None


# A clock time: 0:03, 12:05, 1:02:03, 00:01:23.456, 00:01:23,456.
TIMESTAMP = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
# A speaker label: one to four words, the first starting with a letter; words may
# hold letters, digits, apostrophes, dots and hyphens (Dr. O'Neil-Smith, SW2,
# Speaker 1). Bounded repeats keep matching linear.
LABEL = r"[^\W\d_][\w'\u2019.\-]{0,30}(?: \w[\w'\u2019.\-]{0,30}){0,3}"

_INLINE = (
    r"(?:[\[(]?(?P<ts1>" + TIMESTAMP + r")[\])]?[ \t]+)?"  # [00:01:23] Jo:
    r"(?P<bold>\*\*|__)?"
    r"(?P<label>" + LABEL + r")"
    r"(?:[ \t]*[\[(](?P<ts2>" + TIMESTAMP + r")[\])])?"  # Jo (00:01:23):
    r"[ \t]*(?(bold)(?::\*\*|\*\*:|:__|__:)|:)(?=[ \t]|$)"
    r"[ \t]*(?:[\[(](?P<ts3>" + TIMESTAMP + r")[\])][ \t]*)?"  # **Jo:** [00:01:23]
)
_HEADER = (  # Otter / Teams: "Jo Smith  0:03" alone on its line
    r"(?P<hlabel>" + LABEL + r")[ \t]+[\[(]?(?P<hts>" + TIMESTAMP + r")[\])]?[ \t]*$"
)
_LABEL_LINE = re.compile(r"^[ \t]*(?:" + _HEADER + "|" + _INLINE + ")", re.MULTILINE)

INTERVIEWER_ROLES = frozenset(
    {"interviewer", "int", "i", "q", "question", "facilitator", "moderator"}
)
RESPONDENT_ROLES = frozenset(
    {"respondent", "resp", "r", "a", "answer", "interviewee", "participant", "p"}
)
# Words that open a line of notes or a form far more often than they name a speaker.
NOT_SPEAKERS = frozenset(
    """note notes nb ps date time wave round phase re subject title location venue
    present attendees apologies summary comment comments agenda item action actions
    outcome outcomes step source page chapter section part table figure fig example
    key tel phone mobile email address ref reference name age dob duration topic
    theme category warning tip important update status type goal goals aim aims
    objective objectives purpose background context method methods result results
    conclusion recommendation recommendations todo file link url http https mailto
    disclaimer keywords transcript transcription interview participants
    interviewers speakers respondents""".split()
)

PARTICIPANT = "Participant"  # who speaks in the unlabelled lines of a think-aloud session
_TRAILING_NUMBER = re.compile(r"[\s._-]*\d+$")
_ROLE_NUMBER = re.compile(r"^([^\W\d_]+)[\s._-]*(\d+)$")
_SPACES = re.compile(r"\s+")


@dataclass
class _Candidate:
    line_start: int
    text_start: int
    label: str
    key: str
    seconds: float | None
    strong: bool  # timestamp, bold or on its own line: unmistakably a label


def detect_turns(text: str, interviewer_names: Iterable[str] = ()) -> list[Turn]:
    """The speaker turns of ``text``, in order; ``[]`` if it is not a transcript.

    ``interviewer_names`` are labels (any case) to mark as the interviewer besides
    the role words (Interviewer, I, Q, Int, Facilitator, Moderator).

    >>> text = "[00:00:05] Sam: Hello.\\n[00:00:09] Ali: Hi Sam.\\n[00:00:12] Sam: Shall we?"
    >>> [(t.speaker, t.time_start, t.is_interviewer) for t in detect_turns(text, ["sam"])]
    [('Sam', 5.0, True), ('Ali', 9.0, False), ('Sam', 12.0, True)]
    """
    candidates = [c for c in _candidates(text) if _role(c.key) != "stop"]
    if isinstance(interviewer_names, str):
        interviewer_names = [interviewer_names]
    interviewers = {_key(name) for name in interviewer_names}
    accepted = _accepted(candidates)
    if not accepted:
        return _moderator_only(text, candidates, interviewers)
    spelling: dict[str, str] = {}
    turns: list[Turn] = []
    for i, cand in enumerate(accepted):
        limit = accepted[i + 1].line_start if i + 1 < len(accepted) else len(text)
        start, end = _trim(text, cand.text_start, limit)
        if start == end:
            continue
        speaker = spelling.setdefault(cand.key, cand.label)
        is_interviewer = _role(cand.key) == "interviewer" or cand.key in interviewers
        turns.append(Turn(start, end, speaker, is_interviewer, cand.seconds))
    return turns


def _moderator_only(text: str, candidates: list[_Candidate], interviewers: set[str]) -> list[Turn]:
    r"""Think-aloud sessions label only the moderator: the lines between are the participant's.

    Applies when one interviewer label (a role word such as ``MODERATOR`` or a name
    given as the interviewer) recurs and no other label does. The moderator's turn is
    the rest of the label's line; everything up to the next moderator line is one
    participant turn. Text before the first moderator line is the header.

    >>> text = "Session 4\nMODERATOR: Please find the form.\nOkay, so I click here.\nHmm.\nMODERATOR: What now?\nI'd go back."
    >>> [(t.speaker, text[t.start:t.end]) for t in detect_turns(text)]
    [('MODERATOR', 'Please find the form.'), ('Participant', 'Okay, so I click here.\nHmm.'), ('MODERATOR', 'What now?'), ('Participant', "I'd go back.")]
    """
    counts: dict[str, int] = {}
    for cand in candidates:
        counts[cand.key] = counts.get(cand.key, 0) + 1
    recurring = [key for key, n in counts.items() if n >= 2]
    if len(recurring) != 1:
        return []
    key = recurring[0]
    if not (_role(key) == "interviewer" or key in interviewers):
        return []
    moderator = [c for c in candidates if c.key == key]
    turns: list[Turn] = []
    for i, cand in enumerate(moderator):
        line_end = text.find("\n", cand.text_start)
        line_end = len(text) if line_end < 0 else line_end
        start, end = _trim(text, cand.text_start, line_end)
        if start < end:
            turns.append(Turn(start, end, moderator[0].label, True, cand.seconds))
        limit = moderator[i + 1].line_start if i + 1 < len(moderator) else len(text)
        start, end = _trim(text, line_end, limit)
        if start < end:
            turns.append(Turn(start, end, PARTICIPANT, False))
    return turns


def is_interviewer_label(label: str, interviewer_names: Iterable[str] = ()) -> bool:
    """Whether ``label`` names the interviewer (role word or one of the given names).

    >>> is_interviewer_label("Int2"), is_interviewer_label("Jo", ["jo"])
    (True, True)
    """
    key = _key(label)
    return _role(key) == "interviewer" or key in {_key(n) for n in interviewer_names}


def parse_timestamp(value: str) -> float:
    """Seconds in ``H:MM:SS``, ``MM:SS`` or ``M:SS`` (with optional fraction).

    >>> parse_timestamp("1:02:03.5"), parse_timestamp("0:22")
    (3723.5, 22.0)
    """
    parts = value.replace(",", ".").split(":")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


def _candidates(text: str) -> Iterable[_Candidate]:
    for m in _LABEL_LINE.finditer(text):
        if m.group("hlabel") is not None:
            label, stamp = m.group("hlabel"), m.group("hts")
            newline = text.find("\n", m.end())
            text_start = len(text) if newline < 0 else newline + 1
            strong = True
        else:
            label = m.group("label")
            stamp = m.group("ts1") or m.group("ts2") or m.group("ts3")
            text_start = m.end()
            strong = bool(stamp or m.group("bold"))
        label = _SPACES.sub(" ", label).strip()
        if not (label[0].isupper() or _role(_key(label)) in ("interviewer", "respondent")):
            continue
        yield _Candidate(
            line_start=m.start(),
            text_start=text_start,
            label=label,
            key=_key(label),
            seconds=parse_timestamp(stamp) if stamp else None,
            strong=strong,
        )


def _accepted(candidates: list[_Candidate]) -> list[_Candidate]:
    """Keep the candidates that are speaker labels, by the recurrence rule.

    Labels seen twice or more are speakers; so are labels seen once in an
    unmistakable form, but only after the first recurring label has appeared (a
    header line such as ``Participant: SW2 (Social Worker)`` comes before the talk).
    Only when no label recurs at all (a single exchange) do an interviewer role
    and a respondent role seen once each make a transcript.
    """
    counts: dict[str, int] = {}
    for cand in candidates:
        counts[cand.key] = counts.get(cand.key, 0) + 1
    recurring = {key for key, n in counts.items() if n >= 2}
    if recurring:
        first = min(c.line_start for c in candidates if c.key in recurring)
        kept = [c for c in candidates
                if c.key in recurring or ((c.strong or _role(c.key) in ("interviewer", "respondent"))
                                          and c.line_start > first)]
    else:
        roles = {_role(key) for key in counts}
        paired = "interviewer" in roles and "respondent" in roles
        kept = [c for c in candidates
                if paired and _role(c.key) in ("interviewer", "respondent")]
    if len({c.key for c in kept}) < 2:
        return []
    return kept


def _key(label: str) -> str:
    """The identity of a label: case and spacing ignored, and a role word's number
    written one way (``Interviewer 1``, ``Interviewer1``, ``interviewer-1`` are one).

    >>> _key("Interviewer 1") == _key("Interviewer1") == _key("INTERVIEWER-1")
    True
    """
    key = _SPACES.sub(" ", label).strip().rstrip(".").casefold()
    numbered = _ROLE_NUMBER.match(key)
    if numbered and _role(numbered.group(1)) in ("interviewer", "respondent"):
        return f"{numbered.group(1)} {int(numbered.group(2))}"
    return key


def _role(key: str) -> str | None:
    base = _TRAILING_NUMBER.sub("", key)
    if base in INTERVIEWER_ROLES:
        return "interviewer"
    if base in RESPONDENT_ROLES:
        return "respondent"
    if base in NOT_SPEAKERS or key in NOT_SPEAKERS:
        return "stop"
    return None


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` shrunk to exclude blank space at either side."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
