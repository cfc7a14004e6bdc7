"""The numerical engine of :func:`analyses.cox.fit_cox`: risk-set sums, Newton–Raphson, residuals, tests.

Data are sorted by stratum and descending time (:class:`SortedData`) so that every risk-set sum is a
cumulative sum; tied events are grouped with ``np.add.reduceat``. Efron's approximation and Breslow's
(``frac`` 0) share one code path; case weights follow R's weighted Efron (each tied event counts with
the mean weight of the tied set). The information matrix is assembled without per-time p x p arrays,
so one iteration costs O(n p^2). Everything here reproduces ``survival`` 3.5's ``coxph``,
``residuals.coxph(type = "score")``, ``cox.zph(transform = "km", terms = FALSE)`` and the global tests
of ``summary.coxph``; :mod:`analyses.cox` turns the numbers into a result.

References
----------
Efron B (1977). The efficiency of Cox's likelihood function for censored data. JASA 72:557–565.
Lin DY, Wei LJ (1989). The robust inference for the Cox proportional hazards model. JASA 84:1074–1078.
Grambsch PM, Therneau TM (1994). Proportional hazards tests and diagnostics based on weighted
residuals. Biometrika 81:515–526.
Therneau TM, Grambsch PM (2000). Modeling Survival Data: Extending the Cox Model. Springer, ch. 3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analyses.results import AnalysisError

__all__ = [
    "EPS",
    "MAX_ITER",
    "NewtonStart",
    "SortedData",
    "efron_pieces",
    "global_tests",
    "information",
    "newton",
    "score_residuals",
    "zph_statistics",
]

EPS = 1e-9  # coxph's default relative log-likelihood tolerance
MAX_ITER = 30


class SortedData:
    """Data sorted by stratum then descending time, with the tied-event bookkeeping Efron needs."""

    def __init__(self, time, event, X, weights, strata, efron):
        order = np.lexsort((event, -time, strata))  # within a time, events last (sum order only)
        self.order = order
        self.t, self.d, self.X = time[order], event[order], X[order]
        self.w, self.s = weights[order], strata[order]
        n = len(time)
        new_block = np.ones(n, dtype=bool)
        new_block[1:] = (self.t[1:] != self.t[:-1]) | (self.s[1:] != self.s[:-1])
        self.block_start = np.flatnonzero(new_block)
        self.block_end = np.append(self.block_start[1:], n) - 1
        self.block_of_row = np.cumsum(new_block) - 1
        new_stratum = np.ones(n, dtype=bool)
        new_stratum[1:] = self.s[1:] != self.s[:-1]
        stratum_start = np.flatnonzero(new_stratum)
        self.stratum_first = stratum_start[np.cumsum(new_stratum) - 1]  # first row of each row's stratum
        self.stratum_last = np.append(stratum_start[1:], n)[np.cumsum(new_stratum) - 1]  # one past
        nd = np.add.reduceat(self.d.astype(float), self.block_start)
        self.dblocks = np.flatnonzero(nd > 0)  # blocks with at least one event
        self.nd = nd[self.dblocks]
        self.dw = np.add.reduceat(self.w * self.d, self.block_start)[self.dblocks]
        self.meanwt = self.dw / self.nd
        # one entry per event: its death block and Efron's fraction k/d
        self.k_block = np.repeat(np.arange(len(self.dblocks)), self.nd.astype(int))
        first = np.concatenate(([0], np.cumsum(self.nd)[:-1])).astype(int)
        k = np.arange(len(self.k_block)) - first[self.k_block]
        self.frac = k / self.nd[self.k_block] if efron else np.zeros(len(self.k_block))
        # precomputed for the sums below, which every Newton step repeats
        self.single_stratum = bool(new_stratum[1:].sum() == 0)
        self.risk_rows = self.block_end[self.dblocks]  # last row of each death block
        first = self.stratum_first[self.risk_rows]  # its stratum's first row: the sums restart there
        self.risk_base = np.where(first > 0, first - 1, 0)
        self.risk_base_used = first > 0
        self.death_rows = np.flatnonzero(self.d)  # events sort last within a block, so each block's are
        self.death_block_start = np.flatnonzero(np.r_[True, np.diff(self.block_of_row[self.death_rows]) != 0])
        blk_index = np.full(len(self.block_start), -1)
        blk_index[self.dblocks] = np.arange(len(self.dblocks))
        self.death_row_block = blk_index[self.block_of_row[self.death_rows]]  # each event's death block

    def risk_cumsum(self, v):
        """Risk-set sums at the last row of every death block (cumulative sums within stratum).

        Only the rows needed are read out of the running sum (the same additions as a difference of
        the full cumulative sums, so the same numbers)."""
        c = np.cumsum(v, axis=0)
        out = c[self.risk_rows]
        if not self.single_stratum:
            base = c[self.risk_base]
            base[~self.risk_base_used] = 0.0
            out = out - base
        return out

    def per_row_from_blocks(self, per_block):
        """Sum over death blocks at or after each row's own (same stratum): value at time <= t_i."""
        placed = np.zeros((len(self.t), *per_block.shape[1:]))
        placed[self.risk_rows] = per_block
        rc = np.cumsum(placed[::-1], axis=0)[::-1]
        if self.single_stratum:
            return rc
        rc = np.concatenate((rc, np.zeros((1, *per_block.shape[1:]))))
        return rc[:-1] - rc[self.stratum_last]

    def death_sums(self, v):
        """Per death block, the sum of ``v`` over its events (rows or a vector)."""
        return np.add.reduceat(v[self.death_rows], self.death_block_start, axis=0)


