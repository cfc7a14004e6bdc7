"""The treatment-timing code of commit 4a22dd9, kept verbatim as the reference for the faster one.

``analyses.timing`` (start/stop rows, Simon–Makuch, Mantel–Byar, landmark, counting-process Cox),
``analyses.suppression._protect_runs``, ``dashboard.suppress.curve_for_display`` and the group
handling of ``analyses.km.fit_km`` / ``analyses.logrank.logrank_test`` were rewritten for speed;
``tests/test_timing_reference.py`` checks that they return exactly what these versions returned.
Helpers that did not change are imported from the modules. Do not "improve" this file: it is the
specification by example.
"""

# ruff: noqa

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analyses.km import KMResult, fit_km
from analyses.logrank import logrank_test
from analyses.results import AnalysisError, AnalysisWarning, group_labels, survival_arrays
from analyses.timing import (
    EXPOSED,
    UNEXPOSED,
    CountingCoxResult,
    LandmarkResult,
    MantelByarResult,
    SimonMakuchResult,
    _counting_arrays,
    _counting_newton,
    _landmark_note,
    _loglog_ci,
    _median,
)


# ------------------------------------------------------------------ analyses/timing.py
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
    base = df.reset_index(drop=True).assign(row_id=np.arange(len(df)))
    first = base.assign(
        start=0.0,
        stop=np.where(split, expo, time),
        event=np.where(split, 0, event.astype(int)),
        exposed=np.where(never | split, 0, 1),
    )
    second = base[split].assign(start=expo[split], stop=time[split], event=event[split].astype(int), exposed=1)
    out = pd.concat([first, second], ignore_index=True)
    return out.sort_values(["row_id", "start"], kind="stable").reset_index(drop=True)


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
    labels = _exposure_labels(data, group_col)
    ids = data["row_id"].to_numpy() if "row_id" in data.columns else np.arange(len(data))
    curves, summaries = [], []
    for name in sorted(set(labels)):
        m = labels == name
        table = _product_limit(entry[m], stop[m], event[m], conf_level)
        table.insert(0, "group", name)
        curves.append(table)
        summaries.append(
            {"group": name, "n": len(np.unique(ids[m])), "events": int(event[m].sum()), "median_days": _median(table)}
        )
    return SimonMakuchResult(pd.concat(curves, ignore_index=True), pd.DataFrame(summaries), conf_level)


def _exposure_labels(data: pd.DataFrame, group_col: str) -> np.ndarray:
    if group_col not in data.columns:
        raise AnalysisError(f"The data has no column named {group_col!r}.")
    values = data[group_col]
    if values.isna().any():
        raise AnalysisError(f"Column {group_col!r} has missing values.")  # no count: errors become notes
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return np.where(values.astype(int).to_numpy() == 1, EXPOSED, UNEXPOSED)
    return values.astype(str).to_numpy()


