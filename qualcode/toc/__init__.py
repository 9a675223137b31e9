"""Theory of change: the YAML model, its loader and its validation.

A theory of change (or logic model) is a YAML file a researcher edits and diffs in
git: inputs → activities → outputs → outcomes (short / medium term) → impacts, with
assumptions beside them, optional strands grouping nodes into bands, codes linked
from this side, and indicators with a baseline and a target. Loading validates the
whole file and raises every problem at once, each with the file, the line and a fix.

The package holds one concern per module: ``model`` (records, node kinds,
``dump_toc``), ``lined_yaml`` (YAML with line numbers), ``checker`` (the problem
collector), ``load`` (``check_toc``/``load_toc`` and the per-node checks),
``strength_rules`` (how much evidence earns which rating) and ``links`` (links,
cycles, thin outcomes and the codebook cross-check).

>>> toc = load_toc("codebooks/toc_whole_family.yaml")
>>> sorted(toc.node_ids())[:2]
['act_co_location', 'act_cut_admin']
"""

from .lined_yaml import LinedYaml, parse_lined_yaml
from .load import INDICATOR_KEYS, KEYS_BY_KIND, MEASURE_KEYS, NODE_KEYS, TOP_KEYS, check_toc, load_toc
from .model import (
    DEFAULT_STRENGTH_RULES, DIRECTIONS, KIND_SINGULAR, NODE_KINDS, PLURAL, TERMS, Indicator, Measure, Node,
    Strand, StrengthRule, StrengthRules, TheoryOfChange, dump_toc,
)
from .strength_rules import RATINGS, RULE_DIRECTIONS, RULE_MINIMA

__all__ = [
    "DEFAULT_STRENGTH_RULES", "DIRECTIONS", "INDICATOR_KEYS", "KEYS_BY_KIND", "KIND_SINGULAR", "MEASURE_KEYS",
    "NODE_KEYS", "NODE_KINDS", "PLURAL", "RATINGS", "RULE_DIRECTIONS", "RULE_MINIMA", "TERMS", "TOP_KEYS",
    "Indicator", "LinedYaml", "Measure", "Node", "Strand", "StrengthRule", "StrengthRules", "TheoryOfChange",
    "check_toc", "dump_toc", "load_toc", "parse_lined_yaml",
]
