"""Treatment timing: exposures that start after time zero (transplant, CAR-T, salvage therapy).

Comparing patients who *ever* received a treatment with those who never did credits the treated group
with the time they had to survive in order to be treated ("immortal time"), which makes almost any
post-baseline treatment look beneficial. This module holds the standard remedies:

* **Counting-process data** (:func:`start_stop_frame`): each patient's follow-up is split at the
  exposure time into an unexposed interval ``(0, e]`` and an exposed interval ``(e, T]``.
* **Landmark analysis** (:func:`fit_landmark`, Anderson, Cain & Gelber 1983): patients still event-free
  and in follow-up after the landmark day are grouped by whether they were exposed on or before it, and
  follow-up is re-based to the landmark; Kaplan–Meier and the log-rank test of :mod:`analyses.km` and
  :mod:`analyses.logrank` are then valid.
* **Simon–Makuch curves** (:func:`simon_makuch`, Simon & Makuch 1984): product-limit estimates in which
  a patient moves from the unexposed to the exposed risk set at exposure; identical to R's
  ``survfit(Surv(start, stop, event) ~ exposed)``.
* **Mantel–Byar test** (:func:`mantel_byar_test`, Mantel & Byar 1974): the log-rank (score) test with
  time-dependent group membership; identical to the score test of
  ``coxph(Surv(start, stop, event) ~ exposed, ties = "breslow")``.
* **Time-varying Cox** (:func:`fit_cox_counting`): ``coxph(Surv(start, stop, event) ~ exposed + ...)``.

Risk sets follow R's counting-process convention: an interval ``(start, stop]`` is at risk at time t
when ``start < t <= stop``. One exception, stated here because R differs: an interval that starts at the
origin (start 0) is at risk from before time 0, so an event on day 0 has the whole cohort at risk, as in
:func:`analyses.km.fit_km` (R would drop a ``(0, 0]`` interval). Without any exposure change the
functions therefore reproduce ``fit_km``, ``logrank_test`` and ``fit_cox`` exactly (tested).

The DB helper :func:`exposure_frame` builds days-to-exposure from the database; the immortal-time guard
:func:`naive_exposure_warning` is what plain survival comparisons (``analyze km``, the dashboard) call.

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

from analyses.km import fit_km
from analyses.logrank import logrank_test
from analyses.results import AnalysisError, AnalysisWarning, survival_arrays

__all__ = [
    "EXPOSURES",
    "CountingCoxResult",
    "LandmarkResult",
    "MantelByarResult",
    "SimonMakuchResult",
    "exposure_frame",
    "fit_cox_counting",
    "fit_landmark",
    "mantel_byar_test",
    "naive_exposure_warning",
    "post_baseline_exposures",
    "simon_makuch",
    "start_stop_frame",
]

EXPOSED, UNEXPOSED = "exposed", "unexposed"
_GROUPS = [UNEXPOSED, EXPOSED]  # indexed by exposed (0/1)
#: exposure name -> analysis_patients date column of its first occurrence
EXPOSURES = {"hct": "hct1_date", "car_t": "car_t1_date"}

# analysis_patients columns that are only known after time zero, per origin (endpoints.md)
_POST_BASELINE = {
    "DX": {"cr1", "mrd_eoi", "induction_failure", "relapsed", "hct", "car_t", "salvage_regimen"},
    "CR1": {"relapsed", "hct", "car_t", "salvage_regimen"},
    "REL1": {"hct", "car_t", "salvage_regimen"},
    "LINE2": {"hct", "car_t"},
    "HCT1": {"relapsed", "car_t"},
}
_DATE_COLUMNS = {"cr1_date", "relapse1_date", "line2_date", "hct1_date", "car_t1_date", "death_date"}


# ------------------------------------------------------------------------------ immortal time
def post_baseline_exposures(origin: str) -> set[str]:
    """``analysis_patients`` columns whose value is only known after time zero ``origin``.

    Grouping a Kaplan–Meier comparison or entering a Cox covariate by one of these columns conditions on
    the future (immortal-time bias). Unknown origins are an :class:`AnalysisError`.
    """
    if origin not in _POST_BASELINE:
        raise AnalysisError(f"Unknown origin {origin!r}; expected one of {', '.join(_POST_BASELINE)}.")
    return set(_POST_BASELINE[origin]) | _DATE_COLUMNS


def naive_exposure_warning(group_col: str | None, origin: str = "DX") -> str | None:
    """The warning text for a survival comparison grouped by a post-baseline exposure, else None.

    Callers (``analyze km``, the dashboard) add the text to their notes or issue it as an
    :class:`AnalysisWarning`.

    References
    ----------
    Suissa (2008); Anderson, Cain & Gelber (1983).
    """
    if group_col is None or group_col not in post_baseline_exposures(origin):
        return None
    return (
        f"{group_col!r} is only known after time zero ({origin}): patients had to survive, event-free, "
        f"until it happened, so comparing groups by it from {origin} is biased in its favour (immortal-time "
        "bias). Use a landmark analysis ('ayaall analyze landmark'), Simon–Makuch curves or a Cox model "
        "with a time-varying exposure instead."
    )


# ------------------------------------------------------------------------------ start/stop data
def start_stop_frame(df: pd.DataFrame, duration_col: str, event_col: str, exposure_time_col: str) -> pd.DataFrame:
    """Split each patient's follow-up at the exposure time into counting-process rows.

    Parameters
    ----------
    df : DataFrame
        One row per patient.
    duration_col, event_col : str
        Follow-up in days from the origin, and the event (1 = event, any other code censored).
    exposure_time_col : str
        Days from the origin to the exposure; missing when never exposed. An exposure on or after the
        end of follow-up is treated as never; one at or before time 0 as exposed from the start.

    Returns
    -------
    DataFrame
        The input columns (the patient's values repeated on each of its rows) plus ``row_id`` (the
        input row position, for clustering), ``start``, ``stop``, ``event`` (0/1, only on the last
        row) and ``exposed`` (0/1), sorted by row_id and start.
    """
    time, event = survival_arrays(df, duration_col, event_col)
    if exposure_time_col not in df.columns:
        raise AnalysisError(f"The data has no column named {exposure_time_col!r}.")
    expo = pd.to_numeric(df[exposure_time_col], errors="coerce").to_numpy(dtype=float)
    never = np.isnan(expo) | (expo >= time)
    split = ~never & (expo > 0)
    # one row per patient, two for a split one: its unexposed (0, e] row, then its exposed (e, T] row
    rows = np.repeat(np.arange(len(df)), np.where(split, 2, 1))
    second = np.zeros(len(rows), dtype=bool)
    second[1:] = rows[1:] == rows[:-1]
    cut = split[rows] & ~second  # the unexposed row of a split patient, ending at exposure
    return (
        df.iloc[rows]
        .reset_index(drop=True)
        .assign(
            row_id=rows,
            start=np.where(second, expo[rows], 0.0),
            stop=np.where(cut, expo[rows], time[rows]),
            event=np.where(cut, 0, event[rows].astype(int)),
            exposed=np.where(second | ~(never | split)[rows], 1, 0),
        )
    )


def _counting_arrays(data: pd.DataFrame, start_col: str, stop_col: str, event_col: str):
    start, event = survival_arrays(data, start_col, event_col)
    stop, _ = survival_arrays(data, stop_col, event_col)
    if (stop < start).any() or ((stop == start) & (start > 0)).any():
        raise AnalysisError(f"Every interval needs {stop_col!r} after {start_col!r} (found an empty interval).")
    entry = np.where(start <= 0, -np.inf, start)  # intervals from the origin are at risk at time 0
    return entry, stop, event


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
    """Simon–Makuch survival curves from counting-process data (:func:`start_stop_frame`).

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
    entry, stop, event = _counting_arrays(data, start_col, stop_col, event_col)
    names, codes = _exposure_groups(data, group_col)
    ids = data["row_id"].to_numpy() if "row_id" in data.columns else np.arange(len(data))
    curves, summaries = [], []
    for i, name in enumerate(names):
        m = codes == i
        table = _product_limit(entry[m], stop[m], event[m], conf_level)
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


