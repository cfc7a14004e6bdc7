"""Propensity models, IPTW, balance and weighted survival (analyses/weighting.py) against R.

R outputs are committed by tests/r/iptw_reference.R (survival 3.5-3, nnet 7.3; see tests/r/README.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyses.km import fit_km
from analyses.results import AnalysisError, AnalysisWarning
from analyses.weighting import (
    balance_table,
    effective_sample_size,
    fit_propensity,
    fit_weighted_cox,
    fit_weighted_km,
    iptw_weights,
)

R_DIR = Path(__file__).parent / "r"
COVARIATES = ["age", "lineage", "early"]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(R_DIR / "iptw_data.csv")


@pytest.fixture(scope="module")
def binary(data: pd.DataFrame) -> pd.DataFrame:
    return data[data["trt"] != "SALVAGE_CHEMO"].reset_index(drop=True)


def _close(actual, expected, tol: float, rel: bool = False) -> None:
    np.testing.assert_allclose(
        np.asarray(actual, dtype=float),
        np.asarray(expected, dtype=float),
        rtol=tol if rel else 0,
        atol=0 if rel else tol,
        equal_nan=True,
    )


def test_binary_propensity_matches_glm(binary: pd.DataFrame) -> None:
    """R: glm(I(trt == "INOTUZUMAB") ~ age + lineage + early, family = binomial)
    (tests/r/iptw_reference.R -> iptw_glm_coef.csv); coef and SE to 1e-6."""
    expected = pd.read_csv(R_DIR / "iptw_glm_coef.csv")
    fit = fit_propensity(binary, "trt", COVARIATES)
    assert fit.method == "binomial"
    assert list(fit.coefficients["term"]) == list(expected["term"])
    _close(fit.coefficients["coef"], expected["coef"], 1e-6)
    _close(fit.coefficients["se"], expected["se"], 1e-6)


WEIGHTS = {
    "ate": ("ATE", False, "w_ate"),
    "ate_stabilized": ("ATE", True, "w_ate_stab"),
    "att": ("ATT", False, "w_att"),
}


@pytest.mark.parametrize("kind", list(WEIGHTS), ids=list(WEIGHTS))
def test_binary_weights_match_r(binary: pd.DataFrame, kind: str) -> None:
    """R: 1/ps, 1/(1-ps), times the marginal share (stabilized); ATT ps/(1-ps) for controls, from
    fitted(glm(...)) (tests/r/iptw_reference.R -> iptw_glm_weights.csv); to 1e-6 relative."""
    estimand, stabilized, col = WEIGHTS[kind]
    expected = pd.read_csv(R_DIR / "iptw_glm_weights.csv")
    w = iptw_weights(
        fit_propensity(binary, "trt", COVARIATES), estimand=estimand, stabilized=stabilized, target="INOTUZUMAB"
    )
    _close(w["weight"], expected[col], 1e-6, rel=True)


def test_multinomial_propensity_matches_multinom(data: pd.DataFrame) -> None:
    """R: nnet::multinom(trt ~ age + lineage + early, Hess = TRUE, reltol = 1e-14)
    (tests/r/iptw_reference.R -> iptw_multinom_coef.csv, SE from solve(Hessian)); coef and SE to 1e-5
    (multinom's BFGS stops slightly short of the exact maximum our Newton–Raphson reaches)."""
    expected = pd.read_csv(R_DIR / "iptw_multinom_coef.csv")
    fit = fit_propensity(data, "trt", COVARIATES)
    assert fit.method == "multinomial"
    assert list(fit.coefficients["level"]) == list(expected["level"])
    _close(fit.coefficients["coef"], expected["coef"], 1e-5)
    _close(fit.coefficients["se"], expected["se"], 1e-5)
    weights = pd.read_csv(R_DIR / "iptw_multinom_weights.csv")
    _close(fit.scores.to_numpy(), weights[["p_blin", "p_ino", "p_chemo"]].to_numpy(), 1e-6)
    _close(iptw_weights(fit)["weight"], weights["w"], 1e-5, rel=True)


def test_multinomial_with_two_levels_is_logistic(binary: pd.DataFrame) -> None:
    """Hand-derived check: the multinomial engine with two levels is glm's logistic model."""
    fit = fit_propensity(binary, "trt", COVARIATES)
    p = fit.scores["INOTUZUMAB"]
    assert np.allclose(fit.scores.sum(axis=1), 1)
    assert np.all((p > 0) & (p < 1))


@pytest.fixture(scope="module")
def weighted(data: pd.DataFrame) -> pd.DataFrame:
    return data.assign(w=pd.read_csv(R_DIR / "iptw_multinom_weights.csv")["w"])


def test_weighted_km_matches_survfit(weighted: pd.DataFrame) -> None:
    """R: summary(survfit(Surv(time, status) ~ trt, weights = w), censored = TRUE)
    (tests/r/iptw_reference.R -> iptw_km.csv); survival and weighted counts to 1e-6."""
    expected = pd.read_csv(R_DIR / "iptw_km.csv")
    curve = fit_weighted_km(weighted, "time", "status", "trt", "w").curve
    _close(curve["time_days"], expected["time"], 0)
    assert list(curve["group"]) == list(expected["group"])
    _close(curve["survival"], expected["surv"], 1e-6)
    _close(curve["weighted_at_risk"], expected["n_risk_w"], 1e-6)
    _close(curve["weighted_events"], expected["n_event_w"], 1e-6)


def test_weighted_km_with_unit_weights_is_km(data: pd.DataFrame) -> None:
    """Invariant: with weights 1, the Xie–Liu variance is Greenwood's and the curve is fit_km's."""
    ours = fit_weighted_km(data.assign(w=1.0), "time", "status", "trt", "w").curve
    km = fit_km(data, "time", "status", "trt").curve
    km = km[km.groupby("group").cumcount() > 0].reset_index(drop=True)
    for col in ("time_days", "at_risk", "events", "survival", "std_err", "ci_lower", "ci_upper"):
        _close(ours[col], km[col], 1e-12)


def test_weighted_cox_matches_coxph_robust(weighted: pd.DataFrame) -> None:
    """R: coxph(Surv(time, status) ~ trt, weights = w, robust = TRUE)
    (tests/r/iptw_reference.R -> iptw_cox.csv); coef, naive SE and robust SE to 1e-5."""
    expected = pd.read_csv(R_DIR / "iptw_cox.csv")
    fit = fit_weighted_cox(weighted, "time", "status", "trt", "w")
    assert list(fit.terms["term"]) == list(expected["term"])
    _close(fit.terms["coef"], expected["coef"], 1e-5)
    _close(fit.terms["se"], expected["se"], 1e-5)
    _close(fit.terms["robust_se"], expected["robust_se"], 1e-5)


def test_balance_matches_hand_computation(weighted: pd.DataFrame) -> None:
    """R (by hand, tests/r/iptw_reference.R -> iptw_balance.csv): weighted.mean, pooled unweighted SD
    sqrt((s_a^2 + s_b^2)/2), max |SMD| over pairs; to 1e-6."""
    expected = pd.read_csv(R_DIR / "iptw_balance.csv")
    table = balance_table(weighted, "trt", COVARIATES, "w")
    names = [c if lv is None else f"{c}={lv}" for c, lv in zip(table["covariate"], table["level"], strict=True)]
    assert names == list(expected["name"])
    _close(table["smd_unweighted"], expected["smd_unweighted"], 1e-6)
    _close(table["smd_weighted"], expected["smd_weighted"], 1e-6)
    assert (table["smd_weighted"] < table["smd_unweighted"]).all()  # weighting improved balance


def test_ess_trim_truncate(data: pd.DataFrame) -> None:
    fit = fit_propensity(data, "trt", COVARIATES)
    assert effective_sample_size(np.ones(10)) == 10
    w = iptw_weights(fit, trim=0.05)
    assert len(w) < fit.n
    assert (fit.scores.loc[w.index].min(axis=1) >= 0.05).all()
    t = iptw_weights(fit, truncate=0.05)
    assert t["weight"].max() <= np.quantile(iptw_weights(fit)["weight"], 0.95) + 1e-12


# ------------------------------------------------------------------------------ degenerate input
def _separated() -> pd.DataFrame:
    return pd.DataFrame({"trt": ["A"] * 6 + ["B"] * 6, "stage": ["I"] * 6 + ["II"] * 6, "age": np.arange(12.0)})


DEGENERATE = {
    "perfect_separation": (lambda: fit_propensity(_separated(), "trt", ["stage"]), "predicts treatment perfectly"),
    "single_treatment": (lambda: fit_propensity(_separated().assign(trt="A"), "trt", ["age"]), "two treatments"),
    "empty_level": (lambda: fit_propensity(_separated(), "trt", ["age"], levels=["A", "C"]), "No patient"),
    "single_level_covariate": (
        lambda: fit_propensity(_separated().assign(stage="I"), "trt", ["stage"]),
        "single level",
    ),
    "bad_estimand": (
        lambda: iptw_weights(
            fit_propensity(_separated().assign(age=np.arange(12.0) % 5), "trt", ["age"]), estimand="ATC"
        ),
        "ATE or ATT",
    ),
    "one_group_balance": (lambda: balance_table(_separated().assign(trt="A"), "trt", ["age"]), "two treatment"),
}


@pytest.mark.parametrize("case", list(DEGENERATE), ids=list(DEGENERATE))
def test_degenerate_input(case: str) -> None:
    call, words = DEGENERATE[case]
    with pytest.raises(AnalysisError, match=words):
        call()


def test_extreme_weights_warn() -> None:
    """Two patients treated against a strong indication get weights that dominate: say so."""
    x = np.linspace(-3, 3, 200)
    trt = np.where(x > 0, "B", "A")
    trt[[0, -1]] = ["B", "A"]  # near-separation, broken only by these two
    df = pd.DataFrame({"x": x, "trt": trt})
    with pytest.warns(AnalysisWarning, match="times the median"):
        iptw_weights(fit_propensity(df, "trt", ["x"]))


def test_iptw_cli_on_demo_db(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`ayaall analyze iptw` end to end: balance improves, weighted Cox is robust, the LINE2 origin
    needs no immortal-time note; separation gives one clear sentence, no traceback."""
    import json

    from ayaall.cli import main

    args = [
        "analyze",
        "iptw",
        "--db",
        str(demo_db),
        "--endpoint",
        "OS",
        "--origin",
        "LINE2",
        "--treatment",
        "salvage_regimen",
        "--levels",
        "SALVAGE_CHEMO,BLINATUMOMAB,INOTUZUMAB",
        "--json",
    ]
    assert main([*args, "--covariates", "age_at_dx,wbc_at_dx,cns_status", "--trim", "0.01"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["reference"] == "SALVAGE_CHEMO"
    assert [t["term"] for t in out["cox"]["terms"]] == ["salvage_regimen=BLINATUMOMAB", "salvage_regimen=INOTUZUMAB"]
    assert all(t["robust_se"] > 0 for t in out["cox"]["terms"])
    age = next(b for b in out["balance"] if b["covariate"] == "age_at_dx")
    assert age["smd_weighted"] < age["smd_unweighted"]
    assert not out["notes"] or "immortal" not in " ".join(out["notes"])
    assert main([*args, "--covariates", "age_at_dx,lineage"]) != 0
    err = capsys.readouterr().err
    assert "predicts treatment perfectly" in err
    assert "Traceback" not in err
