"""The propensity model on hard inputs: a covariate far from 0 (diagnosis year), a strong but real
effect, separation and collinearity (analyses/propensity.py).

R outputs: tests/r/propensity_reference.R (R 4.2, nnet 7.3-18).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyses.results import AnalysisError
from analyses.weighting import fit_propensity, iptw_weights

R_DIR = Path(__file__).parent / "r"
YEAR = ["dx_year", "age", "cns"]


@pytest.fixture(scope="module")
def year_data() -> pd.DataFrame:
    return pd.read_csv(R_DIR / "propensity_year_data.csv")


def _check(fit, expected: pd.DataFrame, tol: float) -> None:
    assert list(fit.coefficients["level"]) == list(expected["level"])
    assert list(fit.coefficients["term"]) == list(expected["term"])
    np.testing.assert_allclose(fit.coefficients["coef"], expected["coef"], rtol=tol, atol=0)
    np.testing.assert_allclose(fit.coefficients["se"], expected["se"], rtol=tol, atol=0)


def test_diagnosis_year_as_a_covariate_fits_binomial(year_data: pd.DataFrame) -> None:
    """R: glm(trt == "INOTUZUMAB" ~ dx_year + age + cns, binomial) on the raw year (~2016), blinatumomab
    vs inotuzumab (propensity_year_glm.csv): 0.116 per year, SE 0.023, intercept -235; to 1e-8
    relative. The year used to stop Newton's method early with a false 'perfect separation'."""
    binary = year_data[year_data["trt"] != "SALVAGE_CHEMO"]
    fit = fit_propensity(binary, "trt", YEAR)
    _check(fit, pd.read_csv(R_DIR / "propensity_year_glm.csv"), 1e-8)
    assert fit.scaling.set_index("term").loc["dx_year", "center"] == pytest.approx(binary["dx_year"].mean())


def test_diagnosis_year_as_a_covariate_fits_multinomial(year_data: pd.DataFrame) -> None:
    """R: nnet::multinom(trt ~ dx_year + age + cns, Hess = TRUE, reltol = 1e-14) with the year centred,
    intercepts moved back to the raw year and the covariance with them (propensity_year_multinom.csv);
    to 1e-5 relative (multinom's BFGS stops slightly short of the maximum)."""
    fit = fit_propensity(year_data, "trt", YEAR)
    assert fit.method == "multinomial"
    _check(fit, pd.read_csv(R_DIR / "propensity_year_multinom.csv"), 1e-5)


def test_scaling_changes_nothing_but_the_numbers_reported(year_data: pd.DataFrame) -> None:
    """The fitted probabilities do not depend on the covariates' units: the year, or years since 2016,
    or decades, give the same scores; the slope scales with the unit."""
    fit = fit_propensity(year_data, "trt", YEAR)
    shifted = fit_propensity(year_data.assign(dx_year=(year_data["dx_year"] - 2016) / 10), "trt", YEAR)
    np.testing.assert_allclose(fit.scores, shifted.scores, rtol=1e-9)
    slope = fit.coefficients.set_index(["level", "term"])["coef"]
    decade = shifted.coefficients.set_index(["level", "term"])["coef"]
    assert decade[("INOTUZUMAB", "dx_year")] == pytest.approx(10 * slope[("INOTUZUMAB", "dx_year")], rel=1e-8)


def test_strong_effect_without_separation_fits() -> None:
    """R: glm(trt == "B" ~ x, binomial) with slope 8.7 per unit of x (fitted probabilities below 1e-8,
    the groups overlap) converges (propensity_strong_glm.csv); so does the model here, to 1e-7
    relative, instead of reporting a separation that is not there."""
    data = pd.read_csv(R_DIR / "propensity_strong_data.csv")
    fit = fit_propensity(data, "trt", ["x"])
    assert fit.scores["B"].min() < 1e-8
    _check(fit, pd.read_csv(R_DIR / "propensity_strong_glm.csv"), 1e-7)


def _arms(n: int = 120, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "trt": rng.choice(np.array(["BLIN", "INO", "CHEMO"]), n),
            "age": rng.uniform(15, 40, n).round(1),
            "cns": rng.choice(np.array(["CNS1", "CNS2", "CNS3"]), n),
            "site": rng.choice(np.array(["BM", "CNS", "OTHER"]), n),
        }
    )


def test_separation_names_the_level() -> None:
    """A covariate level none of whose patients got one treatment (quasi-complete separation): the
    error names the level and the treatment."""
    data = _arms()
    data.loc[data["cns"] == "CNS3", "trt"] = np.where(data.loc[data["cns"] == "CNS3"].index % 2, "BLIN", "CHEMO")
    with pytest.raises(
        AnalysisError, match=r"cns=CNS3 predicts treatment perfectly \(no patient with it received INO\)"
    ):
        fit_propensity(data, "trt", ["age", "cns"])


def test_complete_separation_on_a_number_names_it() -> None:
    """Everyone over 30 got INO, nobody under: the separating direction is age's."""
    data = _arms().query("trt != 'CHEMO'").copy()
    data["trt"] = np.where(data["age"] > 30, "INO", "BLIN")
    with pytest.raises(AnalysisError, match=r"age predicts treatment perfectly \(complete or quasi-complete"):
        fit_propensity(data, "trt", ["age", "cns"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"age_months": lambda d: 12 * d["age"]}, r"'age_months' is a linear combination of 'age'"),
        ({"flag": lambda d: 3.0}, r"'flag' is constant in this cohort \(collinear with the intercept\)"),
        ({"cns_copy": lambda d: d["cns"]}, r"'cns_copy=CNS2' is a linear combination of 'cns=CNS2'"),
    ],
    ids=["scaled_copy", "constant", "same_levels"],
)
def test_collinear_covariates_are_named(extra: dict, message: str) -> None:
    data = _arms().assign(**extra)
    with pytest.raises(AnalysisError, match=message):
        fit_propensity(data, "trt", ["age", "cns", *extra])


def test_weights_from_the_year_model_are_finite(year_data: pd.DataFrame) -> None:
    """The weights of the diagnosis-year model are finite and positive (ATE, stabilized)."""
    w = iptw_weights(fit_propensity(year_data, "trt", YEAR))
    assert np.isfinite(w["weight"]).all()
    assert (w["weight"] > 0).all()