def _product_limit(entry, stop, event, conf_level) -> pd.DataFrame:
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
    lower, upper = _loglog_ci(surv, se_log, conf_level)
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


def _loglog_ci(surv, se_log, conf_level):
    """R's ``conf.type = "log-log"`` (as :mod:`analyses.km`): missing where S is 0 or 1."""
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where((surv <= 0) | (surv >= 1), np.nan, surv)
        shift = z * se_log / np.log(p)
        return np.exp(-np.exp(np.log(-np.log(p)) - shift)), np.exp(-np.exp(np.log(-np.log(p)) + shift))


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
    entry, stop, event = _counting_arrays(data, start_col, stop_col, event_col)
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
        keep = time > mark
        exposed = expo[keep] <= mark
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


# ------------------------------------------------------------------------------ database helper
def exposure_frame(
    con_or_db: Any,
    cohort: Any,
    endpoint: str,
    origin: str,
    exposure: str,
    columns: Sequence[str] = (),
    *,
    identifiers: bool = True,
) -> pd.DataFrame:
    """The cohort's rows of an endpoint with ``exposure_days``: days from time zero to the exposure.

    Parameters
    ----------
    con_or_db : DuckDB connection or path
    cohort : CohortSpec
    endpoint, origin : str
    exposure : {"hct", "car_t"}
        First transplant (``hct1_date``) or first CAR-T (``car_t1_date``) of ``analysis_patients``.
    columns : sequence of str
        Further ``analysis_patients`` columns (covariates).
    identifiers : bool
        False leaves out the text columns patient_id and event_desc (as
        :func:`analyses.cohort.load_analysis_frame`: the analyses need neither); rows are in patient_id
        order either way.

    Returns
    -------
    DataFrame
        patient_id, time_days, event_code, event_desc, the ``columns``, ``exposure_days`` (missing
        when never exposed; negative when the first exposure preceded time zero, which
        :func:`start_stop_frame` and :func:`fit_landmark` treat as exposed from the start).
    """
    import duckdb

    from analyses.cohort import analysis_columns, cohort_patients_sql, connect_readonly, read_frame
    from ayaall.endpoints import endpoint_spec
    from ayaall.errors import UserError

    if exposure not in EXPOSURES:
        raise UserError(f"Unknown exposure {exposure!r}; expected one of {', '.join(EXPOSURES)}.")
    try:
        endpoint_spec(endpoint, origin)
    except KeyError as exc:
        raise UserError(str(exc.args[0])) from exc
    own = not isinstance(con_or_db, duckdb.DuckDBPyConnection)
    con = connect_readonly(con_or_db) if own else con_or_db
    try:
        known = analysis_columns(con)
        unknown = [c for c in columns if c not in known]
        if unknown:
            raise UserError(f"{', '.join(map(repr, unknown))} not a column of analysis_patients.")
        where, params = cohort_patients_sql(con, cohort, known)
        extra = "".join(f', ap."{c}"' for c in dict.fromkeys(columns) if c != "patient_id" or not identifiers)
        fields = "t.patient_id, t.time_days, t.event_code, t.event_desc" if identifiers else "t.time_days, t.event_code"
        sql = (
            f"SELECT {fields}{extra}, "
            f"CAST(date_diff('day', t.origin_date, ap.{EXPOSURES[exposure]}) AS DOUBLE) AS exposure_days "
            "FROM time_to_event t JOIN analysis_patients ap USING (patient_id) "
            f"WHERE t.endpoint = ? AND t.origin = ? AND {where} ORDER BY t.patient_id"
        )
        return read_frame(con, sql, [endpoint, origin, *params])
    finally:
        if own:
            con.close()


