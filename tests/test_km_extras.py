"""Kaplan–Meier extras against R's survival 3.5-3 and lifelines: interval types, Nelson–Aalen, median
follow-up by reverse Kaplan–Meier, conditional survival (committed outputs of
tests/r/km_extras_reference.R, on the data of tests/r/km_reference.R)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter, NelsonAalenFitter

from analyses.followup import conditional_survival, median_follow_up
from analyses.hazard import nelson_aalen
from analyses.km import fit_km
from analyses.results import AnalysisError

R_DIR = Path(__file__).parent / "r"
CASES = ["lung_sex", "lung_ecog", "veteran_celltype", "ties", "all_censored", "time_zero_events", "flat_half"]
CASES += ["group_of_one"]
CONDITIONAL = {"lung_sex": 180, "veteran_celltype": 30, "ties": 2, "time_zero_events": 0, "flat_half": 2}


def _data(case: str) -> pd.DataFrame:
    return pd.read_csv(R_DIR / f"km_data_{case}.csv")


def _r(name: str, case: str, **match: str) -> pd.DataFrame:
    table = pd.read_csv(R_DIR / f"{name}.csv")
    keep = table["case"] == case
    for column, value in match.items():
        keep &= table[column] == value
    return table[keep].reset_index(drop=True)


def _without_time_zero_row(curve: pd.DataFrame) -> pd.DataFrame:
    return curve[curve.groupby("group").cumcount() > 0].reset_index(drop=True)


def _close(actual, expected, tol: float) -> None:
    np.testing.assert_allclose(
        np.asarray(actual, dtype=float), np.asarray(expected, dtype=float), rtol=0, atol=tol, equal_nan=True
    )


@pytest.mark.parametrize("conf_type", ["log", "plain"])
@pytest.mark.parametrize("case", CASES, ids=CASES)
def test_interval_types_match_r(case: str, conf_type: str) -> None:
    """R: summary(survfit(Surv(time, status) ~ group, conf.type = "log" / "plain"), censored = TRUE)
    -> km_conftype_curve.csv: limits to 1e-12 (missing where R's are), S and its SE unchanged."""
    expected = _r("km_conftype_curve", case, conf_type=conf_type)
    fit = fit_km(_data(case), "time", "status", "group", conf_type=conf_type)
    curve = _without_time_zero_row(fit.curve)
    assert fit.conf_type == conf_type
    assert list(curve["group"]) == list(expected["group"].astype(str))
    for ours, theirs in [("survival", "surv"), ("std_err", "std.err"), ("ci_lower", "lower"), ("ci_upper", "upper")]:
        _close(curve[ours], expected[theirs], 1e-12)


@pytest.mark.parametrize("conf_type", ["log", "plain"])
@pytest.mark.parametrize("case", CASES, ids=CASES)
def test_median_limits_follow_the_interval_type(case: str, conf_type: str) -> None:
    """R: print(survfit(..., conf.type = "log" / "plain")) median, 0.95LCL, 0.95UCL
    (survival:::survmean) -> km_conftype_summary.csv."""
    expected = _r("km_conftype_summary", case, conf_type=conf_type)
    summary = fit_km(_data(case), "time", "status", "group", conf_type=conf_type).summary
    _close(summary["median_days"], expected["median"], 1e-9)
    _close(summary["median_ci_lower"], expected["lcl"], 1e-9)
    _close(summary["median_ci_upper"], expected["ucl"], 1e-9)


def test_log_log_interval_matches_lifelines() -> None:
    """lifelines KaplanMeierFitter's interval is the log-log ("exponential Greenwood") one: the same
    limits as fit_km's default to 1e-10 (lung by sex, female)."""
    data = _data("lung_sex").query("group == 'female'")
    kmf = KaplanMeierFitter().fit(data["time"], data["status"])
    curve = _without_time_zero_row(fit_km(data, "time", "status").curve)
    ci = kmf.confidence_interval_.loc[curve["time_days"]]
    inside = (curve["survival"] > 0) & (curve["survival"] < 1)
    _close(curve.loc[inside, "ci_lower"], ci.iloc[:, 0].to_numpy()[inside], 1e-10)
    _close(curve.loc[inside, "ci_upper"], ci.iloc[:, 1].to_numpy()[inside], 1e-10)


def test_unknown_interval_type_is_a_sentence() -> None:
    with pytest.raises(AnalysisError, match="interval type must be one of log-log, log, plain"):
        fit_km(_data("ties"), "time", "status", "group", conf_type="logit")


@pytest.mark.parametrize("case", CASES, ids=CASES)
def test_nelson_aalen_matches_r(case: str) -> None:
    """R: summary(survfit(Surv(time, status) ~ group), censored = TRUE)$cumhaz and $std.chaz
    (sum d/n, sqrt(sum d/n^2)) -> km_cumhaz.csv, to 1e-12."""
    expected = _r("km_cumhaz", case)
    curve = _without_time_zero_row(nelson_aalen(_data(case), "time", "status", "group").curve)
    assert list(curve["group"]) == list(expected["group"].astype(str))
    assert list(curve["at_risk"]) == list(expected["n.risk"])
    _close(curve["cumhaz"], expected["cumhaz"], 1e-12)
    _close(curve["std_err"], expected["std.chaz"], 1e-12)


@pytest.mark.parametrize("case", ["lung_sex", "ties", "time_zero_events"])
def test_nelson_aalen_binomial_variance_matches_lifelines(case: str) -> None:
    """lifelines NelsonAalenFitter(nelson_aalen_smoothing=False): cumulative hazard and the log-scale
    interval H exp(±z se / H) with se^2 = sum d (n - d) / n^3 (read back from the interval), per group,
    to 1e-10."""
    data = _data(case)
    curve = _without_time_zero_row(nelson_aalen(data, "time", "status", "group", variance="binomial").curve)
    for group, rows in curve.groupby("group"):
        sub = data[data["group"].astype(str) == group]
        naf = NelsonAalenFitter(nelson_aalen_smoothing=False).fit(sub["time"], sub["status"])
        times = rows["time_days"].to_numpy()
        cumhaz = naf.cumulative_hazard_.loc[times].to_numpy().ravel()
        _close(rows["cumhaz"], cumhaz, 1e-10)
        ci = naf.confidence_interval_.loc[times].to_numpy()
        has_events = cumhaz > 0
        _close(rows["ci_lower"].to_numpy()[has_events], ci[has_events, 0], 1e-10)
        _close(rows["ci_upper"].to_numpy()[has_events], ci[has_events, 1], 1e-10)
        se = cumhaz[has_events] * np.log(ci[has_events, 1] / cumhaz[has_events]) / 1.959963984540054
        _close(rows["std_err"].to_numpy()[has_events], se, 1e-10)


def test_nelson_aalen_invariants() -> None:
    """H(t) <= -log S_KM(t) (x <= -log(1 - x)); H is 0 with a [0, 0] interval before the first event."""
    data = _data("veteran_celltype")
    hazard = nelson_aalen(data, "time", "status", "group").curve
    km = fit_km(data, "time", "status", "group").curve
    positive = km["survival"] > 0
    assert (hazard.loc[positive, "cumhaz"] <= -np.log(km.loc[positive, "survival"]) + 1e-12).all()
    start = hazard.groupby("group").head(1)
    assert (start[["cumhaz", "std_err", "ci_lower", "ci_upper"]] == 0).all().all()
    with pytest.raises(AnalysisError, match="variance must be one of"):
        nelson_aalen(data, "time", "status", variance="greenwood")


@pytest.mark.parametrize("conf_type", ["log-log", "log"])
@pytest.mark.parametrize("case", CASES, ids=CASES)
def test_median_follow_up_matches_reverse_km(case: str, conf_type: str) -> None:
    """R: print(survfit(Surv(time, 1 - status) ~ group, conf.type = ...)) records, median, 0.95LCL,
    0.95UCL -> followup_summary.csv (the reverse Kaplan–Meier, Schemper & Smith 1996)."""
    expected = _r("followup_summary", case, conf_type=conf_type)
    result = median_follow_up(_data(case), "time", "status", "group", conf_type=conf_type)
    assert list(result["group"]) == list(expected["group"].astype(str))
    assert list(result["n"]) == list(expected["n"])
    _close(result["median_days"], expected["median"], 1e-9)
    _close(result["ci_lower"], expected["lcl"], 1e-9)
    _close(result["ci_upper"], expected["ucl"], 1e-9)


def test_median_follow_up_treats_any_event_code_as_an_event() -> None:
    """Status 2 (a competing event) ends follow-up like status 1: only 0 is censoring in reverse."""
    data = pd.DataFrame({"time": [1.0, 2, 3, 4, 5, 6], "status": [0, 2, 0, 1, 0, 2]})
    as_one = median_follow_up(data.assign(status=data["status"].clip(upper=1)), "time", "status")
    result = median_follow_up(data, "time", "status")
    pd.testing.assert_frame_equal(result, as_one)
    assert result["censored"].iloc[0] == 3


@pytest.mark.parametrize("case", list(CONDITIONAL), ids=list(CONDITIONAL))
def test_conditional_survival_matches_r(case: str) -> None:
    """R: summary(survfit(Surv(time - t0, status) ~ group, subset = time > t0, conf.type = "log-log"),
    times = t) -> conditional_survival.csv; the script checks it equal to S(t0 + t) / S(t0) of the
    whole cohort's fit to 1e-12."""
    expected = _r("conditional_survival", case)
    t0 = CONDITIONAL[case]
    times = sorted(set(expected["time"]))
    result = conditional_survival(_data(case), "time", "status", t0, "group", times=times)
    milestones = result.km.milestones
    assert list(milestones["group"]) == list(expected["group"].astype(str))
    assert list(milestones["at_risk"]) == list(expected["n.risk"])
    for ours, theirs in [("survival", "surv"), ("std_err", "std.err"), ("ci_lower", "lower"), ("ci_upper", "upper")]:
        _close(milestones[ours], expected[theirs], 1e-12)


def test_conditional_survival_is_a_ratio_of_the_whole_curve() -> None:
    """S(t | t0) = S(t0 + t) / S(t0) of fit_km on the whole cohort; at_given holds S(t0)."""
    data = _data("lung_sex")
    result = conditional_survival(data, "time", "status", 100, "group", times=(50, 200, 400))
    whole = fit_km(data, "time", "status", "group", times=(100, 150, 300, 500)).milestones
    for group, rows in result.km.milestones.groupby("group"):
        mine = whole[whole["group"] == group].set_index("time_days")["survival"]
        np.testing.assert_allclose(rows["survival"], mine.loc[[150, 300, 500]] / mine.loc[100], rtol=1e-12)
    assert result.at_given.set_index("group")["survival"].to_dict() == pytest.approx(
        whole[whole["time_days"] == 100].set_index("group")["survival"].to_dict()
    )


def test_conditional_survival_needs_someone_beyond_t0() -> None:
    """A group with nobody followed beyond t0 (group_of_one: 'solo' ends on day 3) is named."""
    with pytest.raises(AnalysisError, match="in group 'solo' is event-free"):
        conditional_survival(_data("group_of_one"), "time", "status", 4, "group")
    with pytest.raises(AnalysisError, match="non-negative"):
        conditional_survival(_data("ties"), "time", "status", -1)
