"""Codebooks: the researcher's analytic framework as a YAML file, loaded and validated.

A codebook is a hierarchy of codes (themes, sub-themes, codes). Each code has a stable
``id`` (the key codings point at), a name, a definition, inclusion and exclusion
criteria, example quotes, an optional colour, optional links to theory-of-change
outcome ids, and a ``match:`` block with what the auto-coder needs (keywords,
phrases, spaCy Matcher patterns, regexes, fuzzy matching, vetoes, segment scope).

Loading reports every problem at once, each with the file, the line and the fix:

>>> cb = parse_codebook('''
... id: demo
... name: Demo
... version: "1.0"
... codes:
...   - id: support
...     name: Support
...     definition: Help given to a family.
...     children:
...       - id: support.practical
...         name: Practical support
...         definition: Help with housing, money or transport.
...         match: {keywords: [food bank, bus pass]}
... ''')
>>> [c.id for c in cb.codes], cb.code("support.practical").parent
(['support', 'support.practical'], 'support')

YAML scalars are read as the text written (``version: 1.0`` is ``"1.0"``, a keyword
``no`` stays ``"no"``), except inside Matcher ``patterns``, which keep YAML types.
"""

from __future__ import annotations

import difflib
import heapq
import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from .errors import CodebookError, NotFoundError, ValidationProblems
from .problems import Problem, did_you_mean
from .yaml_lines import MAX_NESTING, MAX_NODES, Loader, YamlPath, expanded_nodes, flow_nesting, line_of, to_data

SCHEMA_PATH = Path(__file__).parent / "schemas" / "codebook.schema.json"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
COLOUR_PATTERN = r"^#([0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})$"
VERSION_PATTERN = r"^v?\d+(\.\d+)*$"


# -- the model -----------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class Match(_Strict):
    """What the auto-coder looks for to suggest a code, and where."""

    keywords: list[str] = Field(default_factory=list, description="Phrases matched on lemmas (so 'supervision sessions' matches 'supervision session').")
    exact: list[str] = Field(default_factory=list, description="Phrases matched on the exact lower-cased text.")
    patterns: list[list[dict[str, Any]]] = Field(default_factory=list, description="spaCy Matcher token patterns, e.g. [{LEMMA: scale}, {LIKE_NUM: true}].")
    regex: list[str] = Field(default_factory=list, description="Python regular expressions over the segment text.")
    fuzzy: bool = Field(False, description="Also match keywords approximately (misspellings, transcription slips).")
    fuzzy_threshold: float = Field(88, ge=0, le=100, description="rapidfuzz score (0-100) a fuzzy match must reach.")
    veto: list[str] = Field(default_factory=list, description="Terms that cancel a match nearby, e.g. negation ('not', 'never').")
    veto_window: int = Field(4, ge=0, description="How many tokens before a match a veto term cancels it.")
    segment: Literal["sentence", "paragraph", "turn"] = Field("sentence", description="The unit a suggestion covers.")
    speakers: Literal["participants", "all"] = Field("participants", description="Skip interviewer turns and transcript headers unless 'all'.")
    source_types: list[str] | None = Field(None, description="Only these document source types (e.g. interview, case_note); all when absent.")
    roles: list[str] | None = Field(None, description="Only documents whose 'role' attribute is one of these; all when absent.")

    @property
    def is_empty(self) -> bool:
        """True when nothing would ever match: no keywords, phrases, patterns or regexes."""
        return not (self.keywords or self.exact or self.patterns or self.regex)


