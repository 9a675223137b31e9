"""Intercoder agreement statistics on plain arrays: no project, no database.

Every function takes a *reliability matrix*: one row per coder, one column per unit
(a character, a segment, a document …), the value each coder gave that unit, and
``None`` or ``NaN`` where a coder gave none (missing). Optional ``unit_counts`` say how
many identical units a column stands for, so a million characters coded in four
distinct ways cost four columns, not a million (the project layer relies on this).

Each function returns a ``Statistic``: its value, the counts behind it, and when the
value is undefined (one category only, fewer than two pairable values …) ``NaN``
with a ``reason`` instead of an exception, so a table of many codes still renders.

>>> cohen_kappa([["yes", "yes", "no", "no"], ["yes", "no", "no", "no"]]).value
0.5

Sources of the formulas:
- Cohen, J. (1960). A coefficient of agreement for nominal scales; and (1968) Weighted
  kappa: nominal scale agreement with provision for scaled disagreement or partial credit.
- Scott, W. A. (1955). Reliability of content analysis: the case of nominal scale coding.
- Gwet, K. L. (2008). Computing inter-rater reliability and its variance in the presence
  of high agreement (AC1).
- Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters.
- Brennan, R. L. & Prediger, D. J. (1981). Coefficient kappa: some uses, misuses, and
  alternatives (the free-marginal kappa; Randolph 2005 for many raters).
- Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability (coincidence
  matrices, missing values, nominal/ordinal/interval/ratio metrics).
- Krippendorff, K. (1995). On the reliability of unitizing continuous data; and
  Content Analysis, 2nd ed. (2004), §11.6: the unitizing alpha for one category.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

LEVELS = ("nominal", "ordinal", "interval", "ratio")


@dataclass(frozen=True)
class Statistic:
    """One agreement figure with what it rests on.

    ``value`` is NaN when the statistic is undefined for these data; ``reason`` then
    says why in words a researcher can act on. ``n_units`` counts the units that
    entered the computation (weighted), ``details`` holds the parts (observed and
    expected agreement or disagreement) for anyone checking the arithmetic.
    """

    name: str
    value: float
    n_units: float
    reason: str | None = None
    details: dict[str, float] = field(default_factory=dict)

    @property
    def defined(self) -> bool:
        return not math.isnan(self.value)

    def __float__(self) -> float:
        return float(self.value)


def _undefined(name: str, n_units: float, reason: str, **details: float) -> Statistic:
    return Statistic(name, math.nan, float(n_units), reason, dict(details))


# -- input handling ------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, pd.NA-like floats
    except (TypeError, ValueError):
        return False


def encode(data: Any, numeric: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Turn a reliability matrix into integer category indices.

    Returns ``(codes, values)``: ``codes`` has the matrix's shape with ``-1`` for a
    missing value, ``values`` lists the categories in index order (sorted, so the
    order means something for ordinal, interval and ratio data).

    >>> encode([[1, 2, None], [2, 2, 1]])[0].tolist()
    [[0, 1, -1], [1, 1, 0]]
    """
    try:
        arr = np.asarray(data, dtype=float)
        numeric_input = True
    except (TypeError, ValueError):
        if numeric:
            raise ValueError(
                "ordinal, interval and ratio alpha need numbers; got text values. "
                "Use level='nominal' or map the categories to numbers"
            ) from None
        arr = np.asarray(data, dtype=object)
        numeric_input = False
    if arr.ndim != 2:
        raise ValueError(f"a reliability matrix has one row per coder and one column per unit; got {arr.ndim} dimension(s)")
    if numeric_input:
        missing = np.isnan(arr)
        values, inverse = np.unique(arr[~missing], return_inverse=True)
        codes = np.full(arr.shape, -1, dtype=np.int64)
        codes[~missing] = inverse
        return codes, values
    missing = np.vectorize(_is_missing, otypes=[bool])(arr) if arr.size else np.zeros(arr.shape, bool)
    labels = sorted({v for v in arr[~missing].tolist()}, key=lambda v: (str(type(v)), v))
    index = {v: i for i, v in enumerate(labels)}
    codes = np.full(arr.shape, -1, dtype=np.int64)
    codes[~missing] = [index[v] for v in arr[~missing].tolist()]
    return codes, np.asarray(labels, dtype=object)


