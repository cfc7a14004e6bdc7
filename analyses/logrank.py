"""Log-rank tests: overall, stratified, Fleming–Harrington weighted, trend and pairwise (Holm).

At each distinct event time t (within a stratum) with n at risk and d events, group g contributes
``O_g += w d_g``, ``E_g += w d n_g / n`` and the hypergeometric covariance
``V_gh += w^2 d (n - d) / (n - 1) * (n_g / n) (delta_gh - n_h / n)``; strata are summed. The weight is
the Fleming–Harrington ``w = S(t-)^rho (1 - S(t-))^gamma`` where ``S(t-)`` is the pooled Kaplan–Meier
just before t in the stratum. ``rho = gamma = 0`` is the log-rank test and ``gamma = 0`` is exactly R's
``survdiff(..., rho = rho)`` (which reports weighted observed and expected counts, as we do). R's
``survdiff`` has no gamma; for ``gamma > 0`` the statistic is validated against a first-principles R
computation in ``tests/r/logrank_reference.R`` (function ``fh``).

The k-group statistic is ``(O - E)' V^- (O - E)`` over the groups with positive expected count, minus
the first (as ``survdiff`` does), with k - 1 degrees of freedom. The trend test uses scores (default
1..k in group order): ``(c'(O - E))^2 / c'Vc`` on 1 degree of freedom. Pairwise tests refit each pair
on its own rows and adjust the p-values by Holm's method (``survminer::pairwise_survdiff``,
``p.adjust(method = "holm")``).

References
----------
Mantel N (1966). Evaluation of survival data and two new rank order statistics. Cancer Chemother Rep 50.
Peto R, Peto J (1972). Asymptotically efficient rank invariant test procedures. JRSS A 135:185–207.
Fleming TR, Harrington DP (1991). Counting Processes and Survival Analysis. Wiley, ch. 7.
Holm S (1979). A simple sequentially rejective multiple test procedure. Scand J Stat 6:65–70.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from analyses.results import AnalysisError, group_codes, group_labels, survival_arrays
from analyses.times import timefix

__all__ = ["LogrankResult", "holm", "logrank_test", "logrank_trend", "pairwise_logrank"]


@dataclass(frozen=True)
class LogrankResult:
    """A chi-square test comparing survival between groups.

    Attributes
    ----------
    statistic, df, p : float, int, float
    method : str
        ``"log-rank"``, ``"Fleming-Harrington(rho, gamma)"``, with ``" trend"`` for the trend test.
    table : DataFrame
        group, n, observed, expected, variance (weighted counts when weights are used), plus score for
        the trend test.
    strata_col : str or None
    rho, gamma : float
    """

    statistic: float
    df: int
    p: float
    method: str
    table: pd.DataFrame
    strata_col: str | None = None
    rho: float = 0.0
    gamma: float = 0.0


def _levels(df: pd.DataFrame, col: str) -> list[str]:
    return [str(v) for v in sorted(pd.unique(df[col]))]


def _components(time, event, codes, k, strata, rho, gamma):
    """Weighted O, E and V summed over strata; ``codes`` are group indices 0..k-1."""
    obs, exp, var = np.zeros(k), np.zeros(k), np.zeros((k, k))
    for s in np.unique(strata):
        m = strata == s
        t, e, g = time[m], event[m], codes[m]
        groups = [(np.sort(t[g == j]), np.sort(t[e & (g == j)])) for j in range(k)]
        _accumulate(groups, rho, gamma, obs, exp, var)
    return obs, exp, var


def _accumulate(groups, rho, gamma, obs, exp, var) -> None:
    """Add one stratum's weighted O, E and V; ``groups`` holds each group's sorted times and event times."""
    ut = np.unique(np.concatenate([events for _, events in groups]))
    if len(ut) == 0:
        return
    k = len(groups)
    n_g = np.empty((len(ut), k))
    d_g = np.zeros((len(ut), k))
    for j, (times, events) in enumerate(groups):
        n_g[:, j] = len(times) - np.searchsorted(times, ut, side="left")
        d_g[:, j] = np.searchsorted(events, ut, side="right") - np.searchsorted(events, ut, side="left")
    n, d = n_g.sum(1), d_g.sum(1)
    km_after = np.cumprod(1 - d / n)
    s_before = np.concatenate(([1.0], km_after[:-1]))
    w = s_before**rho * (1 - s_before) ** gamma
    obs += (w[:, None] * d_g).sum(0)
    frac = n_g / n[:, None]
    exp += (w * d) @ frac
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(n > 1, w**2 * d * (n - d) / (n - 1), 0.0)
    var += np.diag(c @ frac) - (frac * c[:, None]).T @ frac


def _prepare(df, duration_col, event_col, group_col, strata_col):
    time, event = survival_arrays(df, duration_col, event_col)
    time = timefix(time)  # times equal within rounding are one time, as survdiff's timefix
    groups = group_codes(df, group_col)
    if groups is not None:
        levels, codes = groups
    else:
        labels = group_labels(df, group_col)
        levels = _levels(df, group_col)
        codes = pd.Series(labels).map({g: i for i, g in enumerate(levels)}).to_numpy(dtype=int)
    strata = np.zeros(len(time), dtype=int) if strata_col is None else group_labels(df, strata_col)
    return time, event, codes, levels, strata


def _chi_square(obs: np.ndarray, exp: np.ndarray, var: np.ndarray) -> tuple[float, int, float]:
    """``(O - E)' V^- (O - E)`` over the groups with positive expected count but the first; df and p."""
    keep = np.flatnonzero(exp > 0)[1:]
    diff = (obs - exp)[keep]
    v = var[np.ix_(keep, keep)]
    statistic = float(diff @ np.linalg.lstsq(v, diff, rcond=None)[0]) if len(keep) else 0.0
    df_ = len(keep)
    p = float(stats.chi2.sf(statistic, df_)) if df_ > 0 else 1.0
    return statistic, df_, p