# ------------------------------------------------------------------------------ time-varying Cox
@dataclass(frozen=True)
class CountingCoxResult:
    """A Cox model on counting-process (start, stop] data.

    Attributes
    ----------
    terms : DataFrame
        As :class:`analyses.cox.CoxResult` ``terms``: term, covariate, level, coef, se, robust_se, hr,
        hr_ci_lower, hr_ci_upper, z, p (z, p and the CI use ``robust_se`` when robust).
    reference_levels : dict
    n_intervals, n_patients, events, n_dropped : int
    loglik, loglik_null : float
    score_test : dict
        statistic, df, p of the score test at beta = 0 (R ``fit$score``).
    vcov : DataFrame
    robust_vcov : DataFrame or None
    ties : str
    iterations : int
    """

    terms: pd.DataFrame
    reference_levels: dict[str, str]
    n_intervals: int
    n_patients: int
    events: int
    n_dropped: int
    loglik: float
    loglik_null: float
    score_test: dict[str, float]
    vcov: pd.DataFrame
    robust_vcov: pd.DataFrame | None
    ties: str
    iterations: int


class _Risk:
    """Event times and the bookkeeping to sum over risk sets ``entry < t <= stop``."""

    def __init__(self, entry, stop, event, w, efron):
        self.entry, self.stop, self.w = entry, stop, w
        self.dead = np.flatnonzero(event)
        self.times, self.slot = np.unique(stop[self.dead], return_inverse=True)  # event times, each event's
        nd = np.bincount(self.slot, minlength=len(self.times)).astype(float)
        self.meanwt = np.bincount(self.slot, weights=w[self.dead], minlength=len(self.times)) / nd
        self.k_time = np.repeat(np.arange(len(self.times)), nd.astype(int))  # one entry per event
        first = np.concatenate(([0], np.cumsum(nd)[:-1])).astype(int)
        k = np.arange(len(self.k_time)) - first[self.k_time]
        self.frac = k / nd[self.k_time] if efron else np.zeros(len(self.k_time))
        self.nd = nd
        self.o_stop, self.o_entry = np.argsort(stop), np.argsort(entry)
        self.stop_sorted, self.entry_sorted = stop[self.o_stop], entry[self.o_entry]
        self.i_stop = np.searchsorted(self.stop_sorted, self.times, "left")
        self.i_entry = np.searchsorted(self.entry_sorted, self.times, "left")

    def risk_sums(self, v):
        """sum of v over the risk set of every event time (v has rows first)."""

        def tail(order, idx):
            c = np.cumsum(v[order], axis=0)
            before = c[idx - 1]  # the running sum before position idx ...
            before[idx == 0] = 0.0  # ... which is 0 at the start
            return c[-1] - before

        return tail(self.o_stop, self.i_stop) - tail(self.o_entry, self.i_entry)

    def death_sums(self, v):
        """sum of v over the events at every event time (bincount adds in row order, as np.add.at)."""
        dead, nt = v[self.dead].reshape(len(self.dead), -1), len(self.times)
        sums = [np.bincount(self.slot, weights=dead[:, j], minlength=nt) for j in range(dead.shape[1])]
        return np.stack(sums, axis=1).reshape(nt, *v.shape[1:])


