"""Competing risks: cumulative incidence, Gray's test, Fine–Gray and cause-specific Cox.

Reference values come from R (cmprsk 2.2-11, survival 3.5-3) via ``tests/r/cif_reference.R`` and
``tests/r/finegray_reference.R``; the committed CSVs beside them are read here, so R is not needed to
run the tests (see tests/r/README.md to regenerate).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter

from analyses.competing import (
    AnalysisError,
    AnalysisWarning,
    cumulative_incidence,
    fit_cause_specific_cox,
    fit_fine_gray,
    gray_test,
)

R_DIR = Path(__file__).parent / "r"
DATASETS = ("example", "ties", "terminal", "large")
FG_DATASETS = ("example", "ties", "large")
FG_COVARIATES = {"example": ["x1", "x2", "x3"], "ties": ["group", "score"], "large": ["group", "age", "sex"]}


def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(R_DIR / f"cif_data_{name}.csv")


def _fg_data(name: str) -> pd.DataFrame:
    return _data("large") if name == "large" else pd.read_csv(R_DIR / f"finegray_data_{name}.csv")


def _quiet_cif(df: pd.DataFrame, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnalysisWarning)
        return cumulative_incidence(df, *args, **kwargs)


# --------------------------------------------------------------------------------------------------
# Reference values from R


@pytest.mark.parametrize("name", DATASETS)
def test_cif_and_variance_match_cmprsk(name: str) -> None:
    """Estimate and variance at every distinct time of each group, both causes.

    R: tests/r/cif_reference.R — ``timepoints(cuminc(d$time, d$status, d$group)[key], tp)`` with ``tp``
    every distinct time of the group (cif_<name>_curve.csv).
    """
    ref = pd.read_csv(R_DIR / f"cif_{name}_curve.csv")
    curve = _quiet_cif(_data(name), "time", "status", "group").curve
    for (group, cause), expected in ref.groupby(["group", "cause"]):
        got = curve.loc[curve["group"] == group].set_index("time_days").loc[expected["time"]]
        suffix = "event" if cause == 1 else "competing"
        np.testing.assert_allclose(got[f"cif_{suffix}"], expected["est"], rtol=0, atol=1e-6)
        np.testing.assert_allclose(got[f"var_{suffix}"], expected["var"], rtol=0, atol=1e-6)


def test_cif_at_years_match_cmprsk_timepoints() -> None:
    """Values at 1, 2, 3 and 5 years (365.25-day multiples).

    R: tests/r/cif_reference.R — ``timepoints(cuminc(d$time, d$status, d$group), c(1, 2, 3, 5) * 365.25)``
    on cif_data_large.csv (cif_large_timepoints.csv).
    """
    ref = pd.read_csv(R_DIR / "cif_large_timepoints.csv")
    at = _quiet_cif(_data("large"), "time", "status", "group").milestones
    for (group, cause), expected in ref.groupby(["group", "cause"]):
        got = at.loc[at["group"] == group].set_index("time_days").loc[expected["time"]]
        suffix = "event" if cause == 1 else "competing"
        np.testing.assert_allclose(got[f"cif_{suffix}"], expected["est"], rtol=0, atol=1e-6)
        np.testing.assert_allclose(got[f"var_{suffix}"], expected["var"], rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    ("name", "times"),
    [("large", None), ("ties", [0, 2, 4, 6, 20]), ("terminal", [1, 3, 4, 5])],
    ids=["large_years", "ties", "terminal"],
)
def test_cif_at_times_with_interval_match_r(name: str, times: list[float] | None) -> None:
    """Cumulative incidence of both causes per group at 1, 2, 3 and 5 years (the default times) or at
    given days, with the 95% log(-log) interval.

    R: tests/r/cif_ci_reference.R — ``timepoints(cuminc(time, status, group), times)`` estimate and
    variance, and est ^ exp(±z sqrt(var) / (est log est)) computed from them in R (cmprsk gives no
    interval; tidycmprsk's transformation) -> cif_timepoints_ci.csv; to 1e-10.
    """
    ref = pd.read_csv(R_DIR / "cif_timepoints_ci.csv").query("data == @name")
    at = _quiet_cif(_data(name), "time", "status", "group", times=times).milestones
    assert len(at) == ref["group"].nunique() * ref["time"].nunique()
    for (group, cause), expected in ref.groupby(["group", "cause"]):
        got = at.loc[at["group"] == group].set_index("time_days").loc[expected["time"]]
        suffix = "event" if cause == 1 else "competing"
        for ours, theirs in (
            (f"cif_{suffix}", "est"),
            (f"ci_lower_{suffix}", "lower"),
            (f"ci_upper_{suffix}", "upper"),
        ):
            np.testing.assert_allclose(got[ours], expected[theirs], rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("stratified", [False, True], ids=["unstratified", "stratified"])
@pytest.mark.parametrize("cause", [1, 2])
@pytest.mark.parametrize("rho", [0, 1])
def test_gray_test_matches_cmprsk(name: str, stratified: bool, cause: int, rho: int) -> None:
    """Gray's test statistic, df and p for each cause.

    R: tests/r/cif_reference.R — ``cuminc(d$time, d$status, d$group, rho = rho)$Tests`` and, stratified,
    ``cuminc(d$time, d$status, d$group, d$stratum, rho = rho)$Tests`` (cif_<name>_tests.csv). R's p is
    ``1 - pchisq``, which loses precision below about 1e-10; there the comparison is absolute.
    """
    ref = pd.read_csv(R_DIR / f"cif_{name}_tests.csv")
    expected = ref.loc[(ref["strata"] == stratified) & (ref["cause"] == cause) & (ref["rho"] == rho)].iloc[0]
    got = gray_test(
        _data(name),
        "time",
        "status",
        "group",
        strata_col="stratum" if stratified else None,
        event=cause,
        competing=3 - cause,
        rho=rho,
    )
    assert got.statistic == pytest.approx(expected["stat"], rel=1e-4)
    assert got.df == expected["df"]
    assert got.p == pytest.approx(expected["p"], rel=1e-4, abs=1e-12)


@pytest.mark.parametrize("name", FG_DATASETS)
@pytest.mark.parametrize("cause", [1, 2])
def test_fine_gray_matches_crr(name: str, cause: int) -> None:
    """Coefficients, robust standard errors and log pseudo-likelihoods.

    R: tests/r/finegray_reference.R — ``crr(d$time, d$status, model.matrix(formula, d)[, -1],
    failcode = cause)`` with formula ``~ x1 + x2 + x3`` (example), ``~ group + score`` (ties),
    ``~ group + age + sex`` (large); finegray_<name>_cause<cause>_coef.csv and _fit.csv.
    """
    ref = pd.read_csv(R_DIR / f"finegray_{name}_cause{cause}_coef.csv")
    fit = pd.read_csv(R_DIR / f"finegray_{name}_cause{cause}_fit.csv").iloc[0]
    got = fit_fine_gray(_fg_data(name), "time", "status", FG_COVARIATES[name], event=cause, competing=3 - cause)
    assert list(got.terms["term"]) == list(ref["term"])
    np.testing.assert_allclose(got.terms["coef"], ref["coef"], rtol=1e-4)
    np.testing.assert_allclose(got.terms["se"], ref["se"], rtol=1e-4)
    assert got.loglik == pytest.approx(fit["loglik"], rel=1e-6)
    assert got.loglik_null == pytest.approx(fit["loglik_null"], rel=1e-6)
    assert got.converged
    assert got.n == fit["n"]
    np.testing.assert_allclose(got.terms["hr"], np.exp(got.terms["coef"]))


@pytest.mark.parametrize("name", FG_DATASETS)
@pytest.mark.parametrize("cause", [1, 2])
def test_cause_specific_cox_matches_coxph(name: str, cause: int) -> None:
    """Cause-specific hazard ratios: the competing event censors.

    R: tests/r/finegray_reference.R — ``coxph(Surv(time, status == cause) ~ <formula>, ties = "efron")``
    (causecox_<name>_cause<cause>_coef.csv).
    """
    ref = pd.read_csv(R_DIR / f"causecox_{name}_cause{cause}_coef.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnalysisWarning)  # few events per coefficient in "ties"
        got = fit_cause_specific_cox(
            _fg_data(name), "time", "status", FG_COVARIATES[name], event=cause, competing=3 - cause
        )
    assert got.events == (_fg_data(name)["status"] == cause).sum()
    terms = got.terms.set_index("term").loc[ref["term"]]
    np.testing.assert_allclose(terms["coef"], ref["coef"], rtol=1e-4)
    np.testing.assert_allclose(terms["se"], ref["se"], rtol=1e-4)


# --------------------------------------------------------------------------------------------------
# Invariants


def _km_allcause(df: pd.DataFrame) -> pd.Series:
    km = KaplanMeierFitter().fit(df["time"], df["status"] != 0)
    return km.survival_function_.iloc[:, 0]


@pytest.mark.parametrize("name", DATASETS)
def test_cif_invariants(name: str) -> None:
    """Monotone, in [0, 1], below 1 − KM, adding up to 1 − KM (all causes), inside its interval."""
    df = _data(name)
    result = _quiet_cif(df, "time", "status", "group")
    for group, curve in result.curve.groupby("group"):
        km = _km_allcause(df.loc[df["group"] == group])
        one_minus_km = 1.0 - km.reindex(curve["time_days"], method="ffill").fillna(1.0).to_numpy()
        for cause in ("event", "competing"):
            est = curve[f"cif_{cause}"].to_numpy()
            assert np.all(np.diff(est) >= 0)
            assert est.min() >= 0
            assert est.max() <= 1
            assert np.all(est <= one_minus_km + 1e-12)
            assert np.all(curve[f"ci_lower_{cause}"] <= est + 1e-12)
            assert np.all(curve[f"ci_upper_{cause}"] >= est - 1e-12)
        total = curve["cif_event"] + curve["cif_competing"]
        np.testing.assert_allclose(total, one_minus_km, atol=1e-12)
        np.testing.assert_allclose(total, 1.0 - curve["surv_allcause"], atol=1e-12)


def test_cif_without_competing_events_is_one_minus_km() -> None:
    """With no competing events the Aalen–Johansen estimate is 1 − Kaplan–Meier (lifelines)."""
    df = _data("ties").assign(status=lambda d: d["status"].replace(2, 0))
    curve = _quiet_cif(df, "time", "status").curve
    km = _km_allcause(df).reindex(curve["time_days"], method="ffill").fillna(1.0)
    np.testing.assert_allclose(curve["cif_event"], 1.0 - km.to_numpy(), atol=1e-12)
    assert (curve["cif_competing"] == 0).all()


def test_cif_rows_and_time_zero() -> None:
    """One row per distinct time plus time 0; counts add up; row order of the input does not matter."""
    df = _data("large")
    result = _quiet_cif(df, "time", "status", "group")
    for group, curve in result.curve.groupby("group"):
        sub = df.loc[df["group"] == group]
        times = sorted(set(sub["time"]) | {0})
        assert list(curve["time_days"]) == times
        assert curve[["events", "competing_events", "censored"]].to_numpy().sum() == len(sub)
        assert curve["at_risk"].iloc[0] == len(sub)
    shuffled = _quiet_cif(df.sample(frac=1, random_state=3), "time", "status", "group")
    pd.testing.assert_frame_equal(result.curve, shuffled.curve)


def test_loglog_interval_formula() -> None:
    """The interval is F ** exp(±z se / (F log F)) (tidycmprsk's log(-log) interval)."""
    curve = _quiet_cif(_data("example"), "time", "status", "group").curve
    row = curve.loc[(curve["cif_event"] > 0) & (curve["cif_event"] < 1)].iloc[-1]
    f, se = row["cif_event"], np.sqrt(row["var_event"])
    a = 1.959963984540054 * se / (f * np.log(f))
    assert row["ci_lower_event"] == pytest.approx(f ** np.exp(-a))
    assert row["ci_upper_event"] == pytest.approx(f ** np.exp(a))


def test_fine_gray_row_order_and_text_reference() -> None:
    """Shuffling rows changes nothing; ``ref_levels`` picks the reference like R's relevel()."""
    df = _data("large")
    a = fit_fine_gray(df, "time", "status", ["group", "age"])
    b = fit_fine_gray(df.sample(frac=1, random_state=1), "time", "status", ["group", "age"])
    np.testing.assert_allclose(a.terms["coef"], b.terms["coef"], rtol=1e-10)
    np.testing.assert_allclose(a.terms["se"], b.terms["se"], rtol=1e-10)
    c = fit_fine_gray(df, "time", "status", ["group", "age"], ref_levels={"group": "ARM_B"})
    assert c.reference_levels == {"group": "ARM_B"}
    assert list(c.terms["term"][:2]) == ["group=ARM_A", "group=ARM_C"]
    coef = c.terms.set_index("term")["coef"]
    assert coef["group=ARM_A"] == pytest.approx(-a.terms.set_index("term")["coef"]["group=ARM_B"], rel=1e-6)


# --------------------------------------------------------------------------------------------------
# Degenerate input


def _tiny(status: list[int], group: list[str] | None = None) -> pd.DataFrame:
    n = len(status)
    return pd.DataFrame(
        {
            "time": np.arange(1, n + 1, dtype=float),
            "status": status,
            "group": group or ["A", "B"] * (n // 2) + ["A"] * (n % 2),
            "x": np.linspace(0, 1, n),
        }
    )


@pytest.mark.parametrize(
    ("df", "expect"),
    [
        pytest.param(_tiny([]).iloc[:0], "error", id="empty"),
        pytest.param(_tiny([0, 2, 0, 2, 2, 0]), "warn", id="no_events"),
        pytest.param(_tiny([0] * 6), "warn", id="all_censored"),
        pytest.param(_tiny([1, 2, 0, 1, 2, 1], ["A"] * 6), "ok", id="single_group"),
        pytest.param(_tiny([1, 2, 0, 1, 2, 1, 1], ["A", "A", "A", "A", "A", "A", "B"]), "warn", id="group_of_one"),
    ],
)
def test_cif_degenerate(df: pd.DataFrame, expect: str) -> None:
    """Empty data is an AnalysisError; a cause with no events or a one-patient group warns in words."""
    if expect == "error":
        with pytest.raises(AnalysisError, match="no rows"):
            cumulative_incidence(df, "time", "status", "group")
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = cumulative_incidence(df, "time", "status", "group")
    messages = [str(w.message) for w in caught if issubclass(w.category, AnalysisWarning)]
    assert bool(messages) == (expect == "warn")
    assert result.curve[["cif_event", "cif_competing", "var_event", "var_competing"]].notna().all().all()


@pytest.mark.parametrize(
    ("df", "match"),
    [
        pytest.param(_tiny([]).iloc[:0], "no rows", id="empty"),
        pytest.param(_tiny([0, 2, 0, 2, 2, 0]), "at least one event", id="no_events"),
        pytest.param(_tiny([0] * 6), "at least one event", id="all_censored"),
        pytest.param(_tiny([1, 2, 0, 1, 2, 1], ["A"] * 6), "only one group", id="single_group"),
    ],
)
def test_gray_degenerate(df: pd.DataFrame, match: str) -> None:
    """Gray's test refuses, in one sentence, when there is nothing to compare."""
    with pytest.raises(AnalysisError, match=match):
        gray_test(df, "time", "status", "group")


def test_gray_test_does_not_depend_on_group_labels() -> None:
    """Relabelling groups (so that a different group is left out of the score) changes nothing."""
    df = _data("large")
    renamed = df.assign(group=df["group"].map({"ARM_A": "Z", "ARM_B": "B", "ARM_C": "A"}))
    a = gray_test(df, "time", "status", "group", strata_col="stratum")
    b = gray_test(renamed, "time", "status", "group", strata_col="stratum")
    assert a.statistic == pytest.approx(b.statistic, rel=1e-10)


def test_gray_group_of_one() -> None:
    """A one-patient group still gets a finite test (cmprsk computes it too)."""
    df = _data("ties").copy()
    df.loc[0, "group"] = "C"
    result = gray_test(df, "time", "status", "group")
    assert np.isfinite(result.statistic)
    assert result.df == 2


@pytest.mark.parametrize(
    ("df", "covariates", "match"),
    [
        pytest.param(_tiny([]).iloc[:0], ["x"], "no rows", id="empty"),
        pytest.param(_tiny([0, 2, 0, 2, 2, 0]), ["x"], "at least one event", id="no_events"),
        pytest.param(_tiny([0] * 6), ["x"], "at least one event", id="all_censored"),
        pytest.param(_tiny([1, 2, 0, 1, 2, 1], ["A"] * 6), ["group"], "single value", id="single_group"),
        pytest.param(
            _tiny([1, 2, 0, 1, 2, 1, 1, 0]).assign(x2=lambda d: 2 * d["x"] + 1),
            ["x", "x2"],
            "collinear",
            id="collinear",
        ),
    ],
)
def test_fine_gray_degenerate(df: pd.DataFrame, covariates: list[str], match: str) -> None:
    """Fine–Gray refuses input it cannot estimate, naming the problem."""
    with pytest.raises(AnalysisError, match=match):
        fit_fine_gray(df, "time", "status", covariates)


def test_fine_gray_nonconvergence_warns() -> None:
    """A level with no events (monotone likelihood) does not converge: an AnalysisWarning, not NaN."""
    df = _data("ties").copy()
    df["arm"] = np.where(df["status"] == 1, "T", np.where(df.index % 2 == 0, "T", "U"))
    with pytest.warns(AnalysisWarning, match="did not converge"):
        result = fit_fine_gray(df, "time", "status", ["arm"])
    assert not result.converged
    assert result.terms[["coef", "se"]].notna().all().all()


def test_unknown_status_code_is_named() -> None:
    df = _tiny([1, 2, 3, 0])
    with pytest.raises(AnalysisError, match="code"):
        cumulative_incidence(df, "time", "status")


@pytest.mark.slow
def test_fine_gray_is_fast_on_100k_rows() -> None:
    """The cumulative-sum formulation is O(n log n + n p²): 100,000 patients fit in seconds, not hours."""
    import time

    rng = np.random.default_rng(11)
    n = 100_000
    df = pd.DataFrame(
        {
            "time": rng.integers(0, 3650, n).astype(float),
            "status": rng.choice([0, 1, 2], n, p=[0.5, 0.3, 0.2]),
            "arm": rng.choice(["A", "B", "C"], n),
            "age": rng.uniform(15, 40, n),
        }
    )
    start = time.perf_counter()
    result = fit_fine_gray(df, "time", "status", ["arm", "age"])
    assert time.perf_counter() - start < 20
    assert result.converged
