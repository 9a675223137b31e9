"""Build the report model from the project: every table, quote and figure, section by section.

``build_report`` computes from the store (through ``matrices``, ``quotes``,
``evidence``, ``survey`` and ``agreement``) into a ``Report``. Figures sit in the
section they illustrate: the theory-of-change diagram under the evidence, the theme
charts under the themes. A section whose input is absent (no theory of change, no
second coder, no survey) is left out, and the "About" section says so in one line.
Before the model is returned, every quote and table cell passes the name check
(``names``).

>>> report = build_report(project, toc=load_toc("toc.yaml"), coders=["alex", "sam"])  # doctest: +SKIP
>>> report.to_docx("out/report.docx"); report.to_html("out/report.html")               # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from .. import matrices
from ..matrices import Filters
from ..project import Project
from ..quotes import Quote, QuotePool
from . import name_scan
from .model import Contents, Heading, Numbers, Paragraph, QuoteBlock, Report, Section
from .names import check_names, section_texts
from .tables import (AGREEMENT_GUIDE, achieved_sample, agreement_table, codebook_table, display_name,
                     survey_layout, wave_label)
from .template import Template, load_template


@dataclass
class _Inputs:
    project: Project
    template: Template
    filters: Filters
    pool: QuotePool
    toc: Any = None
    codebooks: list = field(default_factory=list)
    coders: list[str] = field(default_factory=list)
    evidence: Any = None
    segments: pd.DataFrame | None = None  # coded_segments, read once for every table and figure
    numbers: Numbers = field(default_factory=Numbers)
    omitted: list[str] = field(default_factory=list)
    table_quotes: list[Quote] = field(default_factory=list)  # quotes inside table cells
    name_model: str | None = None  # the name check's model ("auto", a pipeline name, or None for rules only)
    checking: bool = False  # the check will run: the helper gets the quotes as they are chosen

    def quotes_for(self, codes: Sequence[str], n: int | None = None) -> list[Quote]:
        """The pool's choice of quotes for ``codes``; the name check's helper starts on them at once."""
        quotes = self.pool.select(codes, n).quotes
        if self.checking:
            name_scan.prefetch([q.shown for q in quotes], self.name_model)
        return quotes


def build_report(project: Project, toc: Any = None, codebooks: Sequence[Any] = (),
                 coders: Sequence[str] | None = None, template: Template | str | Path | None = None,
                 level: int = 1, status: str = "accepted", allow_names: bool = False,
                 progress: Callable[[str], None] | None = None, name_model: str | None = "auto") -> Report:
    """Compute the whole report from the project: tables, quotes and figures.

    ``toc``: a loaded ``TheoryOfChange`` (or a path to one); ``codebooks``: loaded
    ``Codebook`` records or paths, for the appendix; ``coders``: two or more coder
    names for the agreement table; ``level``: the code level treated as themes.
    ``allow_names``: write it even if the name check finds identifiers in an
    unpseudonymised project (the first page then says so). ``progress`` is called
    with each section's title as it is built.
    """
    template = template if isinstance(template, Template) else load_template(template)
    pseudonymised = _pseudonymised(project)
    checking = not (pseudonymised or allow_names)
    if checking:
        name_scan.start(name_model)  # the NER model loads on another core while the report is computed
    toc = _load_toc(toc)
    codebooks = [_load_codebook(cb) for cb in codebooks]
    codings = project.codings(status=status)  # read once: quotes, matrices and evidence all start from it
    inputs = _Inputs(project, template, Filters(status=status, level=level),
                     QuotePool(project, template.rules, status, codings=codings),
                     toc=toc, codebooks=codebooks, coders=list(coders or []), name_model=name_model,
                     checking=checking)
    inputs.segments = matrices.coded_segments(project, inputs.filters, codings=codings)
    if toc is not None:
        from ..evidence import evidence

        inputs.evidence = evidence(project, toc, statuses=(status,), codebooks=codebooks, codings=codings)
    sections = []
    for key, spec in template.sections.items():
        if progress:
            progress(spec["title"])
        section = Section(key, spec["title"])
        if spec["intro"] and key != "about":
            section.blocks.append(Paragraph(spec["intro"]))
        if _BUILDERS[key](inputs, section):
            sections.append(section)
            if checking:  # the helper scans this section while the next ones are built
                name_scan.prefetch([text for _, text in section_texts(section)], name_model)
    about = next((s for s in sections if s.key == "about"), None)
    if about is not None:
        about.blocks.extend(Paragraph(line, "List Bullet") for line in inputs.omitted)
    quotes = [b.quote for s in sections for b in s.blocks if isinstance(b, QuoteBlock)] + inputs.table_quotes
    config = template.config
    if not config.programme and toc is not None:
        config.programme = toc.name  # the theory of change names the programme it is of
    if not config.date:
        config.date = dt.date.today().strftime("%-d %B %Y")
    report = Report(template.title, template.subtitle, sections, inputs.omitted, quotes,
                    template.table_style, template.docx_template, config)
    if progress:
        progress("checking for names")
    check_names(report, pseudonymised, allow_names, Path(str(project.location)).name, name_model)
    return report


PSEUDONYMISATION_META = "pseudonymisation"  # the meta row qualcode.privacy records its runs in


def _pseudonymised(project: Project) -> bool:
    """Has a pseudonymisation run been recorded? Read from the meta row directly: importing
    ``qualcode.privacy`` loads spaCy (seconds) that a pseudonymised project's report never needs."""
    import json

    import sqlalchemy as sa

    from .. import store

    with project.engine.connect() as conn:
        value = conn.execute(sa.select(store.meta.c.value).where(store.meta.c.key == PSEUDONYMISATION_META)).scalar()
    return bool(value and json.loads(value).get("runs"))


