"""Names never reach a report: every quote, table cell and list line is read by the
pseudonymisation detector before anything is written.

The report refuses, listing what it found and where, unless the project has been
pseudonymised (``qualcode pseudonymise apply`` replaced the identifiers and recorded a
run) or the caller passes ``allow_names=True``; an override is then stated on the
report's first page. The detector is the one ``pseudonymise detect`` runs (patterns,
cue words and the installed NER model), so the check is as good as that review step.

>>> texts = [("Table 1, row 2", "Ava Brannigan (DOB 03/04/2015) was seen at home.")]
>>> [(t, kind) for _, t, kind in find_identifiers_in(texts, model=None)]      # doctest: +SKIP
[('Ava Brannigan', 'Person'), ('03/04/2015', 'Date of birth')]
"""

from __future__ import annotations

from typing import Iterable, Sequence

from ..errors import NamesInReport
from .model import Heading, Paragraph, QuoteBlock, Report, Section, Table

SHOWN = 12  # hits listed in the refusal; the rest are counted


def report_texts(report: Report) -> list[tuple[str, str]]:
    """(where, text) for every quote, memo line and table cell from the data that the report prints."""
    return [item for section in report.sections for item in section_texts(section)]


def section_texts(section: Section) -> list[tuple[str, str]]:
    """``report_texts`` for one section."""
    out: list[tuple[str, str]] = []
    place = section.title
    for block in section.blocks:
        if isinstance(block, Heading):
            place = f"{section.title}, {block.text}"
        elif isinstance(block, QuoteBlock):
            out.append((f"{place}: quote ({block.quote.attribution}, coding {block.quote.coding_id})",
                        block.quote.shown))
        elif isinstance(block, Paragraph) and block.from_data:
            out.append((f"{place}: {block.text[:30]}…", block.text))
        elif isinstance(block, Table):
            out += [(f"Table {block.number}, heading row", text) for _, text in block.groups]
            columns = block.frame.columns if block.check_names is None else block.check_names
            for i, values in enumerate(block.frame[list(columns)].itertuples(index=False, name=None), start=1):
                for column, value in zip(columns, values):
                    if value:
                        out.append((f"Table {block.number}, row {i}, {column}", str(value)))
    return out


def find_identifiers_in(texts: Sequence[tuple[str, str]], model: str | None = "auto") -> list[tuple[str, str, str]]:
    """(where, text, type) for every identifier the detector finds in ``texts``.

    Each distinct text is scanned once, all of them in one pass of one detector
    (built once per process and model, or in the helper ``build_report`` started:
    ``name_scan``); what a text holds is remembered for the process, so a report built
    again in a notebook scans only the quotes that changed. Labels a pseudonymisation
    wrote (``[Parent 1]``) are not identifiers.
    """
    if not texts:
        return []
    unseen = [t for t in dict.fromkeys(text for _, text in texts) if (model, t) not in _FOUND]
    if unseen:
        _scan(unseen, model)
    found = []
    for where, text in texts:
        for hit, kind in _FOUND[(model, text)]:
            found.append((where, hit, kind))
    return found


_FOUND: dict[tuple[str | None, str], list[tuple[str, str]]] = {}  # (model, text) -> [(identifier, type)]
_REMEMBERED = 20_000  # texts; past this the oldest are forgotten


def _scan(texts: list[str], model: str | None) -> None:
    from .name_scan import scan

    for text, hits in zip(texts, scan(texts, model)):
        _FOUND[(model, text)] = [(hit, kind) for hit, kind in hits]
    while len(_FOUND) > _REMEMBERED:
        del _FOUND[next(iter(_FOUND))]


def check_names(report: Report, pseudonymised: bool, allow_names: bool, project_name: str,
                model: str | None = "auto") -> None:
    """Refuse (``NamesInReport``) when the report would print identifiers, unless allowed.

    With ``allow_names`` the report says so on its first page; a pseudonymised project
    passes, its review having been the check.
    """
    if pseudonymised:
        return
    if allow_names:
        report.notices.append(
            "The name check was overridden (allow names): this report was written from a project that has not "
            "been pseudonymised and may contain names or other identifiers. Do not share it outside the team.")
        return
    found = find_identifiers_in(report_texts(report), model=model)
    if found:
        raise NamesInReport(_message(found, project_name), found)


def _message(found: Iterable[tuple[str, str, str]], project_name: str) -> str:
    found = list(found)
    lines = [f"{project_name}: the report would print {len(found)} possible name(s) or identifier(s); "
             "nothing was written:"]
    lines += [f"  {where}: {text!r} ({kind})" for where, text, kind in found[:SHOWN]]
    if len(found) > SHOWN:
        lines.append(f"  … and {len(found) - SHOWN} more")
    lines.append(f"Fix: pseudonymise the project first (qualcode pseudonymise detect {project_name} --out "
                 f"detections.csv, review it, then qualcode pseudonymise apply … --key KEY.csv), or exclude the "
                 "quotes (qualcode.quotes.exclude_quote); to write it anyway for the team only, pass --allow-names "
                 "(the report then says so on its first page).")
    return "\n".join(lines)
