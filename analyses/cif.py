"""Aalen–Johansen cumulative incidence for competing risks, with cmprsk's variance.

``cumulative_incidence`` estimates, per group, the cumulative incidence function (CIF) of the event of
interest and of the competing event, exactly as R's ``cmprsk::cuminc`` does (Fortran routine ``cinc``):
tied times are handled as one block (no jitter), and the variance is Gray's (1988) delta-method
estimate with cmprsk's correction for tied failures. The curve is reported at every distinct time at
which anything happened in the group, plus time 0, like ``summary(survfit(...), censored = TRUE)``.

The module also holds the checks the competing-risks modules share, turning a DataFrame into clean
arrays; errors and warnings are ``analyses.results.AnalysisError`` and ``AnalysisWarning``.

References
----------
.. [1] Aalen OO, Johansen S (1978). An empirical transition matrix for non-homogeneous Markov chains
   based on censored observations. Scand J Stat 5:141–150.
.. [2] Gray RJ (1988). A class of K-sample tests for comparing the cumulative incidence of a competing
   risk. Ann Stat 16:1141–1154.
.. [3] Putter H, Fiocco M, Geskus RB (2007). Tutorial in biostatistics: competing risks and multi-state
   models. Stat Med 26:2389–2430.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analyses.intervals import loglog_ci
from analyses.results import AnalysisError, AnalysisWarning, group_labels
from analyses.times import timefix

__all__ = [
    "DEFAULT_TIMES_DAYS",
    "CIFResult",
    "aalen_johansen_from_counts",
    "clean_status",
    "cumulative_incidence",
    "group_index",
]

#: 1, 2, 3 and 5 years in days (365.25-day years).
DEFAULT_TIMES_DAYS: tuple[float, ...] = (365.25, 730.5, 1095.75, 1826.25)


@dataclass(frozen=True)
class CIFResult:
    """Cumulative incidence of the event and of the competing event, per group.

    Attributes
    ----------
    curve : pandas.DataFrame
        One row per group and distinct time at which anything happened, plus time 0. Columns:
        ``group, time_days, at_risk, events, competing_events, censored, surv_allcause, cif_event,
        var_event, ci_lower_event, ci_upper_event, cif_competing, var_competing, ci_lower_competing,
        ci_upper_competing``. ``at_risk`` counts patients with time >= ``time_days``; the counts are
        those at ``time_days``; estimates are right-continuous (include what happened at the time).
        ``var_*`` is cmprsk's variance, which cmprsk updates only at times of that cause: between them
        it is carried forward, exactly as ``cmprsk::timepoints`` reports it.
    milestones : pandas.DataFrame
        The estimates at ``times`` (``cmprsk::timepoints``): ``group, time_days, at_risk, cif_event,
        var_event, ci_lower_event, ci_upper_event, cif_competing, var_competing, ci_lower_competing,
        ci_upper_competing, beyond_follow_up``. A time after a group's last follow-up cannot be
        estimated: its estimates are NaN and ``beyond_follow_up`` is True (cmprsk gives NA).
    summary : pandas.DataFrame
        ``group, n, events, competing_events, censored, max_time_days`` per group.
    groups : tuple of str
        Group labels in sorted order (R's factor order); ``("all",)`` without a group column.
    group_col : str or None
    event, competing : int
        The status codes of the event of interest and of the competing event.
    conf_level : float
    conf_type : str
        ``"log-log"``: the interval for F is ``F ** exp(±z·se / (F·log F))``, i.e. a Wald interval for
        ``log(-log F)`` transformed back (cmprsk gives no interval; this is the usual choice, e.g.
        tidycmprsk). It stays inside [0, 1]; it is [F, F] where F is 0 or 1 or the variance is 0.
    """

    curve: pd.DataFrame
    milestones: pd.DataFrame
    summary: pd.DataFrame
    groups: tuple[str, ...]
    group_col: str | None
    event: int
    competing: int
    conf_level: float
    conf_type: str = "log-log"


# --------------------------------------------------------------------------------------------------
# Shared input checks


def _require_columns(df: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise AnalysisError(f"Column(s) {', '.join(map(repr, missing))} not found in the analysis data.")


def clean_status(
    df: pd.DataFrame,
    duration_col: str,
    status_col: str,
    event: int,
    competing: int,
    *,
    required: tuple[str, ...] = (),
    droppable: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Check times, status codes and extra columns; return (rows used, time, code).

    Times equal within rounding are merged (:func:`analyses.times.timefix`, R's ``aeqSurv``), for every
    competing-risks estimator: ``cmprsk`` itself does not merge them, ``survival``'s Aalen–Johansen
    ``survfit`` does.

    A missing time, status or ``required`` value is an error (as in the Kaplan–Meier analysis); rows
    with a missing ``droppable`` value (model covariates) are left out with a warning, as R's
    ``na.omit`` does. ``code`` is 0 censored, 1 the event of interest, 2 the competing event.
    """
    if event == competing or 0 in (event, competing):
        raise AnalysisError(
            f"The event code ({event}) and competing code ({competing}) must differ and not be 0 (0 means censored)."
        )
    columns = [duration_col, status_col, *required, *droppable]
    _require_columns(df, columns)
    data = df[columns]
    for col in [duration_col, status_col, *required]:
        if data[col].isna().any():
            raise AnalysisError(f"Column {col!r} has {int(data[col].isna().sum())} missing values.")
    complete = data[list(droppable)].notna().all(axis=1)
    if not complete.all():
        warnings.warn(
            f"{int((~complete).sum())} of {len(data)} patients have a missing value in "
            f"{', '.join(droppable)} and were left out.",
            AnalysisWarning,
            stacklevel=3,
        )
        data = data.loc[complete]
    if data.empty:
        raise AnalysisError("The analysis has no rows to work with (the cohort is empty).")
    time = pd.to_numeric(data[duration_col], errors="coerce").to_numpy(dtype=float)
    status = pd.to_numeric(data[status_col], errors="coerce").to_numpy(dtype=float)
    for col, values in ((duration_col, time), (status_col, status)):
        if not np.isfinite(values).all():
            raise AnalysisError(f"Column {col!r} has non-numeric or infinite values.")
    if (time < 0).any():
        raise AnalysisError(
            f"Column {duration_col!r} has {int((time < 0).sum())} negative times; follow-up cannot be negative."
        )
    bad = sorted(set(np.unique(status)) - {0.0, float(event), float(competing)})
    if bad:
        raise AnalysisError(
            f"Column {status_col!r} has code(s) {', '.join(f'{b:g}' for b in bad)}; expected 0 (censored), "
            f"{event} (event) or {competing} (competing event)."
        )
    code = np.where(status == event, 1, np.where(status == competing, 2, 0)).astype(np.int8)
    return data, timefix(time), code


def group_index(data: pd.DataFrame, group_col: str) -> tuple[np.ndarray, list[str]]:
    """Integer group per row and sorted labels, as ``analyses.km`` labels groups (text, sorted)."""
    labels = group_labels(data, group_col)
    levels = sorted(set(labels))
    return np.searchsorted(np.asarray(levels), labels).astype(np.int64), levels


# --------------------------------------------------------------------------------------------------
# Aalen–Johansen estimate and cmprsk's variance


def _tables(time: np.ndarray, code: np.ndarray) -> pd.DataFrame:
    """Counts per distinct time: at risk (time >= t), events, competing events, censored."""
    utime, inverse = np.unique(time, return_inverse=True)
    counts = np.zeros((utime.size, 3), dtype=np.int64)
    np.add.at(counts, (inverse, code), 1)
    censored, d1, d2 = counts[:, 0], counts[:, 1], counts[:, 2]
    total = counts.sum(axis=1)
    at_risk = time.size - np.concatenate(([0], np.cumsum(total)[:-1]))
    return pd.DataFrame(
        {"time_days": utime, "at_risk": at_risk, "events": d1, "competing_events": d2, "censored": censored}
    )


def _tie_factor(d: np.ndarray, n: np.ndarray) -> np.ndarray:
    """cmprsk's correction for ``d`` tied failures among ``n`` at risk: 1 - (d - 1) / (n - 1)."""
    out = np.ones_like(n, dtype=float)
    many = d > 1
    out[many] = 1.0 - (d[many] - 1.0) / (n[many] - 1.0)
    return out


def _aj_variance(
    cif: np.ndarray,
    s_minus: np.ndarray,
    s_now: np.ndarray,
    n: np.ndarray,
    d_own: np.ndarray,
    d_other: np.ndarray,
) -> np.ndarray:
    """Gray's variance of the CIF of one cause, as cmprsk's ``cinc`` accumulates it.

    With F the CIF after the time's jump, S- and S the all-cause KM before and after the time, the
    variance is V1 + F² V3 − 2 F V2, where V1, V2, V3 accumulate over failure times the terms
    (a², a·b, b²)·w with, for the other cause, a = F/S, b = 1/S, w = S-²·t·d_other/n², and for this
    cause a = 1 + F/S, b = 1/S (0 when S = 0), w = S-²·t·d_own/n² (t the tie factor). cmprsk updates
    the reported value only at times of this cause; it is carried forward in between.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_s = np.where(s_now > 0, 1.0 / s_now, 0.0)
    w_other = np.where((d_other > 0) & (s_now > 0), s_minus**2 * _tie_factor(d_other, n) * d_other / n**2, 0.0)
    w_own = np.where(d_own > 0, s_minus**2 * _tie_factor(d_own, n) * d_own / n**2, 0.0)
    a_other, a_own = cif * inv_s, 1.0 + cif * inv_s
    v1 = np.cumsum(a_other**2 * w_other + a_own**2 * w_own)
    v2 = np.cumsum(inv_s * a_other * w_other + inv_s * a_own * w_own)
    v3 = np.cumsum(inv_s**2 * (w_other + w_own))
    at_own = v1 + cif**2 * v3 - 2.0 * cif * v2
    var = pd.Series(np.where(d_own > 0, at_own, np.nan)).ffill().fillna(0.0).to_numpy()
    return np.maximum(var, 0.0)


def _cif_ci(est: np.ndarray, var: np.ndarray, conf_level: float) -> tuple[np.ndarray, np.ndarray]:
    """cmprsk's pointwise interval (log(−log F), ``analyses.intervals.loglog_ci``); [F, F] where undefined."""
    ok = (est > 0) & (est < 1) & (var > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower, upper = loglog_ci(est, np.sqrt(var) / est, conf_level)
    return np.where(ok, lower, est), np.where(ok, upper, est)


def _group_curve(time: np.ndarray, code: np.ndarray, conf_level: float) -> pd.DataFrame:
    tab = aalen_johansen_from_counts(_tables(time, code), conf_level)
    if tab["time_days"].iloc[0] > 0:
        start = {c: 0 for c in tab.columns} | {"at_risk": time.size, "surv_allcause": 1.0}
        tab = pd.concat([pd.DataFrame([start]), tab], ignore_index=True)
    return tab


def aalen_johansen_from_counts(table: pd.DataFrame, conf_level: float = 0.95) -> pd.DataFrame:
    """The Aalen–Johansen estimates and cmprsk's variance from counts per time, in time order.

    ``table`` has time_days, at_risk, events, competing_events (any non-negative numbers: rounded counts,
    say, as the released curves of ``disclosure.curves`` use). Returns a copy with surv_allcause and, for
    ``event`` and ``competing``, ``cif_*``, ``var_*``, ``ci_lower_*`` and ``ci_upper_*``.

    References
    ----------
    Aalen & Johansen (1978); Gray (1988): the variance as cmprsk's ``cuminc`` computes it.
    """
    tab = table.copy()
    n = tab["at_risk"].to_numpy(dtype=float)
    d1 = tab["events"].to_numpy(dtype=float)
    d2 = tab["competing_events"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        s_now = np.cumprod(np.where(d1 + d2 > 0, 1.0 - (d1 + d2) / n, 1.0))
    s_minus = np.concatenate(([1.0], s_now[:-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.cumsum(np.where(d1 > 0, s_minus * d1 / n, 0.0))
        f2 = np.cumsum(np.where(d2 > 0, s_minus * d2 / n, 0.0))
    v1 = _aj_variance(f1, s_minus, s_now, n, d1, d2)
    v2 = _aj_variance(f2, s_minus, s_now, n, d2, d1)
    tab["surv_allcause"] = s_now
    for name, est, var in (("event", f1, v1), ("competing", f2, v2)):
        lo, hi = _cif_ci(est, var, conf_level)
        tab[f"cif_{name}"], tab[f"var_{name}"] = est, var
        tab[f"ci_lower_{name}"], tab[f"ci_upper_{name}"] = lo, hi
    return tab


_MILESTONE_COLUMNS = [
    "group",
    "time_days",
    "at_risk",
    "cif_event",
    "var_event",
    "ci_lower_event",
    "ci_upper_event",
    "cif_competing",
    "var_competing",
    "ci_lower_competing",
    "ci_upper_competing",
    "beyond_follow_up",
]


def _milestones(curve: pd.DataFrame, times: np.ndarray) -> pd.DataFrame:
    """Right-continuous values at ``times``, NaN after the last follow-up (``cmprsk::timepoints``)."""
    grid = curve["time_days"].to_numpy()
    idx = np.searchsorted(grid, times, side="right") - 1
    beyond = times > grid[-1]
    out = curve.iloc[np.clip(idx, 0, None)].reset_index(drop=True)
    value_cols = [c for c in out.columns if c.startswith(("cif_", "var_", "ci_"))]
    out = out[value_cols].astype(float)
    out.loc[beyond, value_cols] = np.nan
    leaving = curve[["events", "competing_events", "censored"]].sum(axis=1).to_numpy()
    before = np.concatenate(([0], np.cumsum(leaving)))  # patients whose time is < each grid time
    at_risk = int(curve["at_risk"].iloc[0]) - before[np.searchsorted(grid, times, side="left")]
    out.insert(0, "at_risk", at_risk)
    out.insert(0, "time_days", times)
    out["beyond_follow_up"] = beyond
    return out


def cumulative_incidence(
    df: pd.DataFrame,
    duration_col: str,
    status_col: str,
    group_col: str | None = None,
    *,
    event: int = 1,
    competing: int = 2,
    times: list[float] | tuple[float, ...] | None = None,
    conf_level: float = 0.95,
) -> CIFResult:
    """Aalen–Johansen cumulative incidence of an event and its competing event, per group.

    Reproduces ``cmprsk::cuminc(time, status, group)`` (estimates and variances) and
    ``cmprsk::timepoints`` (values at chosen times), deterministically, ties included.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per patient.
    duration_col : str
        Follow-up time (days), >= 0.
    status_col : str
        0 = censored, ``event`` = the event of interest, ``competing`` = the competing event.
    group_col : str, optional
        Estimate separately per value of this column; values are compared as text and sorted, as in
        ``analyses.km`` (for text columns this is R's factor order).
    event, competing : int
        Codes of the event of interest and of the competing event (endpoints.md: 1 and 2).
    times : sequence of float, optional
        Times (days) for ``milestones``; default 1, 2, 3 and 5 years (``DEFAULT_TIMES_DAYS``).
    conf_level : float
        Level of the pointwise log(-log) intervals.

    Returns
    -------
    CIFResult

    Raises
    ------
    AnalysisError
        Missing columns, no rows, missing or negative times, unknown status codes, missing groups.

    Warns
    -----
    AnalysisWarning
        No events of a cause (its CIF is 0 throughout); a group of a single patient.

    References
    ----------
    .. [1] Aalen OO, Johansen S (1978). Scand J Stat 5:141–150.
    .. [2] Gray RJ (1988). Ann Stat 16:1141–1154 (variance estimate).
    .. [3] Putter H, Fiocco M, Geskus RB (2007). Stat Med 26:2389–2430.
    """
    if not 0 < conf_level < 1:
        raise AnalysisError(f"The confidence level must be between 0 and 1, not {conf_level}.")
    required = (group_col,) if group_col is not None else ()
    data, time, code = clean_status(df, duration_col, status_col, event, competing, required=required)
    if group_col is None:
        index, levels = np.zeros(time.size, dtype=np.int64), ["all"]
    else:
        index, levels = group_index(data, group_col)
    grid = np.asarray(DEFAULT_TIMES_DAYS if times is None else sorted(set(times)), dtype=float)
    curves, points, summary = [], [], []
    for k, level in enumerate(levels):
        mask = index == k
        label = level
        curve = _group_curve(time[mask], code[mask], conf_level)
        curve.insert(0, "group", label)
        curves.append(curve)
        if grid.size:
            pts = _milestones(curve.drop(columns="group"), grid)
            pts.insert(0, "group", label)
            points.append(pts)
        summary.append(
            {
                "group": label,
                "n": int(mask.sum()),
                "events": int((code[mask] == 1).sum()),
                "competing_events": int((code[mask] == 2).sum()),
                "censored": int((code[mask] == 0).sum()),
                "max_time_days": float(time[mask].max()),
            }
        )
        if mask.sum() < 2 and len(levels) > 1:
            warnings.warn(
                f"Group {label!r} has only one patient; its curve is a single step.", AnalysisWarning, stacklevel=2
            )
    for what, c in (("event", 1), ("competing event", 2)):
        if not (code == c).any():
            warnings.warn(
                f"There are no {what}s (code {event if c == 1 else competing}); its cumulative "
                "incidence is 0 throughout.",
                AnalysisWarning,
                stacklevel=2,
            )
    return CIFResult(
        curve=pd.concat(curves, ignore_index=True),
        milestones=pd.concat(points, ignore_index=True) if points else pd.DataFrame(columns=_MILESTONE_COLUMNS),
        summary=pd.DataFrame(summary),
        groups=tuple(levels),
        group_col=group_col,
        event=event,
        competing=competing,
        conf_level=conf_level,
    )