def _table(levels, codes, obs, exp, var) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "group": levels,
            "n": np.bincount(codes, minlength=len(levels)),
            "observed": obs,
            "expected": exp,
            "variance": np.diag(var),
        }
    )


def _method(rho: float, gamma: float) -> str:
    return "log-rank" if rho == 0 and gamma == 0 else f"Fleming-Harrington({rho:g}, {gamma:g})"


def logrank_test(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    group_col: str,
    *,
    strata_col: str | None = None,
    rho: float = 0.0,
    gamma: float = 0.0,
) -> LogrankResult:
    """Test equality of survival across the groups of ``group_col`` (R ``survdiff``).

    Parameters
    ----------
    df : DataFrame
    duration_col, event_col : str
        Time and event (1 = event, anything else censored).
    group_col : str
        Groups to compare (at least two).
    strata_col : str, optional
        Stratify: ``survdiff(Surv(t, e) ~ group + strata(s))``.
    rho, gamma : float
        Fleming–Harrington weights ``S(t-)^rho (1 - S(t-))^gamma``; 0, 0 is the log-rank test.

    Returns
    -------
    LogrankResult

    References
    ----------
    Mantel (1966); Peto & Peto (1972); Fleming & Harrington (1991).
    """
    time, event, codes, levels, strata = _prepare(df, duration_col, event_col, group_col, strata_col)
    if len(levels) < 2:
        raise AnalysisError(f"Column {group_col!r} has a single group ({levels[0]}); a test needs two.")
    if not event.any():
        raise AnalysisError("There are no events, so survival cannot be compared between groups.")
    obs, exp, var = _components(time, event, codes, len(levels), strata, rho, gamma)
    statistic, df_, p = _chi_square(obs, exp, var)
    return LogrankResult(
        statistic, df_, p, _method(rho, gamma), _table(levels, codes, obs, exp, var), strata_col, rho, gamma
    )