def _load_toc(toc: Any) -> Any:
    if toc is None or not isinstance(toc, (str, Path)):
        return toc
    from ..toc import load_toc

    return load_toc(toc)


def _load_codebook(codebook: Any) -> Any:
    if not isinstance(codebook, (str, Path)):
        return codebook
    from ..codebook import load_codebook

    return load_codebook(codebook)


# -- sections --------------------------------------------------------------------------


def _about(inputs: _Inputs, section: Section) -> bool:
    project, filters, rules = inputs.project, inputs.filters, inputs.template.rules
    intro = inputs.template.sections["about"]["intro"]
    if intro:
        section.blocks.append(Paragraph(intro))
    versions = matrices.codebook_versions(project)
    books = ", ".join(f"{n} version {v}" for n, v in zip(versions["name"], versions["version"])) or "none recorded"
    facts = [
        f"Project: {Path(str(project.location)).name}; codings counted: {filters.status}; themes are codes at "
        f"level {filters.level} of the codebook.",
        f"Codebooks: {books}."
        + (f" Theory of change: {inputs.toc.name}" + (f" version {inputs.toc.version}." if inputs.toc.version else ".")
           if inputs.toc is not None else ""),
        f"Quote rules: up to {rules.per_code} per theme; whole sentences of {rules.min_words} words or more are "
        "preferred over fragments, and those of 15 to 60 words over shorter or longer ones; none from an "
        "interviewer's turn; spread across roles and waves; never two from one passage (closer than "
        f"{rules.gap} characters in one document); trimmed at a sentence or word end to {rules.max_chars} "
        "characters; the researcher's pins and exclusions override these rules.",
    ]
    if _pseudonymised(project):
        facts.append("Names and other identifiers were replaced with labels such as [Parent 1] before this report "
                     "was written; quotes are attributed by role and wave, never by name.")
    section.blocks.extend(Paragraph(f) for f in facts)
    return True


def _contents(inputs: _Inputs, section: Section) -> bool:
    section.blocks.append(Contents())
    return True


def _sample(inputs: _Inputs, section: Section) -> bool:
    """Interviews by role and wave (the achieved sample), then other sources by type and wave."""
    documents = inputs.project.documents()
    if documents.empty:
        inputs.omitted.append(f"{section.title}: left out — the project holds no documents.")
        return False
    is_interview = documents["source_type"].astype(str).str.endswith("interview")
    interviews = documents[is_interview] if is_interview.any() else documents
    rows = "role" if "role" in interviews and interviews["role"].notna().any() else "source_type"
    label = "role" if rows == "role" else "source type"
    what = "interviews" if is_interview.any() else "documents"
    sample = achieved_sample(interviews, rows)
    section.blocks.append(inputs.numbers.table(f"Achieved sample: {what} by {label} and wave", sample,
                                               check_names=(sample.columns[0],)))
    others = documents[~is_interview]
    if is_interview.any() and not others.empty:
        section.blocks.append(inputs.numbers.table("Other sources: documents by source type and wave",
                                                   achieved_sample(others, "source_type"), check_names=()))
    return True