class Code(_Strict):
    """One code of the framework; ``id`` is its stable key (``codes.key`` in a project)."""

    id: str = Field(pattern=ID_PATTERN, description="Stable key, e.g. feature.group_case_discussion. Codings point at it; rename with renamed_from.")
    name: str = Field(min_length=1, description="The label researchers see.")
    parent: str | None = Field(None, description="Id of the parent code (or nest this code under children:).")
    definition: str = Field("", description="What the code means, in a sentence or two.")
    include: list[str] = Field(default_factory=list, description="Inclusion criteria: when to apply the code.")
    exclude: list[str] = Field(default_factory=list, description="Exclusion criteria: when not to, and what to use instead.")
    examples: list[str] = Field(default_factory=list, description="Example quotes.")
    colour: str | None = Field(None, pattern=COLOUR_PATTERN, description="Hex colour, #RRGGBB.")
    kind: Literal["topic", "cross-cutting"] = Field("topic", description="Topic codes name an activity; cross-cutting codes (enabler, barrier, ...) combine with them.")
    outcomes: list[str] = Field(default_factory=list, description="Theory-of-change outcome ids this code is evidence for.")
    renamed_from: list[str] = Field(default_factory=list, description="Old ids of this code, so loading a renamed code keeps its codings.")
    direction: Literal["supports", "challenges", "mixed"] | None = Field(None, description="What a cross-cutting code says about an outcome.")
    match: Match = Field(default_factory=Match, description="What the auto-coder looks for.")


class ChangeEntry(_Strict):
    """One changelog entry: a version, its date and what changed."""

    version: str = Field(pattern=VERSION_PATTERN)
    date: str | None = None
    changes: list[str] = Field(default_factory=list)

    @field_validator("changes", mode="before")
    @classmethod
    def _one_change_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class Codebook(_Strict):
    """A whole codebook; ``codes`` is flat, in file order, parents before children."""

    id: str = Field(pattern=ID_PATTERN, description="Stable id of the codebook, e.g. dfe_practice_features.")
    name: str = Field(min_length=1)
    version: str = Field(pattern=VERSION_PATTERN, description="Dotted numbers, e.g. 1.2; loading an older version into a project is refused.")
    description: str = ""
    changelog: list[ChangeEntry] = Field(default_factory=list)
    origin: str = Field("", description="The QDA program a converted codebook came from (NVivo, ATLAS.ti, MAXQDA, "
                        "Taguette). Real tools' codebooks often leave definitions empty: for these that is a "
                        "warning, not an error.")
    codes: list[Code] = Field(default_factory=list)

    # Where each thing was written (for messages); empty for codebooks built in code.
    _file: str = PrivateAttr("<codebook>")
    # What validation noticed but let pass (an empty definition in a converted codebook).
    _warnings: list = PrivateAttr(default_factory=list)

    @property
    def warnings(self) -> list[Problem]:
        """Problems found that do not stop the codebook being used, e.g. empty definitions
        in a codebook converted from another tool (``origin`` set)."""
        return list(self._warnings)
    _lines: dict[YamlPath, int] = PrivateAttr(default_factory=dict)
    _code_paths: dict[int, YamlPath] = PrivateAttr(default_factory=dict)

    def code(self, code_id: str) -> Code:
        """The code with this id, or NotFoundError naming the closest ids."""
        for code in self.codes:
            if code.id == code_id:
                return code
        close = difflib.get_close_matches(code_id, [c.id for c in self.codes], n=3)
        hint = f"did you mean {', '.join(close)}?" if close else "list ids with `codebook validate`"
        raise NotFoundError(f"{self.id}: no code {code_id!r}. Fix: {hint}")

    def children(self, code_id: str | None) -> list[Code]:
        """Direct children of ``code_id`` (the roots when None), in codebook order."""
        return [c for c in self.codes if c.parent == code_id]

    def roots(self) -> list[Code]:
        return self.children(None)

    def depth(self, code_id: str) -> int:
        """0 for a root, 1 for its children, ..."""
        parents = {c.id: c.parent for c in self.codes}
        depth, current = 0, parents.get(code_id)
        while current is not None and depth < len(parents):
            depth, current = depth + 1, parents.get(current)
        return depth

    def n_terms(self) -> int:
        """Keywords, phrases, patterns and regexes in all: the auto-coder's vocabulary size."""
        return sum(len(c.match.keywords) + len(c.match.exact) + len(c.match.patterns)
                   + len(c.match.regex) for c in self.codes)

    def line_of(self, index: int, *keys: str | int) -> int | None:
        """The line where code number ``index`` (or one of its keys) was written."""
        path = self._code_paths.get(index)
        return line_of(self._lines, path + tuple(keys)) if path is not None else None

    def to_yaml(self) -> str:
        """The codebook as YAML in the nested layout (``children:``), defaults left out."""
        head = self.model_dump(include={"id", "name", "version", "description"})
        if not head["description"]:
            del head["description"]
        if self.changelog:
            head["changelog"] = [e.model_dump(exclude_none=True) for e in self.changelog]
        if self.origin:
            head["origin"] = self.origin
        head["codes"] = [self._nested(c) for c in self.roots()]
        return yaml.safe_dump(head, sort_keys=False, allow_unicode=True, width=100)

    def _nested(self, code: Code) -> dict[str, Any]:
        data = code.model_dump(exclude={"parent", "match"}, exclude_defaults=True)
        match = code.match.model_dump(exclude_defaults=True)
        if match:
            data["match"] = match
        kids = self.children(code.id)
        if kids:
            data["children"] = [self._nested(k) for k in kids]
        return data


