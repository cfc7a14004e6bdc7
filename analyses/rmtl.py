"""Restricted mean time lost to each cause of a competing-risks endpoint.

The restricted mean time lost to cause k by the horizon tau is ``RMTL_k(tau) = integral from 0 to tau of
F_k(t) dt``, the area under the Aalen–Johansen cumulative incidence of that cause (Andersen 2013): the
expected number of days, out of the first tau, lived after an event of cause k. With the restricted
mean event-free time (the Kaplan–Meier RMST of the all-cause endpoint) the two RMTLs add up to tau.

The standard error is the infinitesimal jackknife, as R's ``survfit(Surv(time, factor(status)) ~ group,
influence = TRUE)`` computes it: with ``U_i`` the derivative of ``RMTL_k`` with respect to patient i's
case weight, ``se^2 = sum_i U_i^2``. Writing the estimate as ``sum_l (tau - t_l) S(t_l-) d_kl / n_l``
over the distinct times ``t_l < tau`` (n at risk, d events, S the all-cause Kaplan–Meier),

``U_i = P(m_i) + [i had cause k] (tau - t_mi) S(t_mi-) / n_mi - ([i had an event] e_mi - C(m_i)) Q(m_i)``

where ``m_i`` is the index of patient i's time, ``e_l = 1 / (n_l - d_l)``, ``C(j) = sum_{l <= j} d_l e_l /
n_l``, ``Q(j) = sum_{l > j} a_l`` and ``P(j) = sum_{l <= j} a_l (C(l - 1) - 1 / n_l)`` with
``a_l = (tau - t_l) S(t_l-) d_kl / n_l``: O(n) after sorting, no n x T influence matrix. It agrees with
the derivative computed from survfit's influence array, and with a numerical derivative with respect to
each case weight (``tests/r/rmtl_reference.R``). The interval is Wald's, ``rmtl ± z se``; a difference
between groups uses the independent-groups standard error.

A horizon after a group's last follow-up carries its last cumulative incidence forward, as R does;
``beyond_follow_up`` flags it. Times equal within rounding are merged (:func:`analyses.times.timefix`).

References
----------
Andersen PK (2013). Decomposition of number of life years lost according to causes of death. Stat Med
32:5278–5285.
Zhao L, Tian L, Claggett B, et al. (2018). Estimating treatment effect with clinical interpretation from
a comparative clinical trial with an end point subject to competing risks. JAMA Cardiol 3:357–358.
Efron B (1982). The Jackknife, the Bootstrap and Other Resampling Plans. SIAM, ch. 6 (the
infinitesimal jackknife).
Therneau TM, Crowson C, Atkinson E (2023). Multi-state models and competing risks. Vignette of the R
package survival 3.5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analyses.cif import clean_status, group_index
from analyses.results import AnalysisError

__all__ = ["RMTLResult", "restricted_mean_time_lost"]

_CAUSES = (("event", 1), ("competing", 2))


@dataclass(frozen=True)
class RMTLResult:
    """Restricted mean time lost to each cause, per group.

    Attributes
    ----------
    table : DataFrame
        group, cause (``"event"`` or ``"competing"``), code (its status code), horizon_days, rmtl, se,
        ci_lower, ci_upper, beyond_follow_up (the horizon is after the group's last time).
    differences : DataFrame
        group, reference, cause, diff, se, ci_lower, ci_upper, p: each group minus the first, per cause
        (empty with one group).
    horizon_days : float
    group_col : str or None
    event, competing : int
    conf_level : float
    """

    table: pd.DataFrame
    differences: pd.DataFrame
    horizon_days: float
    group_col: str | None
    event: int
    competing: int
    conf_level: float


def _rmtl(time: np.ndarray, code: np.ndarray, cause: int, horizon: float) -> tuple[float, float]:
    """RMTL of ``cause`` (1 or 2 in ``code``) to ``horizon`` and its infinitesimal-jackknife SE."""
    utime, index = np.unique(time, return_inverse=True)
    counts = np.zeros((utime.size, 3))
    np.add.at(counts, (index, code), 1.0)
    d_cause, d_any = counts[:, cause], counts[:, 1] + counts[:, 2]
    n = time.size - np.r_[0.0, np.cumsum(counts.sum(axis=1))[:-1]]
    s_before = np.r_[1.0, np.cumprod(1.0 - d_any / n)[:-1]]
    width = np.clip(horizon - utime, 0.0, None)
    a = width * s_before * d_cause / n
    with np.errstate(divide="ignore"):
        e = np.where(n > d_any, 1.0 / (n - d_any), 0.0)  # where all at risk fail nothing follows (Q = 0)
    c = np.cumsum(d_any / n * e)
    c_before = np.r_[0.0, c[:-1]]
    p = np.cumsum(a * (c_before - 1.0 / n))
    q = np.r_[np.cumsum(a[::-1])[::-1][1:], 0.0]
    had_cause, had_event = (code == cause).astype(float), (code > 0).astype(float)
    m = index
    u = p[m] + had_cause * width[m] * s_before[m] / n[m] - (had_event * e[m] - c[m]) * q[m]
    return float(a.sum()), float(np.sqrt(u @ u))


def restricted_mean_time_lost(
    df: pd.DataFrame,
    duration_col: str,
    status_col: str,
    horizon_days: float,
    group_col: str | None = None,
    *,
    event: int = 1,
    competing: int = 2,
    conf_level: float = 0.95,
) -> RMTLResult:
    """Restricted mean time lost to the event and to the competing event by ``horizon_days``.

    Parameters
    ----------
    df : DataFrame
    duration_col, status_col : str
        Follow-up time (days) and status (0 censored, ``event``, ``competing``).
    horizon_days : float
        The horizon tau (> 0).
    group_col : str, optional
    event, competing : int
    conf_level : float

    Returns
    -------
    RMTLResult

    Raises
    ------
    AnalysisError
        Bad input (as :func:`analyses.cif.cumulative_incidence`) or a horizon that is not positive.

    References
    ----------
    Andersen (2013); Zhao et al. (2018); see the module docstring.
    """
    if not np.isfinite(horizon_days) or horizon_days <= 0:
        raise AnalysisError(f"The horizon must be a positive number of days, not {horizon_days!r}.")
    if not 0 < conf_level < 1:
        raise AnalysisError(f"The confidence level must be between 0 and 1, not {conf_level}.")
    required = (group_col,) if group_col is not None else ()
    data, time, code = clean_status(df, duration_col, status_col, event, competing, required=required)
    if group_col is None:
        index, levels = np.zeros(time.size, dtype=np.int64), ["all"]
    else:
        index, levels = group_index(data, group_col)
    z = float(stats.norm.ppf(0.5 + conf_level / 2))
    rows = []
    for k, level in enumerate(levels):
        mask = index == k
        for cause, number in _CAUSES:
            est, se = _rmtl(time[mask], code[mask], number, float(horizon_days))
            rows.append(
                {
                    "group": level,
                    "cause": cause,
                    "code": event if number == 1 else competing,
                    "horizon_days": float(horizon_days),
                    "rmtl": est,
                    "se": se,
                    "ci_lower": est - z * se,
                    "ci_upper": est + z * se,
                    "beyond_follow_up": bool(horizon_days > time[mask].max()),
                }
            )
    table = pd.DataFrame(rows)
    return RMTLResult(table, _differences(table, z), float(horizon_days), group_col, event, competing, conf_level)


def _differences(table: pd.DataFrame, z: float) -> pd.DataFrame:
    """Each group's RMTL minus the first group's, per cause, with the independent-groups SE."""
    columns = ["group", "reference", "cause", "diff", "se", "ci_lower", "ci_upper", "p"]
    rows = []
    for cause, block in table.groupby("cause", sort=False):
        ref = block.iloc[0]
        for _, row in block.iloc[1:].iterrows():
            diff = row["rmtl"] - ref["rmtl"]
            se = float(np.hypot(row["se"], ref["se"]))
            p = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else np.nan
            rows.append([row["group"], ref["group"], cause, diff, se, diff - z * se, diff + z * se, p])
    return pd.DataFrame(rows, columns=columns)