def _cox_pieces(R: _Risk, X, beta):
    eta = X @ beta
    r = R.w * np.exp(eta)
    rx = r[:, None] * X
    rxx = rx[:, :, None] * X[:, None, :]
    k, f = R.k_time, R.frac
    den = R.risk_sums(r)[k] - f * R.death_sums(r)[k]
    a = (R.risk_sums(rx)[k] - f[:, None] * R.death_sums(rx)[k]) / den[:, None]
    s2 = (R.risk_sums(rxx)[k] - f[:, None, None] * R.death_sums(rxx)[k]) / den[:, None, None]
    mw = R.meanwt[k]
    loglik = float(R.w[R.dead] @ eta[R.dead] - mw @ np.log(den))
    score = R.w[R.dead] @ X[R.dead] - mw @ a
    info = np.einsum("k,kij->ij", mw, s2) - a.T @ (a * mw[:, None])
    return loglik, score, info, dict(r=r, den=den, a=a, mw=mw)


def _counting_newton(R: _Risk, X):
    beta = np.zeros(X.shape[1])
    loglik, score, info, pieces = _cox_pieces(R, X, beta)
    loglik0 = loglik
    try:
        score_stat = float(score @ np.linalg.solve(info, score))
    except np.linalg.LinAlgError:
        score_stat = np.nan
    for iteration in range(1, 31):
        try:
            new = beta + np.linalg.solve(info, score)
        except np.linalg.LinAlgError as exc:
            raise AnalysisError(
                "The time-varying Cox model's information matrix is singular; check for "
                "collinear covariates or a level with no events."
            ) from exc
        new_fit = _cox_pieces(R, X, new)
        halvings = 0
        while not np.isfinite(new_fit[0]) or new_fit[0] < loglik - 1e-12 * abs(loglik):
            halvings += 1
            if halvings > 30:
                raise AnalysisError("The time-varying Cox model did not converge (step halving failed).")
            new = (new + beta) / 2
            new_fit = _cox_pieces(R, X, new)
        done = abs(1 - loglik / new_fit[0]) <= 1e-12 or np.abs(new - beta).max() < 1e-12
        beta, (loglik, score, info, pieces) = new, new_fit
        if done:
            return beta, loglik, loglik0, score, info, pieces, score_stat, iteration
    raise AnalysisError(
        "The time-varying Cox model did not converge in 30 iterations; a coefficient may be "
        "infinite (a level with no events, or perfect separation)."
    )