def _unit_counts(unit_counts: Any, n_units: int) -> np.ndarray:
    if unit_counts is None:
        return np.ones(n_units, dtype=float)
    w = np.asarray(unit_counts, dtype=float)
    if w.shape != (n_units,):
        raise ValueError(f"unit_counts must give one count per unit ({n_units}); got shape {w.shape}")
    if (w < 0).any() or not np.isfinite(w).all():
        raise ValueError("unit_counts must be finite counts >= 0")
    return w


def value_counts(codes: np.ndarray, n_values: int) -> np.ndarray:
    """Units × categories: how many coders gave each category to each unit."""
    n_coders, n_units = codes.shape
    counts = np.zeros((n_units, n_values), dtype=float)
    units = np.arange(n_units)
    for row in codes:  # one value per coder and unit, so no index repeats within a row
        ok = row >= 0
        counts[units[ok], row[ok]] += 1
    return counts


def _pairwise_agreement(counts: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Share of agreeing coder pairs per unit, averaged over pairable units (weighted)."""
    m = counts.sum(axis=1)
    ok = (m >= 2) & (w > 0)
    if not ok.any():
        return math.nan, 0.0
    agreeing = (counts[ok] * (counts[ok] - 1)).sum(axis=1)
    per_unit = agreeing / (m[ok] * (m[ok] - 1))
    n = w[ok].sum()
    return float((per_unit * w[ok]).sum() / n), float(n)


# -- the statistics ------------------------------------------------------------


PERCENT_DEFINITIONS = ("mean_pairwise", "all_agree")
WEIGHTINGS = ("linear", "quadratic")


def percent_agreement(data: Any, unit_counts: Any = None, definition: str = "mean_pairwise") -> Statistic:
    """Observed agreement, by one of the two definitions in use (``definition``):

    - ``"mean_pairwise"``: the share of agreeing coder pairs, per unit, averaged (what
      Fleiss' kappa, Krippendorff's alpha and Gwet's AC1 build on);
    - ``"all_agree"``: the share of units on which every coder who rated it gave the
      same value (what most QDA tools report for more than two coders).

    With two coders both are the share of units coded alike. Units that fewer than
    two coders rated are left out (they hold no pair to compare).

    >>> percent_agreement([[1, 1, 0, None], [1, 0, 0, 1]]).value
    0.6666666666666666
    >>> data = [[1, 1, 0], [1, 0, 0], [1, 1, 1]]
    >>> round(percent_agreement(data).value, 3), round(percent_agreement(data, definition="all_agree").value, 3)
    (0.556, 0.333)
    """
    if definition not in PERCENT_DEFINITIONS:
        raise ValueError(f"definition must be one of {PERCENT_DEFINITIONS}; got {definition!r}")
    codes, values = encode(data)
    w = _unit_counts(unit_counts, codes.shape[1])
    counts = value_counts(codes, len(values))
    if definition == "all_agree":
        rated = counts.sum(axis=1)
        ok = (rated >= 2) & (w > 0)
        n = float(w[ok].sum())
        if n == 0:
            return _undefined("percent agreement (all agree)", 0,
                              "fewer than 2 pairable values: no unit was rated by two coders")
        unanimous = counts[ok].max(axis=1) == rated[ok]
        return Statistic("percent agreement (all agree)", float((unanimous * w[ok]).sum() / n), n)
    p_o, n = _pairwise_agreement(counts, w)
    if n == 0:
        return _undefined("percent agreement", 0, "fewer than 2 pairable values: no unit was rated by two coders")
    return Statistic("percent agreement", p_o, n)


def _encode_on(data: Any, categories: Sequence[Any] | None) -> tuple[np.ndarray, np.ndarray]:
    """``encode``, or, given ``categories`` in their order, indices into that list."""
    if categories is None:
        return encode(data)
    codes, values = encode(data)
    position = {v: i for i, v in enumerate(categories)}
    unknown = [v for v in values.tolist() if v not in position]
    if unknown:
        raise ValueError(f"value {unknown[0]!r} is not among the categories {list(categories)}")
    mapping = np.array([position[v] for v in values.tolist()] + [-1], dtype=np.int64)
    return mapping[codes], np.asarray(list(categories), dtype=object)


def _two_coder_table(name: str, data: Any, categories: Sequence[Any] | None, unit_counts: Any
                     ) -> tuple[np.ndarray, float] | Statistic:
    """The two coders' joint proportions (categories × categories), or an undefined Statistic."""
    codes, values = _encode_on(data, categories)
    if codes.shape[0] != 2:
        raise ValueError(f"{name} compares exactly two coders; got {codes.shape[0]}. Use fleiss_kappa")
    w = _unit_counts(unit_counts, codes.shape[1])
    both = (codes >= 0).all(axis=0) & (w > 0)
    n = float(w[both].sum())
    if n == 0:
        return _undefined(name, 0, "fewer than 2 pairable values: no unit was rated by both coders")
    table = np.zeros((len(values), len(values)))
    np.add.at(table, (codes[0, both], codes[1, both]), w[both])
    return table / n, n


def cohen_kappa(data: Any, *, weighting: str | None = None, categories: Sequence[Any] | None = None,
                unit_counts: Any = None, weights: Any = None) -> Statistic:
    """Cohen's kappa for exactly two coders (units either coder left blank are dropped).

    ``weighting`` makes it Cohen's (1968) weighted kappa for ordered categories:
    ``"linear"`` (disagreement weight |i - j|) or ``"quadratic"`` ((i - j)²), i and j
    the positions of the two values in ``categories`` (the full scale in order, e.g.
    1..5 even if nobody chose 3) or, without it, among the sorted values that occur
    (as scikit-learn does). ``unit_counts`` says how many identical units each column
    stands for; it is not a weighting (the old name ``weights`` is refused for that
    reason).

    Undefined (NaN) when chance agreement is total, i.e. both coders used one and the
    same category for every unit: there is no variation left to agree on.

    >>> cohen_kappa([[1, 1, 0, 0], [1, 0, 0, 0]]).value
    0.5
    >>> round(cohen_kappa([[1, 2, 3, 4], [1, 3, 3, 5]], weighting="linear", categories=[1, 2, 3, 4, 5]).value, 3)
    0.667
    """
    if weights is not None:
        raise TypeError("cohen_kappa(weights=) is ambiguous and no longer accepted: pass unit_counts= for how "
                        "many identical units each column stands for, or weighting='linear'/'quadratic' for "
                        "weighted kappa")
    if weighting is not None and weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be None, 'linear' or 'quadratic'; got {weighting!r}")
    if weighting is not None and categories is None:
        try:
            np.asarray(data, dtype=float)
        except (TypeError, ValueError):
            raise ValueError("weighted kappa needs the order of the categories: give categories=[...] "
                             "(e.g. ['disagree', 'not sure', 'agree']) or numbers") from None
    name = "Cohen's kappa" if weighting is None else f"Cohen's weighted kappa ({weighting})"
    found = _two_coder_table(name, data, categories, unit_counts)
    if isinstance(found, Statistic):
        return found
    table, n = found
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    if weighting is None:
        p_o = float(np.trace(table))
        p_e = float((rows * cols).sum())
        if math.isclose(p_e, 1.0):
            return _undefined(name, n, "one category only: both coders gave every unit the same "
                              "value, so kappa is undefined", p_o=p_o, p_e=p_e)
        return Statistic(name, (p_o - p_e) / (1 - p_e), n, None, {"p_o": p_o, "p_e": p_e})
    i, j = np.indices(table.shape)
    distance = np.abs(i - j).astype(float) ** (1 if weighting == "linear" else 2)
    d_o = float((distance * table).sum())
    d_e = float((distance * np.outer(rows, cols)).sum())
    if math.isclose(d_e, 0.0):
        return _undefined(name, n, "one category only: both coders gave every unit the same "
                          "value, so kappa is undefined", D_o=d_o, D_e=d_e)
    return Statistic(name, 1 - d_o / d_e, n, None, {"D_o": d_o, "D_e": d_e})


def scott_pi(data: Any, unit_counts: Any = None) -> Statistic:
    """Scott's (1955) pi for two coders: kappa with chance agreement from the two
    coders' pooled category shares (Fleiss' kappa is its generalisation to more).

    >>> round(scott_pi([[1, 1, 0, 0], [1, 0, 0, 0]]).value, 3)
    0.467
    """
    found = _two_coder_table("Scott's pi", data, None, unit_counts)
    if isinstance(found, Statistic):
        return found
    table, n = found
    p_o = float(np.trace(table))
    pooled = (table.sum(axis=1) + table.sum(axis=0)) / 2
    p_e = float((pooled ** 2).sum())
    if math.isclose(p_e, 1.0):
        return _undefined("Scott's pi", n, "one category only: both coders gave every unit the same "
                          "value, so pi is undefined", p_o=p_o, p_e=p_e)
    return Statistic("Scott's pi", (p_o - p_e) / (1 - p_e), n, None, {"p_o": p_o, "p_e": p_e})


def gwet_ac1(data: Any, q: int | None = None, unit_counts: Any = None) -> Statistic:
    """Gwet's (2008) AC1 for two or more coders, missing values allowed.

    ``p_a`` is the mean pairwise agreement over units rated by two or more coders;
    chance agreement is ``p_e = sum_k pi_k (1 - pi_k) / (q - 1)``, ``pi_k`` the mean
    share of category k among each unit's ratings. It stays stable when one category
    is very common (a code on few units), where kappa drops. ``q`` is the number of
    categories coders could choose from (2 for coded / not coded); by default those
    that occur.

    >>> round(gwet_ac1([[1, 1, 0, 0], [1, 0, 0, 0]], q=2).value, 3)
    0.529
    """
    codes, values = encode(data)
    w = _unit_counts(unit_counts, codes.shape[1])
    q = len(values) if q is None else q
    if q < 2:
        return _undefined("Gwet's AC1", 0, "one category only: give q, the number of categories the "
                          "coders could choose from")
    if len(values) > q:
        raise ValueError(f"q={q} but the data hold {len(values)} categories")
    counts = value_counts(codes, len(values))
    p_a, n = _pairwise_agreement(counts, w)
    if n == 0:
        return _undefined("Gwet's AC1", 0, "fewer than 2 pairable values: no unit was rated by two coders")
    rated = counts.sum(axis=1)
    ok = (rated >= 1) & (w > 0)
    shares = (counts[ok] / rated[ok, None] * w[ok, None]).sum(axis=0) / w[ok].sum()
    p_e = float((shares * (1 - shares)).sum() / (q - 1))
    if math.isclose(p_e, 1.0):
        return _undefined("Gwet's AC1", n, "chance agreement is total", p_o=p_a, p_e=p_e)
    return Statistic("Gwet's AC1", (p_a - p_e) / (1 - p_e), n, None, {"p_o": p_a, "p_e": p_e, "q": float(q)})


def fleiss_kappa_counts(counts: Any, unit_counts: Any = None) -> Statistic:
    """Fleiss' kappa from a units × categories table of rater counts.

    Every unit must have the same number of raters (Fleiss 1971); a table with
    varying row sums is refused.

    >>> round(fleiss_kappa_counts([[2, 0], [0, 2], [1, 1]]).value, 3)
    0.333
    """
    table = np.asarray(counts, dtype=float)
    if table.ndim != 2:
        raise ValueError("counts must be a units × categories table")
    w = _unit_counts(unit_counts, table.shape[0])
    keep = w > 0
    table, w = table[keep], w[keep]
    if table.shape[0] == 0:
        return _undefined("Fleiss' kappa", 0, "fewer than 2 pairable values: no unit to compare")
    raters = table.sum(axis=1)
    if not np.allclose(raters, raters[0]):
        raise ValueError("Fleiss' kappa needs the same number of raters for every unit; "
                         f"row sums range from {raters.min():g} to {raters.max():g}")
    r = float(raters[0])
    n = float(w.sum())
    if r < 2:
        return _undefined("Fleiss' kappa", n, "fewer than 2 pairable values: each unit has fewer than two raters")
    p_unit = ((table * table).sum(axis=1) - r) / (r * (r - 1))
    p_bar = float((p_unit * w).sum() / n)
    p_cat = (table * w[:, None]).sum(axis=0) / (n * r)
    p_e = float((p_cat ** 2).sum())
    if math.isclose(p_e, 1.0):
        return _undefined("Fleiss' kappa", n, "one category only: every rater gave every unit the same "
                          "value, so kappa is undefined", p_o=p_bar, p_e=p_e)
    return Statistic("Fleiss' kappa", (p_bar - p_e) / (1 - p_e), n, None, {"p_o": p_bar, "p_e": p_e})


def fleiss_kappa(data: Any, unit_counts: Any = None) -> Statistic:
    """Fleiss' kappa for two or more coders, from a reliability matrix.

    Missing raters: Fleiss' kappa assumes a fixed number of raters per unit, so units
    that not every coder rated are dropped (listwise); ``details['dropped_units']``
    counts them. Krippendorff's alpha uses those partial units instead.
    """
    codes, values = encode(data)
    if codes.shape[0] < 2:
        raise ValueError("Fleiss' kappa needs at least two coders")
    w = _unit_counts(unit_counts, codes.shape[1])
    complete = (codes >= 0).all(axis=0)
    dropped = float(w[~complete].sum())
    counts = value_counts(codes[:, complete], len(values))
    stat = fleiss_kappa_counts(counts, w[complete]) if complete.any() else _undefined(
        "Fleiss' kappa", 0, "fewer than 2 pairable values: no unit was rated by every coder")
    return Statistic(stat.name, stat.value, stat.n_units, stat.reason, {**stat.details, "dropped_units": dropped})


def brennan_prediger(data: Any, q: int | None = None, unit_counts: Any = None) -> Statistic:
    """Brennan–Prediger (free-marginal) kappa: ``(p_o - 1/q) / (1 - 1/q)``.

    ``q`` is the number of categories coders could choose from (2 for coded /
    not coded); by default the number of categories that occur. ``p_o`` is the
    pairwise percent agreement, so this is Randolph's free-marginal multirater kappa
    for more than two coders.

    >>> round(brennan_prediger([[1, 1, 0, 0, 1], [1, 1, 0, 0, 0]], q=2).value, 3)
    0.6
    """
    codes, values = encode(data)
    w = _unit_counts(unit_counts, codes.shape[1])
    if q is None:
        q = len(values)
        if q < 2:
            return _undefined("Brennan–Prediger kappa", 0, "one category only: give q, the number of "
                              "categories the coders could choose from")
    if q < 2:
        raise ValueError(f"q is the number of categories coders could choose from and must be >= 2; got {q}")
    if len(values) > q:
        raise ValueError(f"q={q} but the data hold {len(values)} categories")
    p_o, n = _pairwise_agreement(value_counts(codes, len(values)), w)
    if n == 0:
        return _undefined("Brennan–Prediger kappa", 0, "fewer than 2 pairable values: no unit was rated by two coders")
    p_e = 1.0 / q
    return Statistic("Brennan–Prediger kappa", (p_o - p_e) / (1 - p_e), n, None, {"p_o": p_o, "p_e": p_e, "q": float(q)})


def _distances(level: str, values: np.ndarray, n_c: np.ndarray) -> np.ndarray:
    """Squared distances δ² between categories (Krippendorff 2011, section C)."""
    v = len(values)
    if level == "nominal":
        return 1.0 - np.eye(v)
    x = values.astype(float)
    if level == "interval":
        return (x[:, None] - x[None, :]) ** 2
    if level == "ratio":
        total = x[:, None] + x[None, :]
        diff = x[:, None] - x[None, :]
        return np.divide(diff, total, out=np.zeros((v, v)), where=total != 0) ** 2
    # ordinal: the mass of values between c and k, each end counted half
    cumulative = np.cumsum(n_c)
    lo = np.minimum.outer(np.arange(v), np.arange(v))
    hi = np.maximum.outer(np.arange(v), np.arange(v))
    between = cumulative[hi] - cumulative[lo] + n_c[lo]
    return (between - (n_c[lo] + n_c[hi]) / 2) ** 2


def krippendorff_alpha(data: Any, level: str = "nominal", unit_counts: Any = None) -> Statistic:
    """Krippendorff's alpha for any number of coders, with missing values.

    Coincidence-matrix formulation of Krippendorff (2011): units rated by fewer than
    two coders are unpairable and ignored; ``level`` picks the metric (nominal,
    ordinal, interval, ratio). Undefined (NaN) with fewer than two pairable values,
    or when only one value occurs among them (no expected disagreement).

    >>> round(krippendorff_alpha([[1, 1, 2, None], [1, 2, 2, 2]]).value, 3)
    0.444
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")
    codes, values = encode(data, numeric=level != "nominal")
    w = _unit_counts(unit_counts, codes.shape[1])
    counts = value_counts(codes, len(values))
    m = counts.sum(axis=1)
    ok = (m >= 2) & (w > 0)
    counts, m, w = counts[ok], m[ok], w[ok]
    if counts.shape[0] == 0:
        return _undefined(f"Krippendorff's alpha ({level})", 0,
                          "fewer than 2 pairable values: no unit was rated by two coders")
    scaled = counts * (w / (m - 1))[:, None]
    coincidences = counts.T @ scaled - np.diag(scaled.sum(axis=0))
    n_c = coincidences.sum(axis=1)
    n = float(n_c.sum())
    if np.count_nonzero(n_c > 1e-12) < 2:
        return _undefined(f"Krippendorff's alpha ({level})", w.sum(), "one category only: every pairable "
                          "value is the same, so alpha is undefined", pairable_values=n)
    delta = _distances(level, values, n_c)
    d_o = float((coincidences * delta).sum() / n)
    d_e = float((np.outer(n_c, n_c) * delta).sum() / (n * (n - 1)))
    value = 1.0 - d_o / d_e
    return Statistic(f"Krippendorff's alpha ({level})", value, float(w.sum()), None,
                     {"D_o": d_o, "D_e": d_e, "pairable_values": n})


# -- unitizing: agreement on where spans begin and end -----------------------------


def merge_spans(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans with overlaps joined; touching spans stay separate units.

    Krippendorff's model needs one coder's units of a category not to overlap; two
    spans that merely touch are two units (the 1995 examples have such units).

    >>> merge_spans([(5, 9), (0, 3), (2, 4), (9, 12)])
    [(0, 4), (5, 9), (9, 12)]
    """
    out: list[list[int]] = []
    for start, end in sorted((int(s), int(e)) for s, e in spans if e > s):
        if out and start < out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(s, e) for s, e in out]


def _partition(units: list[tuple[int, int]], begin: int, end: int, breaks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One coder's continuum as consecutive sections: (starts, ends, is_unit).

    Gaps between units are split at ``breaks`` (document boundaries), since no unit
    can be placed across one.
    """
    starts, ends, flags = [], [], []
    pos = begin
    cuts = list(breaks)
    for s, e in units + [(end, end)]:
        if s > pos:
            edges = [pos] + [b for b in cuts if pos < b < s] + [s]
            for a, b in zip(edges[:-1], edges[1:]):
                starts.append(a), ends.append(b), flags.append(False)
        if e > s:
            starts.append(s), ends.append(e), flags.append(True)
        pos = e
    return np.asarray(starts, dtype=float), np.asarray(ends, dtype=float), np.asarray(flags, dtype=bool)


def _pair_disagreement(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> float:
    """Sum of δ² over the intersecting sections of two coders (Krippendorff 2004).

    Both sections units: (begin difference)² + (end difference)². A unit lying wholly
    inside the other coder's gap: its length². Anything else: 0.
    """
    a_start, a_end, a_unit = a
    b_start, b_end, b_unit = b
    edges = np.union1d(np.concatenate([a_start, a_end]), np.concatenate([b_start, b_end]))
    cells = edges[:-1]
    i = np.searchsorted(a_start, cells, side="right") - 1
    j = np.searchsorted(b_start, cells, side="right") - 1
    # cells run left to right, so each intersecting pair occupies consecutive cells
    first = np.concatenate([[True], (np.diff(i) != 0) | (np.diff(j) != 0)])
    i, j = i[first], j[first]
    sa, ea, ua = a_start[i], a_end[i], a_unit[i]
    sb, eb, ub = b_start[j], b_end[j], b_unit[j]
    both = ua & ub
    a_in_gap = ua & ~ub & (sa >= sb) & (ea <= eb)
    b_in_gap = ub & ~ua & (sb >= sa) & (eb <= ea)
    total = ((sa - sb) ** 2 + (ea - eb) ** 2)[both].sum()
    total += ((ea - sa) ** 2)[a_in_gap].sum() + ((eb - sb) ** 2)[b_in_gap].sum()
    return float(total)


def unitizing_alpha(
    spans: Sequence[Sequence[tuple[int, int]]],
    length: int,
    begin: int = 0,
    breaks: Sequence[int] = (),
) -> Statistic:
    """Krippendorff's unitizing alpha (|u-alpha) for one category on a continuum.

    ``spans[r]`` lists coder r's ``(start, end)`` spans of the category (end
    exclusive) on the continuum ``[begin, begin + length)``; overlapping spans of one
    coder are merged first. Coders whose span boundaries differ by a few characters
    lose a little, not everything, which is what makes this the right figure for
    free-hand coding of text. ``breaks`` are positions that cut the continuum into
    sections (document boundaries): gaps do not run across them and no span may.

    Formulas as in Krippendorff (1995; 2004, §11.6), with the observed disagreement
    averaged over coder pairs and the expected disagreement taken over every possible
    placement of each unit within the gaps. Undefined (NaN) when nobody used the
    category, with fewer than two coders, or on an empty continuum.

    >>> round(unitizing_alpha([[(2, 8)], [(2, 8)]], length=12).value, 3)
    1.0
    """
    n_coders = len(spans)
    name = "Krippendorff's unitizing alpha"
    if n_coders < 2:
        return _undefined(name, 0, "fewer than 2 coders: unitizing alpha compares coders")
    if length <= 1:
        return _undefined(name, max(length, 0), "fewer than 2 pairable values: the continuum is empty")
    end = begin + length
    cuts = np.asarray(sorted(b for b in breaks if begin < b < end), dtype=float)
    units = [merge_spans(s) for s in spans]
    for r, coder_units in enumerate(units):
        for s, e in coder_units:
            if s < begin or e > end:
                raise ValueError(f"coder {r}: span [{s}, {e}) lies outside the continuum [{begin}, {end})")
            if ((cuts > s) & (cuts < e)).any():
                raise ValueError(f"coder {r}: span [{s}, {e}) crosses a section break")
    lengths = np.asarray([e - s for coder_units in units for s, e in coder_units], dtype=float)
    if lengths.size == 0:
        return _undefined(name, length, "no coder used this category")
    parts = [_partition(u, begin, end, cuts) for u in units]
    observed = sum(
        _pair_disagreement(parts[a], parts[b]) for a in range(n_coders) for b in range(a + 1, n_coders)
    )
    d_o = 2.0 * observed / (n_coders * (n_coders - 1) * float(length) ** 2)
    gaps = np.sort(np.concatenate([(p[1] - p[0])[~p[2]] for p in parts]))
    # For each unit of length l: the sum over gaps g >= l of (g - l + 1) placements.
    suffix_sum = np.concatenate([np.cumsum(gaps[::-1])[::-1], [0.0]])
    first = np.searchsorted(gaps, lengths, side="left")
    fits = suffix_sum[first] - (lengths - 1) * (len(gaps) - first)
    n_units = len(lengths)
    within = (n_units - 1) * (2 * lengths ** 3 - 3 * lengths ** 2 + lengths) / 3.0
    numerator = (2.0 / length) * float((within + lengths ** 2 * fits).sum())
    total = n_coders * float(length)
    denominator = total * (total - 1) - float((lengths * (lengths - 1)).sum())
    d_e = numerator / denominator
    details = {"D_o": d_o, "D_e": d_e, "units": float(n_units)}
    if d_e <= 0:
        return _undefined(name, length, "one category only: no expected disagreement", **details)
    return Statistic(name, 1.0 - d_o / d_e, float(length), None, details)