def efron_pieces(S: SortedData, beta):
    """Log-likelihood, score and the per-event quantities the information and residuals need."""
    eta = S.X @ beta
    with np.errstate(over="ignore"):
        r = S.w * np.exp(eta)
    rz = np.empty((len(r), S.X.shape[1] + 1), order="F")  # column-major: the running sums go down columns
    rz[:, 0] = r
    np.multiply(r[:, None], S.X, out=rz[:, 1:])
    risk, dead = S.risk_cumsum(rz), S.death_sums(rz)  # one pass for the sums of r and r * x
    s0, s1, d0, d1 = risk[:, 0], risk[:, 1:], dead[:, 0], dead[:, 1:]
    b = S.k_block
    den = s0[b] - S.frac * d0[b]
    a = (s1[b] - S.frac[:, None] * d1[b]) / den[:, None]
    mw = S.meanwt[b]
    dw = S.w * S.d
    with np.errstate(divide="ignore", invalid="ignore"):
        loglik = float(dw @ eta - mw @ np.log(den))
    score = dw @ S.X - mw @ a
    return loglik, score, dict(r=r, den=den, a=a, mw=mw)


def information(S: SortedData, p, mult=None):
    """sum over death blocks of mult_b * (Efron information of block b); mult defaults to 1."""
    m = np.ones(len(S.dblocks)) if mult is None else mult
    b = S.k_block
    wk = p["mw"] * m[b] / p["den"]
    c1 = np.bincount(b, weights=wk, minlength=len(S.dblocks))
    c2 = np.bincount(b, weights=wk * S.frac, minlength=len(S.dblocks))
    per_row = p["r"] * S.per_row_from_blocks(c1)
    c2_row = np.zeros(len(S.t))
    c2_row[S.death_rows] = c2[S.death_row_block]
    v = per_row - p["r"] * c2_row
    return S.X.T @ (S.X * v[:, None]) - p["a"].T @ (p["a"] * (p["mw"] * m[b])[:, None])


def newton(S: SortedData):
    """Newton–Raphson from beta = 0 with step halving and coxph's stopping rule; also returns the start."""
    beta = np.zeros(S.X.shape[1])
    loglik, score, pieces = efron_pieces(S, beta)
    loglik0 = loglik
    info = information(S, pieces)
    start = NewtonStart(score, info, pieces)
    for iteration in range(1, MAX_ITER + 1):
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError as exc:
            raise AnalysisError(
                "The Cox model's information matrix is singular; check for collinear "
                "covariates or a covariate level with no events."
            ) from exc
        new_beta = beta + step
        new_loglik, new_score, new_pieces = efron_pieces(S, new_beta)
        halvings = 0
        while not np.isfinite(new_loglik) or new_loglik < loglik - 1e-12 * abs(loglik):
            halvings += 1
            if halvings > 30:
                raise AnalysisError("The Cox model did not converge (step halving failed).")
            new_beta = (new_beta + beta) / 2
            new_loglik, new_score, new_pieces = efron_pieces(S, new_beta)
        done = abs(1 - loglik / new_loglik) <= EPS * 1e-3 or np.abs(new_beta - beta).max() < 1e-12
        beta, loglik, score, pieces = new_beta, new_loglik, new_score, new_pieces
        info = information(S, pieces)
        if done:
            return beta, loglik, loglik0, score, info, pieces, iteration, start
    raise AnalysisError(
        f"The Cox model did not converge in {MAX_ITER} iterations; a coefficient may be infinite "
        "(a covariate level with no events, or perfect separation)."
    )


