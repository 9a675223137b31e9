"""Agreement statistics against published worked examples, hand computations and edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualcode.agreement.stats import (
    brennan_prediger,
    cohen_kappa,
    encode,
    fleiss_kappa,
    fleiss_kappa_counts,
    gwet_ac1,
    krippendorff_alpha,
    merge_spans,
    percent_agreement,
    scott_pi,
    unitizing_alpha,
)

NAN = math.nan

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", Annenberg School
# for Communication, University of Pennsylvania (also Content Analysis, 4th ed. 2019,
# ch. 12): the example with 4 observers × 12 units, values 1-5, and missing data. The matrix as
# embedded in the tests of the `krippendorff` PyPI package (pln-fing-udelar/fast-krippendorff).
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]


def test_alpha_nominal_reproduces_krippendorff_2011():
    """Krippendorff (2011): alpha nominal = 0.743 for the 4 × 12 example with missing data."""
    stat = krippendorff_alpha(KRIPPENDORFF_2011, "nominal")
    assert round(stat.value, 3) == 0.743
    assert stat.details["pairable_values"] == 40  # unit 12 has one value only: unpairable
    assert stat.n_units == 11


def test_alpha_interval_reproduces_krippendorff_2011():
    """Krippendorff (2011): alpha interval = 0.849 for the same data."""
    assert round(krippendorff_alpha(KRIPPENDORFF_2011, "interval").value, 3) == 0.849


def test_alpha_ordinal_and_ratio_reproduce_krippendorff_2011():
    """Krippendorff (2011): ordinal 0.815, ratio 0.797 for the same data (figures also
    asserted in the `krippendorff` package's tests)."""
    assert round(krippendorff_alpha(KRIPPENDORFF_2011, "ordinal").value, 3) == 0.815
    assert round(krippendorff_alpha(KRIPPENDORFF_2011, "ratio").value, 3) == 0.797


def test_alpha_wikipedia_three_coder_example():
    """Wikipedia "Krippendorff's alpha", computational example (3 coders × 15 units, missing
    data): nominal 0.691, interval 0.811."""
    data = [
        [NAN, NAN, NAN, NAN, NAN, 3, 4, 1, 2, 1, 1, 3, 3, NAN, 3],
        [1, NAN, 2, 1, 3, 3, 4, 3, NAN, NAN, NAN, NAN, NAN, NAN, NAN],
        [NAN, NAN, 2, 1, 3, 4, 4, NAN, 2, 1, 1, 3, 3, NAN, 4],
    ]
    assert round(krippendorff_alpha(data, "nominal").value, 3) == 0.691
    assert round(krippendorff_alpha(data, "interval").value, 3) == 0.811


def test_cohen_kappa_wikipedia_50_items():
    """Wikipedia "Cohen's kappa", simple example: 50 proposals, 20 yes/yes, 5 yes/no, 10 no/yes,
    15 no/no; p_o = 0.7, p_e = 0.5, kappa = 0.4."""
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    stat = cohen_kappa([a, b])
    assert round(stat.value, 3) == 0.4
    assert stat.details == pytest.approx({"p_o": 0.7, "p_e": 0.5})
    assert round(percent_agreement([a, b]).value, 3) == 0.7


def test_fleiss_kappa_fleiss_1971_wikipedia_table():
    """Wikipedia "Fleiss' kappa", worked example (after Fleiss 1971): 10 subjects, 14 raters,
    5 categories; P-bar = 0.378, P-bar_e = 0.213, kappa = 0.210."""
    counts = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]
    stat = fleiss_kappa_counts(counts)
    assert round(stat.value, 3) == 0.210
    assert round(stat.details["p_o"], 3) == 0.378
    assert round(stat.details["p_e"], 3) == 0.213


