"""Survival by an exposure that starts after time zero: landmark analysis, Simon–Makuch curves and the
Mantel–Byar test.

Comparing patients who *ever* received a treatment with those who never did credits the treated group
with the time they had to survive in order to be treated ("immortal time"), which makes almost any
post-baseline treatment look beneficial. The remedies here (the time-varying Cox model is
:mod:`analyses.cox_counting`; which variables start after which time zero is ``ayaall.exposures``):

* **Landmark analysis** (:func:`fit_landmark`, Anderson, Cain & Gelber 1983): patients still event-free
  and in follow-up after the landmark day are grouped by whether they were exposed on or before it, and
  follow-up is re-based to the landmark; Kaplan–Meier and the log-rank test of :mod:`analyses.km` and
  :mod:`analyses.logrank` are then valid.
* **Simon–Makuch curves** (:func:`simon_makuch`, Simon & Makuch 1984): product-limit estimates in which
  a patient moves from the unexposed to the exposed risk set at exposure (counting-process rows of
  :func:`analyses.counting.start_stop_frame`); identical to R's ``survfit(Surv(start, stop, event) ~
  exposed)``.
* **Mantel–Byar test** (:func:`mantel_byar_test`, Mantel & Byar 1974): the log-rank (score) test with
  time-dependent group membership; identical to the score test of
  ``coxph(Surv(start, stop, event) ~ exposed, ties = "breslow")``.

References
----------
Anderson JR, Cain KC, Gelber RD (1983). Analysis of survival by tumor response. J Clin Oncol 1:710–719.
Simon R, Makuch RW (1984). A non-parametric graphical representation of the relationship between
survival and the occurrence of an event: application to responder versus non-responder bias.
Stat Med 3:35–44.
Mantel N, Byar DP (1974). Evaluation of response-time data involving transient states: an illustration
using heart-transplant data. JASA 69:81–86.
Therneau TM, Grambsch PM (2000). Modeling Survival Data: Extending the Cox Model. Springer, ch. 3.
Suissa S (2008). Immortal time bias in pharmacoepidemiology. Am J Epidemiol 167:492–499.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
from scipy import stats

from analyses.counting import counting_arrays
from analyses.intervals import loglog_ci
from analyses.km import fit_km
from analyses.logrank import logrank_test
from analyses.results import AnalysisError, AnalysisWarning, survival_arrays

__all__ = [
    "EXPOSED",
    "UNEXPOSED",
    "LandmarkResult",
    "MantelByarResult",
    "SimonMakuchResult",
    "at_landmark",
    "fit_landmark",
    "mantel_byar_test",
    "product_limit",
    "simon_makuch",
]

EXPOSED, UNEXPOSED = "exposed", "unexposed"
_GROUPS = [UNEXPOSED, EXPOSED]  # indexed by exposed (0/1)


# ------------------------------------------------------------------------------ Simon–Makuch
@dataclass(frozen=True)
class SimonMakuchResult:
    """Simon–Makuch curves (product-limit with time-dependent group membership).

    Attributes
    ----------
    curve : DataFrame
        group, time_days, at_risk, events, censored (intervals ending without an event, including
        the unexposed interval that ends at exposure), entered (intervals starting), survival,
        std_err, ci_lower, ci_upper; a time-0 row (survival 1, at_risk = intervals starting at the
        origin, as in fit_km), then one row per distinct interval end or start in the group.
    summary : DataFrame
        group, n (patients who contributed time to the group), events, median_days.
    conf_level : float
    conf_type : str
        ``"log-log"``, as :func:`analyses.km.fit_km`.
    """

    curve: pd.DataFrame
    summary: pd.DataFrame
    conf_level: float
    conf_type: str = "log-log"


def simon_makuch(
    data: pd.DataFrame,
    start_col: str = "start",
    stop_col: str = "stop",
    event_col: str = "event",
    group_col: str = "exposed",
    *,
    conf_level: float = 0.95,
) -> SimonMakuchResult:
    """Simon–Makuch survival curves from counting-process data (:func:`analyses.counting.start_stop_frame`).

    The estimate for a group is the product over event times of ``1 - d/n`` where ``n`` counts the
    intervals of the group at risk (``start < t <= stop``), so a patient counts as unexposed until
    exposure and as exposed after it. Greenwood standard errors and log-log intervals as ``fit_km``;
    matches ``summary(survfit(Surv(start, stop, event) ~ exposed, conf.type = "log-log"),
    censored = TRUE)``. The group ``exposed`` (1) is labelled ``"exposed"``, 0 ``"unexposed"``.

    Raises
    ------
    AnalysisError
        Empty data, missing or negative times, an empty interval.

    References
    ----------
    Simon & Makuch (1984); Therneau & Grambsch (2000), section 3.7.
    """
    entry, stop, event = counting_arrays(data, start_col, stop_col, event_col)
    names, codes = _exposure_groups(data, group_col)
    ids = data["row_id"].to_numpy() if "row_id" in data.columns else np.arange(len(data))
    curves, summaries = [], []
    for i, name in enumerate(names):
        m = codes == i
        table = product_limit(entry[m], stop[m], event[m], conf_level)
        table.insert(0, "group", name)
        curves.append(table)
        summaries.append(
            {"group": name, "n": len(pd.unique(ids[m])), "events": int(event[m].sum()), "median_days": _median(table)}
        )
    return SimonMakuchResult(pd.concat(curves, ignore_index=True), pd.DataFrame(summaries), conf_level)


def _exposure_groups(data: pd.DataFrame, group_col: str) -> tuple[list[str], np.ndarray]:
    """The groups present, sorted (numeric 1 is ``"exposed"``, other numbers ``"unexposed"``; text as
    it is), and each row's index into them."""
    if group_col not in data.columns:
        raise AnalysisError(f"The data has no column named {group_col!r}.")
    values = data[group_col]
    if values.isna().any():
        raise AnalysisError(f"Column {group_col!r} has missing values.")  # no count: errors become notes
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        exposed = values.astype(int).to_numpy() == 1
        names = [g for g, there in ((EXPOSED, exposed.any()), (UNEXPOSED, not exposed.all())) if there]
        return names, np.where(exposed, 0, len(names) - 1)  # EXPOSED sorts before UNEXPOSED
    uniques, codes = np.unique(values.astype(str).to_numpy(), return_inverse=True)
    return [str(g) for g in uniques], codes.reshape(-1)