# -- JSON Schema for editors ---------------------------------------------------


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the YAML layout (the model plus ``children:`` nesting).

    Shipped as ``qualcode/schemas/codebook.schema.json`` for VS Code / JupyterLab
    (yaml-language-server); a test checks the shipped file equals this.
    """
    schema = Codebook.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "qualcode codebook"
    code = schema["$defs"]["Code"]
    code["properties"]["children"] = {
        "type": "array", "items": {"$ref": "#/$defs/Code"},
        "description": "Child codes (their parent is this code).",
    }
    return schema


def write_json_schema(path: str | Path = SCHEMA_PATH) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


# -- reading YAML with line numbers ----------------------------------------------

_TOP_KEYS = set(Codebook.model_fields)
_CODE_KEYS = set(Code.model_fields) | {"children"}
_MATCH_KEYS = set(Match.model_fields)
_CHANGE_KEYS = set(ChangeEntry.model_fields)


class _Reader:
    """Turns YAML text into a Codebook, collecting every problem on the way."""

    def __init__(self, text: str, file_name: str):
        self.text = text
        self.file = file_name
        self.lines: dict[YamlPath, int] = {}
        self.problems: list[Problem] = []

    def problem(self, path: YamlPath, message: str, fix: str) -> None:
        self.problems.append(Problem(self.file, line_of(self.lines, path), message, fix))

    def read(self) -> Codebook | None:
        data = self._parse_yaml()
        if data is None:
            return None
        if not isinstance(data, dict):
            self.problem((), "the file is not a mapping of keys (id, name, version, codes)",
                         "start the file with `id:`, `name:`, `version:` and `codes:` lines")
            return None
        self._check_duplicate_keys()
        self._unknown_keys(data, (), _TOP_KEYS, "top-level key")
        for i, entry in enumerate(data.get("changelog") or []):
            if isinstance(entry, dict):
                self._unknown_keys(entry, ("changelog", i), _CHANGE_KEYS, "changelog key")
        raw_codes = data.get("codes")
        if raw_codes is None:
            self.problem((), "the codebook has no `codes:` list", "add `codes:` with at least one code")
            raw_codes = []
        if not isinstance(raw_codes, list):
            self.problem(("codes",), "`codes:` is not a list", "write each code as a `- id: ...` item")
            raw_codes = []
        flat: list[tuple[YamlPath, dict, str | None]] = []
        self._flatten(raw_codes, ("codes",), None, flat)
        head = {k: v for k, v in data.items() if k in _TOP_KEYS and k != "codes"}
        codebook = self._model(Codebook, {**head, "codes": []}, ())
        codes: list[Code] = []
        paths: list[YamlPath] = []
        for path, raw, nesting_parent in flat:
            code = self._code(path, raw, nesting_parent)
            if code is not None:
                codes.append(code)
                paths.append(path)
        if codebook is None:
            return None
        order = _parents_first(codes)
        codebook.codes = [codes[i] for i in order]
        codebook._file = self.file
        codebook._lines = self.lines
        codebook._code_paths = {new: paths[old] for new, old in enumerate(order)}
        return codebook

    def _parse_yaml(self) -> Any:
        if flow_nesting(self.text) > MAX_NESTING:
            self.problems.append(Problem(self.file, None, "the YAML is nested too deeply to be a codebook",
                                         "check this is the codebook you meant; codes nest a few levels at most"))
            return None
        loader = Loader(self.text)
        try:
            node = loader.get_single_node()
            if node is None:
                self.problem((), "the file is empty", "write a codebook (see codebooks/ for examples)")
                return None
            if expanded_nodes(node) is None:
                self.problems.append(Problem(
                    self.file, None, f"its aliases (*name) expand to over {MAX_NODES:,} entries, or into "
                    "themselves: no codebook is that large, so this is damage or an attack",
                    "write the codes out, or use an alias only for a short list such as shared keywords"))
                return None
            return to_data(node, loader, (), self.lines)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else None
            what = exc.problem or "invalid YAML"
            self.problems.append(Problem(
                self.file, line, f"YAML syntax error: {what}" + (f" ({exc.context})" if exc.context else ""),
                "check indentation and quoting on this line or the one above; quote text containing ': ' or '#'",
                column=mark.column + 1 if mark else None))
            return None
        except yaml.YAMLError as exc:
            self.problems.append(Problem(self.file, None, f"YAML error: {exc}", "save the file as UTF-8 YAML"))
            return None
        except RecursionError:  # thousands of nested [ or {: refuse, never crash
            self.problems.append(Problem(self.file, None, "the YAML is nested too deeply to be a codebook",
                                         "check this is the codebook you meant; codes nest a few levels at most"))
            return None
        finally:
            loader.dispose()

    def _check_duplicate_keys(self) -> None:
        for path, line in self.lines.items():
            if len(path) >= 2 and path[-2] == "__duplicate__":
                self.problems.append(Problem(self.file, line, f"key '{path[-1]}' is written twice in one mapping",
                                             "keep one of them; YAML keeps only the last"))

    def _unknown_keys(self, data: dict, path: YamlPath, allowed: set[str], what: str) -> None:
        for key in data:
            if key not in allowed:
                self.problem(path + (key,), f"unknown {what} '{key}'", did_you_mean(str(key), allowed))

    def _flatten(self, items: list, path: YamlPath, parent: str | None, out: list) -> None:
        for i, raw in enumerate(items):
            item_path = path + (i,)
            if not isinstance(raw, dict):
                self.problem(item_path, f"code #{i + 1} is not a mapping",
                             "write each code as `- id: ...` followed by indented `name:` and `definition:`")
                continue
            out.append((item_path, raw, parent))
            kids = raw.get("children")
            if kids is None:
                continue
            if not isinstance(kids, list):
                self.problem(item_path + ("children",), "`children:` is not a list", "write each child as a `- id: ...` item")
                continue
            self._flatten(kids, item_path + ("children",), str(raw.get("id")) if raw.get("id") else None, out)

    def _code(self, path: YamlPath, raw: dict, nesting_parent: str | None) -> Code | None:
        self._unknown_keys(raw, path, _CODE_KEYS, "code key")
        if isinstance(raw.get("match"), dict):
            self._unknown_keys(raw["match"], path + ("match",), _MATCH_KEYS, "match key")
        fields = {k: v for k, v in raw.items() if k in _CODE_KEYS and k != "children"}
        if isinstance(fields.get("match"), dict):
            fields["match"] = {k: v for k, v in fields["match"].items() if k in _MATCH_KEYS}
        if nesting_parent is not None:
            written = fields.get("parent")
            if written is not None and written != nesting_parent:
                self.problem(path + ("parent",), f"code '{raw.get('id')}' names parent '{written}' but is nested under '{nesting_parent}'",
                             "remove the `parent:` line or move the code out of `children:`")
            fields["parent"] = nesting_parent
        return self._model(Code, fields, path)

    def _model(self, model: type[BaseModel], fields: dict, path: YamlPath) -> Any:
        """Validate ``fields``; on errors, report them and retry without the bad fields
        so the semantic checks (duplicates, parents, regexes ...) still see this item."""
        try:
            return model.model_validate(fields)
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(err["loc"])
                self.problem(path + loc, _describe(model, loc, err), _fix_for(loc, err))
            salvaged = _without(fields, [tuple(e["loc"]) for e in exc.errors()])
            try:
                return model.model_validate(salvaged)
            except ValidationError:
                return None


def _without(fields: dict, locs: list[tuple]) -> dict:
    """A copy of ``fields`` without the (top- or second-level) keys that failed."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in fields.items()}
    for loc in locs:
        if len(loc) >= 2 and isinstance(out.get(loc[0]), dict) and isinstance(loc[1], str):
            out[loc[0]].pop(loc[1], None)
        elif loc:
            out.pop(loc[0], None)
    return out