def test_fleiss_from_reliability_matrix_equals_counts_version():
    """The same Wikipedia table rebuilt as 14 raters × 10 subjects gives the same kappa."""
    counts = np.array([[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
                       [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]])
    columns = [np.repeat(np.arange(1, 6), row) for row in counts]
    data = np.stack(columns, axis=1)  # raters × subjects
    assert round(fleiss_kappa(data).value, 3) == 0.210


def test_brennan_prediger_hand_computed():
    """Hand computation: 10 units, two coders agree on 8 -> p_o = 0.8. With q = 2,
    (0.8 - 1/2) / (1 - 1/2) = 0.6; with q = 4, (0.8 - 1/4) / (3/4) = 0.7333."""
    a = [1, 1, 1, 0, 0, 0, 0, 0, 1, 0]
    b = [1, 1, 1, 0, 0, 0, 0, 0, 0, 1]
    assert brennan_prediger([a, b], q=2).value == pytest.approx(0.6)
    assert round(brennan_prediger([a, b], q=4).value, 3) == 0.733
    assert brennan_prediger([a, b]).value == pytest.approx(0.6)  # q defaults to the 2 categories seen


def test_percent_agreement_pairs_with_three_coders():
    """Hand computation: unit 1 all agree (3/3 pairs), unit 2 one of three pairs agrees,
    unit 3 rated by one coder is unpairable: (1 + 1/3) / 2 = 0.6667."""
    data = [[1, 1, 1], [1, 2, None], [1, 1, None]]
    stat = percent_agreement(data)
    assert stat.value == pytest.approx(2 / 3)
    assert stat.n_units == 2


# -- edge cases ------------------------------------------------------------------------


def test_perfect_agreement_is_one_for_every_statistic():
    data = [[1, 0, 1, 0, 2], [1, 0, 1, 0, 2], [1, 0, 1, 0, 2]]
    assert percent_agreement(data).value == 1.0
    assert fleiss_kappa(data).value == pytest.approx(1.0)
    assert cohen_kappa(data[:2]).value == pytest.approx(1.0)
    assert brennan_prediger(data, q=3).value == pytest.approx(1.0)
    for level in ("nominal", "ordinal", "interval", "ratio"):
        assert krippendorff_alpha(data, level).value == pytest.approx(1.0)


def test_one_category_only_gives_nan_with_a_reason():
    data = [[0, 0, 0, 0], [0, 0, 0, 0]]
    for stat in (cohen_kappa(data), fleiss_kappa(data), krippendorff_alpha(data)):
        assert math.isnan(stat.value) and not stat.defined
        assert stat.reason.startswith("one category only")
    assert percent_agreement(data).value == 1.0
    assert math.isnan(brennan_prediger(data).value)
    assert "give q" in brennan_prediger(data).reason
    assert brennan_prediger(data, q=2).value == 1.0


def test_a_coder_who_coded_nothing():
    """A coder with no values at all: Cohen has no pairable unit; alpha uses the others."""
    data = [[1, 2, 1, 2], [None, None, None, None], [1, 2, 2, 2]]
    stat = cohen_kappa(data[:2])
    assert math.isnan(stat.value) and stat.reason.startswith("fewer than 2 pairable values")
    assert krippendorff_alpha(data).value == pytest.approx(krippendorff_alpha([data[0], data[2]]).value)
    dropped = fleiss_kappa(data)
    assert math.isnan(dropped.value) and dropped.details["dropped_units"] == 4
    assert "no unit was rated by every coder" in dropped.reason


def test_fewer_than_two_pairable_values():
    data = [[1, None], [None, 2]]
    for stat in (krippendorff_alpha(data), percent_agreement(data), brennan_prediger(data, q=2)):
        assert math.isnan(stat.value)
        assert stat.reason.startswith("fewer than 2 pairable values")


def test_fleiss_drops_units_missing_a_rater():
    data = [[1, 1, 0, 0, 1], [1, 1, 0, 0, None], [1, 0, 0, 0, 1]]
    stat = fleiss_kappa(data)
    assert stat.details["dropped_units"] == 1
    assert stat.value == pytest.approx(fleiss_kappa([row[:4] for row in data]).value)


def test_bad_inputs_are_refused_with_a_message():
    with pytest.raises(ValueError, match="exactly two coders"):
        cohen_kappa([[1, 2], [1, 2], [1, 2]])
    with pytest.raises(ValueError, match="same number of raters"):
        fleiss_kappa_counts([[2, 0], [1, 2]])
    with pytest.raises(ValueError, match="need numbers"):
        krippendorff_alpha([["a", "b"], ["a", "a"]], "interval")
    with pytest.raises(ValueError, match="level must be one of"):
        krippendorff_alpha([[1, 2], [1, 2]], "cardinal")
    with pytest.raises(ValueError, match="one count per unit"):
        percent_agreement([[1, 2], [1, 2]], unit_counts=[1, 2, 3])
    with pytest.raises(ValueError, match="q=2 but the data hold 3"):
        brennan_prediger([[1, 2, 3], [1, 2, 3]], q=2)
    with pytest.raises(ValueError, match="one row per coder"):
        percent_agreement([1, 2, 3])


def test_encode_keeps_text_categories_and_missing():
    codes, values = encode([["a", None, "b"], ["b", "a", float("nan")]])
    assert values.tolist() == ["a", "b"]
    assert codes.tolist() == [[0, -1, 1], [1, 0, -1]]


def test_cohen_matches_scikit_learn_on_random_data():
    """Cross-check against sklearn.metrics.cohen_kappa_score (a project dependency)."""
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.default_rng(5)
    a = rng.integers(0, 4, 300)
    b = np.where(rng.random(300) < 0.6, a, rng.integers(0, 4, 300))
    assert cohen_kappa([a, b]).value == pytest.approx(cohen_kappa_score(a, b))


def _ratings(seed: int, n: int = 200, k: int = 5, coders: int = 2, missing: float = 0.0) -> np.ndarray:
    """Coders x units of ordinal ratings 1..k that mostly agree, some missing (NaN)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, k + 1, n)
    rows = [np.where(rng.random(n) < 0.7, truth, np.clip(truth + rng.integers(-2, 3, n), 1, k)) for _ in range(coders)]
    data = np.array(rows, dtype=float)
    data[rng.random(data.shape) < missing] = np.nan
    return data


@pytest.mark.parametrize("weighting", ["linear", "quadratic"])
def test_weighted_kappa_matches_scikit_learn_and_statsmodels(weighting):
    """Cohen's weighted kappa against sklearn's cohen_kappa_score(weights=) and
    statsmodels' cohens_kappa(wt=), on a 1..5 scale with a value nobody used."""
    from sklearn.metrics import cohen_kappa_score
    from statsmodels.stats.inter_rater import cohens_kappa, to_table

    a, b = _ratings(1).astype(int)
    b[b == 3] = 4  # coder b never says 3: the scale still has five points
    ours = cohen_kappa([a, b], weighting=weighting, categories=[1, 2, 3, 4, 5]).value
    assert ours == pytest.approx(cohen_kappa_score(a, b, weights=weighting, labels=[1, 2, 3, 4, 5]))
    table, _ = to_table(np.column_stack([a, b]), bins=np.arange(0.5, 6))
    assert ours == pytest.approx(cohens_kappa(table, wt=weighting).kappa)


def test_weighted_kappa_takes_text_scales_in_their_order_and_refuses_ambiguous_calls():
    scale = ["strongly disagree", "disagree", "not sure", "agree", "strongly agree"]
    a = ["agree", "agree", "disagree", "strongly agree", "not sure", "strongly disagree"]
    b = ["strongly agree", "agree", "not sure", "strongly agree", "not sure", "disagree"]
    numbers = cohen_kappa([[scale.index(v) for v in a], [scale.index(v) for v in b]], weighting="quadratic",
                          categories=range(5)).value
    assert cohen_kappa([a, b], weighting="quadratic", categories=scale).value == pytest.approx(numbers)
    with pytest.raises(ValueError, match="needs the order of the categories"):
        cohen_kappa([a, b], weighting="linear")
    with pytest.raises(ValueError, match="not among the categories"):
        cohen_kappa([a, b], weighting="linear", categories=scale[:3])
    with pytest.raises(ValueError, match="weighting must be"):
        cohen_kappa([[1, 2], [1, 2]], weighting="squared")
    with pytest.raises(TypeError, match="unit_counts= for how many identical units"):
        cohen_kappa([[1, 2], [1, 2]], weights=[1, 1])
    with pytest.raises(TypeError):
        cohen_kappa([[1, 2], [1, 2]], [1, 1])  # the old positional counts no longer pass silently


def test_scott_pi_matches_statsmodels_fleiss_for_two_coders():
    """Fleiss' kappa with two raters is Scott's pi (Fleiss 1971)."""
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa as sm_fleiss

    data = _ratings(2).astype(int)
    table, _ = aggregate_raters(data.T)
    assert scott_pi(data).value == pytest.approx(sm_fleiss(table, method="fleiss"))
    assert scott_pi(data).value != pytest.approx(cohen_kappa(data).value, abs=1e-6)  # unequal marginals differ


@pytest.mark.parametrize("coders,missing", [(2, 0.0), (3, 0.1), (4, 0.25)])
def test_gwet_ac1_and_percent_agreement_match_irrcac(coders, missing):
    """Gwet's AC1 and mean pairwise agreement against irrCAC (a port of Gwet's own R
    functions), with missing ratings."""
    pd = pytest.importorskip("pandas")
    from irrCAC.raw import CAC

    data = _ratings(3 + coders, n=150, coders=coders, missing=missing)
    est = CAC(pd.DataFrame(data.T)).gwet()["est"]
    assert gwet_ac1(data).value == pytest.approx(est["coefficient_value"], abs=1e-5)
    assert percent_agreement(data).value == pytest.approx(est["pa"], abs=1e-5)


def test_the_two_percent_agreement_definitions():
    """Three coders, two units: unit 1 all agree; unit 2 two of three (1 agreeing pair of 3)."""
    data = [[1, 1], [1, 1], [1, 0]]
    assert percent_agreement(data).value == pytest.approx((1 + 1 / 3) / 2)
    assert percent_agreement(data, definition="all_agree").value == pytest.approx(0.5)
    assert percent_agreement([[1, 0], [1, 1]], definition="all_agree").value == percent_agreement([[1, 0], [1, 1]]).value
    with pytest.raises(ValueError, match="definition must be one of"):
        percent_agreement(data, definition="unanimous")


def test_alpha_matches_the_krippendorff_package_when_installed():
    krippendorff = pytest.importorskip("krippendorff")
    for level in ("nominal", "ordinal", "interval", "ratio"):
        expected = krippendorff.alpha(reliability_data=KRIPPENDORFF_2011, level_of_measurement=level)
        assert krippendorff_alpha(KRIPPENDORFF_2011, level).value == pytest.approx(expected)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(1, 4)), min_size=2, max_size=12))
