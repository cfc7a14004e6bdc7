"""Times equal within floating-point rounding are one time in every estimator, as in R.

R's ``survival`` merges such times (``timefix = TRUE``, ``survival:::aeqSurv``) before ``survfit``,
``survdiff``, ``coxph`` and ``concordance``. Expected values: ``tests/r/timefix_reference.R`` (survival
3.5-3, cmprsk 2.2-11; cmprsk does not merge, so its reference runs on the times ``aeqSurv`` returns).
The data hold 0.1 + 0.2 beside 0.3, 0.7 + 0.1 beside 0.8 and so on, written with 17 digits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyses.cif import cumulative_incidence
from analyses.cox import fit_cox
from analyses.cox_counting import fit_cox_counting
from analyses.finegray import fit_fine_gray
from analyses.gray import gray_test
from analyses.km import fit_km
from analyses.landmark import simon_makuch
from analyses.logrank import logrank_test
from analyses.results import AnalysisError, AnalysisWarning
from analyses.times import TIME_TOLERANCE, timefix, timefix_intervals
from analyses.weighting import fit_weighted_km

R_DIR = Path(__file__).parent / "r"


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    frame = pd.read_csv(R_DIR / "timefix_data.csv")
    return frame.assign(event=(frame["status"] == 1).astype(int))


def _r(name: str) -> pd.DataFrame:
    return pd.read_csv(R_DIR / f"timefix_{name}.csv")


def test_timefix_is_aeqsurv() -> None:
    """survival:::aeqSurv: a run of gaps below sqrt(eps) (absolute, or relative to mean |t|) takes its
    smallest value; whole numbers and isolated values are untouched (the same array comes back)."""
    t = np.array([0.1 + 0.2, 0.3, 0.7 + 0.1, 0.8, 2.0, 0.8 + 1e-9, 0.8 + 1e-9 + 1e-8])
    fixed = timefix(t)
    assert fixed[0] == fixed[1] == 0.3
    assert fixed[2] == fixed[3] == fixed[5] == fixed[6] == 0.7 + 0.1  # a run of small gaps: its smallest
    assert fixed[4] == 2.0
    large = timefix(np.array([1e9, 1e9 + 1.5, 2e9]))  # 1.5 / mean(|t|) is below the relative tolerance
    assert list(large) == [1e9, 1e9, 2e9]
    days = np.array([0.0, 1.0, 1.0, 365.0, 10_000.0])
    assert timefix(days) is days
    assert timefix(t, tolerance=0) is t
    assert np.sqrt(np.finfo(float).eps) == TIME_TOLERANCE


def test_timefix_intervals_share_one_grid() -> None:
    """Start and stop times are merged on one grid (aeqSurv on a counting-process Surv), and an interval
    the merge would empty is an error, as R's 'aeqSurv exception'."""
    start, stop = timefix_intervals(np.array([0.0, 0.3]), np.array([0.1 + 0.2, 1.0]))
    assert stop[0] == start[1] == 0.3
    with pytest.raises(AnalysisError, match="shorter than rounding error"):
        timefix_intervals(np.array([0.3]), np.array([0.1 + 0.2]))


def test_km_merges_rounding_ties(data: pd.DataFrame) -> None:
    """R: summary(survfit(Surv(time, status == 1) ~ group, conf.type = "log-log"), censored = TRUE)
    -> timefix_km.csv: one row per merged time, survival and CI to 1e-12."""
    expected = _r("km")
    curve = fit_km(data, "time", "event", "group").curve
    curve = curve[curve.groupby("group").cumcount() > 0].reset_index(drop=True)
    assert list(curve["group"]) == list(expected["group"])
    np.testing.assert_array_equal(curve["time_days"], expected["time"])
    assert list(curve["at_risk"]) == list(expected["n.risk"])
    assert list(curve["events"]) == list(expected["n.event"])
    assert list(curve["censored"]) == list(expected["n.censor"])
    for ours, theirs in [("survival", "surv"), ("std_err", "std.err"), ("ci_lower", "lower"), ("ci_upper", "upper")]:
        np.testing.assert_allclose(curve[ours], expected[theirs], rtol=0, atol=1e-12)


def test_weighted_km_merges_rounding_ties(data: pd.DataFrame) -> None:
    """R: summary(survfit(Surv(time, status == 1) ~ group, weights = w), censored = TRUE)$surv
    -> timefix_weighted_km.csv."""
    expected = _r("weighted_km")
    curve = fit_weighted_km(data, "time", "event", "group", "w").curve
    np.testing.assert_array_equal(curve["time_days"], expected["time"])
    np.testing.assert_allclose(curve["survival"], expected["surv"], rtol=0, atol=1e-12)


