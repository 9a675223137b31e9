"""The report's tables laid out to be read: display names, no constant columns, guides beside figures.

Each function takes what the analysis modules return (documents, Likert tables,
agreement results, codebooks) and gives the frame a reader sees. Layout decisions:

- the achieved sample is role × wave with totals, blanks shown as "(not recorded)";
- a survey is one table per survey with each item's question as a full-width row and
  its waves as the rows beneath it (so question text never wraps a letter at a time);
- the agreement table gives per code κ and α with the units each coder coded; the
  units compared (the same for every code) go into the caption, the pooled row is left
  out (a sum over codes of different prevalence means nothing), and a reading guide
  with the prevalence caveat on % agreement sits under the table;
- coders, codes and source types appear by display name, never by id.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from .. import matrices

AGREEMENT_GUIDE = (
    "Reading the table: κ and α run from 0 (no better than chance) to 1 (perfect agreement); 0.8 or more is "
    "usually taken as reliable, 0.67–0.8 as enough for tentative conclusions. Percentage agreement also counts "
    "the text neither coder coded, so it is high for any code that is rarely applied (prevalence): read it "
    "beside κ, never alone.")
SURVEY_COLUMNS = {  # Likert table column -> header in the report, in order
    "base": "Base", "Strongly agree": "Strongly agree", "Agree": "Agree",
    "Neither agree nor disagree": "Neither", "Disagree": "Disagree", "Strongly disagree": "Strongly disagree",
    "Agree (net)": "Agree (net)", "Disagree (net)": "Disagree (net)", "Agree change": "Change in agree",
    "Not sure": "Not sure", "Missing": "Missing",
}


def display_name(value: Any) -> str:
    """An id as a reader should see it: ``researcher_a`` → ``Researcher A``, ``staff interview`` → ``Staff interview``.

    >>> display_name("researcher_a"), display_name("staff interview"), display_name("Team Manager")
    ('Researcher A', 'Staff interview', 'Team Manager')
    """
    text = str(value)
    if "_" in text:
        return " ".join(w.capitalize() if len(w) > 1 else w.upper() for w in text.split("_"))
    return text[:1].upper() + text[1:] if text.islower() else text


def wave_label(value: str) -> str:
    from ..quotes import _wave

    return _wave(value) or value if value != matrices.MISSING else value


def role_label(value: str) -> str:
    return value.title() if value.islower() and value != matrices.MISSING else value


def achieved_sample(documents: pd.DataFrame, rows: str = "role", columns: str = "wave") -> pd.DataFrame:
    """Documents by ``rows`` × ``columns`` (role × wave), with totals; blanks as not recorded.

    >>> achieved_sample(project.documents())    # doctest: +SKIP
    """
    frame = documents.copy()
    for column in (rows, columns):
        if column not in frame:
            frame[column] = None
        frame[column] = frame[column].fillna(matrices.MISSING).astype(str)
    frame[columns] = frame[columns].map(wave_label)
    table = pd.crosstab(frame[rows], frame[columns], margins=True, margins_name=matrices.TOTAL)
    order = sorted((c for c in table.columns if c != matrices.TOTAL), key=matrices._natural) + [matrices.TOTAL]
    index = sorted((r for r in table.index if r != matrices.TOTAL), key=matrices._natural) + [matrices.TOTAL]
    table = table.reindex(index=index, columns=order)
    table.index = [role_label(r) if rows == "role" else display_name(r) for r in table.index]
    table.index.name = "Role" if rows == "role" else rows.replace("_", " ").capitalize()
    table.columns.name = None
    return table.reset_index()


def survey_layout(likert: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """A Likert table as waves under each item's question: (frame, group rows).

    >>> t = pd.DataFrame({"item": ["q1", "q1"], "question": ["I feel heard", "I feel heard"],
    ...                   "wave": ["Wave 1", "Wave 2"], "base": [10, 12], "Agree": ["50% (5)", "75% (9)"]})
    >>> frame, groups = survey_layout(t)
    >>> list(frame.columns), groups
    (['Wave', 'Base', 'Agree'], [(0, 'I feel heard')])
    """
    present = {k: v for k, v in SURVEY_COLUMNS.items() if k in likert.columns}
    rows, groups = [], []
    for _, item in likert.groupby("item", sort=False):
        question = str(item["question"].iloc[0])
        groups.append((len(rows), question))
        for record in item.to_dict("records"):
            row = {"Wave": wave_label(str(record.get("wave") or "All"))}
            row.update({header: record.get(column) for column, header in present.items()})
            rows.append(row)
    frame = pd.DataFrame(rows, columns=["Wave", *present.values()])
    keep = [c for c in frame.columns if frame[c].astype(str).str.strip().replace("nan", "").any()]
    return frame[keep], groups


def agreement_table(result: Any) -> tuple[pd.DataFrame, str]:
    """Per code κ and α with each coder's count: (frame, the units compared, for the caption)."""
    by_code = result.by_code
    coders = list(result.coders)
    kappa = "Cohen's κ" if len(coders) == 2 else "Fleiss' κ"
    table = pd.DataFrame({"Code": [name or display_name(key) for key, name in zip(by_code["code"], by_code["code_name"])]})
    unit = result.unit_label
    for coder in coders:
        table[f"{_plural(unit).capitalize()} coded by {display_name(coder)}"] = by_code[f"coded_by_{coder}"].map(_count)
    table["Coded by both"] = by_code["all_coded"].map(_count) if "all_coded" in by_code else ""
    table[kappa] = by_code["kappa"].map(_fmt)
    table["Krippendorff's α"] = by_code["alpha"].map(_fmt)
    table["Agreement %"] = by_code["percent_agreement"].map(lambda v: _fmt(v * 100, 1))
    notes = by_code["flag"].fillna("").astype(str)
    for coder in coders:  # "researcher_a did not use this code" reads "Researcher A did not use this code"
        notes = notes.str.replace(rf"(?<!\w){re.escape(str(coder))}(?!\w)", display_name(coder), regex=True)
    if notes.str.strip().any():
        table["Note"] = notes
    compared = by_code["n_units"].dropna()
    n = f"{int(compared.max()):,} {_plural(unit)}" if not compared.empty else f"no {_plural(unit)}"
    if not compared.empty and compared.nunique() > 1:
        table.insert(1, _plural(unit).capitalize() + " compared", by_code["n_units"].map(_count))
        n = f"{_plural(unit)} compared per code"
    return table, n


def codebook_table(codebook: Any) -> pd.DataFrame:
    """A loaded codebook as an outline table: Code (indented), Definition, Include, Exclude."""
    rows = []

    def walk(parent: str | None) -> None:
        for code in codebook.children(parent):
            rows.append({"Code": "\u2003" * codebook.depth(code.id) + code.name, "Definition": code.definition,
                         "Include": "\n".join(code.include), "Exclude": "\n".join(code.exclude)})
            walk(code.id)

    walk(None)
    return pd.DataFrame(rows, columns=["Code", "Definition", "Include", "Exclude"])


def _plural(unit: str) -> str:
    unit = re.sub(r"\s*\(.*\)$", "", str(unit))
    return unit if unit.endswith("s") else unit + "s"


def _fmt(value: float, digits: int = 3) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def _count(value: float) -> str:
    return f"{int(value):,}" if not pd.isna(value) else "–"