def _describe(model: type[BaseModel], loc: tuple, err: dict) -> str:
    where = ".".join(str(p) for p in loc) or model.__name__.lower()
    value = err.get("input")
    if err["type"] == "missing":
        return f"{model.__name__.lower()} is missing `{where}`"
    if err["type"] == "literal_error":
        return f"{where} {value!r} is not allowed ({err['msg'].replace('Input should be ', 'expected ')})"
    if err["type"] == "string_pattern_mismatch":
        return f"{where} {value!r} is not in the expected form"
    return f"{where}: {err['msg']} (got {value!r})"


_FIXES = {
    "id": "use letters, digits, '_', '.' or '-' with no spaces, e.g. feature.family_focus",
    "name": "give a short label, e.g. `name: Family focus`",
    "version": "write dotted numbers in quotes, e.g. `version: \"1.2\"`",
    "colour": "write a hex colour such as #1f77b4 (or leave it out)",
    "kind": "use `kind: topic` or `kind: cross-cutting`",
    "direction": "use supports, challenges or mixed (or leave it out)",
    "segment": "use sentence, paragraph or turn",
    "speakers": "use participants (default) or all",
    "fuzzy": "write true or false",
    "fuzzy_threshold": "give a number from 0 to 100 (88 is a good start)",
    "veto_window": "give a whole number of tokens, e.g. 4",
    "patterns": "write each pattern as a list of token mappings, e.g. [{LOWER: safety}, {LOWER: plan}]",
}