def test_logrank_merges_rounding_ties(data: pd.DataFrame) -> None:
    """R: survdiff(Surv(time, status == 1) ~ group)$chisq -> timefix_fit.csv."""
    expected = _r("fit").set_index("quantity")["value"]
    test = logrank_test(data, "time", "event", "group")
    assert test.statistic == pytest.approx(expected["logrank_chisq"], rel=1e-10)


def test_cox_merges_rounding_ties(data: pd.DataFrame) -> None:
    """R: coxph(Surv(time, status == 1) ~ x + group) (Efron) coef, se, loglik and concordance
    -> timefix_coef.csv, timefix_fit.csv."""
    fit_r = _r("fit").set_index("quantity")["value"]
    coef = _r("coef").query("model == 'cox'")
    with pytest.warns(AnalysisWarning, match="Fewer than 10 events"):
        fit = fit_cox(data, "time", "event", ["x", "group"])
    np.testing.assert_allclose(fit.terms["coef"], coef["coef"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(fit.terms["se"], coef["se"], rtol=0, atol=1e-9)
    assert fit.loglik == pytest.approx(fit_r["cox_loglik"], abs=1e-9)
    assert fit.concordance == pytest.approx(fit_r["cox_concordance"], abs=1e-12)


def test_cif_merges_rounding_ties(data: pd.DataFrame) -> None:
    """R: cmprsk::timepoints(cuminc(aeqSurv-merged time, status, group), every merged time), which the
    script checks equal to survfit(Surv(time, factor(status)) ~ group) on the raw times -> timefix_cif.csv."""
    expected = _r("cif")
    curve = cumulative_incidence(data, "time", "status", "group").curve
    curve = curve[curve["time_days"] > 0].reset_index(drop=True)
    np.testing.assert_array_equal(curve["time_days"], expected["time"])
    pairs = [("cif_event", "cif1"), ("var_event", "var1"), ("cif_competing", "cif2"), ("var_competing", "var2")]
    for ours, theirs in pairs:
        np.testing.assert_allclose(curve[ours], expected[theirs], rtol=0, atol=1e-12)


@pytest.mark.parametrize("cause", [1, 2])
def test_gray_merges_rounding_ties(data: pd.DataFrame, cause: int) -> None:
    """R: cmprsk::cuminc(aeqSurv-merged time, status, group)$Tests -> timefix_gray.csv."""
    expected = _r("gray").set_index("cause")
    test = gray_test(data, "time", "status", "group", event=cause, competing=3 - cause)
    assert test.statistic == pytest.approx(expected.loc[cause, "stat"], rel=1e-9)


@pytest.mark.parametrize("cause", [1, 2])
def test_fine_gray_merges_rounding_ties(data: pd.DataFrame, cause: int) -> None:
    """R: cmprsk::crr(aeqSurv-merged time, status, cov1 = x, failcode = cause) -> timefix_finegray.csv."""
    expected = _r("finegray").set_index("cause")
    fit = fit_fine_gray(data, "time", "status", ["x"], event=cause, competing=3 - cause)
    assert fit.terms["coef"].iloc[0] == pytest.approx(expected.loc[cause, "coef"], abs=1e-7)
    assert fit.terms["se"].iloc[0] == pytest.approx(expected.loc[cause, "se"], abs=1e-7)


@pytest.fixture(scope="module")
def counting() -> pd.DataFrame:
    return pd.read_csv(R_DIR / "timefix_counting_data.csv")


def test_counting_cox_merges_rounding_ties(counting: pd.DataFrame) -> None:
    """R: coxph(Surv(start, stop, event) ~ x) on (start, stop] rows split at 0.1 + 0.2, 0.7 + 0.1, ...
    (start and stop merged on one grid) -> timefix_coef.csv, timefix_fit.csv."""
    fit_r = _r("fit").set_index("quantity")["value"]
    coef = _r("coef").query("model == 'counting'")
    with pytest.warns(AnalysisWarning, match="Fewer than 10 events"):
        fit = fit_cox_counting(counting, "start", "stop", "event", ["x"])
    np.testing.assert_allclose(fit.terms["coef"], coef["coef"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(fit.terms["se"], coef["se"], rtol=0, atol=1e-9)
    assert fit.loglik == pytest.approx(fit_r["counting_loglik"], abs=1e-9)


def test_simon_makuch_merges_rounding_ties(counting: pd.DataFrame) -> None:
    """R: summary(survfit(Surv(start, stop, event) ~ 1), censored = TRUE) -> timefix_counting_km.csv
    (one group: nobody changes group)."""
    expected = _r("counting_km")
    curve = simon_makuch(counting.assign(exposed=0)).curve
    events = curve[curve["time_days"] > 0].reset_index(drop=True)
    events = events[events["time_days"].isin(expected["time"])].reset_index(drop=True)
    np.testing.assert_array_equal(events["time_days"], expected["time"])
    assert list(events["at_risk"]) == list(expected["n.risk"])
    np.testing.assert_allclose(events["survival"], expected["surv"], rtol=0, atol=1e-12)