def product_limit(entry, stop, event, conf_level) -> pd.DataFrame:
    """Product-limit table of (entry, stop] intervals: at risk at t is ``entry < t <= stop``.

    A time-0 row first (survival 1, at risk = the intervals from the origin), then one row per distinct
    interval end or finite start: time_days, at_risk, events, censored, entered, survival, std_err
    (Greenwood), ci_lower, ci_upper (log-log).
    """
    fin = np.isfinite(entry)
    # every interval end and finite start, and where each is among them (unique's inverse: no binary
    # search of unsorted values)
    times, where = np.unique(np.concatenate([stop, entry[fin]]), return_inverse=True)
    ends, starts = where[: len(stop)], where[len(stop) :]
    n_end = np.bincount(ends, minlength=len(times))
    deaths = np.bincount(ends, weights=event.astype(float), minlength=len(times))
    entered = np.bincount(starts, minlength=len(times))
    # at risk at t: entry < t <= stop  ==  (#stop >= t) - (#entry >= t); every stop and finite entry is one
    # of the times, so both are counts from t on (exact integers)
    at_risk = (len(stop) - (np.cumsum(n_end) - n_end)) - np.cumsum(entered[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(deaths > 0, deaths / at_risk, 0.0)
        surv = np.cumprod(1.0 - hazard)
        var_log = np.cumsum(np.where(deaths > 0, deaths / (at_risk * (at_risk - deaths)), 0.0))
    se_log = np.sqrt(var_log)
    lower, upper = loglog_ci(surv, se_log, conf_level)
    std_err = np.where(surv > 0, surv * np.where(np.isfinite(se_log), se_log, 0.0), np.nan)
    rows = n_end + entered > 0  # times where an interval ends or starts; a time-0 row first
    return pd.DataFrame(
        {
            "time_days": np.r_[0.0, times[rows]],
            "at_risk": np.r_[int(np.isinf(entry).sum()), at_risk[rows]].astype(int),
            "events": np.r_[0, deaths[rows].astype(int)],
            "censored": np.r_[0, (n_end - deaths)[rows].astype(int)],
            "entered": np.r_[0, entered[rows]].astype(int),
            "survival": np.r_[1.0, surv[rows]],
            "std_err": np.r_[0.0, std_err[rows]],
            "ci_lower": np.r_[1.0, lower[rows]],
            "ci_upper": np.r_[1.0, upper[rows]],
        }
    )


def _median(table: pd.DataFrame) -> float:
    below = table.loc[table["survival"] <= 0.5 + 1e-12, "time_days"]
    return float(below.iloc[0]) if len(below) else np.nan


# ------------------------------------------------------------------------------ Mantel–Byar
@dataclass(frozen=True)
class MantelByarResult:
    """The Mantel–Byar test: log-rank score test with a time-dependent exposure (1 df).

    Attributes
    ----------
    statistic, df, p : float, int, float
        With ``variance="breslow"`` the score test of ``coxph(..., ties = "breslow")``; with
        ``"hypergeometric"`` the log-rank (``survdiff``) variance.
    observed, expected : float
        Events in exposed time and their expectation under no effect.
    variance : float
    method : str
    """

    statistic: float
    df: int
    p: float
    observed: float
    expected: float
    variance: float
    method: str


def mantel_byar_test(
    data: pd.DataFrame,
    start_col: str = "start",
    stop_col: str = "stop",
    event_col: str = "event",
    exposed_col: str = "exposed",
    *,
    variance: str = "breslow",
) -> MantelByarResult:
    """Mantel–Byar test of a time-dependent binary exposure on counting-process data.

    At each event time t with ``n`` intervals at risk, ``n1`` of them exposed, and ``d`` events
    (``d1`` exposed): ``O = sum d1``, ``E = sum d n1 / n``, ``V = sum d (n1/n)(1 - n1/n)`` (Breslow's
    information at beta = 0, which is what ``coxph(Surv(start, stop, event) ~ exposed, ties =
    "breslow")$score`` reports), or ``V = sum d (n - d)/(n - 1) (n1/n)(1 - n1/n)`` with
    ``variance="hypergeometric"`` (Mantel & Byar's original form, equal to ``survdiff`` when nobody
    changes group). The statistic ``(O - E)^2 / V`` is chi-square on 1 df.

    Raises
    ------
    AnalysisError
        No events, nobody ever exposed or nobody ever unexposed at an event time.

    References
    ----------
    Mantel & Byar (1974); Therneau & Grambsch (2000), section 3.7.
    """
    if variance not in ("breslow", "hypergeometric"):
        raise AnalysisError(f"variance must be 'breslow' or 'hypergeometric', not {variance!r}.")
    entry, stop, event = counting_arrays(data, start_col, stop_col, event_col)
    names, codes = _exposure_groups(data, exposed_col)
    x = (codes == names.index(EXPOSED)) if EXPOSED in names else np.zeros(len(codes), dtype=bool)
    if not event.any():
        raise AnalysisError("There are no events, so the Mantel–Byar test cannot compare exposure groups.")
    t, idx = np.unique(stop[event], return_inverse=True)  # event times, and each event's
    n = _at_risk(entry, stop, t)
    n1 = _at_risk(entry[x], stop[x], t)
    x = x.astype(float)
    d = np.bincount(idx, minlength=len(t)).astype(float)
    d1 = np.bincount(idx, weights=x[event], minlength=len(t))
    frac = n1 / n
    v = d * frac * (1 - frac)
    if variance == "hypergeometric":
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.where(n > 1, v * (n - d) / (n - 1), 0.0)
    obs, exp, var = float(d1.sum()), float((d * frac).sum()), float(v.sum())
    if var <= 0:
        raise AnalysisError(
            "Nobody was exposed (or everybody was) at any event time, so the Mantel–Byar test has nothing to compare."
        )
    statistic = (obs - exp) ** 2 / var
    return MantelByarResult(
        statistic, 1, float(stats.chi2.sf(statistic, 1)), obs, exp, var, f"Mantel-Byar ({variance} variance)"
    )


def _at_risk(entry, stop, times) -> np.ndarray:
    """The number of intervals with entry < t <= stop, for each t (as float)."""
    stop, entry = np.sort(stop), np.sort(entry)
    after_stop = len(stop) - np.searchsorted(stop, times, "left")
    after_entry = len(entry) - np.searchsorted(entry, times, "left")
    return (after_stop - after_entry).astype(float)


# ------------------------------------------------------------------------------ landmark
@dataclass(frozen=True)
class LandmarkResult:
    """Landmark analyses at one or more landmark days.

    Attributes
    ----------
    landmarks : DataFrame
        landmark_days, n_at_risk (event-free and in follow-up after the landmark), n_exposed,
        n_unexposed, events, statistic, df, p (log-rank, exposed vs unexposed), note (why a test is
        missing, else empty).
    curve : DataFrame
        landmark_days plus :class:`analyses.km.KMResult` ``curve`` columns; ``time_days`` counts from
        the landmark.
    summary : DataFrame
        landmark_days plus ``KMResult.summary`` columns.
    milestones : DataFrame
        landmark_days plus ``KMResult.milestones`` columns (times from the landmark).
    conf_level : float
    """

    landmarks: pd.DataFrame
    curve: pd.DataFrame
    summary: pd.DataFrame
    milestones: pd.DataFrame
    conf_level: float


def at_landmark(time: np.ndarray, exposure_days: np.ndarray, mark: float) -> tuple[np.ndarray, np.ndarray]:
    """Who a landmark analysis at day ``mark`` keeps, and who of them it calls exposed: the rule of
    :func:`fit_landmark`, one place for it and for whoever counts its groups (``disclosure``).

    Returns ``(at_risk, exposed)``, boolean arrays over the patients: still event-free and in follow-up
    after ``mark`` (time > mark), and exposed on or before it (missing exposure: never)."""
    at_risk = np.asarray(time, dtype=float) > mark
    with np.errstate(invalid="ignore"):
        exposed = np.asarray(exposure_days, dtype=float) <= mark
    return at_risk, exposed & at_risk


def fit_landmark(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    exposure_time_col: str,
    landmark_days: float | Sequence[float],
    *,
    times: Sequence[float] = (365.25, 730.5, 1095.75),
    conf_level: float = 0.95,
) -> LandmarkResult:
    """Landmark Kaplan–Meier curves and log-rank tests by exposure status at the landmark.

    For each landmark L: keep patients with follow-up beyond L (``duration > L``: event-free and
    uncensored on day L), call them exposed when the exposure happened on or before L
    (``exposure_time <= L``), re-base follow-up to ``duration - L``, and fit :func:`analyses.km.fit_km`
    and :func:`analyses.logrank.logrank_test`. Exposures after L count as unexposed (intention to treat
    from the landmark).

    Warns
    -----
    AnalysisWarning
        For a landmark where one of the groups is empty or there is no event (its test is missing and
        ``note`` says why).

    Raises
    ------
    AnalysisError
        Bad input, or no patient at risk at any landmark.

    References
    ----------
    Anderson, Cain & Gelber (1983).
    """
    time, event = survival_arrays(df, duration_col, event_col)
    if exposure_time_col not in df.columns:
        raise AnalysisError(f"The data has no column named {exposure_time_col!r}.")
    expo = pd.to_numeric(df[exposure_time_col], errors="coerce").to_numpy(dtype=float)
    if np.isscalar(landmark_days):
        marks = [float(cast(float, landmark_days))]
    else:
        marks = [float(v) for v in cast(Sequence[float], landmark_days)]
    if not marks or any(not np.isfinite(v) or v < 0 for v in marks):
        raise AnalysisError(f"Landmarks must be non-negative days, not {landmark_days!r}.")
    rows: list[Any] = []
    curves: list[Any] = []
    summaries: list[Any] = []
    milestones: list[Any] = []
    for mark in sorted(set(marks)):
        keep, exposed_all = at_landmark(time, expo, mark)
        exposed = exposed_all[keep]
        sub = pd.DataFrame(
            {
                "time": time[keep] - mark,
                "event": event[keep].astype(int),
                # categorical: fit_km and logrank_test find the groups without hashing text per row
                "group": pd.Categorical.from_codes(exposed.astype(np.int8), categories=_GROUPS),
            }
        )
        row: dict[str, Any] = {
            "landmark_days": mark,
            "n_at_risk": int(keep.sum()),
            "n_exposed": int(exposed.sum()),
            "n_unexposed": int((~exposed).sum()),
            "events": int(event[keep].sum()),
            "statistic": np.nan,
            "df": np.nan,
            "p": np.nan,
            "note": "",
        }
        rows.append(row)
        if sub.empty:
            row["note"] = f"Nobody is event-free and in follow-up after day {mark:g}."
            warnings.warn(row["note"], AnalysisWarning, stacklevel=2)
            continue
        km = fit_km(sub, "time", "event", "group", times=times, conf_level=conf_level)
        for frame, out in ((km.curve, curves), (km.summary, summaries), (km.milestones, milestones)):
            out.append(frame.assign(landmark_days=mark)[["landmark_days", *frame.columns]])
        row["note"] = _landmark_note(row, mark)
        if row["note"]:
            warnings.warn(row["note"], AnalysisWarning, stacklevel=2)
            continue
        test = logrank_test(sub, "time", "event", "group")
        row.update(statistic=test.statistic, df=test.df, p=test.p)
    if not curves:
        raise AnalysisError(
            "No patient is event-free and in follow-up after any of the landmarks "
            f"{', '.join(f'{m:g}' for m in marks)}."
        )
    return LandmarkResult(
        pd.DataFrame(rows),
        pd.concat(curves, ignore_index=True),
        pd.concat(summaries, ignore_index=True),
        pd.concat(milestones, ignore_index=True),
        conf_level,
    )


def _landmark_note(row: dict[str, Any], mark: float) -> str:
    if row["n_exposed"] == 0:
        return f"Nobody at risk after day {mark:g} had been exposed by then, so there is nothing to compare."
    if row["n_unexposed"] == 0:
        return f"Everybody at risk after day {mark:g} had been exposed by then, so there is nothing to compare."
    if row["events"] == 0:
        return f"There are no events after day {mark:g}, so the groups cannot be compared."
    return ""
