"""The report's name check in a helper process: same hits as in this process, texts sent
once, and every failure of the helper falls back to scanning here."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from qualcode.errors import ModelNotInstalled
from qualcode.reporting import name_scan
from qualcode.reporting.name_scan import NameScanner, hits_of

TESTS = Path(__file__).resolve().parent
QUOTES = [
    "Audit: Ava Brannigan (DOB 03/04/2015) was seen at home with her mum.",
    "We went round to 14 Lavender Row and her son Tyler showed us his room.",
    "The group supervision is where I learnt the most, week after week.",
    "Ring the duty desk on 07700 900412 if the school calls again.",
    "The group supervision is where I learnt the most, week after week.",  # a repeat
]


@pytest.fixture
def scanner():
    made: list[NameScanner] = []

    def start(model):
        made.append(NameScanner(model))
        return made[-1]

    yield start
    for s in made:
        s.close()


def test_the_helper_finds_what_this_process_finds(scanner):
    here = hits_of(QUOTES, model=None)
    assert ["Tyler", "Child"] in here[1] and ["07700 900412", "Phone"] in here[3] and here[2] == []
    assert scanner(None).hits_of(QUOTES) == here


def test_the_helper_runs_the_ner_model(scanner):
    texts = ["Kelly Marsh rang to say the family had moved to Carrick House in Dunmore."]
    assert scanner("auto").hits_of(texts) == hits_of(texts, "auto")
    assert any(kind == "Person" for _, kind in hits_of(texts, "auto")[0])


def test_prefetched_texts_are_sent_once(scanner, monkeypatch):
    monkeypatch.setattr(name_scan, "PREFETCH_BATCH", 2)
    helper = scanner(None)
    sent: list[list[str]] = []
    exchange = helper._exchange
    monkeypatch.setattr(helper, "_exchange", lambda texts: (sent.append(texts), exchange(texts))[1])
    helper.prefetch(QUOTES[:2])  # a batch: sent now
    helper.prefetch(QUOTES[:3])  # two already sent; one waits for the next batch
    assert helper.hits_of(QUOTES) == hits_of(QUOTES, model=None)
    flat = [t for batch in sent for t in batch]
    assert sorted(flat) == sorted(set(QUOTES)) and len(flat) == len(set(flat))


def test_the_helper_runs_this_qualcode(scanner):
    import qualcode

    helper = scanner(None)
    env_path = name_scan._helper_environment()["PYTHONPATH"].split(os.pathsep)
    assert env_path[0] == str(Path(qualcode.__file__).resolve().parents[1])
    assert helper.hits_of(QUOTES[:1]) == hits_of(QUOTES[:1], model=None)


def test_a_helper_that_died_falls_back_to_this_process(scanner, monkeypatch):
    helper = scanner(None)
    helper.process.kill()
    helper.process.wait()
    monkeypatch.setitem(name_scan._SCANNERS, None, helper)
    assert name_scan.scan(QUOTES, None) == hits_of(QUOTES, model=None)
    assert None not in name_scan._SCANNERS  # dropped: the next report starts afresh or scans here


def test_a_missing_model_raises_the_real_error_not_a_hang(scanner, monkeypatch):
    helper = scanner("qualcode_no_such_pipeline")
    monkeypatch.setitem(name_scan._SCANNERS, "qualcode_no_such_pipeline", helper)
    with pytest.raises(ModelNotInstalled, match="qualcode_no_such_pipeline"):
        name_scan.scan(QUOTES, "qualcode_no_such_pipeline")


def test_a_report_in_a_fresh_process_checks_names_in_the_helper(tmp_path):
    """As `qualcode report` runs: spaCy not yet imported, so the helper loads it."""
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(TESTS)!r})
        from test_report_project import add_family_interview, build_project
        from qualcode import NewCoding
        from qualcode.errors import NamesInReport
        from qualcode.report import build_report
        from qualcode.reporting import name_scan

        project = build_project({str(tmp_path / "p.qc")!r}).project
        text = "Jo: We met her son Tyler at 14 Lavender Row and he told us what he wanted for once.\\n"
        doc = add_family_interview(project, text)
        project.add_codings([NewCoding(doc, 4, len(text) - 1, "voice", coder="alex", status="accepted")])
        assert "qualcode.privacy.detection" not in sys.modules
        try:
            build_report(project, name_model=None)
        except NamesInReport as exc:
            print("refused:", sorted({{text for _, text, _ in exc.found}}))
        print("helper used:", list(name_scan._SCANNERS), "detector here:", "qualcode.privacy.detection" in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    refused = next(line for line in done.stdout.splitlines() if line.startswith("refused:"))
    assert "'Tyler'" in refused and "'14 Lavender Row'" in refused
    assert "helper used: [None] detector here: False" in done.stdout
