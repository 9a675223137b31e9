"""Management information: import, status against baseline and target, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from qualcode.cli import app
from qualcode.errors import InputError, ValidationProblems
from qualcode.indicators import import_indicators, indicator_status, indicator_values_frame, judge
from qualcode.project import Project
from qualcode.toc import Indicator, Measure, load_toc

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
TOC = Path(__file__).resolve().parents[1] / "codebooks" / "toc_whole_family.yaml"

UP = Indicator("dw", "Direct work", "up", "%", Measure(27, "2022-23"), Measure(50, "2024-25"))
DOWN = Indicator("rr", "Re-referrals within 12 months", "down", "%", Measure(24, "2022-23"), Measure(15))


@pytest.mark.parametrize("indicator,observed,status", [
    (UP, [("2023-24", 35), ("2024-25", 50)], "met"),
    (UP, [("2023-24", 35), ("2024-25", 41)], "progress"),
    (UP, [("2023-24", 30), ("2024-25", 26)], "not met"),
    (UP, [("2023-24", 27)], "not met"),  # no better than the baseline
    (UP, [], "no data"),
    (DOWN, [("2024-25", 14.5)], "met"),
    (DOWN, [("2023-24", 17), ("2024-25", 21)], "progress"),
    (DOWN, [("2023-24", 17), ("2024-25", 25)], "not met"),
])
def test_status_rules(indicator, observed, status):
    assert judge(indicator, observed).status == status


def test_judgement_reads_like_a_report():
    result = judge(DOWN, [("2024-25", 25), ("2023-24", 17)])  # given out of order
    assert result.judgement == "Re-referrals within 12 months: not met — 24% (2022-23) → 17% → 25% (2024-25); target 15%"
    assert result.series == [("2022-23", 24), ("2023-24", 17), ("2024-25", 25)]
    assert judge(UP, []).judgement == "Direct work: no data — 27% (2022-23); target 50% (2024-25)"


def test_quarters_do_not_mix_with_years():
    observed = [("2022-23", 24), ("2023-24", 19.1), ("2024-Q4", 21.3), ("2024-25", 19.6), ("2025-Q1", 20.8)]
    result = judge(DOWN, observed)
    assert result.latest == 19.6 and [p for p, _ in result.series] == ["2022-23", "2023-24", "2024-25"]


def test_import_and_status(tmp_path):
    toc = load_toc(TOC)
    csv = tmp_path / "mi.csv"
    csv.write_text("Indicator, Period ,Value,unit\nre_referrals_12m_pct,2023-24,17%,%\n"
                   "re_referrals_12m_pct,2024-25,21,%\nmystery,2024-25,\"1,200\",\n")
    with Project.create(tmp_path / "p.qc") as project:
        result = import_indicators(project, csv, toc)
        assert (result.rows, result.unknown) == (3, ["mystery"])
        assert indicator_values_frame(project, "mystery")["value"].tolist() == [1200.0]
        frame = indicator_status(project, toc).set_index("indicator")
        assert frame.loc["re_referrals_12m_pct", "status"] == "progress"
        assert frame.loc["re_referrals_12m_pct", "judgement"] == (
            "Re-referrals within 12 months: progress — 24% (2022-23) → 17% → 21% (2024-25); target 15% (2024-25)")
        assert frame.loc["lac_rate_per_10k", "status"] == "no data"
        csv.write_text("indicator,period,value\nre_referrals_12m_pct,2024-25,14\n")
        assert import_indicators(project, csv).replaced == 1
        assert indicator_status(project, toc).set_index("indicator").loc["re_referrals_12m_pct", "status"] == "met"


def test_xlsx_import(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["indicator", "period", "value"])
    sheet.append(["avg_caseload", "2024-25", 15.9])
    book.save(tmp_path / "mi.xlsx")
    with Project.create(tmp_path / "p.qc") as project:
        assert import_indicators(project, tmp_path / "mi.xlsx").rows == 1
        assert indicator_values_frame(project)["value"].tolist() == [15.9]


def test_bad_input_is_reported_with_lines(tmp_path):
    csv = tmp_path / "mi.csv"
    with Project.create(tmp_path / "p.qc") as project:
        csv.write_text("indicator,year,value\nx,2023,1\n")
        with pytest.raises(InputError, match=r"missing column\(s\) period \(found: indicator, year, value\)"):
            import_indicators(project, csv)
        csv.write_text("indicator,period,value\nx,2023,1\nx,2024,n/a\ny,2024,lots\n")
        with pytest.raises(ValidationProblems) as caught:
            import_indicators(project, csv)
        assert [str(p) for p in caught.value.problems] == [
            f"{csv}:3: value 'n/a' of x (2024) is not a number. Fix: write a plain number such as 17 or 17.5 "
            "(leave the row out when there is no value).",
            f"{csv}:4: value 'lots' of y (2024) is not a number. Fix: write a plain number such as 17 or 17.5 "
            "(leave the row out when there is no value).",
        ]
        csv.write_text("indicator,period,value\nx,2023,1\nx,2023,2\n")
        with pytest.raises(ValidationProblems, match="x has more than one value for 2023"):
            import_indicators(project, csv)
        assert indicator_values_frame(project).empty  # nothing half-written
        (tmp_path / "mi.txt").write_text("indicator,period,value\n")
        with pytest.raises(InputError, match=r"unsupported file type .txt. Fix: give a .csv or .xlsx file"):
            import_indicators(project, tmp_path / "mi.txt")


@pytest.mark.skipif(not (CORPUS / "management_information.csv").exists(), reason="demo corpus not present")
def test_demo_corpus_management_information(tmp_path):
    Project.create(tmp_path / "p.qc").close()
    result = CliRunner().invoke(app, ["indicators", "import", str(tmp_path / "p.qc"),
                                      str(CORPUS / "management_information.csv"), "--toc", str(TOC), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    toc = load_toc(TOC)
    assert set(toc.indicators()) <= set(data["indicators"])  # every shipped indicator has data
    status = CliRunner().invoke(app, ["indicators", "status", str(tmp_path / "p.qc"), "--toc", str(TOC), "--json"])
    rows = {r["indicator"]: r for r in json.loads(status.output)}
    assert rows["re_referrals_12m_pct"]["status"] == "progress"
    assert rows["re_referrals_12m_pct"]["latest"] == 19.6
