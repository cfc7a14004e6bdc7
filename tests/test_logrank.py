"""Log-rank family against R (committed outputs of tests/r/logrank_reference.R)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyses.logrank import holm, logrank_test, logrank_trend, pairwise_logrank
from analyses.results import AnalysisError

R_DIR = Path(__file__).parent / "r"
TESTS = pd.read_csv(R_DIR / "logrank_tests.csv")
GROUPS = pd.read_csv(R_DIR / "logrank_groups.csv")
PAIRS = pd.read_csv(R_DIR / "logrank_pairwise.csv")
WEIGHTS = {"logrank": (0, 0), "rho1": (1, 0), "fh_0_1": (0, 1), "fh_1_1": (1, 1), "fh_0.5_2": (0.5, 2)}


def _data(case: str) -> pd.DataFrame:
    return pd.read_csv(R_DIR / f"km_data_{case}.csv")


ROWS = TESTS[TESTS["test"].isin(list(WEIGHTS))]


@pytest.mark.parametrize(
    ("case", "test"),
    list(zip(ROWS["case"], ROWS["test"], strict=True)),
    ids=[f"{c}-{t}" for c, t in zip(ROWS["case"], ROWS["test"], strict=True)],
)
def test_weighted_logrank_matches_r(case: str, test: str) -> None:
    """R: survdiff(Surv(time, status) ~ group, rho = 0 or 1) for logrank/rho1; for gamma > 0 the
    first-principles function fh() in tests/r/logrank_reference.R (-> logrank_tests.csv)."""
    expected = TESTS[(TESTS["case"] == case) & (TESTS["test"] == test)].iloc[0]
    rho, gamma = WEIGHTS[test]
    result = logrank_test(_data(case), "time", "status", "group", rho=rho, gamma=gamma)
    assert result.statistic == pytest.approx(expected["statistic"], abs=1e-8)
    assert result.df == expected["df"]
    assert result.p == pytest.approx(expected["p"], rel=1e-7, abs=1e-12)
    groups = GROUPS[(GROUPS["case"] == case) & (GROUPS["test"] == test)]
    if len(groups):
        np.testing.assert_allclose(result.table["observed"], groups["obs"], atol=1e-8)
        np.testing.assert_allclose(result.table["expected"], groups["exp"], atol=1e-8)
        np.testing.assert_allclose(result.table["variance"], groups["var"], atol=1e-8)


def test_fh_gamma_zero_equals_survdiff_rho() -> None:
    """Our G(1, 0) is R's survdiff(rho = 1) (logrank_tests.csv, lung_sex rho1): the two R sources agree."""
    expected = TESTS[(TESTS["case"] == "lung_sex") & (TESTS["test"] == "rho1")]["statistic"].iloc[0]
    assert logrank_test(_data("lung_sex"), "time", "status", "group", rho=1, gamma=0).statistic == (
        pytest.approx(expected, abs=1e-8)
    )


@pytest.mark.parametrize("test", ["stratified", "stratified_rho1"])
def test_stratified_matches_r(test: str) -> None:
    """R: survdiff(Surv(time, status) ~ trt + strata(celltype), data = veteran[, rho = 1])."""
    expected = TESTS[TESTS["test"] == test].iloc[0]
    data = pd.read_csv(R_DIR / "logrank_data_veteran_trt_by_celltype.csv")
    result = logrank_test(data, "time", "status", "group", strata_col="stratum", rho=1 if test.endswith("rho1") else 0)
    assert result.statistic == pytest.approx(expected["statistic"], abs=1e-8)
    assert result.p == pytest.approx(expected["p"], rel=1e-7)


@pytest.mark.parametrize("case", ["lung_ecog", "veteran_celltype"])
def test_trend_matches_r(case: str) -> None:
    """R: scores 1..k; (sum(sc * (obs - exp)))^2 / (t(sc) %*% var %*% sc) from survdiff
    (tests/r/logrank_reference.R, test 'trend')."""
    expected = TESTS[(TESTS["case"] == case) & (TESTS["test"] == "trend")].iloc[0]
    result = logrank_trend(_data(case), "time", "status", "group")
    assert result.statistic == pytest.approx(expected["statistic"], abs=1e-8)
    assert result.df == 1
    assert result.p == pytest.approx(expected["p"], rel=1e-7)