def test_weights_equal_repeated_units(rows):
    """A column with weight w gives the same figures as w copies of it."""
    weighted = [[a for a, _, _ in rows], [b for _, b, _ in rows]]
    weights = [w for _, _, w in rows]
    expanded = [[a for a, _, w in rows for _ in range(w)], [b for _, b, w in rows for _ in range(w)]]
    for fn in (percent_agreement, cohen_kappa, fleiss_kappa, krippendorff_alpha, scott_pi, gwet_ac1):
        got, want = fn(weighted, unit_counts=weights), fn(expanded)
        assert (math.isnan(got.value) and math.isnan(want.value)) or got.value == pytest.approx(want.value)


# -- unitizing alpha -------------------------------------------------------------------


def test_unitizing_alpha_krippendorff_2004_worked_example():
    """Krippendorff (2004), Content Analysis 2nd ed., p. 254: two observers, continuum from 150,
    length 300. Category c: D_o = 0.0144, D_e = 0.0532, alpha = 0.7286; category k (identical
    units): alpha = 1. Figures as given in DKPro Statistics' Krippendorff2004Test, which cites
    that page."""
    c = [[(225, 295), (370, 400)], [(220, 300), (355, 375), (400, 420)]]
    stat = unitizing_alpha(c, 300, begin=150)
    assert round(stat.details["D_o"], 4) == 0.0144
    assert round(stat.details["D_e"], 4) == 0.0532
    assert round(stat.value, 3) == 0.729
    k = [[(180, 240), (300, 350)], [(180, 240), (300, 350)]]
    assert unitizing_alpha(k, 300, begin=150).value == 1.0


