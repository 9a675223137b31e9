r"""The ToC's ``strength_rules``: how much evidence earns strong, moderate or weak.

Parsed from the YAML with every problem reported at its line; a missing block
gives ``DEFAULT_STRENGTH_RULES``. (Which way evidence points, and the judgement
that combines it with indicators, live in ``qualcode.judgements``.)

>>> from qualcode.toc.checker import Checker
>>> from qualcode.toc.lined_yaml import parse_lined_yaml
>>> check = Checker("toc.yaml", parse_lined_yaml("id: toc\n", "toc.yaml"))
>>> rules = parse_strength_rules(check, [{"rating": "strong", "when": {"min_participants": "4"}}])
>>> rules.rules[0].minima, check.problems
({'min_participants': 4}, [])
"""

from __future__ import annotations

from typing import Any

from .checker import Checker
from .model import DEFAULT_STRENGTH_RULES, StrengthRule, StrengthRules

RATINGS = ("strong", "moderate", "weak", "none")
RULE_DIRECTIONS = ("consistent", "any", "supports", "challenges")
RULE_MINIMA = ("min_segments", "min_documents", "min_participants", "min_cases", "min_source_types")


def parse_strength_rules(check: Checker, raw: Any) -> StrengthRules:
    if raw is None:
        return DEFAULT_STRENGTH_RULES
    path = ("strength_rules",)
    share = DEFAULT_STRENGTH_RULES.consistent_share
    if isinstance(raw, dict):
        check.unknown_keys(raw, ("consistent_share", "rules"), path, "strength_rules")
        if "consistent_share" in raw:
            value = check.number(raw["consistent_share"], path + ("consistent_share",), "consistent_share")
            if value is not None and not 0.5 < value <= 1:
                check.add(path + ("consistent_share",), f"consistent_share {value:g} is outside (0.5, 1]",
                          "use a share such as 0.8 (four in five directed codings point one way)")
            elif value is not None:
                share = value
        items, path = raw.get("rules"), path + ("rules",)
    else:
        items = raw
    if not isinstance(items, list) or not items:
        check.add(path, "strength rules must be a non-empty list",
                  "write `- rating: strong` with `when: {min_source_types: 3, ...}` items, strongest first")
        return DEFAULT_STRENGTH_RULES
    rules = []
    for i, item in enumerate(items):
        rpath = path + (i,)
        if not isinstance(item, dict):
            check.add(rpath, f"strength rule {i + 1} must be a mapping", "give it `rating:` and `when:`")
            continue
        check.unknown_keys(item, ("rating", "when"), rpath, "a strength rule")
        rating = str(item.get("rating"))
        if rating not in RATINGS:
            check.add(rpath + ("rating",), f"strength rule {i + 1} has rating {item.get('rating')!r}",
                      f"use one of: {', '.join(RATINGS)}")
        when = item.get("when") or {}
        if not isinstance(when, dict):
            check.add(rpath + ("when",), f"'when' of strength rule {i + 1} must be a mapping",
                      "write `when: {min_participants: 5}`")
            continue
        check.unknown_keys(when, RULE_MINIMA + ("direction",), rpath + ("when",), "a strength rule's 'when'")
        minima = {}
        for key in when:  # the file's order, so the reason reads as the rule was written
            if key in RULE_MINIMA:
                value = str(when[key]).strip()
                if not value.isdigit():
                    check.add(rpath + ("when", key), f"{key} must be a whole number ≥ 0, not {when[key]!r}",
                              f"write `{key}: 3`")
                else:
                    minima[key] = int(value)
        direction = str(when.get("direction", "any"))
        if direction not in RULE_DIRECTIONS:
            check.add(rpath + ("when", "direction"), f"strength rule direction {direction!r} is not known",
                      f"use one of: {', '.join(RULE_DIRECTIONS)}")
            direction = "any"
        rules.append(StrengthRule(rating, minima, direction))
    return StrengthRules(tuple(rules), share)