def _evidence(inputs: _Inputs, section: Section) -> bool:
    if inputs.evidence is None:
        inputs.omitted.append(f"{section.title}: left out — no theory of change given (--toc TOC.yaml).")
        return False
    summary = inputs.evidence.summary
    outcomes = summary[summary["kind"] == "outcome"]
    if outcomes.empty:
        inputs.omitted.append(f"{section.title}: left out — the theory of change has no outcomes.")
        return False
    section.blocks.append(Paragraph(
        "Each judgement combines three things kept apart: how much evidence there is (sources and participants), "
        "which way the coded segments point (and how many of them carry a direction at all), and the status of "
        "the outcome's indicators. The rules that combine them are stated in the theory-of-change file; the rule "
        "used is given beside each judgement."))
    rows, used = [], []
    for row in outcomes.itertuples():
        chosen = inputs.quotes_for(row.codes, n=inputs.template.per_outcome)
        used.extend(chosen)
        rows.append({
            "Outcome": row.name,
            "Judgement": _judgement(row),
            "Evidence": _sources(row),
            "Illustrative quotes": "\n".join(q.formatted() for q in chosen) or "No quotable coded segment.",
        })
    inputs.table_quotes.extend(used)
    conflicts = outcomes[outcomes["conflict"] != ""]
    for row in conflicts.itertuples():
        section.blocks.append(Paragraph(f"{row.name}: {row.conflict}.", "List Bullet"))
    section.blocks.append(inputs.numbers.table(f"Judgement for each outcome of the theory of change ({inputs.toc.name})",
                                               pd.DataFrame(rows), check_names=("Outcome", "Illustrative quotes")))
    figure = _toc_figure(inputs)
    if figure is not None:
        section.blocks.append(inputs.numbers.figure(
            f"Theory of change: {inputs.toc.name}, each outcome coloured by its judgement", figure,
            _toc_alt(inputs), landscape=True))
    return True


def _judgement(row: Any) -> str:
    lines = [row.judgement[:1].upper() + row.judgement[1:] + "."]
    directed = f"{row.directed} of {row.segments} segments carry a direction"
    if row.segments:
        lines.append(f"Direction: {row.direction} ({row.supports} support, {row.challenges} challenge; {directed}).")
    lines.append(f"Amount: {row.strength} ({row.reason.split(': ', 1)[-1]}).")
    lines += [f"Indicator: {j}" for j in row.indicators] or ["Indicator: none in the theory of change."]
    if row.conflict:
        lines.append(f"Conflict: {row.conflict}.")
    return "\n".join(lines)


def _sources(row: Any) -> str:
    if not row.segments and not row.survey_items:
        return "No coded evidence."
    kinds = "; ".join(f"{display_name(kind)}: {n}" for kind, n in row.source_types.items())
    by_wave: dict[str, int] = {}
    for wave, n in row.by_wave.items():  # '2' and 'Wave 2' are one wave
        label = wave_label(str(wave))
        by_wave[label] = by_wave.get(label, 0) + int(n)
    waves = "; ".join(f"{w}: {n}" for w, n in by_wave.items())
    lines = [f"{row.segments} segments in {row.documents} documents from {row.participants} participants."]
    if kinds:
        lines.append(f"By source: {kinds}.")
    if waves:
        lines.append(f"By wave: {waves}.")
    return "\n".join(lines)


def _toc_figure(inputs: _Inputs) -> bytes | None:
    """The ToC diagram coloured by judgement, when a theory of change was given."""
    if inputs.toc is None:
        return None
    import tempfile

    from ..toc_figure import draw_toc

    from ..errors import ModelNotInstalled

    with tempfile.TemporaryDirectory() as tmp:
        try:
            return draw_toc(inputs.toc, inputs.evidence, Path(tmp) / "toc.png").read_bytes()
        except ModelNotInstalled as exc:  # no Graphviz on this machine: the report says so, the rest is written
            inputs.omitted.append(f"Theory-of-change figure: left out — {str(exc).split('. Fix:')[0]}.")
            return None


def _toc_alt(inputs: _Inputs) -> str:
    summary = inputs.evidence.summary
    judged = summary[summary["kind"] == "outcome"]
    parts = [f"{r.name}: {r.judgement}" for r in judged.itertuples()]
    return (f"Diagram of the theory of change '{inputs.toc.name}': activities lead to outcomes and impacts. "
            + "; ".join(parts) + ".")