def _krippendorff_1995(stretch: int) -> dict[str, list[list[tuple[int, int]]]]:
    """Krippendorff (1995), "On the reliability of unitizing continuous data", p. 57: four
    pairs of observers (A-D) on a 24-step continuum, as encoded in DKPro Statistics'
    Krippendorff1995Test (offset, length pairs)."""
    def span(offset: int, length: int) -> tuple[int, int]:
        return offset * stretch, (offset + length) * stretch

    return {
        "A": [[span(2, 8), span(14, 6)], [span(4, 4), span(15, 2)]],
        "B": [[span(0, 18)], [span(0, 2), span(2, 1), span(3, 1), span(4, 1), span(5, 1), span(6, 3), span(9, 1)]],
        "C": [[span(2, 6), span(10, 2), span(14, 4), span(20, 2)],
              [span(0, 2), span(4, 4), span(10, 4), span(16, 2), span(20, 2)]],
        "D": [[span(0, 2), span(2, 8), span(10, 4), span(14, 6), span(20, 4)],
              [span(0, 4), span(4, 4), span(8, 7), span(15, 2), span(17, 7)]],
    }


def test_unitizing_alpha_krippendorff_1995_examples():
    """Krippendorff (1995) p. 57-63 as asserted by DKPro Statistics' Krippendorff1995Test.

    Observed disagreements (exact): A 0.03125, B 2.26736, C 0.02777, D 0.38715. Alpha on a
    finely divided continuum (stretch 50,000): A 0.553 and D 0.066 to three decimals; for B
    (-0.926) and C (0.679) DKPro notes a small error in the paper's expected disagreement and
    allows 0.02, which we meet (-0.928, 0.693)."""
    observed = {"A": 0.03125, "B": 2.26736, "C": 0.02777, "D": 0.38715}
    for name, spans in _krippendorff_1995(1).items():
        assert unitizing_alpha(spans, 24).details["D_o"] == pytest.approx(observed[name], abs=1e-5)
    fine = {name: unitizing_alpha(spans, 24 * 50_000).value for name, spans in _krippendorff_1995(50_000).items()}
    assert round(fine["A"], 3) == 0.553
    assert round(fine["D"], 3) == 0.066
    assert fine["B"] == pytest.approx(-0.926, abs=0.02)
    assert fine["C"] == pytest.approx(0.679, abs=0.02)


