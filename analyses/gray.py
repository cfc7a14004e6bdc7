"""Gray's K-sample test for equality of cumulative incidence functions.

``gray_test`` reproduces the ``Tests`` of R's ``cmprsk::cuminc(time, status, group, strata, rho = 0)``
(Fortran routines ``crstm``/``crst``): the score for each of the first K − 1 groups and its variance are
accumulated over the distinct failure times of each stratum and summed over strata; the statistic is
``s' V⁻¹ s``, chi-square with K − 1 degrees of freedom. Here the running sums of cmprsk's loop over times
are computed as cumulative sums over a (time × group × group) array, so the cost is
O(n log n + T·K²) for T distinct failure times.

References
----------
.. [1] Gray RJ (1988). A class of K-sample tests for comparing the cumulative incidence of a competing
   risk. Ann Stat 16:1141–1154.
.. [2] Putter H, Fiocco M, Geskus RB (2007). Tutorial in biostatistics: competing risks and multi-state
   models. Stat Med 26:2389–2430.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analyses.cif import clean_status, group_index
from analyses.results import AnalysisError

__all__ = ["GrayTestResult", "gray_test"]


@dataclass(frozen=True)
class GrayTestResult:
    """Gray's test of equal cumulative incidence across groups.

    Attributes
    ----------
    statistic : float
        ``s' V⁻¹ s``; chi-square with ``df`` degrees of freedom under the null hypothesis.
    df : int
        Number of groups − 1.
    p : float
        Upper tail probability (``scipy.stats.chi2.sf``; cmprsk's ``1 - pchisq`` agrees except below
        about 1e-10, where subtracting from 1 loses precision).
    event : int
        Status code of the cause whose incidence is compared.
    groups : tuple of str
        Group labels in sorted order.
    strata_col : str or None
    n_strata : int
    rho : float
        Power of the weight (1 − F(t−))^rho; 0 (cmprsk's default) gives log-rank-like weights.
    """

    statistic: float
    df: int
    p: float
    event: int
    groups: tuple[str, ...]
    strata_col: str | None
    n_strata: int
    rho: float = 0.0


def _km_before(d: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Per-group KM factor before each time (rows = times) from failures d among n at risk."""
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(n > 0, 1.0 - d / n, 1.0)
    after = np.cumprod(step, axis=0)
    return np.vstack([np.ones((1, d.shape[1])), after[:-1]])


def _stratum_score(
    time: np.ndarray, code: np.ndarray, group: np.ndarray, ng: int, rho: float
) -> tuple[np.ndarray, np.ndarray]:
    """Score (ng − 1) and its variance (ng − 1 square) within one stratum (cmprsk's ``crst``)."""
    utime, inverse = np.unique(time, return_inverse=True)
    counts = np.zeros((utime.size, ng, 3))
    np.add.at(counts, (inverse, group, code), 1.0)
    leaving = counts.sum(axis=2)
    rs = leaving[::-1].cumsum(axis=0)[::-1]  # at risk per group: time >= t
    d1, d2 = counts[:, :, 1], counts[:, :, 2]
    keep = (d1 + d2).sum(axis=1) > 0  # only times with a failure of either cause count
    rs, d1, d2 = rs[keep], d1[keep], d2[keep]
    nd1 = d1.sum(axis=1)

    skmm = _km_before(d1 + d2, rs)  # group KM, left-continuous
    with np.errstate(divide="ignore", invalid="ignore"):
        skm = np.where(rs > 0, skmm * (rs - d1 - d2) / rs, skmm)
        jump = np.where(rs > 0, skmm * d1 / rs, 0.0)
        f1m = np.vstack([np.zeros((1, ng)), np.cumsum(jump, axis=0)[:-1]])  # group CIF, left-continuous
        t1 = np.where(rs > 0, rs / skmm, 0.0)  # R_k / S_k(t-) in Gray's notation
        tr = t1.sum(axis=1)
        tq = (t1 * (1.0 - f1m)).sum(axis=1)
    f = np.cumsum(nd1 / tr)  # pooled CIF, right-continuous
    fm = np.concatenate(([0.0], f[:-1]))
    fb = (1.0 - fm) ** rho

    # a[t] = fb (diag(t1) - t1 t1' / tr); c = running sum of a · nd1 / (tr (1 - fm)).
    a = fb[:, None, None] * (
        np.einsum("ti,ij->tij", t1, np.eye(ng)) - t1[:, :, None] * t1[:, None, :] / tr[:, None, None]
    )
    c = np.cumsum(a * (nd1 / (tr * (1.0 - fm)))[:, None, None], axis=0)

    with np.errstate(divide="ignore", invalid="ignore"):
        expected = nd1[:, None] * t1 * (1.0 - f1m) / tq[:, None]
        score = (fb[:, None] * np.where(rs > 0, d1 - expected, 0.0)).sum(axis=0)
        # failures of the cause: every group with someone at risk
        t4 = np.where(skm > 0, 1.0 - (1.0 - f[:, None]) / skm, 1.0)
        tie = np.where(nd1[:, None] > 1, 1.0 - (nd1[:, None] - 1.0) / (tr[:, None] * skmm - 1.0), 1.0)
        t3 = np.where((rs > 0) & (nd1[:, None] > 0), tie * skmm * nd1[:, None] / (tr[:, None] * rs), 0.0)
        # failures of the other cause: groups that have them and whose KM is still positive
        u4 = np.where(skm > 0, (1.0 - f[:, None]) / skm, 0.0)
        tie2 = np.where(d2 > 1, 1.0 - (d2 - 1.0) / (rs - 1.0), 1.0)
        u3 = np.where((skm > 0) & (d2 > 0), tie2 * skmm**2 * d2 / rs**2, 0.0)
    b1 = a - t4[:, None, :] * c  # [t, i, k]
    b2 = u4[:, None, :] * c
    v3 = (t4**2 * t3 + u4**2 * u3).sum(axis=0)
    v2 = np.einsum("tik,tk->ik", b1, t4 * t3) - np.einsum("tik,tk->ik", b2, u4 * u3)
    v = np.einsum("tik,tjk,tk->ij", b1, b1, t3) + np.einsum("tik,tjk,tk->ij", b2, b2, u3)
    cf = c[-1]
    v += (cf * v3) @ cf.T + cf @ v2.T + v2 @ cf.T
    m = ng - 1
    return score[:m], v[:m, :m]


def gray_test(
    df: pd.DataFrame,
    duration_col: str,
    status_col: str,
    group_col: str,
    *,
    strata_col: str | None = None,
    event: int = 1,
    competing: int = 2,
    rho: float = 0.0,
) -> GrayTestResult:
    """Gray's test that the cumulative incidence of ``event`` is the same in every group.

    Matches ``cmprsk::cuminc(time, status, group, strata, rho)$Tests`` for the cause ``event``.

    Parameters
    ----------
    df : pandas.DataFrame
    duration_col, status_col : str
        Follow-up time (days) and status (0 censored, ``event``, ``competing``).
    group_col : str
        The groups compared (at least two).
    strata_col : str, optional
        Stratify the test: scores and variances are computed within strata and summed.
    event, competing : int
        Status codes of the cause tested and of the other cause.
    rho : float
        Weight power; 0 as in cmprsk's default.

    Returns
    -------
    GrayTestResult

    Raises
    ------
    AnalysisError
        Fewer than two groups, no events of the cause, or a singular variance (for example a group
        with nobody at risk at any event time); plus the input errors of ``cumulative_incidence``.

    References
    ----------
    .. [1] Gray RJ (1988). Ann Stat 16:1141–1154.
    """
    required = (group_col,) + ((strata_col,) if strata_col is not None else ())
    data, time, code = clean_status(df, duration_col, status_col, event, competing, required=required)
    group, levels = group_index(data, group_col)
    ng = len(levels)
    if ng < 2:
        raise AnalysisError(
            f"Gray's test compares groups, but {group_col!r} has only one group here; no test is reported."
        )
    if not (code == 1).any():
        raise AnalysisError(f"Gray's test needs at least one event (code {event}); there are none.")
    if strata_col is None:
        stratum, n_strata = np.zeros(time.size, dtype=np.int64), 1
    else:
        stratum, strata_levels = group_index(data, strata_col)
        n_strata = len(strata_levels)
    score, var = np.zeros(ng - 1), np.zeros((ng - 1, ng - 1))
    for k in range(n_strata):
        mask = stratum == k
        s_k, v_k = _stratum_score(time[mask], code[mask], group[mask], ng, rho)
        score += s_k
        var += v_k
    if not np.isfinite(var).all() or np.linalg.matrix_rank(var, tol=1e-7 * np.abs(var).max()) < ng - 1:
        raise AnalysisError(
            f"Gray's test cannot be computed: its variance is singular (a group in {group_col!r} has no "
            "one at risk when events happen, or too few events)."
        )
    statistic = float(score @ np.linalg.solve(var, score))
    return GrayTestResult(
        statistic=statistic,
        df=ng - 1,
        p=float(stats.chi2.sf(statistic, ng - 1)),
        event=event,
        groups=tuple(levels),
        strata_col=strata_col,
        n_strata=n_strata,
        rho=rho,
    )