def _impacts(inputs: _Inputs, section: Section) -> bool:
    if inputs.evidence is None:
        inputs.omitted.append(f"{section.title}: left out — no theory of change given (--toc TOC.yaml).")
        return False
    summary = inputs.evidence.summary
    impacts = summary[summary["kind"] == "impact"]
    if impacts.empty:
        inputs.omitted.append(f"{section.title}: left out — the theory of change lists no impacts.")
        return False
    rows = [{
        "Planned impact": row.name,
        "Indicator": "\n".join(row.indicators) or "No indicator.",
        "Judgement": _judgement(row),
        "Evidence": _sources(row),
    } for row in impacts.itertuples()]
    section.blocks.append(inputs.numbers.table("Planned impacts: judgement and evidence", pd.DataFrame(rows),
                                               check_names=("Planned impact",)))
    return True


def _themes(inputs: _Inputs, section: Section) -> bool:
    from ..report_figures import frequency_figure, heatmap_figure

    project, filters = inputs.project, inputs.filters
    frequencies = matrices.code_frequencies(project, filters, segments=inputs.segments)
    if frequencies.empty:
        inputs.omitted.append(f"{section.title}: left out — the project has no codes (load a codebook).")
        return False
    codes = project.codes(include_retired=True)
    definitions = dict(zip(codes["key"], codes["definition"]))
    members = _members(codes, filters.level)
    # Quotes first, figures after: the name check's helper scans the quotes while the figures are drawn.
    quotes = {row.code: inputs.quotes_for(members.get(row.code, [row.code]))
              for row in frequencies.itertuples() if row.segments}
    by_source = matrices.crosstab(project, "source_type", "segments", filters, segments=inputs.segments)
    summaries = matrices.framework_summaries(project)
    row_names = _row_names(project) if not summaries.empty else {}
    table = frequencies[["name", "segments", "documents", "participants"]].rename(columns={
        "name": "Theme", "segments": "Coded segments", "documents": "Documents", "participants": "Participants"})
    section.blocks.append(inputs.numbers.table("Themes: coded segments, documents and participants", table,
                                               check_names=("Theme",)))
    if by_source.loc[by_source["code"] == matrices.TOTAL, matrices.TOTAL].iloc[0] > 0:
        shown = by_source.rename(columns={c: display_name(c) for c in by_source.columns
                                          if c not in ("code", "name", matrices.TOTAL)})
        section.blocks.append(inputs.numbers.figure(
            "Coded segments per theme, by source type", frequency_figure(shown),
            "Bar chart of coded segments per theme, split by source type: " + "; ".join(
                f"{r.name} {int(getattr(r, matrices.TOTAL))}" for r in by_source.itertuples()
                if r.code != matrices.TOTAL) + "."))
        overlap = matrices.cooccurrence(project, filters, segments=inputs.segments)
        section.blocks.append(inputs.numbers.figure(
            "Co-occurrence of themes: overlapping coded segments (diagonal: each theme's own count)",
            heatmap_figure(overlap),
            f"Heat map of how often two of the {len(overlap)} themes are coded on overlapping text; darker cells "
            "mean more overlap."))
    by_source = by_source.set_index("code")
    for row in frequencies.itertuples():
        section.blocks.append(Heading(row.name, 2))
        if definitions.get(row.code):
            section.blocks.append(Paragraph(f"Definition: {definitions[row.code]}"))
        section.blocks.append(Paragraph(_theme_counts(row, by_source.loc[row.code] if row.code in by_source.index
                                                      else None)))
        own = summaries[summaries["code"] == row.code]
        for row_label, text in zip(own["row"], own["text"]):  # a case, or a participant without one
            section.blocks.append(Paragraph(f"{row_names.get(row_label, row_label)}: {text}", "List Bullet",
                                            from_data=True))
        section.blocks.extend(QuoteBlock(q) for q in quotes.get(row.code, ()))
    return True


def _row_names(project: Project) -> dict[str, str]:
    documents = project.documents()
    described = matrices.row_description(project, "case", ["role"] if "role" in documents.columns else [])
    described = described.set_index("row")
    return report_row_names(documents, list(described.index), described.get("role"))


def _theme_counts(row: Any, by_source: pd.Series | None) -> str:
    if not row.segments:
        return "Not coded in any document."
    text = (f"Coded {row.segments} times in {row.documents} documents "
            f"from {row.participants} participants")
    if by_source is not None:
        parts = [f"{display_name(kind).lower()} {int(n)}" for kind, n in by_source.items()
                 if kind not in ("name", matrices.TOTAL) and int(n)]
        if parts:
            text += f" ({', '.join(parts)})"
    return text + "."