def _fix_for(loc: tuple, err: dict) -> str:
    for part in reversed(loc):
        if isinstance(part, str) and part in _FIXES:
            return _FIXES[part]
    if err["type"] in ("list_type", "string_type"):
        return "write a list of texts, one `- ...` per line" if err["type"] == "list_type" else "write plain text, in quotes if it contains ': '"
    return "see docs/codebooks.md for the format"


def _parents_first(codes: list[Code]) -> list[int]:
    """Indices of ``codes`` in file order, moving a child after its parent only when needed."""
    index = {}
    for i, c in enumerate(codes):
        index.setdefault(c.id, i)
    waiting: dict[int, list[int]] = {}
    ready: list[int] = []
    for i, c in enumerate(codes):
        p = index.get(c.parent) if c.parent is not None else None
        if p is None or p == i:
            heapq.heappush(ready, i)
        else:
            waiting.setdefault(p, []).append(i)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for child in waiting.pop(i, []):
            heapq.heappush(ready, child)
    leftover = sorted(j for kids in waiting.values() for j in kids)  # codes in a cycle
    return order + leftover


# -- validation ---------------------------------------------------------------------


def validate(codebook: Codebook, outcome_ids: set[str] | None = None) -> list[Problem]:
    """Every semantic problem of a codebook (empty list when it is fine).

    Checks: duplicate ids, unknown parents, cycles, empty definitions, invalid regexes
    and Matcher patterns, a keyword listed under two sibling codes, and (when
    ``outcome_ids`` is given, e.g. from a theory of change) links to unknown outcomes.
    """
    file = codebook._file
    problems: list[Problem] = []
    codebook._warnings = []

    def add(i: int, keys: tuple, message: str, fix: str) -> None:
        problems.append(Problem(file, codebook.line_of(i, *keys), message, fix))

    first: dict[str, int] = {}
    for i, code in enumerate(codebook.codes):
        if code.id in first:
            add(i, ("id",), f"duplicate id '{code.id}' (first used on line {codebook.line_of(first[code.id], 'id')})",
                "give each code its own id; to merge codes, list the old id under renamed_from")
        else:
            first[code.id] = i
    ids = set(first)
    for i, code in enumerate(codebook.codes):
        if code.parent is not None and code.parent not in ids:
            add(i, ("parent",), f"code '{code.id}' names unknown parent '{code.parent}'",
                did_you_mean(code.parent, ids, f"define a code with id '{code.parent}' or correct the parent id"))
        if not code.definition.strip():
            where = ("definition",) if "definition" in _keys_at(codebook, i) else ()
            if codebook.origin:  # converted from another tool: say so, and go on
                codebook._warnings.append(Problem(file, codebook.line_of(i, *where),
                                                  f"code '{code.id}' has no definition (none came from {codebook.origin})",
                                                  "write one or two sentences saying what the code means, under `definition:`"))
            else:
                add(i, where, f"code '{code.id}' has an empty definition",
                    "write one or two sentences saying what the code means, under `definition:`")
        for j, pattern in enumerate(code.match.regex):
            try:
                re.compile(pattern)
            except re.error as exc:
                add(i, ("match", "regex", j), f"code '{code.id}': invalid regex {pattern!r} ({exc})",
                    "fix the expression (test it at the Python prompt with re.compile); escape ( ) [ ] . with a backslash")
        for j, message in _bad_patterns(code.match.patterns):
            add(i, ("match", "patterns", j), f"code '{code.id}': invalid Matcher pattern #{j + 1}: {message}",
                "use spaCy Matcher syntax, e.g. [{LOWER: safety}, {LOWER: plan}]; attribute names are upper-case; quote words YAML reads as true/false (\"on\", \"no\", \"yes\")")
        if outcome_ids is not None:
            for j, outcome in enumerate(code.outcomes):
                if outcome not in outcome_ids:
                    add(i, ("outcomes", j), f"code '{code.id}' links to unknown outcome '{outcome}'",
                        did_you_mean(outcome, outcome_ids, "add the outcome to the theory of change or correct the id"))
    problems += _cycles(codebook, file)
    problems += _sibling_keywords(codebook, file)
    return problems


