"""Cox models: global tests, linear predictors tied within rounding, the variance with non-integer weights.

Expected values: ``tests/r/cox_tests_reference.R`` (survival 3.5-3) on the data of
``tests/r/cox_reference.R`` and on survival's ``colon`` (deaths, ``cox_data_colon.csv``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cox_support import SPECS, fit_case, r_term

from analyses.concordance import LP_TOLERANCE, concordance
from analyses.cox import fit_cox

R_DIR = Path(__file__).parent / "r"
GLOBAL = pd.read_csv(R_DIR / "cox_global_tests.csv")
COLON_TERMS = pd.read_csv(R_DIR / "cox_colon_terms.csv")
COLON_FITS = pd.read_csv(R_DIR / "cox_colon_fit.csv").set_index("case")
COLON = ["rx", "sex", "age", "nodes", "extent"]
# case -> fit_cox keyword arguments beyond the covariates; the R call is in cox_tests_reference.R
COLON_SPECS = {
    "colon": {"ref_levels": {"rx": "Obs"}},  # coxph(Surv(time, status) ~ rx + sex + age + nodes + extent)
    "colon_weights": {"ref_levels": {"rx": "Obs"}, "weights_col": "w"},  # coxph(..., weights = w)
    "colon_weights_model": {"ref_levels": {"rx": "Obs"}, "weights_col": "w", "robust": False},
}


def _colon(case: str):
    data = pd.read_csv(R_DIR / "cox_data_colon.csv")
    return fit_cox(data, "time", "status", COLON, **COLON_SPECS[case])


def _check_tests(case: str, tests: pd.DataFrame) -> None:
    expected = GLOBAL[GLOBAL["case"] == case].reset_index(drop=True)
    assert list(tests["test"]) == list(expected["test"])
    np.testing.assert_allclose(tests["statistic"], expected["statistic"], rtol=1e-7, atol=0)
    assert list(tests["df"]) == list(expected["df"])
    np.testing.assert_allclose(tests["p"], expected["p"], rtol=1e-5, atol=1e-300)


@pytest.mark.parametrize("case", list(SPECS), ids=list(SPECS))
def test_global_tests_match_r(case: str) -> None:
    """R: summary(coxph(...)) logtest, waldtest, sctest and (robust fits) robscore, unrounded
    (-2 diff(fit$loglik), fit$wald.test, fit$score, fit$rscore) -> cox_global_tests.csv; the Wald test
    of a robust fit uses the robust variance, as R's."""
    _check_tests(case, fit_case(case).tests)


@pytest.mark.parametrize("case", list(COLON_SPECS), ids=list(COLON_SPECS))
def test_colon_global_tests_match_r(case: str) -> None:
    """R: as test_global_tests_match_r, on colon (deaths) with and without non-integer weights."""
    _check_tests(case, _colon(case).tests)


def test_concordance_ties_linear_predictors_equal_within_rounding() -> None:
    """R: coxph(Surv(time, status) ~ rx + sex + age + nodes + extent, data = colon deaths)$concordance
    = 0.65612748 (cox_colon_fit.csv). Patients with the same covariates can get linear predictors that
    differ in the last bit (the BLAS rounds blocks of rows differently); they are tied, as in R."""
    fit = _colon("colon")
    assert fit.concordance == pytest.approx(COLON_FITS.loc["colon", "concordance"], abs=1e-12)


def test_concordance_lp_tolerance() -> None:
    """Predictors within LP_TOLERANCE count as tied (one half); further apart, as ordered."""
    time, event = np.array([1.0, 2.0]), np.array([True, True])
    assert concordance(time, event, np.array([0.5 + 1e-13, 0.5])) == 0.5
    assert concordance(time, event, np.array([0.5 + 1e-13, 0.5]) * 1e6) == 0.5  # relative to their size
    assert concordance(time, event, np.array([0.5 + 100 * LP_TOLERANCE, 0.5])) == 1.0


def test_non_integer_weights_use_the_robust_variance() -> None:
    """R: coxph(..., weights = w) with non-integer w is robust by default (z of rx=Lev+5FU -2.92, not the
    model-based -4.80); robust = FALSE gives the model-based one (cox_colon_terms.csv)."""
    for case, variance in (("colon_weights", "robust"), ("colon_weights_model", "model-based")):
        fit = _colon(case)
        expected = COLON_TERMS[COLON_TERMS["case"] == case].reset_index(drop=True)
        assert [r_term(t) for t in fit.terms["term"]] == list(expected["term"])
        assert fit.variance == variance == COLON_FITS.loc[case, "variance"]
        np.testing.assert_allclose(fit.terms["coef"], expected["coef"], rtol=0, atol=1e-9)
        np.testing.assert_allclose(fit.terms["se"], expected["se"], rtol=0, atol=1e-9)
        np.testing.assert_allclose(fit.terms["z"], expected["z"], rtol=0, atol=1e-7)
        if variance == "robust":
            np.testing.assert_allclose(fit.terms["robust_se"], expected["robust_se"], rtol=0, atol=1e-9)
        else:
            assert fit.terms["robust_se"].isna().all()


def test_integer_weights_keep_the_model_based_variance() -> None:
    """R: coxph(..., weights = w) with whole-number (frequency) weights is not robust; a cluster is."""
    data = pd.read_csv(R_DIR / "cox_data_colon.csv").assign(f=lambda d: np.ceil(d["w"]))
    assert fit_cox(data, "time", "status", ["age"], weights_col="f").variance == "model-based"
    assert fit_cox(data, "time", "status", ["age"]).variance == "model-based"
    assert fit_cox(data.assign(c=np.arange(len(data)) // 3), "time", "status", ["age"], cluster_col="c").variance == (
        "robust"
    )


def test_score_test_of_one_factor_is_the_logrank_test() -> None:
    """Without tied times the score test of a Cox model with one categorical covariate is the log-rank
    test (Therneau & Grambsch 2000, section 3.4; with ties the two variances differ)."""
    from analyses.logrank import logrank_test

    rng = np.random.default_rng(20240613)
    group = rng.choice(np.array(["a", "b", "c"]), 300)
    time = rng.exponential(1.0 / np.where(group == "a", 1.0, np.where(group == "b", 1.4, 0.8)))
    data = pd.DataFrame({"time": time, "status": (rng.random(300) < 0.8).astype(int), "group": group})
    fit = fit_cox(data, "time", "status", ["group"])
    score = fit.tests.set_index("test").loc["score", "statistic"]
    assert score == pytest.approx(logrank_test(data, "time", "status", "group").statistic, rel=1e-10)