def _members(codes: pd.DataFrame, level: int | None) -> dict[str, list[str]]:
    """Theme key -> every code key rolled up into it (itself included)."""
    out: dict[str, list[str]] = {}
    for key, theme in matrices.theme_of(codes, level).items():
        out.setdefault(theme, []).append(key)
    return out


MATRIX_ATTRIBUTES = ("role", "wave")  # how the report attributes quotes; shown beside each row when recorded
MATRIX_REFERENCES = 6  # places listed per cell before "(+N)"
MATRIX_ROWS = 25  # rows per theme table at most: every row with a summary, then the most coded; the rest in the workbook


def _matrix(inputs: _Inputs, section: Section) -> bool:
    """The framework matrix read theme by theme: a table per theme with a row per case or
    participant coded under it (their role and wave, the summary, where it was coded).

    Word pages cannot hold a dozen theme columns side by side, so the matrix is printed
    one theme column at a time; the workbook (``qualcode matrix``) keeps the grid.
    """
    project = inputs.project
    # The matrix's columns are the top-level themes whatever level the themes section reports at: sub-codes
    # as columns would make a table per sub-code (the workbook has them with --level 2).
    filters = Filters(status=inputs.filters.status, coder=inputs.filters.coder, level=1)
    segments = inputs.segments
    if inputs.filters.level != 1 and segments is not None:
        codes = project.codes(include_retired=True)
        top = matrices.theme_of(codes, 1)
        labels = dict(zip(codes["key"], matrices.theme_labels(codes)))
        segments = segments[["document_id", "document_name", "start", "code"]]  # no copy of the wide frame
        segments = segments.assign(theme=segments["code"].map(top))
        segments = segments.assign(theme_label=segments["theme"].map(labels))
    cells = matrices.framework_cells(project, "case", filters, MATRIX_REFERENCES, segments=segments)
    shown = cells[(cells["codings"] > 0) | (cells["summary"] != "")]
    if shown.empty:
        inputs.omitted.append(f"{section.title}: left out — no theme is coded and no framework summary written.")
        return False
    documents = project.documents()
    keys = [k for k in MATRIX_ATTRIBUTES if k in documents.columns]
    described = matrices.row_description(project, "case", keys).set_index("row")
    rows_in_all = cells["row"].nunique()
    has_summaries = (cells["summary"] != "").any()
    if not has_summaries:
        section.blocks.append(Paragraph(
            "No framework summaries have been written yet, so each row lists where the theme was coded. Summaries "
            "are written per case or participant and theme (set_framework_summary, import_framework_summaries, or "
            "qualcode memo add with --case or --document and --code)."))
    row_title = matrices.column_title("case")
    names = report_row_names(documents, list(described.index), described.get("role"))
    for (key, label), theme in shown.groupby(["theme", "theme_label"], sort=False):
        theme, left_out = _most_telling(theme, MATRIX_ROWS)
        # Three columns fit a portrait page: who (with role and wave beneath), the summary, where coded.
        who = ["\n".join([names[row], *(described.at[row, a] for a in keys
                                         if described.at[row, a] and described.at[row, a] not in names[row])])
               for row in theme["row"]]
        frame = pd.DataFrame({row_title: who})
        if has_summaries:
            frame["Summary"] = theme["summary"].to_numpy()
        frame["Where coded"] = [f"{refs}\n{n} coding{'s' if n != 1 else ''}" if n else "Not coded."
                                for refs, n in zip(theme["references"], theme["codings"])]
        missing = rows_in_all - len(theme) - left_out
        note = ("t = speaker turn, ¶ = paragraph, (+N) = N more places."
                + (f" {left_out} more coded rows (fewer codings, no summary) are in the framework-matrix workbook."
                   if left_out else "")
                + (f" Not listed: {missing} of the matrix's {rows_in_all} rows (cases, participants, and documents "
                   "with neither, such as survey comments) with no coding or summary under this theme."
                   if missing else ""))
        section.blocks.append(inputs.numbers.table(f"Framework matrix: {label}", frame, note=note,
                                                   check_names=tuple(frame.columns)))
    return True


def _most_telling(theme: pd.DataFrame, limit: int) -> tuple[pd.DataFrame, int]:
    """At most ``limit`` rows of one theme, in matrix order: every row with a summary, then
    the rows with most codings. Returns them and how many were left out.

    >>> theme = pd.DataFrame({"row": list("abcd"), "summary": ["", "s", "", ""], "codings": [1, 0, 5, 3]})
    >>> kept, left_out = _most_telling(theme, 2)
    >>> list(kept["row"]), left_out
    (['b', 'c'], 2)
    """
    if len(theme) <= limit:
        return theme, 0
    ranked = theme.assign(_summary=theme["summary"] != "").sort_values(
        ["_summary", "codings"], ascending=False, kind="stable")
    kept = ranked.head(max(limit, int(ranked["_summary"].sum())))
    return theme.loc[sorted(kept.index, key=list(theme.index).index)], len(theme) - len(kept)