def _keys_at(codebook: Codebook, i: int) -> set:
    path = codebook._code_paths.get(i)
    if path is None:
        return set()
    return {p[len(path)] for p in codebook._lines if len(p) == len(path) + 1 and p[:len(path)] == path}


_matcher_vocab = None


def _bad_patterns(patterns: list[list[dict]]) -> list[tuple[int, str]]:
    """(index, message) for each pattern spaCy's Matcher refuses.

    Pattern validation does not depend on the language, so a bare ``Vocab`` does:
    building ``spacy.blank("en")`` only for this costs over a second.
    """
    if not patterns:
        return []
    global _matcher_vocab
    from spacy.matcher import Matcher
    from spacy.vocab import Vocab

    if _matcher_vocab is None:
        _matcher_vocab = Vocab()
    bad = []
    for j, pattern in enumerate(patterns):
        try:
            Matcher(_matcher_vocab, validate=True).add("check", [pattern])
        except (ValueError, TypeError, KeyError) as exc:
            lines = [ln.strip(" -") for ln in str(exc).splitlines() if ln.strip().startswith("- [")]
            bad.append((j, "; ".join(lines) if lines else str(exc).splitlines()[0]))
    return bad


def _cycles(codebook: Codebook, file: str) -> list[Problem]:
    position = {c.id: i for i, c in reversed(list(enumerate(codebook.codes)))}
    parent = {c.id: c.parent for i, c in enumerate(codebook.codes) if position[c.id] == i}  # first of duplicates
    reported: set[str] = set()
    problems = []
    for start in parent:
        seen: list[str] = []
        node: str | None = start
        while node is not None and node in parent and node not in seen:
            seen.append(node)
            node = parent[node]
        if node is not None and node in seen:
            loop = seen[seen.index(node):]
            if not reported.intersection(loop):
                reported.update(loop)
                first = min(loop, key=lambda c: position[c])
                problems.append(Problem(
                    file, codebook.line_of(position[first], "parent"),
                    f"codes form a cycle: {' -> '.join(loop + [loop[0]])}",
                    f"make one of them a root (remove `parent:` from '{first}')"))
    return problems


