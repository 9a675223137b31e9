"""The report template: titles, intros, order, quote rules and the report's configuration, from YAML.

The shipped ``qualcode/templates/report.yaml`` is the default; a team copies it,
changes the wording, fills in the programme, authors, date and version (the title page
and the document properties), and passes it with ``--template``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from ..errors import InputError
from ..quotes import QuoteRules
from .model import PAPER_SIZES_MM, ReportConfig

SECTION_KEYS = ("about", "contents", "sample", "evidence", "impacts", "themes", "matrix", "survey", "agreement",
                "figures", "codebook")
CONFIG_KEYS = ("programme", "authors", "date", "version", "organisation", "paper", "language")
TOP_KEYS = ("title", "subtitle", "docx_template", "table_style", "quotes", "sections", *CONFIG_KEYS)


@dataclass
class Template:
    """Titles, intros, order and quote rules of the report, read from YAML."""

    title: str
    subtitle: str
    sections: dict[str, dict[str, str]]  # key -> {title, intro}, in report order
    rules: QuoteRules
    per_outcome: int
    table_style: str = "Light Grid Accent 1"
    docx_template: str | None = None
    path: str = "<default>"
    config: ReportConfig = field(default_factory=ReportConfig)


def load_template(path: str | Path | None = None) -> Template:
    """Read a report template (the shipped one when ``path`` is None), checking its keys.

    >>> load_template().sections["themes"]["title"]
    'Findings by theme'
    >>> load_template().config.paper, load_template().config.language
    ('A4', 'en-GB')
    """
    if path is None:
        text, where = resources.files("qualcode").joinpath("templates/report.yaml").read_text("utf-8"), "report.yaml"
    else:
        path = Path(path)
        if not path.exists():
            raise InputError(str(path), "no such report template", "check the path, or copy qualcode/templates/report.yaml")
        text, where = path.read_text("utf-8"), str(path)
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(where, f"not valid YAML ({getattr(exc, 'problem', exc)})",
                         "fix the indentation or quoting there", f"line {mark.line + 1}" if mark else None) from exc
    if not isinstance(data, dict):
        raise InputError(where, "the template must be a mapping of keys", "start from qualcode/templates/report.yaml")
    unknown_top = [k for k in data if k not in TOP_KEYS]
    if unknown_top:
        raise InputError(where, f"unknown template key {unknown_top[0]!r}", f"use one of: {', '.join(TOP_KEYS)}")
    sections = data.get("sections") or {}
    if not isinstance(sections, dict):
        raise InputError(where, "`sections` must be a mapping of section keys", "write `sections:` then `themes:` …")
    unknown = [k for k in sections if k not in SECTION_KEYS]
    if unknown:
        raise InputError(where, f"unknown section {unknown[0]!r} under `sections`",
                         f"use one of: {', '.join(SECTION_KEYS)}")
    for key, value in sections.items():
        if not isinstance(value, dict) or not value.get("title"):
            raise InputError(where, f"section {key!r} needs a `title`", f"write `{key}:` then `title: …` and `intro: …`")
    quotes = data.get("quotes") or {}
    rule_fields = {"per_theme": "per_code", "max_chars": "max_chars", "min_words": "min_words", "gap": "gap"}
    bad = [k for k in quotes if k not in (*rule_fields, "per_outcome")]
    if bad:
        raise InputError(where, f"unknown quote setting {bad[0]!r}",
                         f"use: {', '.join([*rule_fields, 'per_outcome'])}")
    try:
        rules = QuoteRules(**{rule_fields[k]: int(v) for k, v in quotes.items() if k in rule_fields})
        per_outcome = int(quotes.get("per_outcome", 3))
    except (TypeError, ValueError) as exc:
        raise InputError(where, f"a quote setting is not a whole number ({exc})", "write numbers such as 3 or 300") from exc
    return Template(
        title=str(data.get("title") or "Evaluation report"), subtitle=str(data.get("subtitle") or ""),
        sections={k: {"title": str(v["title"]), "intro": str(v.get("intro") or "")} for k, v in sections.items()},
        rules=rules, per_outcome=per_outcome, table_style=str(data.get("table_style") or "Table Grid"),
        docx_template=data.get("docx_template") or None, path=where, config=_config(data, where),
    )


def _config(data: dict, where: str) -> ReportConfig:
    authors = data.get("authors") or []
    if isinstance(authors, str):
        authors = [authors]
    if not isinstance(authors, list):
        raise InputError(where, "`authors` must be a list of names", "write `authors: [A. Evaluator, B. Analyst]`")
    paper = str(data.get("paper") or "A4")
    if paper not in PAPER_SIZES_MM:
        raise InputError(where, f"paper {paper!r} is not known", f"use one of: {', '.join(PAPER_SIZES_MM)}")
    language = str(data.get("language") or "en-GB")
    if not (2 <= len(language) <= 10 and language.replace("-", "").isalnum()):
        raise InputError(where, f"language {language!r} is not a language tag", "write e.g. `language: en-GB`")
    return ReportConfig(
        programme=str(data.get("programme") or ""), authors=[str(a) for a in authors],
        date=str(data.get("date") or ""), version=str(data.get("version") or ""),
        organisation=str(data.get("organisation") or ""), paper=paper, language=language,
    )
