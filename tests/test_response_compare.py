"""Comparing response rates between groups against R (tests/r/response_compare_reference.R:
chisq.test(tab, correct = FALSE) and fisher.test(tab), R 4.2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyses.exact import fisher_exact_rx2, fisher_monte_carlo_rx2
from analyses.response import compare_rates, compare_response_rates
from analyses.results import AnalysisError

R_DIR = Path(__file__).parent / "r"
CASES = pd.read_csv(R_DIR / "response_compare.csv").set_index("case")


def _counts(case: str) -> tuple[list[int], list[int]]:
    row = CASES.loc[case]
    return [int(v) for v in row["responders"].split(";")], [int(v) for v in row["n"].split(";")]


@pytest.mark.parametrize("case", list(CASES.index))
def test_rule_and_test_match_r(case: str) -> None:
    """R: chisq.test(cbind(x, n - x), correct = FALSE) when every expected count is >= 5, else
    fisher.test(cbind(x, n - x)) (response_compare.csv): the same test, statistic to 1e-12, p to 1e-9
    relative, the smallest expected count exactly."""
    expected = CASES.loc[case]
    result = compare_rates(*_counts(case))
    assert result.test.startswith("Pearson" if expected["rule"] == "chisq" else "Fisher")
    assert result.min_expected == pytest.approx(expected["min_expected"], rel=1e-14)
    assert result.df == expected["df"]
    if expected["rule"] == "chisq":
        assert result.statistic == pytest.approx(expected["chisq"], rel=1e-12)
        assert result.p == pytest.approx(expected["chisq_p"], rel=1e-9)
        assert result.note == ""
    else:
        assert np.isnan(result.statistic)
        assert result.p == pytest.approx(expected["fisher_p"], rel=1e-9)
        assert result.note


@pytest.mark.parametrize("case", [c for c in CASES.index if c != "everyone_responded"])
def test_fisher_matches_r_whatever_the_rule(case: str) -> None:
    """R: fisher.test(cbind(x, n - x))$p.value for every case, also those the rule sends to chi-square."""
    assert fisher_exact_rx2(*_counts(case)) == pytest.approx(CASES.loc[case, "fisher_p"], rel=1e-9)


def test_fisher_on_a_table_r_cannot_enumerate() -> None:
    """R's FEXACT stops ("LDKEY is too small") on 4 groups of 4 to 5,950 patients; the exact
    enumeration still runs, and agrees with the Monte Carlo p-value (100,000 tables, seed fixed) to
    within its sampling error; a larger table falls back to Monte Carlo, deterministically."""
    x, n = [3000, 3500, 2500, 1], [5000, 5950, 4100, 4]
    exact = fisher_exact_rx2(x, n)
    assert exact is not None
    simulated = fisher_monte_carlo_rx2(x, n, samples=100_000, seed=1)
    assert abs(simulated - exact) < 4 * np.sqrt(exact * (1 - exact) / 100_000)
    big_x, big_n = [3000, 3500, 2500, 1, 1250, 580], [5000, 5950, 4100, 4, 2050, 980]
    assert fisher_exact_rx2(big_x, big_n) is None
    first = compare_rates(big_x, big_n)
    assert first.test == "Fisher's exact (Monte Carlo)"
    assert "100,000 simulated tables" in first.note
    assert compare_rates(big_x, big_n).p == first.p
    assert compare_rates(big_x, big_n, seed=2).p != first.p


def test_compare_response_rates_from_patients() -> None:
    """From one row per patient: groups as response_rates makes them, missing groups left out."""
    x, n = _counts("small_arm")
    rows = [(f"g{i}", k < xi) for i, (xi, ni) in enumerate(zip(x, n, strict=True)) for k in range(ni)]
    df = pd.DataFrame(rows, columns=["arm", "cr"])
    df = pd.concat([df, pd.DataFrame({"arm": [None, None], "cr": [True, False]})], ignore_index=True)
    result = compare_response_rates(df, "cr", "arm")
    assert result.groups == ("g0", "g1", "g2", "g3")
    assert result.p == pytest.approx(CASES.loc["small_arm", "fisher_p"], rel=1e-9)


@pytest.mark.parametrize(
    ("responders", "n", "message"),
    [([3], [5], "at least two groups"), ([3, 1], [5, 0], "at least one patient"), ([6, 1], [5, 3], "between 0")],
    ids=["one_group", "empty_group", "too_many_responders"],
)
def test_bad_counts_are_a_sentence(responders: list[int], n: list[int], message: str) -> None:
    with pytest.raises(AnalysisError, match=message):
        compare_rates(responders, n)
