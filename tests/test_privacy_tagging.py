"""The detector runs the tagger only where the name rules read a tag, with the same hits.

``Detector._model_docs`` tags a text after its entities are found, and only when
``names.needs_tags`` says a word's answer turns on its tag; the hits must be those of
the whole pipeline run on every text, on the demo's real-looking interviews and case
notes (names, places, lower-case transcripts) and on short report-like quotes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qualcode.privacy import Detector
from qualcode.privacy.detection import installed_ner_model

CORPUS = Path(__file__).resolve().parents[1] / "corpus"

QUOTES = [
    "we met at home and it went well, the plan is working now.",
    "Rose said the group supervision helps; Grace period ends in May.",
    "me and kelly went to the school on Tuesday with the key worker.",
    "Olumide feels stretched since the restructure.",
    "The TAF meeting at Carrick House was the first time everyone listened.",
]


@pytest.mark.skipif(installed_ner_model() is None, reason="no spaCy NER pipeline installed")
def test_tagging_only_where_read_gives_the_whole_pipelines_hits():
    detector = Detector(model="auto")
    texts = QUOTES + [p.read_text(encoding="utf-8", errors="replace") for p in sorted(CORPUS.rglob("*.txt"))[:12]]
    docs = [{"id": i, "name": f"t{i}", "text": t} for i, t in enumerate(texts)]
    whole = [h for d, doc in zip(docs, detector.ner.pipe(texts, batch_size=16)) for h in detector._model_hits(d, doc)]
    lean = [h for d, doc in zip(docs, detector._model_docs(texts)) for h in detector._model_hits(d, doc)]
    assert lean == whole
    assert any(h.text == "Olumide" for h in lean)  # a name the tag decides is still found
