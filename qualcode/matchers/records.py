"""What the matchers exchange: a code's rules beyond its terms, a hit, a veto's hit."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CodeRules:
    """What the auto-coder needs to know about one code, beyond its terms."""

    key: str
    name: str
    codebook: str
    codebook_version: str
    segment: str
    speakers: str
    source_types: list[str] | None
    roles: list[str] | None
    veto: list[str]
    veto_window: int
    fuzzy_threshold: float


@dataclass(slots=True)
class Hit:
    """One match of one code's term: tokens ``[start, end)`` and characters ``[start_char, end_char)``."""

    code: int  # index into RuleSet.codes
    kind: str  # lemma | exact | pattern | regex | fuzzy
    term: str
    start: int
    end: int
    start_char: int
    end_char: int
    score: float = 1.0  # fuzzy similarity 0..1; 1 for the others


@dataclass
class VetoHit:
    term: str
    start: int
    end: int
    start_char: int