def _counting_score_residuals(R: _Risk, X, p) -> np.ndarray:
    """Per-interval score residuals (R ``residuals(fit, "score")``), unweighted, Efron or Breslow."""
    nt = len(R.times)
    haz = p["mw"] / p["den"]
    keep = 1 - R.frac
    hz = np.bincount(R.k_time, weights=haz, minlength=nt)
    hz2 = np.bincount(R.k_time, weights=haz * keep, minlength=nt)
    xh = np.stack([np.bincount(R.k_time, weights=p["a"][:, j] * haz, minlength=nt) for j in range(X.shape[1])], 1)
    xh2 = np.stack(
        [np.bincount(R.k_time, weights=p["a"][:, j] * haz * keep, minlength=nt) for j in range(X.shape[1])], 1
    )
    xbar = np.stack([np.bincount(R.k_time, weights=p["a"][:, j], minlength=nt) for j in range(X.shape[1])], 1)
    xbar = xbar / R.nd[:, None]
    cum_h = np.concatenate(([0.0], np.cumsum(hz)))
    cum_xh = np.concatenate((np.zeros((1, X.shape[1])), np.cumsum(xh, axis=0)))
    hi, lo = np.empty(len(R.stop), dtype=np.intp), np.empty(len(R.entry), dtype=np.intp)
    hi[R.o_stop] = np.searchsorted(R.times, R.stop_sorted, "right")  # sorted queries: far faster than unsorted
    lo[R.o_entry] = np.searchsorted(R.times, R.entry_sorted, "right")
    H = cum_h[hi] - cum_h[lo]
    XH = cum_xh[hi] - cum_xh[lo]
    own = R.slot
    H[R.dead] += hz2[own] - hz[own]
    XH[R.dead] += xh2[own] - xh[own]
    resid = -(p["r"] / R.w)[:, None] * (X * H[:, None] - XH)
    resid[R.dead] += X[R.dead] - xbar[own]
    return resid


