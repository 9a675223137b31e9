"""learn's per-code table beside the people who coded, its out-of-fold decisions, the
refusal of poor codes, the per-code cap in suggest, and the unit following the coding."""

from __future__ import annotations

import random
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score
from typer.testing import CliRunner

from qualcode import learn
from qualcode.cli import app
from qualcode.errors import NotFoundError
from qualcode.project import NewCoding, Project
from test_learn_corpus import SENTENCES, add_codes, add_document, build


@pytest.fixture(scope="module")
def two_coders(tmp_path_factory):
    """The six-interview corpus coded by alex, with sam coding three of them again,
    missing some of alex's codings and adding a few of their own."""
    lab = build(tmp_path_factory.mktemp("report"))
    alex = lab.project.codings(coder="alex")
    docs = sorted(alex["document_id"].unique())[:3]
    mine = alex[alex["document_id"].isin(docs)].reset_index(drop=True)
    again = [NewCoding(int(r.document_id), int(r.start), int(r.end), r.code, "sam")
             for i, r in enumerate(mine.itertuples()) if i % 4]
    extra = alex[alex["document_id"].isin(docs) & (alex["code"] == "workload")].iloc[:2]
    again += [NewCoding(int(r.document_id), int(r.start), int(r.end), "family", "sam") for r in extra.itertuples()]
    lab.project.add_codings(again)
    report = learn.assess(lab.project, folds=3)
    yield lab, report
    lab.project.close()


def test_machine_and_human_kappas_are_cohens_on_the_decisions(two_coders):
    lab, report = two_coders
    assert report.unit == "sentence" and report.coders == ["alex", "sam"]
    oof = report.predictions
    row = report.by_code.set_index("code").loc["family"]
    part = oof[oof["code"] == "family"]
    for coder in ("alex", "sam"):
        seen = part[part[f"coded_by_{coder}"].notna()]
        expected = cohen_kappa_score(seen["predicted"], seen[f"coded_by_{coder}"].astype(bool))
        assert row[f"kappa_machine_vs_{coder}"] == pytest.approx(expected, abs=1e-3)
    both = part[part["coded_by_sam"].notna()]
    human = cohen_kappa_score(both["coded_by_alex"].astype(bool), both["coded_by_sam"].astype(bool))
    assert row["kappa_alex_vs_sam"] == pytest.approx(human, abs=1e-3)
    assert 0 < human < 1  # sam left some out and added two: they disagree a little
    # the out-of-fold decisions are those the figures count
    assert int((part["outcome"] == "TP").sum()) == row["tp"] and int((part["outcome"] == "FP").sum()) == row["fp"]
    assert set(part["fold"]) == {1, 2, 3}
    assert (part["text"].str.len() > 0).all()


def test_the_macro_rows_average_each_code_once(two_coders):
    _, report = two_coders
    learned = report.by_code[report.by_code["f1"].notna()]
    macro = report.overall.iloc[0]
    assert macro["code"] == f"(macro, {len(learned)} codes learned)"
    for column in ("precision", "recall", "f1", "ap", "auc", "kappa_machine_vs_alex", "kappa_alex_vs_sam"):
        assert macro[column] == pytest.approx(learned[column].mean(), abs=1e-3)
    assert macro["tp"] == learned["tp"].sum()
    summary = report.summary()
    assert list(summary.columns[:8]) == ["code", "positives", "base rate", "P", "R", "F1", "AP", "AUC"]
    assert "κ m~alex" in summary.columns and "κ alex~sam" in summary.columns
    assert summary.set_index("code").loc["voice", "suggested"].startswith("no: only 2 positive")


def test_learn_prints_the_table_and_writes_the_predictions(two_coders, tmp_path):
    lab, report = two_coders
    out = tmp_path / "oof.csv"
    result = CliRunner().invoke(app, ["learn", str(lab.project.location), "--folds", "3", "--predictions", str(out)])
    assert result.exit_code == 0, result.output
    assert "κ m~alex" in result.output and "(macro, 3 codes learned)" in result.output
    assert "unit: sentence" in result.output
    written = pd.read_csv(out)
    assert len(written) == len(report.predictions) and set(written["code"]) == {"supervision", "workload", "family"}
    assert {"document", "code", "score", "confidence", "predicted", "coded", "outcome", "text"} <= set(written.columns)
    bad = CliRunner().invoke(app, ["learn", str(lab.project.location), "--predictions", str(tmp_path / "oof.xlsx")])
    assert bad.exit_code != 0 and "name a file ending in .csv" in str(bad.exception)
    assert not (tmp_path / "oof.xlsx").exists()


