"""Kaplan–Meier survival curves with confidence intervals, medians, milestones and RMST.

Every number here matches R's ``survival`` package (validated in ``tests/test_km.py`` against
``tests/r/km_reference.R``):

* the curve lists one row per distinct time at which an event or a censoring happened, as
  ``summary(survfit(Surv(time, status) ~ group, conf.type = "log-log"), censored = TRUE)`` does, with a
  time-0 row (survival 1, confidence limits 1) in front;
* ``std_err`` is the standard error of the survival probability (Greenwood), as ``summary.survfit``
  reports it; the confidence interval is computed from the Greenwood variance of log S on the
  log(-log S) scale (default), or as R's ``conf.type = "log"`` or ``"plain"``
  (:func:`analyses.intervals.survival_ci`). Where it is undefined (S 0 or 1 for log-log, S 0 for log)
  it is left missing, as in R (the added time-0 row is the exception);
* the median and its confidence limits follow ``print(survfit)`` (``survival:::survmean``): the first
  time the curve (or its lower/upper limit) is at or below 0.5, averaged with the next time the curve
  drops when it is flat at exactly 0.5; missing (``NaN``) when not reached;
* milestone survival follows ``summary(fit, times = ...)``; a milestone after a group's last follow-up
  gets missing survival (R drops it);
* the restricted mean survival time and its standard error follow ``print(fit, rmean = horizon)``;
  differences between groups use the independent-groups standard error.

The event column may hold 0/1 or event codes; only the value 1 counts as an event, every other code is
censoring. Times equal within rounding are one time (:func:`analyses.times.timefix`, R's ``timefix``).

References
----------
Kaplan EL, Meier P (1958). Nonparametric estimation from incomplete observations. JASA 53:457–481.
Greenwood M (1926). The natural duration of cancer. Reports on Public Health and Medical Subjects 33.
Brookmeyer R, Crowley J (1982). A confidence interval for the median survival time. Biometrics 38:29–41.
Royston P, Parmar MKB (2013). Restricted mean survival time. BMC Med Res Methodol 13:152.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analyses.intervals import check_conf_type, survival_ci
from analyses.results import AnalysisError, group_codes, group_labels, survival_arrays
from analyses.times import timefix

__all__ = ["KMResult", "fit_km", "km_table", "product_limit_from_counts"]

_TOL = np.sqrt(np.finfo(float).eps)
ALL_GROUP = "all"
_MILESTONE_COLUMNS = ["group", "time_days", "at_risk", "events", "survival", "std_err", "ci_lower", "ci_upper"]


@dataclass(frozen=True)
class KMResult:
    """Kaplan–Meier fit, as tidy tables (one block of rows per group, groups in sorted order).

    Attributes
    ----------
    curve : DataFrame
        group, time_days, at_risk, events, censored, survival, std_err, ci_lower, ci_upper.
    summary : DataFrame
        group, n, events, median_days, median_ci_lower, median_ci_upper.
    milestones : DataFrame
        group, time_days, at_risk, events (in the interval since the previous milestone), survival,
        std_err, ci_lower, ci_upper.
    rmst : DataFrame
        group, horizon_days, rmst, se, ci_lower, ci_upper (empty without ``rmst_horizon``).
    rmst_diff : DataFrame
        group, reference, diff, se, ci_lower, ci_upper, p: each group minus the first group.
    group_col : str or None
    conf_level : float
    conf_type : str
        ``"log-log"`` (default), ``"log"`` or ``"plain"``: the pointwise intervals and the median's.
    """

    curve: pd.DataFrame
    summary: pd.DataFrame
    milestones: pd.DataFrame
    rmst: pd.DataFrame
    rmst_diff: pd.DataFrame
    group_col: str | None
    conf_level: float
    conf_type: str = "log-log"

    @property
    def n(self) -> int:
        return int(self.summary["n"].sum())

    @property
    def events(self) -> int:
        return int(self.summary["events"].sum())

    @property
    def groups(self) -> list[str]:
        return list(self.summary["group"])


def product_limit_from_counts(
    at_risk: np.ndarray, events: np.ndarray, conf_level: float = 0.95, conf_type: str = "log-log"
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The product-limit estimate from the number at risk and the events at each time, in time order.

    ``at_risk`` and ``events`` may be any non-negative numbers (rounded counts, say: the released curves
    of ``disclosure.curves`` are estimated from them). Returns survival, the Greenwood variance of log S,
    its standard error of S, and the limits of ``conf_type`` (:func:`analyses.intervals.survival_ci`).

    References
    ----------
    Kaplan & Meier (1958); Greenwood (1926).
    """
    n = np.asarray(at_risk, dtype=float)
    d = np.asarray(events, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(np.where(d > 0, 1.0 - d / n, 1.0))
        var_log = np.cumsum(np.where(d > 0, d / (n * (n - d)), 0.0))
        se_log = np.sqrt(var_log)
        std_err = np.where(surv > 0, surv * se_log, np.nan)
    lower, upper = survival_ci(surv, se_log, conf_level, conf_type)
    return surv, var_log, std_err, lower, upper


def km_table(time: np.ndarray, event: np.ndarray, conf_level: float = 0.95, conf_type: str = "log-log") -> pd.DataFrame:
    """The Kaplan–Meier curve of one group, one row per distinct event or censoring time.

    Parameters
    ----------
    time : ndarray
        Non-negative follow-up times.
    event : ndarray of bool
        True where the time is an event.
    conf_level : float
        Confidence level of the pointwise interval.
    conf_type : {"log-log", "log", "plain"}
        Its type (:func:`analyses.intervals.survival_ci`).

    Returns
    -------
    DataFrame
        time_days, at_risk, events, censored, survival, std_err, ci_lower, ci_upper, and the Greenwood
        variance of log S as ``var_log`` (used by RMST).
    """
    times, inverse = np.unique(time, return_inverse=True)
    total = np.bincount(inverse, minlength=len(times))
    deaths = np.bincount(inverse, weights=event.astype(float), minlength=len(times))
    at_risk = len(time) - np.concatenate(([0], np.cumsum(total)[:-1]))
    surv, var_log, std_err, lower, upper = product_limit_from_counts(at_risk, deaths, conf_level, conf_type)
    return pd.DataFrame(
        {
            "time_days": times,
            "at_risk": at_risk.astype(int),
            "events": deaths.astype(int),
            "censored": (total - deaths).astype(int),
            "survival": surv,
            "std_err": std_err,
            "ci_lower": lower,
            "ci_upper": upper,
            "var_log": var_log,
        }
    )


def _first_below_half(values: np.ndarray, times: np.ndarray) -> float:
    """``minmin`` of ``survival:::survmean``: the median rule used by ``print(survfit)``."""
    keep = ~np.isnan(values) & (values < 0.5 + _TOL)
    if not keep.any():
        return np.nan
    x, y = times[keep], values[keep]
    if abs(y[0] - 0.5) < _TOL and (y < y[0]).any():
        return float((x[0] + x[np.argmax(y < y[0])]) / 2)
    return float(x[0])


def _rmst(table: pd.DataFrame, horizon: float) -> tuple[float, float]:
    """Restricted mean and its standard error to ``horizon`` (``survival:::survmean``)."""
    time = table["time_days"].to_numpy()
    surv = table["survival"].to_numpy()
    n_risk = table["at_risk"].to_numpy(dtype=float)
    n_event = table["events"].to_numpy(dtype=float)
    start = min(0.0, time.min()) if len(time) else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        hh = np.where(n_risk - n_event == 0, 0.0, n_event / (n_risk * (n_risk - n_event)))
    keep = time <= horizon
    if not keep.any():
        temptime, tempsurv, hh = np.array([horizon]), np.array([1.0]), np.array([0.0])
    else:
        temptime = np.append(time[keep], horizon)
        tempsurv = np.append(surv[keep], surv[keep][-1])
        hh = np.append(hh[keep], 0.0)
    delta = np.diff(np.concatenate(([start], temptime)))
    rectangles = delta * np.concatenate(([1.0], tempsurv[:-1]))
    varmean = np.sum(np.cumsum(rectangles[1:][::-1]) ** 2 * hh[::-1][1:])
    return float(rectangles.sum() + start), float(np.sqrt(varmean))


def _milestones(table: pd.DataFrame, time: np.ndarray, event: np.ndarray, times: Sequence[float]) -> list:
    rows = []
    previous = -np.inf
    curve_t = table["time_days"].to_numpy()
    for t in sorted(times):
        idx = np.searchsorted(curve_t, t, side="right") - 1
        beyond = len(curve_t) == 0 or t > curve_t[-1]
        if idx < 0:
            surv, se, lo, hi = 1.0, 0.0, 1.0, 1.0  # before the first time, as R reports it
        else:
            row = table.iloc[idx]
            surv, se, lo, hi = row["survival"], row["std_err"], row["ci_lower"], row["ci_upper"]
        if beyond:
            surv = se = lo = hi = np.nan
        in_interval = (time > previous) & (time <= t)
        rows.append(
            {
                "time_days": float(t),
                "at_risk": int((time >= t).sum()),
                "events": int((event & in_interval).sum()),
                "survival": surv,
                "std_err": se,
                "ci_lower": lo,
                "ci_upper": hi,
            }
        )
        previous = t
    return rows


def fit_km(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    group_col: str | None = None,
    *,
    times: Sequence[float] = (365.25, 730.5, 1095.75, 1826.25),
    rmst_horizon: float | None = None,
    conf_level: float = 0.95,
    conf_type: str = "log-log",
) -> KMResult:
    """Fit Kaplan–Meier curves, overall or by group.

    Parameters
    ----------
    df : DataFrame
        One row per patient.
    duration_col : str
        Follow-up time (days), non-negative.
    event_col : str
        1 = event; 0 or any other code = censored.
    group_col : str, optional
        Column whose values define the groups (sorted as R sorts factor levels); without it the single
        group is named ``"all"``.
    times : sequence of float
        Milestone times for survival estimates (default 1, 2, 3 and 5 years in days).
    rmst_horizon : float, optional
        Horizon of the restricted mean survival time; no RMST when omitted.
    conf_level : float
        Confidence level for all intervals.
    conf_type : {"log-log", "log", "plain"}
        Type of the pointwise intervals, and so of the median's (R ``conf.type``; R's default is
        ``"log"``, the project's ``"log-log"``).

    Returns
    -------
    KMResult

    Raises
    ------
    AnalysisError
        Empty data, missing or negative times, missing event codes or group values.

    References
    ----------
    Kaplan & Meier (1958); Greenwood (1926); Brookmeyer & Crowley (1982); see the module docstring.
    """
    if not 0 < conf_level < 1:
        raise AnalysisError(f"The confidence level must be between 0 and 1, not {conf_level}.")
    check_conf_type(conf_type)
    time, event = survival_arrays(df, duration_col, event_col)
    time = timefix(time)  # times equal within rounding are one time, as in R
    if group_col is None:
        order = [ALL_GROUP]
        rows_of = {ALL_GROUP: np.arange(len(time))}
    elif (groups := group_codes(df, group_col)) is not None:
        order, codes = groups
        rows_of = {name: np.flatnonzero(codes == i) for i, name in enumerate(order)}
    else:
        labels = group_labels(df, group_col)
        levels = sorted(pd.unique(df[group_col]))
        order = [str(v) for v in levels]
        codes, uniques = pd.factorize(labels)  # one pass over the labels, not one per group
        rows_of = {str(u): np.flatnonzero(codes == i) for i, u in enumerate(uniques)}
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    curves, summaries, milestones, rmsts = [], [], [], []
    for name in order:
        rows = rows_of[name]  # the group's rows, in data order
        t, e = time[rows], event[rows]
        table = km_table(t, e, conf_level, conf_type)
        summaries.append(
            {
                "group": name,
                "n": len(rows),
                "events": int(e.sum()),
                "median_days": _first_below_half(table["survival"].to_numpy(), table["time_days"].to_numpy()),
                "median_ci_lower": _first_below_half(table["ci_lower"].to_numpy(), table["time_days"].to_numpy()),
                "median_ci_upper": _first_below_half(table["ci_upper"].to_numpy(), table["time_days"].to_numpy()),
            }
        )
        if rmst_horizon is not None:
            est, se = _rmst(table, rmst_horizon)
            rmsts.append(
                {
                    "group": name,
                    "horizon_days": float(rmst_horizon),
                    "rmst": est,
                    "se": se,
                    "ci_lower": est - z * se,
                    "ci_upper": est + z * se,
                }
            )
        milestones += [{"group": name, **row} for row in _milestones(table, t, e, times)]
        start = pd.DataFrame(
            {
                "time_days": [0.0],
                "at_risk": [len(rows)],
                "events": [0],
                "censored": [0],
                "survival": [1.0],
                "std_err": [0.0],
                "ci_lower": [1.0],
                "ci_upper": [1.0],
            }
        )
        curve = pd.concat([start, table.drop(columns="var_log")], ignore_index=True)
        curve.insert(0, "group", name)
        curves.append(curve)
    rmst = pd.DataFrame(rmsts, columns=["group", "horizon_days", "rmst", "se", "ci_lower", "ci_upper"])
    return KMResult(
        curve=pd.concat(curves, ignore_index=True),
        summary=pd.DataFrame(summaries),
        milestones=pd.DataFrame(milestones, columns=_MILESTONE_COLUMNS),
        rmst=rmst,
        rmst_diff=_rmst_differences(rmst, z),
        group_col=group_col,
        conf_level=conf_level,
        conf_type=conf_type,
    )


def _rmst_differences(rmst: pd.DataFrame, z: float) -> pd.DataFrame:
    """Each group's RMST minus the first group's, with the independent-samples standard error."""
    columns = ["group", "reference", "diff", "se", "ci_lower", "ci_upper", "p"]
    if len(rmst) < 2:
        return pd.DataFrame(columns=columns)
    ref = rmst.iloc[0]
    rows = []
    for _, row in rmst.iloc[1:].iterrows():
        diff = row["rmst"] - ref["rmst"]
        se = float(np.hypot(row["se"], ref["se"]))
        p = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else np.nan
        rows.append([row["group"], ref["group"], diff, se, diff - z * se, diff + z * se, p])
    return pd.DataFrame(rows, columns=columns)
