"""Caption files (.vtt, .srt) from Teams, Zoom, Otter, Descript or whisper.

Captions split speech into short cues of a few seconds; evaluators code what a
person said, so cues are merged back into speaker turns. A cue's speaker is its
``<v Name>`` voice tag or a ``Name:`` prefix (prefixes count once the file shows
it uses them, i.e. some name prefixes two cues or more, so a stray "So: ..." in
speech is not a speaker). A cue with
no speaker continues the previous speaker's turn: many files name the speaker only
on a turn's first cue. Consecutive cues of one speaker become one turn, timed from
the first cue's start to the last cue's end.

The stored text is one line per turn, ``Speaker: what they said``, so the document
reads as a transcript; each turn's span covers only what they said.

Captions without any speaker (whisper output) get no turns: we do not invent
speakers. Their text is kept as paragraphs, a new one after each pause of two
seconds or more, so it stays readable and codable.

Attributes: ``speakers`` (comma-separated, in order of first appearance; absent if
there are none) and ``duration`` (seconds, from the end of the last cue).

>>> from pathlib import Path
>>> vtt = b"WEBVTT\\n\\n00:01.000 --> 00:02.000\\n<v Jo>Hi there\\n\\n00:02.000 --> 00:03.500\\nall.\\n"
>>> doc = parse_captions(Path("a.vtt"), vtt, ImportOptions())[0]
>>> doc.text, doc.attributes
('Jo: Hi there all.', {'speakers': 'Jo', 'duration': '3.5'})
"""

from __future__ import annotations

import html
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

from qualcode.errors import ImportFailed
from qualcode.importers.base import ImportOptions, ParsedDocument, Turn, importer
from qualcode.textnorm import decode_text, normalise_text
from qualcode import turns as turn_rules

_TIME = r"(?:\d+:)?\d{1,2}:\d{1,2}[.,]\d{1,3}"
_TIMING_LINE = re.compile(r"\s*(" + _TIME + r")\s*-->\s*(" + _TIME + r")(?:\s.*)?$")
_VOICE = re.compile(r"<v(?:\.[\w-]+)*[ \t]+([^>]+)>")
_PAUSE = 2.0  # seconds of silence that start a new paragraph when no speaker is known
_SPACES = re.compile(r"\s+")


@dataclass
class _Cue:
    start: float
    end: float
    text: str
    speaker: str | None = None


@dataclass
class _Block:
    speaker: str | None
    start: float
    end: float
    parts: list[str] = field(default_factory=list)


@importer(".vtt", ".srt")
def parse_captions(path: Path, data: bytes, options: ImportOptions) -> list[ParsedDocument]:
    """One document of speaker turns from a WebVTT or SubRip file."""
    raw, encoding = decode_text(data, path.name)
    text = normalise_text(raw)
    cues = _read_cues(path, text)
    _assign_prefix_speakers(cues)
    has_speakers = any(cue.speaker for cue in cues)
    blocks = _merge(cues) if has_speakers else _paragraphs(cues)

    lines: list[str] = []
    turns: list[Turn] = []
    offset = 0
    names = options.interviewer_names
    for block in blocks:
        spoken = " ".join(block.parts)
        label = f"{block.speaker}: " if block.speaker else ""
        line = label + spoken
        if block.speaker:
            start = offset + len(label)
            is_interviewer = turn_rules.is_interviewer_label(block.speaker, names)
            turns.append(Turn(start, start + len(spoken), block.speaker, is_interviewer,
                              block.start, block.end))
        lines.append(line)
        offset += len(line) + 1
    attributes = {"duration": _seconds(max(cue.end for cue in cues))}
    speakers = list(dict.fromkeys(t.speaker for t in turns))
    if speakers:
        attributes = {"speakers": ", ".join(speakers), **attributes}
    return [
        ParsedDocument(
            name=path.name,
            text="\n".join(lines),
            format=path.suffix.lower().lstrip("."),
            turns=turns,
            attributes=attributes,
            source_type=options.source_type,
            encoding=encoding,
        )
    ]