def score_residuals(S: SortedData, p) -> np.ndarray:
    """Per-row score residuals (R ``residuals(fit, "score")``), in sorted order, unweighted."""
    b = S.k_block
    nb = len(S.dblocks)
    haz = p["mw"] / p["den"]
    keep = 1 - S.frac  # an event's own risk weight at Efron step k

    def per_block(v):
        return np.stack([np.bincount(b, weights=v[:, j], minlength=nb) for j in range(v.shape[1])], 1)

    hz = np.bincount(b, weights=haz, minlength=nb)
    hz2 = np.bincount(b, weights=haz * keep, minlength=nb)
    xh = per_block(p["a"] * haz[:, None])
    xh2 = per_block(p["a"] * (haz * keep)[:, None])
    xbar = per_block(p["a"]) / S.nd[:, None]
    H = S.per_row_from_blocks(hz)
    XH = S.per_row_from_blocks(xh)
    death = S.d.astype(bool)
    blk_index = np.full(len(S.block_start), -1)
    blk_index[S.dblocks] = np.arange(nb)
    own = blk_index[S.block_of_row[death]]
    H[death] += hz2[own] - hz[own]
    XH[death] += xh2[own] - xh[own]
    risk = p["r"] / S.w
    resid = -risk[:, None] * (S.X * H[:, None] - XH)
    resid[death] += S.X[death] - xbar[own]
    return resid


def zph_statistics(S: SortedData, p, time, event):
    """Score tests of cox.zph(fit, transform = "km", terms = FALSE), survival 3.x."""
    ut, inv = np.unique(time, return_inverse=True)
    d = np.bincount(inv, weights=event.astype(float))
    n_risk = len(time) - np.r_[0, np.cumsum(np.bincount(inv))[:-1]]
    s_before = np.r_[1.0, np.cumprod(1 - d / n_risk)[:-1]]
    ttimes = 1 - s_before[inv]
    g_block = 1 - s_before[np.searchsorted(ut, S.t[S.block_end[S.dblocks]])] - ttimes[event].mean()
    nvar = S.X.shape[1]
    u_block = S.death_sums(S.w[:, None] * S.X) - np.stack(
        [np.bincount(S.k_block, weights=p["mw"] * p["a"][:, j], minlength=len(S.dblocks)) for j in range(nvar)], 1
    )
    u = np.r_[np.zeros(nvar), g_block @ u_block]
    i11 = information(S, p)
    i12 = information(S, p, g_block)
    i22 = information(S, p, g_block**2)
    imat = np.block([[i11, i12], [i12.T, i22]])
    rows = []
    for j in range(nvar):
        kk = np.r_[np.arange(nvar), nvar + j]
        uu = u[kk]
        rows.append(float(uu @ np.linalg.solve(imat[np.ix_(kk, kk)], uu)))
    rows.append(float(u @ np.linalg.solve(imat, u)))
    return rows


@dataclass(frozen=True)
class NewtonStart:
    """Score, information and per-event pieces at beta = 0 (the score test's ingredients)."""

    score: np.ndarray
    info: np.ndarray
    pieces: dict


def _quadratic_form(u: np.ndarray, v: np.ndarray) -> float:
    """``u' v^- u`` (a pseudo-inverse, as coxph.wtest's generalized Cholesky inverse); NaN if not finite."""
    if not (np.isfinite(u).all() and np.isfinite(v).all()):
        return np.nan
    return float(u @ np.linalg.lstsq(v, u, rcond=None)[0])


def global_tests(
    beta: np.ndarray,
    loglik: float,
    loglik0: float,
    start: NewtonStart,
    vcov: np.ndarray,
    robust_score_resid: np.ndarray | None = None,
) -> pd.DataFrame:
    """The global tests of ``summary(coxph)``: ``logtest``, ``waldtest``, ``sctest`` and ``robscore``.

    Parameters
    ----------
    beta, loglik, loglik0 : the estimate and the log partial likelihood at it and at beta = 0.
    start : NewtonStart
        Score and information at beta = 0 (score test ``U(0)' I(0)^-1 U(0)``, the log-rank test when the
        model has one categorical covariate).
    vcov : ndarray
        The variance used for the Wald test ``beta' V^-1 beta`` (robust when the fit's is).
    robust_score_resid : ndarray, optional
        Weighted score residuals at beta = 0, summed within clusters: R's robust score test
        ``u' (R'R)^-1 u``; no such row without them.

    Returns
    -------
    DataFrame
        test (``likelihood ratio``, ``Wald``, ``score``, ``robust score``), statistic, df, p.
    """
    df_ = len(beta)
    rows = [
        ("likelihood ratio", 2.0 * (loglik - loglik0)),
        ("Wald", _quadratic_form(beta, vcov)),
        ("score", _quadratic_form(start.score, start.info)),
    ]
    if robust_score_resid is not None:
        u = robust_score_resid.sum(axis=0)
        rows.append(("robust score", _quadratic_form(u, robust_score_resid.T @ robust_score_resid)))
    names, values = zip(*rows, strict=True)
    statistic = np.asarray(values, dtype=float)
    return pd.DataFrame({"test": list(names), "statistic": statistic, "df": df_, "p": stats.chi2.sf(statistic, df_)})