@pytest.mark.parametrize("case", ["lung_ecog", "veteran_celltype"])
def test_pairwise_holm_matches_r(case: str) -> None:
    """R: survdiff on each pair's subset, p.adjust(method = "holm") (survminer::pairwise_survdiff's
    method) from tests/r/logrank_reference.R -> logrank_pairwise.csv."""
    expected = PAIRS[PAIRS["case"] == case].reset_index(drop=True)
    result = pairwise_logrank(_data(case), "time", "status", "group")
    assert list(result["group1"]) == list(expected["group1"])
    assert list(result["group2"]) == list(expected["group2"])
    np.testing.assert_allclose(result["statistic"], expected["statistic"], atol=1e-8)
    np.testing.assert_allclose(result["p_adjusted"], expected["p_adjusted"], rtol=1e-7)


def test_pairwise_reports_every_pair_and_marks_a_pair_without_events() -> None:
    """R: survdiff on each pair's subset; the pair (c, d) has no event (survdiff: chisq 0 on -1 df, p NA),
    p.adjust(method = "holm") over the five others (tests/r/logrank_reference.R -> logrank_pairwise.csv,
    case pairs_without_events). One untestable pair used to refuse the whole table."""
    expected = PAIRS[PAIRS["case"] == "pairs_without_events"].reset_index(drop=True)
    data = pd.read_csv(R_DIR / "logrank_data_pairs_without_events.csv")
    result = pairwise_logrank(data, "time", "status", "group")
    assert list(zip(result["group1"], result["group2"], strict=True)) == list(
        zip(expected["group1"], expected["group2"], strict=True)
    )
    for column in ("statistic", "p", "p_adjusted"):
        np.testing.assert_allclose(result[column], expected[column], rtol=1e-8, equal_nan=True)
    untested = result["p"].isna()
    assert list(untested) == [False] * 5 + [True]
    assert result.loc[untested, "note"].str.contains("No events").all()
    assert (result.loc[~untested, "note"] == "").all()


def test_holm_is_monotone_and_capped() -> None:
    """p.adjust(c(0.01, 0.04, 0.03, 0.5), "holm") = 0.04 0.09 0.09 0.5 (computed in R by hand)."""
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.5]), [0.04, 0.09, 0.09, 0.5])


EDGE = {
    "single_group": pd.DataFrame({"time": [1, 2, 3], "status": [1, 0, 1], "group": ["a"] * 3}),
    "no_events": pd.DataFrame({"time": [1, 2, 3], "status": [0, 0, 0], "group": ["a", "b", "b"]}),
    "empty": pd.DataFrame({"time": [], "status": [], "group": []}),
}


@pytest.mark.parametrize("frame", EDGE.values(), ids=EDGE.keys())
def test_untestable_data_raises(frame: pd.DataFrame) -> None:
    """A test needs two groups and at least one event; otherwise an AnalysisError sentence."""
    with pytest.raises(AnalysisError, match=r"\.$"):
        logrank_test(frame, "time", "status", "group")


@pytest.mark.parametrize(("strata", "rho", "gamma"), [(None, 0, 0), ("s", 0, 0), (None, 1, 0), ("s", 0, 1)])
@pytest.mark.parametrize("seed", range(6))
def test_pairwise_is_logrank_test_on_each_pair(seed: int, strata, rho: float, gamma: float) -> None:
    """pairwise_logrank sorts each group's times once and builds every pair from them; each pair's
    statistic and p are exactly (bitwise) those of logrank_test on the pair's rows."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(40, 400))
    data = pd.DataFrame(
        {
            "time": rng.integers(0, 60, n).astype(float),
            "status": rng.integers(0, 3, n),
            "group": rng.choice(list("abcd"), n, p=[0.4, 0.3, 0.2, 0.1]),
            "s": rng.choice(["x", "y", "z"], n),
        }
    )
    pairs = pairwise_logrank(data, "time", "status", "group", strata_col=strata, rho=rho, gamma=gamma)
    for row in pairs.itertuples():
        sub = data[data["group"].isin([row.group1, row.group2])]
        one = logrank_test(sub, "time", "status", "group", strata_col=strata, rho=rho, gamma=gamma)
        assert (row.statistic, row.p) == (one.statistic, one.p)
