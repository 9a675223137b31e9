"""Fuzz every registered parser: random bytes and mutated valid files.

Each parse either returns documents whose turns lie inside their text, or raises
``ImportFailed`` with a message; never another exception type, never a hang.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from docx import Document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualcode.errors import ImportFailed
from qualcode.importers import ImportOptions, known_extensions, parser_for

TXT = b"Interviewer: How is supervision?\nRespondent: Group supervision helps. Caseloads are high.\n" * 3
VTT = (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.500\n<v Jo Smith>Hello there.</v>\n\n"
       b"00:00:03.000 --> 00:00:04.000\n<v Interviewer>And how is it going?</v>\n\n"
       b"00:00:04.500 --> 00:00:06.000\nJo: Fine thanks.\n")
SRT = b"1\n00:00:01,000 --> 00:00:02,000\nJo: Hello.\n\n2\n00:00:02,500 --> 00:00:04,000\nI: And then?\n"
CSV = b"note_id,case_id,text\nN1,C1,Home visit. Mum seen.\nN2,C1,\"TAF meeting, all present\"\n"


def _docx() -> bytes:
    doc = Document()
    for line in ("Interviewer: How is supervision?", "Respondent: Group supervision helps.",
                 "Interviewer: And caseloads?", "Respondent: High."):
        doc.add_paragraph(line)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


VALID = {".txt": TXT, ".vtt": VTT, ".srt": SRT, ".csv": CSV, ".docx": _docx()}
OPTIONS = ImportOptions(text_columns=["text"])
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                derandomize=True)


def _check(ext: str, data: bytes) -> None:
    path = Path(f"fuzzed{ext}")
    parser = parser_for(path)
    try:
        documents = parser(path, data, OPTIONS)
    except ImportFailed as exc:
        assert str(exc).startswith("fuzzed"), str(exc)  # the message names the file
        return
    for doc in documents:
        assert isinstance(doc.text, str)
        for turn in doc.turns:
            assert 0 <= turn.start <= turn.end <= len(doc.text), (ext, turn)


def test_every_parser_reads_its_valid_sample():
    for ext, data in VALID.items():
        documents = parser_for(Path(f"ok{ext}"))(Path(f"ok{ext}"), data, OPTIONS)
        assert documents and documents[0].text.strip()


@pytest.mark.parametrize("ext", sorted(known_extensions()))
@FUZZ
@given(data=st.binary(max_size=2048))
def test_random_bytes(ext, data):
    _check(ext, data)


@st.composite
def mutated(draw, ext: str):
    data = bytearray(VALID[ext])
    for _ in range(draw(st.integers(1, 12))):
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if action == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "cut":
            del data[at:at + draw(st.integers(1, 64))]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
    return bytes(data)


@pytest.mark.parametrize("ext", sorted(VALID))
@FUZZ
@given(data=st.data())
def test_mutated_valid_files(ext, data):
    _check(ext, data.draw(mutated(ext)))