def _norm(term: str) -> str:
    return " ".join(term.lower().split())


def _sibling_keywords(codebook: Codebook, file: str) -> list[Problem]:
    """A keyword under two siblings makes the auto-coder unable to choose between them."""
    problems = []
    owner: dict[tuple[str | None, str], int] = {}
    for i, code in enumerate(codebook.codes):
        for field in ("keywords", "exact"):
            for j, term in enumerate(getattr(code.match, field)):
                key = (code.parent, _norm(term))
                if key in owner and codebook.codes[owner[key]].id != code.id:
                    other = codebook.codes[owner[key]]
                    problems.append(Problem(
                        file, codebook.line_of(i, "match", field, j),
                        f"keyword '{term}' is listed under sibling codes '{other.id}' and '{code.id}'",
                        "keep it under the one code it best evidences, or make it more specific"))
                else:
                    owner.setdefault(key, i)
    return problems


# -- entry points ----------------------------------------------------------------


def parse_codebook(text: str, file_name: str = "<string>", outcome_ids: set[str] | None = None) -> Codebook:
    """Parse and validate codebook YAML; raise ValidationProblems listing every problem."""
    reader = _Reader(text, file_name)
    codebook = reader.read()
    problems = reader.problems
    if codebook is not None:
        problems += validate(codebook, outcome_ids)
    if problems:
        problems.sort(key=lambda p: (p.line or 0))
        raise ValidationProblems(file_name, problems)
    return codebook


def load_codebook(path: str | Path, outcome_ids: set[str] | None = None) -> Codebook:
    """Read and validate a codebook YAML file.

    >>> cb = load_codebook("codebooks/dfe_practice_features.yaml")   # doctest: +SKIP
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CodebookError(str(path), "no such file", "check the path (codebooks live in codebooks/)") from None
    except IsADirectoryError:
        raise CodebookError(str(path), "this is a folder, not a codebook file", "name a .yaml file") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CodebookError(str(path), f"not UTF-8 text (byte {exc.start})", "save the file as UTF-8") from None
    return parse_codebook(text, str(path), outcome_ids)


def version_key(version: str) -> tuple[int, ...]:
    """Comparable form of a codebook version: ``"v1.10"`` -> ``(1, 10)``."""
    parts = [int(p) for p in version.lstrip("v").split(".")]
    while len(parts) > 1 and parts[-1] == 0:  # "1.0" and "1" are the same version
        parts.pop()
    return tuple(parts)