def fit_cox_counting(
    data: pd.DataFrame,
    start_col: str,
    stop_col: str,
    event_col: str,
    covariates: Sequence[str],
    *,
    ref_levels: dict[str, str] | None = None,
    robust: bool = False,
    cluster_col: str | None = None,
    weights_col: str | None = None,
    ties: str = "efron",
    conf_level: float = 0.95,
) -> CountingCoxResult:
    """Cox model with time-varying covariates on (start, stop] data (R ``coxph(Surv(start, stop, event) ~ ...)``).

    Parameters
    ----------
    data : DataFrame
        Counting-process rows, e.g. from :func:`start_stop_frame` (covariate ``exposed``).
    start_col, stop_col, event_col : str
    covariates : sequence of str
        Numeric columns enter as they are; text columns are dummy-coded as in :func:`analyses.cox.fit_cox`.
    ref_levels, weights_col, ties, conf_level
        As :func:`analyses.cox.fit_cox`.
    robust : bool
        Sandwich standard errors; summed within ``cluster_col`` (use ``row_id`` from
        :func:`start_stop_frame` so a patient's intervals form one cluster, R ``cluster = row_id``).
    cluster_col : str, optional

    Returns
    -------
    CountingCoxResult

    Raises
    ------
    AnalysisError
        Empty data, no events, a single-level covariate, collinearity, non-convergence, bad weights.

    References
    ----------
    Therneau & Grambsch (2000), ch. 3; Efron (1977); Lin & Wei (1989).
    """
    from analyses.cox import _check_collinear, _check_finite, _design, _terms_table  # shared with fit_cox

    if ties not in ("efron", "breslow"):
        raise AnalysisError(f"Ties method must be 'efron' or 'breslow', not {ties!r}.")
    covariates = list(covariates)
    if not covariates:
        raise AnalysisError("A Cox model needs at least one covariate.")
    needed = covariates + [c for c in (cluster_col, weights_col) if c]
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise AnalysisError(f"The data has no column named {missing[0]!r}.")
    complete = data[needed].notna().all(axis=1)
    sub = data if complete.all() else data.loc[complete]
    entry, stop, event = _counting_arrays(sub, start_col, stop_col, event_col)
    if not event.any():
        raise AnalysisError("There are no events in this cohort, so a Cox model cannot be fitted.")
    X, names, cov_of, level_of, refs = _design(sub, covariates, dict(ref_levels or {}))
    _check_collinear(X, names)
    w = np.ones(len(stop)) if not weights_col else pd.to_numeric(sub[weights_col], errors="coerce").to_numpy(float)
    if not np.isfinite(w).all() or (w < 0).any():
        raise AnalysisError(f"Weights in {weights_col!r} must be finite and non-negative.")
    if event.sum() / len(names) < 10:
        warnings.warn(
            # no counts in the text (nor their ratio): it reaches notes that small-cell suppression guards
            f"Fewer than 10 events per coefficient ({len(names)} coefficients); estimates may be unstable.",
            AnalysisWarning,
            stacklevel=2,
        )
    Xc = X - X.mean(0)
    R = _Risk(entry, stop, event, w, ties == "efron")
    beta, loglik, loglik0, score, info, pieces, score_stat, iterations = _counting_newton(R, Xc)
    vcov = _check_finite(beta, info, score, names)
    robust_vcov = None
    if robust or cluster_col:
        dfbeta = (_counting_score_residuals(R, Xc, pieces) @ vcov) * w[:, None]
        if cluster_col:
            dfbeta = pd.DataFrame(dfbeta).groupby(sub[cluster_col].to_numpy()).sum().to_numpy()
        robust_vcov = dfbeta.T @ dfbeta
    terms = _terms_table(names, cov_of, level_of, beta, vcov, robust_vcov, conf_level)
    ids = sub["row_id"] if "row_id" in sub.columns else pd.Series(np.arange(len(sub)))
    return CountingCoxResult(
        terms=terms,
        reference_levels=refs,
        n_intervals=len(stop),
        n_patients=int(ids.nunique()),
        events=int(event.sum()),
        n_dropped=int((~complete).sum()),
        loglik=loglik,
        loglik_null=loglik0,
        score_test={"statistic": score_stat, "df": len(names), "p": float(stats.chi2.sf(score_stat, len(names)))},
        vcov=pd.DataFrame(vcov, index=names, columns=names),
        robust_vcov=None if robust_vcov is None else pd.DataFrame(robust_vcov, index=names, columns=names),
        ties=ties,
        iterations=iterations,
    )