def _product_limit(entry, stop, event, conf_level) -> pd.DataFrame:
    times = np.unique(np.concatenate([stop, entry[np.isfinite(entry)]]))
    ends = np.searchsorted(times, stop)
    n_end = np.bincount(ends, minlength=len(times))
    deaths = np.bincount(ends, weights=event.astype(float), minlength=len(times))
    fin = np.isfinite(entry)
    entered = np.bincount(np.searchsorted(times, entry[fin]), minlength=len(times))
    # at risk at t: entry < t <= stop  ==  (#stop >= t) - (#entry >= t)
    stop_sorted, entry_sorted = np.sort(stop), np.sort(entry)
    at_risk = (len(stop) - np.searchsorted(stop_sorted, times, "left")) - (
        len(entry) - np.searchsorted(entry_sorted, times, "left")
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(deaths > 0, deaths / at_risk, 0.0)
        surv = np.cumprod(1.0 - hazard)
        var_log = np.cumsum(np.where(deaths > 0, deaths / (at_risk * (at_risk - deaths)), 0.0))
    se_log = np.sqrt(var_log)
    lower, upper = _loglog_ci(surv, se_log, conf_level)
    table = pd.DataFrame(
        {
            "time_days": times,
            "at_risk": at_risk.astype(int),
            "events": deaths.astype(int),
            "censored": (n_end - deaths).astype(int),
            "entered": entered.astype(int),
            "survival": surv,
            "std_err": np.where(surv > 0, surv * np.where(np.isfinite(se_log), se_log, 0.0), np.nan),
            "ci_lower": lower,
            "ci_upper": upper,
        }
    )
    table = table[(table["events"] + table["censored"] + table["entered"]) > 0]
    first = pd.DataFrame(
        {
            "time_days": [0.0],
            "at_risk": [int(np.isinf(entry).sum())],
            "events": [0],
            "censored": [0],
            "entered": [0],
            "survival": [1.0],
            "std_err": [0.0],
            "ci_lower": [1.0],
            "ci_upper": [1.0],
        }
    )
    return pd.concat([first, table], ignore_index=True)


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
    x = (_exposure_labels(data, exposed_col) == EXPOSED).astype(float)
    if not event.any():
        raise AnalysisError("There are no events, so the Mantel–Byar test cannot compare exposure groups.")
    t = np.unique(stop[event])
    n = _at_risk(entry, stop, t, np.ones_like(x))
    n1 = _at_risk(entry, stop, t, x)
    idx = np.searchsorted(t, stop[event])
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


def _at_risk(entry, stop, times, weights) -> np.ndarray:
    """sum of weights over intervals with entry < t <= stop, for each t."""
    o_stop, o_entry = np.argsort(stop), np.argsort(entry)
    cs_stop = np.concatenate(([0.0], np.cumsum(weights[o_stop])))
    cs_entry = np.concatenate(([0.0], np.cumsum(weights[o_entry])))
    total = cs_stop[-1]
    after_stop = total - cs_stop[np.searchsorted(stop[o_stop], times, "left")]
    after_entry = total - cs_entry[np.searchsorted(entry[o_entry], times, "left")]
    return after_stop - after_entry


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
    marks = [float(landmark_days)] if np.isscalar(landmark_days) else [float(v) for v in landmark_days]
    if not marks or any(not np.isfinite(v) or v < 0 for v in marks):
        raise AnalysisError(f"Landmarks must be non-negative days, not {landmark_days!r}.")
    rows, curves, summaries, milestones = [], [], [], []
    for mark in sorted(set(marks)):
        keep = time > mark
        sub = pd.DataFrame(
            {
                "time": time[keep] - mark,
                "event": event[keep].astype(int),
                "group": np.where(expo[keep] <= mark, EXPOSED, UNEXPOSED),
            }
        )
        row: dict[str, Any] = {
            "landmark_days": mark,
            "n_at_risk": int(keep.sum()),
            "n_exposed": int((sub["group"] == EXPOSED).sum()),
            "n_unexposed": int((sub["group"] == UNEXPOSED).sum()),
            "events": int(sub["event"].sum()),
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


class _Risk:
    """Event times and the bookkeeping to sum over risk sets ``entry < t <= stop``."""

    def __init__(self, entry, stop, event, w, efron):
        self.entry, self.stop, self.w = entry, stop, w
        self.times = np.unique(stop[event])
        self.dead = np.flatnonzero(event)
        self.slot = np.searchsorted(self.times, stop[self.dead])
        nd = np.bincount(self.slot, minlength=len(self.times)).astype(float)
        self.meanwt = np.bincount(self.slot, weights=w[self.dead], minlength=len(self.times)) / nd
        self.k_time = np.repeat(np.arange(len(self.times)), nd.astype(int))  # one entry per event
        first = np.concatenate(([0], np.cumsum(nd)[:-1])).astype(int)
        k = np.arange(len(self.k_time)) - first[self.k_time]
        self.frac = k / nd[self.k_time] if efron else np.zeros(len(self.k_time))
        self.nd = nd
        self.o_stop, self.o_entry = np.argsort(stop), np.argsort(entry)
        self.i_stop = np.searchsorted(stop[self.o_stop], self.times, "left")
        self.i_entry = np.searchsorted(entry[self.o_entry], self.times, "left")

    def risk_sums(self, v):
        """sum of v over the risk set of every event time (v has rows first)."""

        def tail(order, idx):
            c = np.concatenate((np.zeros((1, *v.shape[1:])), np.cumsum(v[order], axis=0)))
            return c[-1] - c[idx]

        return tail(self.o_stop, self.i_stop) - tail(self.o_entry, self.i_entry)

    def death_sums(self, v):
        out = np.zeros((len(self.times), *v.shape[1:]))
        np.add.at(out, self.slot, v[self.dead])
        return out


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
    xbar /= R.nd[:, None]
    cum_h = np.concatenate(([0.0], np.cumsum(hz)))
    cum_xh = np.concatenate((np.zeros((1, X.shape[1])), np.cumsum(xh, axis=0)))
    hi = np.searchsorted(R.times, R.stop, "right")
    lo = np.searchsorted(R.times, R.entry, "right")
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
    from analyses.cox import _check_collinear, _check_finite, _design  # shared design/validity rules

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
    sub = data.loc[complete]
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
    se = np.sqrt(np.diag(vcov))
    used = np.sqrt(np.diag(robust_vcov)) if robust_vcov is not None else se
    z, zq = beta / used, stats.norm.ppf(1 - (1 - conf_level) / 2)
    terms = pd.DataFrame(
        {
            "term": names,
            "covariate": cov_of,
            "level": level_of,
            "coef": beta,
            "se": se,
            "robust_se": used if robust_vcov is not None else np.nan,
            "hr": np.exp(beta),
            "hr_ci_lower": np.exp(beta - zq * used),
            "hr_ci_upper": np.exp(beta + zq * used),
            "z": z,
            "p": 2 * stats.norm.sf(np.abs(z)),
        }
    )
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


# ------------------------------------------------------------------ analyses/suppression.py
def _protect_runs(
    shown: np.ndarray, true_counts: np.ndarray, hidden: np.ndarray, remainder: int, min_cell: int
) -> np.ndarray:
    """Between two shown at-risk numbers the row counts add up to their difference: rule 3 per run.

    ``shown`` flags the rows whose at-risk number is shown, ``hidden`` (rows x count columns) the
    counts masked so far; returns ``hidden`` with the further masks. A run is the block of rows from
    one shown at-risk number to the next; its cells are taken row by row. The last run also holds the
    rows after the truncation (their total is the first hidden at-risk number), which count as one
    masked cell. Rows before the first shown at-risk number (when the group size is hidden) add up to
    an unknown total and need nothing. Runs whose masked cells already number two or more and add up
    to at least ``min_cell`` are left alone; in the others, further cells are masked smallest first
    (ties in cell order) until they do, or the whole run is masked.
    """
    n_rows, n_cols = true_counts.shape
    starts = np.flatnonzero(shown)
    if len(starts) == 0 or n_cols == 0:
        return hidden
    bounds = np.append(starts, n_rows) * n_cols  # runs as (non-empty) ranges of cells, row by row
    values = true_counts.ravel()
    mask = hidden.ravel().copy()
    hidden_sum = np.add.reduceat(np.where(mask, values, 0.0), bounds[:-1])
    hidden_count = np.add.reduceat(mask.astype(np.int64), bounds[:-1])
    if remainder > 0:
        hidden_sum[-1] += remainder
        hidden_count[-1] += 1
    exposed = (hidden_count > 0) & ((hidden_count < 2) | (hidden_sum < min_cell))
    for run in np.flatnonzero(exposed):
        cells = np.arange(bounds[run], bounds[run + 1])
        free = cells[~mask[cells]]
        free = free[np.argsort(values[free], kind="stable")]
        enough = (hidden_count[run] + np.arange(1, len(free) + 1) >= 2) & (
            hidden_sum[run] + np.cumsum(values[free]) >= min_cell
        )
        first = np.argmax(enough) if enough.any() else len(free)
        mask[free[: first + 1]] = True
    return mask.reshape(n_rows, n_cols)


# ------------------------------------------------------------------ dashboard/suppress.py
def curve_for_display(shown: KMResult, full: KMResult | None = None) -> KMResult:
    """The suppressed result with per-row counts removed from the curve: only a censoring flag is kept.

    ``shown`` is ``suppress_km``'s copy of ``full``. The flag (some censoring at that time) comes from
    ``full`` when given: a masked count means "small, or hidden so others cannot be worked out", not
    "some", so without ``full`` every masked count is drawn as a censoring. ``shown``'s curve keeps a
    prefix of each group's rows of ``full`` (rule 4), which is how the rows are matched.
    """
    curve = shown.curve.copy()
    if full is None:
        curve["censored"] = [bool(v is None or (pd.notna(v) and v > 0)) for v in curve["censored"]]
    else:
        row_of = [full.curve["group"], full.curve.groupby("group", sort=False).cumcount()]
        flags = pd.Series(full.curve["censored"].to_numpy() > 0, index=row_of)
        rows = pd.MultiIndex.from_arrays([curve["group"], curve.groupby("group", sort=False).cumcount()])
        curve["censored"] = flags.reindex(rows).to_numpy(dtype=bool)
    curve["at_risk"] = None
    curve["events"] = None
    return dataclasses.replace(shown, curve=curve)


# ------------------------------------------------------------------ analyses/km.py, analyses/logrank.py
def km_groups(df: pd.DataFrame, group_col: str) -> tuple[list[str], dict[str, np.ndarray]]:
    """fit_km's groups in order and each group's rows, as fit_km computed them."""
    labels = group_labels(df, group_col)
    levels = sorted(pd.unique(df[group_col]))
    order = [str(v) for v in levels]
    codes, uniques = pd.factorize(labels)  # one pass over the labels, not one per group
    rows_of = {str(u): np.flatnonzero(codes == i) for i, u in enumerate(uniques)}
    return order, rows_of


def logrank_groups(df: pd.DataFrame, group_col: str) -> tuple[list[str], np.ndarray]:
    """logrank_test's levels and row codes (``_prepare``), as it computed them."""
    labels = group_labels(df, group_col)
    levels = [str(v) for v in sorted(pd.unique(df[group_col]))]
    codes = pd.Series(labels).map({g: i for i, g in enumerate(levels)}).to_numpy(dtype=int)
    return levels, codes