def test_unitizing_alpha_hand_computed():
    """Hand computation, continuum of 100 characters. Coder 1: [0, 30); coder 2: [12, 25).
    D_o: the only non-zero pair is unit/unit: (0-12)² + (30-25)² = 169; D_o = 2·169 / (2·1·100²)
    = 0.0169. D_e: gaps 70 (coder 1), 12 and 75 (coder 2); N = 2 units.
    l=30: (2-1)(2·30³ - 3·30² + 30)/3 = 17110, plus 30²·((70-29) + (75-29)) = 78300.
    l=13: (2·13³ - 3·13² + 13)/3 = 1300, plus 13²·((70-12) + (75-12)) = 20449.
    D_e = (2/100)·117159 / (200·199 - (30·29 + 13·12)) = 2343.18 / 38774 = 0.060432.
    alpha = 1 - 0.0169 / 0.060432 = 0.720346."""
    stat = unitizing_alpha([[(0, 30)], [(12, 25)]], 100)
    assert stat.details["D_o"] == pytest.approx(0.0169)
    assert stat.details["D_e"] == pytest.approx(2343.18 / 38774)
    assert round(stat.value, 6) == 0.720346


def test_unitizing_alpha_edge_cases():
    nobody = unitizing_alpha([[], []], 50)
    assert math.isnan(nobody.value) and nobody.reason == "no coder used this category"
    alone = unitizing_alpha([[(0, 5)]], 50)
    assert math.isnan(alone.value) and alone.reason.startswith("fewer than 2 coders")
    empty = unitizing_alpha([[], []], 0)
    assert math.isnan(empty.value) and empty.reason.startswith("fewer than 2 pairable values")
    one_silent = unitizing_alpha([[(10, 20)], []], 100)
    assert one_silent.value < 0  # a coder who coded nothing disagrees with every unit
    assert unitizing_alpha([[(0, 5), (3, 9)], [(0, 9)]], 20).value == 1.0  # overlaps merged first


def test_unitizing_alpha_breaks_cut_gaps_not_units():
    spans = [[(10, 20), (60, 70)], [(12, 20), (60, 75)]]
    whole = unitizing_alpha(spans, 100)
    cut = unitizing_alpha(spans, 100, breaks=[50])
    assert cut.details["D_o"] == whole.details["D_o"]
    assert cut.details["D_e"] != whole.details["D_e"]
    with pytest.raises(ValueError, match="crosses a section break"):
        unitizing_alpha([[(40, 60)], []], 100, breaks=[50])
    with pytest.raises(ValueError, match="outside the continuum"):
        unitizing_alpha([[(90, 120)], []], 100)


def test_merge_spans_joins_overlaps_only():
    assert merge_spans([(5, 9), (0, 3), (2, 4), (9, 12), (7, 7)]) == [(0, 4), (5, 9), (9, 12)]
