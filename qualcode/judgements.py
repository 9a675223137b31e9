"""One stated judgement per outcome, from three facts kept apart.

An evidence rating that mixes how much evidence there is with which way it points
misleads: nine challenging segments from four source types are *strong evidence that
it was not achieved*, not "strong". So ``evidence`` keeps three facts apart:

- **amount**: how much evidence there is (``strength_rules``: sources, participants,
  triangulation) — strong, moderate, weak or none;
- **direction**: which way the coded segments point — supports, challenges, mixed,
  or unclear when too few segments carry a direction at all (below
  ``min_directed_share`` of them);
- **indicator**: the status of the node's indicators — met, progress, not met, mixed,
  no data, or none (no indicator in the theory of change);

and flags a **conflict** where the coded evidence and the indicator disagree. The
``judgement_rules`` of the theory-of-change YAML combine them: the first rule whose
``when`` holds gives the judgement, printed with the rule and the figures it used.

```yaml
judgement_rules:
  min_directed_share: 0.25
  rules:
    - judgement: strong evidence that it was not achieved
      verdict: not achieved
      when: {amount: strong, direction: challenges, indicator: [not met, no data, none]}
```

>>> judge("strong", "challenges", "not met", False, DEFAULT_JUDGEMENT_RULES)[:2]
('not achieved', 'strong evidence that it was not achieved')
>>> judge("strong", "challenges", "met", True, DEFAULT_JUDGEMENT_RULES)[:2]
('conflict', 'conflicting evidence: the coded evidence and the indicator disagree')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

AMOUNTS = ("strong", "moderate", "weak", "none")
DIRECTIONS = ("supports", "challenges", "mixed", "unclear")
INDICATOR_STATES = ("met", "progress", "not met", "mixed", "no data", "none")
VERDICTS = ("achieved", "not achieved", "mixed", "conflict", "unclear", "too little")
CONDITIONS = {"amount": AMOUNTS, "direction": DIRECTIONS, "indicator": INDICATOR_STATES}


@dataclass(frozen=True)
class JudgementRule:
    """``judgement`` (with its ``verdict`` for colours and legends) applies when ``when`` holds."""

    judgement: str
    verdict: str
    when: dict[str, tuple[str, ...]] = field(default_factory=dict)  # condition -> allowed values
    conflict: bool | None = None  # None: either way

    def holds(self, facts: dict[str, str], conflict: bool) -> bool:
        if self.conflict is not None and self.conflict != conflict:
            return False
        return all(facts[key] in allowed for key, allowed in self.when.items())

    def to_dict(self) -> dict[str, Any]:
        when: dict[str, Any] = {k: list(v) for k, v in self.when.items()}
        if self.conflict is not None:
            when["conflict"] = self.conflict
        return {"judgement": self.judgement, "verdict": self.verdict, "when": when}


@dataclass(frozen=True)
class JudgementRules:
    """Ordered rules; ``min_directed_share``: below it the direction is *unclear*."""

    rules: tuple[JudgementRule, ...]
    min_directed_share: float = 0.25


def _rule(judgement: str, verdict: str, conflict: bool | None = None, **when: Any) -> JudgementRule:
    return JudgementRule(judgement, verdict, {k: tuple(v) if isinstance(v, (list, tuple)) else (v,)
                                              for k, v in when.items()}, conflict)


DEFAULT_JUDGEMENT_RULES = JudgementRules((
    _rule("achieved on the indicator; too little coded evidence to say how", "achieved",
          amount=["none", "weak"], indicator="met"),
    _rule("not achieved on the indicator; too little coded evidence to say why", "not achieved",
          amount=["none", "weak"], indicator="not met"),
    _rule("too little evidence", "too little", amount=["none", "weak"]),
    _rule("conflicting evidence: the coded evidence and the indicator disagree", "conflict", conflict=True),
    _rule("unclear: too few coded segments say which way it went", "unclear", direction="unclear"),
    _rule("mixed evidence", "mixed", direction="mixed"),
    _rule("strong evidence that it was achieved", "achieved", amount="strong", direction="supports"),
    _rule("some evidence that it was achieved", "achieved", direction="supports"),
    _rule("strong evidence that it was not achieved", "not achieved", amount="strong", direction="challenges"),
    _rule("some evidence that it was not achieved", "not achieved", direction="challenges"),
))


def indicator_state(statuses: list[str]) -> str:
    """The indicators of one node as one state.

    >>> indicator_state([]), indicator_state(["no data"]), indicator_state(["met", "not met"])
    ('none', 'no data', 'mixed')
    >>> indicator_state(["met", "progress"]), indicator_state(["not met", "no data"])
    ('progress', 'not met')
    """
    if not statuses:
        return "none"
    known = [s for s in statuses if s != "no data"]
    if not known:
        return "no data"
    if all(s == "met" for s in known):
        return "met"
    if all(s == "not met" for s in known):
        return "not met"
    if "not met" in known:
        return "mixed"
    return "progress"


def conflict_between(direction: str, indicator: str) -> str:
    """Where the coded evidence and the indicator disagree, in words; else ``""``.

    >>> conflict_between("challenges", "met")
    'the coded segments challenge it but its indicator is met'
    >>> conflict_between("supports", "met")
    ''
    """
    if direction == "supports" and indicator == "not met":
        return "the coded segments support it but its indicator is not met"
    if direction == "challenges" and indicator == "met":
        return "the coded segments challenge it but its indicator is met"
    return ""


# An assumption is not achieved; it holds or it does not. Verdict -> how an assumption's reads.
ASSUMPTION_VERDICTS = {
    "achieved": "held", "not achieved": "did not hold", "mixed": "mixed evidence on whether it held",
    "conflict": "coded evidence and indicator disagree", "unclear": "unclear: few segments carry a direction",
    "too little": "not evidenced",
}
_AS_ASSUMPTION = (  # (outcome wording, assumption wording), longest first
    ("was not achieved", "did not hold"), ("was achieved", "held"),
    ("not achieved on the indicator", "did not hold on the indicator"),
    ("achieved on the indicator", "held on the indicator"),
    ("too little evidence", "not evidenced: too little evidence"),
)


def as_assumption(judgement: str) -> str:
    """A judgement reworded for an assumption: it held or did not hold, never "achieved".

    Rules in the YAML are written for outcomes; the same rule, applied to an
    assumption, reads as the assumption's own judgement.

    >>> as_assumption("strong evidence that it was not achieved")
    'strong evidence that it did not hold'
    >>> as_assumption("achieved on the indicator; too little coded evidence to say how")
    'held on the indicator; too little coded evidence to say how'
    >>> as_assumption("too little evidence")
    'not evidenced: too little evidence'
    """
    for outcome, assumption in _AS_ASSUMPTION:
        if outcome in judgement:
            return judgement.replace(outcome, assumption)
    return judgement


def judge(amount: str, direction: str, indicator: str, conflict: bool,
          rules: JudgementRules) -> tuple[str, str, int | None]:
    """``(verdict, judgement, rule number)``: the first rule that holds; ``unclear`` if none does."""
    facts = {"amount": amount, "direction": direction, "indicator": indicator}
    for number, rule in enumerate(rules.rules, start=1):
        if rule.holds(facts, conflict):
            return rule.verdict, rule.judgement, number
    return "unclear", "no judgement rule matched", None


def parse_judgement_rules(check: Any, raw: Any) -> JudgementRules:
    """Read ``judgement_rules`` from the ToC YAML; every problem goes to ``check`` with its line."""
    if raw is None:
        return DEFAULT_JUDGEMENT_RULES
    path: tuple = ("judgement_rules",)
    share = DEFAULT_JUDGEMENT_RULES.min_directed_share
    if not isinstance(raw, dict):
        check.add(path, "judgement_rules must be a mapping with `rules:`",
                  "write `judgement_rules:` then `rules:` with `- judgement: …` items")
        return DEFAULT_JUDGEMENT_RULES
    check.unknown_keys(raw, ("min_directed_share", "rules"), path, "judgement_rules")
    if "min_directed_share" in raw:
        value = check.number(raw["min_directed_share"], path + ("min_directed_share",), "min_directed_share")
        if value is not None and not 0 <= value <= 1:
            check.add(path + ("min_directed_share",), f"min_directed_share {value:g} is outside [0, 1]",
                      "use a share such as 0.25 (a quarter of the segments carry a direction)")
        elif value is not None:
            share = value
    items = raw.get("rules")
    if items is None:
        return JudgementRules(DEFAULT_JUDGEMENT_RULES.rules, share)
    if not isinstance(items, list) or not items:
        check.add(path + ("rules",), "judgement rules must be a non-empty list",
                  "write `- judgement: mixed evidence` with `verdict: mixed` and `when: {direction: mixed}`")
        return DEFAULT_JUDGEMENT_RULES
    rules = [r for i, item in enumerate(items) if (r := _parse_rule(check, path + ("rules", i), i, item))]
    return JudgementRules(tuple(rules), share)


def _parse_rule(check: Any, path: tuple, i: int, item: Any) -> JudgementRule | None:
    what = f"judgement rule {i + 1}"
    if not isinstance(item, dict):
        check.add(path, f"{what} must be a mapping", "give it `judgement:`, `verdict:` and `when:`")
        return None
    check.unknown_keys(item, ("judgement", "verdict", "when"), path, what)
    judgement = check.text(item, "judgement", path, what, required=True)
    verdict = str(item.get("verdict", ""))
    if verdict not in VERDICTS:
        check.add(path + ("verdict",), f"{what} has verdict {item.get('verdict')!r}",
                  f"use one of: {', '.join(VERDICTS)}")
    when = item.get("when") or {}
    if not isinstance(when, dict):
        check.add(path + ("when",), f"'when' of {what} must be a mapping", "write `when: {direction: mixed}`")
        return None
    check.unknown_keys(when, (*CONDITIONS, "conflict"), path + ("when",), f"the 'when' of {what}")
    conditions: dict[str, tuple[str, ...]] = {}
    for key, allowed in CONDITIONS.items():
        if key not in when:
            continue
        values = when[key] if isinstance(when[key], list) else [when[key]]
        values = [str(v) for v in values]
        bad = [v for v in values if v not in allowed]
        if bad:
            check.add(path + ("when", key), f"{key} {bad[0]!r} in {what} is not known",
                      f"use one of: {', '.join(allowed)}")
        conditions[key] = tuple(values)
    conflict = None
    if "conflict" in when:
        text = str(when["conflict"]).strip().lower()
        if text not in ("true", "false", "yes", "no"):
            check.add(path + ("when", "conflict"), f"conflict in {what} must be true or false",
                      "write `conflict: true`")
        conflict = text in ("true", "yes")
    if judgement is None or verdict not in VERDICTS:
        return None
    return JudgementRule(judgement, verdict, conditions, conflict)