def report_row_names(documents: pd.DataFrame, rows: list[str], roles: pd.Series | None) -> dict[str, str]:
    """How the report names each matrix row: a case by its name, a participant by role and number.

    The report attributes people by role and wave, never by name, and a participant
    attribute may hold a name: so "Team Manager 2" in the report stands for the
    workbook's row of the second team manager (in the workbook's order).

    >>> docs = pd.DataFrame({"case": ["C1", None, None], "participant": ["P9", "Jo Bloggs", "SW07"]})
    >>> report_row_names(docs, ["C1", "Jo Bloggs", "SW07"], pd.Series({"Jo Bloggs": "Social Worker",
    ...                                                                "SW07": "Social Worker"}))
    {'C1': 'C1', 'Jo Bloggs': 'Social Worker 1', 'SW07': 'Social Worker 2'}
    """
    people = set(documents["participant"].dropna().astype(str)) if "participant" in documents.columns else set()
    cases = set(documents["case"].dropna().astype(str)) if "case" in documents.columns else set()
    counted: dict[str, int] = {}
    out = {}
    for row in rows:
        if row in cases or row not in people:
            out[row] = row  # a case, or a document standing alone (its display name)
            continue
        role = str(roles.get(row, "") or "") if roles is not None else ""
        role = role if role and ";" not in role else "Participant"
        counted[role] = counted.get(role, 0) + 1
        out[row] = f"{role} {counted[role]}"
    return out


def _survey(inputs: _Inputs, section: Section) -> bool:
    from ..survey import likert_table, survey_items_frame

    items = survey_items_frame(inputs.project)
    if items.empty:
        inputs.omitted.append(f"{section.title}: left out — no survey imported.")
        return False
    for survey in dict.fromkeys(items["survey"]):
        frame, groups = survey_layout(likert_table(inputs.project, survey=survey))
        section.blocks.append(inputs.numbers.table(
            f"Survey: {display_name(survey)}, responses by item and wave", frame, groups=groups,
            note="Percentages are of those answering on the five-point scale, counts in brackets; change is "
                 "in percentage points from the previous wave.", check_names=()))
    return True


def _agreement(inputs: _Inputs, section: Section) -> bool:
    if len(inputs.coders) < 2:
        inputs.omitted.append(f"{section.title}: left out — no second coder named (--coders A B).")
        return False
    from ..agreement import agreement

    result = agreement(inputs.project, inputs.coders)
    frame, compared = agreement_table(result)
    names = " and ".join(display_name(c) for c in inputs.coders)
    caption = f"Agreement between {names} by code ({compared})"
    section.blocks.append(inputs.numbers.table(caption, frame, note=AGREEMENT_GUIDE, check_names=("Code",)))
    return True


def _figures(inputs: _Inputs, section: Section) -> bool:
    """Figures now sit with their sections; an old template's ``figures`` key adds nothing."""
    return False


def _codebook(inputs: _Inputs, section: Section) -> bool:
    if inputs.codebooks:
        for book in inputs.codebooks:
            caption = f"Codebook: {book.name}, version {book.version}"
            # The researchers' own framework, not data: its wording is not checked for names.
            section.blocks.append(inputs.numbers.table(caption, codebook_table(book), check_names=()))
        return True
    codes = inputs.project.codes()
    if codes.empty:
        inputs.omitted.append(f"{section.title}: left out — the project has no codes.")
        return False
    depths = matrices.code_depths(codes)
    table = pd.DataFrame({
        "Code": ["\u2003" * (depths[k] - 1) + n for k, n in zip(codes["key"], codes["name"])],
        "Definition": codes["definition"].fillna(""),
    })
    section.blocks.append(inputs.numbers.table("Codebook: the project's codes and definitions", table,
                                               check_names=()))
    return True


_BUILDERS = {
    "about": _about, "contents": _contents, "sample": _sample, "evidence": _evidence, "impacts": _impacts,
    "themes": _themes, "matrix": _matrix, "survey": _survey, "agreement": _agreement, "figures": _figures,
    "codebook": _codebook,
}