def _read_cues(path: Path, text: str) -> list[_Cue]:
    """Parse with webvtt-py after checking every timing line ourselves.

    webvtt-py skips cue blocks it cannot read; a researcher would lose speech without
    knowing, so a bad timing line is an error that names the line.
    """
    is_srt = path.suffix.lower() == ".srt"
    fix = f"correct that line in a text editor, or export the {path.suffix} again"
    if not is_srt and not text.startswith("WEBVTT"):
        raise ImportFailed(path.name, "a WebVTT file must start with the line WEBVTT",
                           fix, where="1")
    for number, line in enumerate(text.split("\n"), start=1):
        if "-->" in line and not _TIMING_LINE.match(line):
            raise ImportFailed(path.name, f"this cue timing line cannot be read: {line.strip()!r}",
                               fix, where=str(number))
    try:
        captions = webvtt.from_buffer(io.StringIO(text), format="srt" if is_srt else "vtt")
    except (MalformedFileError, MalformedCaptionError) as err:
        raise ImportFailed(path.name, f"this is not a valid caption file ({err})", fix) from None
    cues = []
    for caption in captions:
        voice = _VOICE.search(caption.raw_text)
        spoken = _SPACES.sub(" ", html.unescape(caption.text)).strip()
        if spoken:
            cues.append(
                _Cue(
                    start=caption.start_time.in_milliseconds() / 1000,
                    end=caption.end_time.in_milliseconds() / 1000,
                    text=spoken,
                    speaker=_SPACES.sub(" ", voice.group(1)).strip() if voice else None,
                )
            )
    if not cues:
        raise ImportFailed(path.name, "the file holds no captions with text",
                           f"check the file, or export the {path.suffix} again")
    return cues


def _assign_prefix_speakers(cues: list[_Cue]) -> None:
    """Move ``Name:`` prefixes into ``speaker`` once the file shows it uses them.

    A file uses prefixes when some name prefixes two cues or more, or is also a voice
    tag; then any prefix that looks like a name (every word capitalised, as in
    ``Dr Patel:``; not a form word such as ``Note:``) counts, so a speaker who talks
    once is not lost, while ``Well I think: ...`` is still speech.
    """
    prefix = _prefix_pattern()
    found = [(cue, prefix.match(cue.text)) for cue in cues if cue.speaker is None]
    counts = Counter(m.group(1) for _, m in found if m)
    voices = {cue.speaker for cue in cues if cue.speaker}
    if not any(n >= 2 or name in voices for name, n in counts.items()):
        return
    for cue, m in found:
        if m and (counts[m.group(1)] >= 2 or m.group(1) in voices or _is_name(m.group(1))):
            cue.speaker, cue.text = m.group(1), cue.text[m.end():]


@cache
def _prefix_pattern() -> re.Pattern[str]:
    """``Name:`` at the start of a cue (after an optional ``>>``), built on first use."""
    return re.compile(r"(?:>>\s*)?(" + turn_rules.LABEL + r"):[ \t]+")


def _is_name(label: str) -> bool:
    words = label.split()
    return (
        all(word[0].isupper() or word[0].isdigit() for word in words)
        and label.casefold() not in turn_rules.NOT_SPEAKERS
    )


def _merge(cues: list[_Cue]) -> list[_Block]:
    """Consecutive cues of one speaker as one block; unnamed cues continue a turn."""
    blocks: list[_Block] = []
    for cue in cues:
        speaker = cue.speaker or (blocks[-1].speaker if blocks else "Unknown")
        if not blocks or blocks[-1].speaker != speaker:
            blocks.append(_Block(speaker, cue.start, cue.end))
        if cue.text:
            blocks[-1].parts.append(cue.text)
        blocks[-1].end = max(blocks[-1].end, cue.end)
    return [b for b in blocks if b.parts]


def _paragraphs(cues: list[_Cue]) -> list[_Block]:
    """Speakerless cues as paragraphs, broken at pauses of ``_PAUSE`` seconds."""
    blocks: list[_Block] = []
    for cue in cues:
        if not blocks or cue.start - blocks[-1].end >= _PAUSE:
            blocks.append(_Block(None, cue.start, cue.end))
        blocks[-1].parts.append(cue.text)
        blocks[-1].end = max(blocks[-1].end, cue.end)
    return blocks


def _seconds(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")