def logrank_trend(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    group_col: str,
    *,
    order: Sequence[str] | None = None,
    scores: Sequence[float] | None = None,
    strata_col: str | None = None,
    rho: float = 0.0,
    gamma: float = 0.0,
) -> LogrankResult:
    """Test for a trend in survival across ordered groups (1 degree of freedom).

    Parameters
    ----------
    order : sequence of str, optional
        Group order (default: sorted); scores default to 1..k in this order.
    scores : sequence of float, optional
        One score per group in ``order``.

    Other parameters are as for :func:`logrank_test`.

    References
    ----------
    Collett D (2015). Modelling Survival Data in Medical Research, 3rd ed., section 2.6.
    """
    time, event, codes, levels, strata = _prepare(df, duration_col, event_col, group_col, strata_col)
    if len(levels) < 2:
        raise AnalysisError(f"Column {group_col!r} has a single group; a trend test needs two or more.")
    if not event.any():
        raise AnalysisError("There are no events, so there is no trend to test.")
    order = list(levels) if order is None else [str(g) for g in order]
    if sorted(order) != sorted(levels):
        raise AnalysisError(f"The order {order} does not list exactly the groups {levels}.")
    sc = np.arange(1, len(order) + 1, dtype=float) if scores is None else np.asarray(scores, dtype=float)
    if len(sc) != len(order):
        raise AnalysisError(f"Give one score per group ({len(order)}), not {len(sc)}.")
    score_by_level = np.array([sc[order.index(g)] for g in levels])
    obs, exp, var = _components(time, event, codes, len(levels), strata, rho, gamma)
    u = score_by_level @ (obs - exp)
    v = score_by_level @ var @ score_by_level
    statistic = float(u**2 / v)
    table = _table(levels, codes, obs, exp, var).assign(score=score_by_level)
    return LogrankResult(
        statistic, 1, float(stats.chi2.sf(statistic, 1)), _method(rho, gamma) + " trend", table, strata_col, rho, gamma
    )


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm-adjusted p-values (R ``p.adjust(p, "holm")``).

    References
    ----------
    Holm S (1979). A simple sequentially rejective multiple test procedure. Scand J Stat 6:65–70.
    """
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out


def pairwise_logrank(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    group_col: str,
    *,
    strata_col: str | None = None,
    rho: float = 0.0,
    gamma: float = 0.0,
) -> pd.DataFrame:
    """Every pair of groups compared on its own rows, Holm-adjusted (``survminer::pairwise_survdiff``).

    Returns
    -------
    DataFrame
        group1, group2, statistic, p, p_adjusted, note (pairs in sorted order). A pair with no event in
        either group cannot be tested: its statistic, p and p_adjusted are NaN and ``note`` says why
        (R's ``survdiff`` gives chi-square 0 on -1 df and p NA); the other pairs are still reported, and
        Holm's adjustment is over the pairs tested (``p.adjust`` skips NA). ``note`` is empty otherwise.

    Raises
    ------
    AnalysisError
        Bad input (as :func:`logrank_test`).

    Notes
    -----
    The data are checked and each group's times sorted once; each pair's statistic is then built from the
    two groups' times exactly as ``logrank_test`` builds it on the pair's rows.
    """
    time, event, codes, levels, strata = _prepare(df, duration_col, event_col, group_col, strata_col)
    layers = []  # per stratum, each group's sorted times and event times, sorted once for all pairs
    for s in np.unique(strata):
        m = strata == s
        t, e, g = time[m], event[m], codes[m]
        layers.append([(np.sort(t[g == j]), np.sort(t[e & (g == j)])) for j in range(len(levels))])
    rows = []
    for a, b in combinations(range(len(levels)), 2):
        row = {"group1": levels[a], "group2": levels[b], "statistic": np.nan, "p": np.nan, "note": ""}
        rows.append(row)
        if not any(len(layer[a][1]) + len(layer[b][1]) for layer in layers):
            row["note"] = "No events in either group, so this pair cannot be compared."
            continue
        obs, exp, var = np.zeros(2), np.zeros(2), np.zeros((2, 2))
        for layer in layers:  # strata the pair has no row in add nothing, as in logrank_test on its rows
            if len(layer[a][0]) + len(layer[b][0]):
                _accumulate([layer[a], layer[b]], rho, gamma, obs, exp, var)
        row["statistic"], _, row["p"] = _chi_square(obs, exp, var)
    out = pd.DataFrame(rows, columns=["group1", "group2", "statistic", "p", "note"])
    tested = out["p"].notna().to_numpy()
    adjusted = np.full(len(out), np.nan)
    adjusted[tested] = holm(out["p"].to_numpy()[tested])
    out.insert(4, "p_adjusted", adjusted)
    return out