def _concentrated(tmp_path) -> Project:
    """Ten interviews alike in wording; 'whole' is coded over every sentence of two of
    them (a whole-document coding learned at sentence unit), 'supervision' as usual."""
    project = Project.create(tmp_path / "concentrated.qc")
    add_codes(project, {"supervision": "Group supervision", "whole": "Coded over whole interviews"})
    pool = SENTENCES["off"] + SENTENCES["workload"]
    codings = []
    for d in range(10):
        parts = [SENTENCES["supervision"][(2 * d + j) % 21] for j in range(2)]
        parts += [pool[(5 * d + j) % len(pool)] for j in range(5)]
        text = " ".join(parts)
        doc_id = add_document(project, f"W1_SW{d:02d}", text)
        at = 0
        for j, sentence in enumerate(parts):
            if j < 2:
                codings.append(NewCoding(doc_id, at, at + len(sentence), "supervision", "alex"))
            at += len(sentence) + 1
        if d in (3, 7):
            codings.append(NewCoding(doc_id, 0, len(text), "whole", "alex"))
    project.add_codings(codings)
    return project


def test_a_code_whose_positives_sit_in_a_few_documents_is_refused_unless_named(tmp_path):
    project = _concentrated(tmp_path)
    with project:
        cv = learn.cross_validate(project, folds=5, unit="sentence", min_examples=4)
        whole = cv.set_index("code").loc["whole"]
        assert bool(whole["refused"]) and not np.isnan(whole["auc"])  # refused, figures kept
        assert whole["reason"].startswith(("cross-validated AUC", "average precision"))
        result = learn.suggest(project, unit="sentence", min_examples=4)
        assert "whole" in result.refused and "whole" not in result.by_code
        assert result.refused["whole"] == whole["reason"]
        asked = learn.suggest(project, unit="sentence", min_examples=4, codes=["whole"], max_per_code=3)
        assert "whole" not in asked.refused and set(asked.by_code) <= {"whole"}
        assert asked.by_code.get("whole", 0) <= 3
        with pytest.raises(NotFoundError, match="did you mean 'whole'"):
            learn.suggest(project, unit="sentence", codes=["wholes"])


def test_suggest_caps_each_code_and_says_so(tmp_path):
    lab = build(tmp_path)
    with lab.project:
        result = learn.suggest(lab.project, min_confidence=0.0, max_per_code=2)
        assert result.max_per_code == 2
        assert all(n == 2 for n in result.by_code.values())
        assert all(result.capped[c] > 0 for c in result.by_code)
        suggested = lab.project.codings(status="suggested")
        assert len(suggested) == 2 * len(result.by_code)
        out = CliRunner().invoke(app, ["suggest", str(lab.project.location), "--max-per-code", "1"])
        assert out.exit_code == 0, out.output
        assert re.search(r"cap per code +1\n", out.output)


def test_the_unit_follows_whole_document_coding(tmp_path):
    """Survey answers coded as a whole are learned and scored as answers; naming the
    sentence unit for them is allowed and explained."""
    project = Project.create(tmp_path / "survey.qc")
    add_codes(project, {"supervision": "Supervision", "workload": "Workload"})
    codings = []
    kinds = ["supervision", "workload"] * 21
    random.Random(0).shuffle(kinds)  # in no pattern the document folds could line up with
    for i, kind in enumerate(kinds):
        text = f"{SENTENCES[kind][i % 21]} {SENTENCES['off'][(i // 2) % 21]}"  # off-topic alike in both
        doc_id = add_document(project, f"answer_{i:03d}", text)
        codings.append(NewCoding(doc_id, 0, len(text), kind, "alex"))
    project.add_codings(codings)
    with project:
        choice = learn.choose_unit(project)
        assert choice.unit == "document" and choice.whole_document_codings == 42
        report = learn.assess(project, folds=4, min_examples=4)
        assert report.unit == "document" and "42 of 42 accepted codings (100%) cover their whole document" in report.unit_note
        assert report.predictions.groupby("code").size().eq(42).all()  # one decision per answer and code
        assert report.by_code.set_index("code").loc["supervision", "auc"] > 0.8
        named = learn.choose_unit(project, "sentence")
        assert named.unit == "sentence" and "every sentence of a coded document counts as coded" in named.note
        result = CliRunner().invoke(app, ["learn", str(project.location), "--folds", "4", "--min-examples", "4"])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("unit: document")


def test_the_learned_method_is_a_coder_in_agreement(two_coders):
    """``learned:cv`` in agreement is the machine's out-of-fold decisions: at the sentence
    unit its kappa with a person is the one learn reports."""
    from qualcode.agreement import LEARNED_CODER, agreement

    lab, report = two_coders
    folds3 = learn.assess(lab.project)  # agreement's machine uses learn's defaults (5 folds)
    result = agreement(lab.project, ["alex", LEARNED_CODER], unit="segment", segment="sentence")
    by_code = result.by_code.set_index("code")
    expected = folds3.by_code.set_index("code")
    for code in ("supervision", "workload", "family"):
        assert by_code.loc[code, "kappa"] == pytest.approx(expected.loc[code, "kappa_machine_vs_alex"], abs=1e-3)
    assert len(result.documents) == 6  # every document alex coded, even where the machine coded nothing
    out = CliRunner().invoke(app, ["agreement", str(lab.project.location), "--coders", "sam", LEARNED_CODER,
                                   "--unit", "segment"])
    assert out.exit_code == 0, out.output
    assert "learned:cv" in out.output
