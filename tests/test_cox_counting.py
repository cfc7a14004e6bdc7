"""The time-varying Cox model: strata, the default variance with non-integer weights, global tests.

R: tests/r/cox_counting_reference.R (survival 3.5-3) on timing_data_sim.csv (400 simulated patients split
at exposure, tests/r/timing_reference.R).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyses.cox import fit_cox
from analyses.cox_counting import fit_cox_counting

R_DIR = Path(__file__).parent / "r"
TERMS = pd.read_csv(R_DIR / "cox_counting_terms.csv")
TESTS = pd.read_csv(R_DIR / "cox_counting_tests.csv")
# model -> fit_cox_counting keyword arguments (the R calls are in cox_counting_reference.R)
MODELS = {
    "strata_efron": {"covariates": ["exposed", "age"], "strata": "risk"},
    "strata_breslow": {"covariates": ["exposed", "age"], "strata": "risk", "ties": "breslow"},
    "strata_cluster": {"covariates": ["exposed", "age"], "strata": "risk", "cluster_col": "id"},
    "weights": {"covariates": ["exposed", "age", "risk"], "weights_col": "w"},
}


@pytest.fixture(scope="module")
def counting() -> pd.DataFrame:
    data = pd.read_csv(R_DIR / "timing_data_sim.csv")
    return data.assign(w=0.5 + (data["id"] % 7) / 4)


def _fit(counting: pd.DataFrame, model: str):
    return fit_cox_counting(counting, "start", "stop", "event", **MODELS[model])


@pytest.mark.parametrize("model", list(MODELS), ids=list(MODELS))
def test_counting_cox_matches_coxph(counting: pd.DataFrame, model: str) -> None:
    """R: coxph(Surv(start, stop, event) ~ exposed + age + strata(risk) [, ties = "breslow"]
    [, cluster = id]) and coxph(... ~ exposed + age + risk, weights = w) with w not whole numbers,
    robust by default (cox_counting_terms.csv): coef, SE and robust SE to 1e-7 (R stops Newton at a relative
    log-likelihood change of 1e-9, which leaves about 6e-9 in the coefficients)."""
    expected = TERMS[TERMS["model"] == model].reset_index(drop=True)
    fit = _fit(counting, model)
    assert list(fit.terms["term"]) == list(expected["term"])
    np.testing.assert_allclose(fit.terms["coef"], expected["coef"], rtol=0, atol=1e-7)
    np.testing.assert_allclose(fit.terms["se"], expected["se"], rtol=0, atol=1e-7)
    np.testing.assert_allclose(fit.terms["robust_se"], expected["robust_se"], rtol=0, atol=1e-7, equal_nan=True)
    assert fit.variance == ("model-based" if expected["robust_se"].isna().all() else "robust")
    assert fit.strata == (("risk",) if "strata" in MODELS[model] else ())


@pytest.mark.parametrize("model", list(MODELS), ids=list(MODELS))
def test_counting_cox_global_tests_match_r(counting: pd.DataFrame, model: str) -> None:
    """R: summary(coxph(...)) logtest, waldtest, sctest and robscore, unrounded (cox_counting_tests.csv),
    to 1e-7 relative; the score test is also ``score_test``."""
    expected = TESTS[TESTS["model"] == model].reset_index(drop=True)
    fit = _fit(counting, model)
    assert list(fit.tests["test"]) == list(expected["test"])
    np.testing.assert_allclose(fit.tests["statistic"], expected["statistic"], rtol=1e-7)
    assert list(fit.tests["df"]) == list(expected["df"])
    np.testing.assert_allclose(fit.tests["p"], expected["p"], rtol=1e-6)
    assert fit.score_test["statistic"] == pytest.approx(
        fit.tests.set_index("test").loc["score", "statistic"], rel=1e-12
    )


def test_strata_without_time_change_is_fit_cox_with_strata() -> None:
    """One interval per patient from the origin: the stratified counting-process fit is fit_cox's
    stratified fit (strata risk sets, Efron), to 1e-10."""
    rng = np.random.default_rng(11)
    n = 300
    data = pd.DataFrame(
        {
            "stop": rng.integers(1, 200, n).astype(float),
            "event": rng.integers(0, 2, n),
            "x": rng.normal(size=n),
            "site": rng.choice(np.array(["a", "b", "c"]), n),
        }
    ).assign(start=0.0)
    tv = fit_cox_counting(data, "start", "stop", "event", ["x"], strata="site")
    fixed = fit_cox(data, "stop", "event", ["x"], strata="site")
    np.testing.assert_allclose(tv.terms[["coef", "se"]], fixed.terms[["coef", "se"]], rtol=1e-10)
    assert tv.loglik == pytest.approx(fixed.loglik, rel=1e-12)
    np.testing.assert_allclose(tv.tests["statistic"], fixed.tests["statistic"], rtol=1e-10, atol=1e-10)


def test_a_single_stratum_changes_nothing(counting: pd.DataFrame) -> None:
    """strata on a constant column is the unstratified model."""
    plain = fit_cox_counting(counting, "start", "stop", "event", ["exposed", "age"])
    one = fit_cox_counting(counting.assign(s="all"), "start", "stop", "event", ["exposed", "age"], strata="s")
    pd.testing.assert_frame_equal(plain.terms, one.terms)
