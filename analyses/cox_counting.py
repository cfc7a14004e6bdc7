"""The Cox model with time-varying covariates on counting-process (start, stop] rows.

R's ``coxph(Surv(start, stop, event) ~ ...)``: Efron or Breslow ties, case weights, robust (sandwich)
standard errors clustered on patient. The design (dummy coding, reference levels), the collinearity and
finiteness checks and the terms table are those of :mod:`analyses.cox`, shared with ``fit_cox``.

References
----------
Therneau TM, Grambsch PM (2000). Modeling Survival Data: Extending the Cox Model. Springer, ch. 3.
Efron B (1977). The efficiency of Cox's likelihood function for censored data. JASA 72:557–565.
Lin DY, Wei LJ (1989). The robust inference for the Cox proportional hazards model. JASA 84:1074–1078.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analyses.counting import counting_arrays
from analyses.cox import check_collinear, check_finite, design_matrix, terms_table
from analyses.results import AnalysisError, AnalysisWarning

__all__ = ["CountingCoxResult", "fit_cox_counting"]


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
        Counting-process rows, e.g. from :func:`analyses.counting.start_stop_frame` (covariate ``exposed``).
    start_col, stop_col, event_col : str
    covariates : sequence of str
        Numeric columns enter as they are; text columns are dummy-coded as in :func:`analyses.cox.fit_cox`.
    ref_levels, weights_col, ties, conf_level
        As :func:`analyses.cox.fit_cox`.
    robust : bool
        Sandwich standard errors; summed within ``cluster_col`` (use ``row_id`` from
        :func:`analyses.counting.start_stop_frame` so a patient's intervals form one cluster, R ``cluster = row_id``).
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
    entry, stop, event = counting_arrays(sub, start_col, stop_col, event_col)
    if not event.any():
        raise AnalysisError("There are no events in this cohort, so a Cox model cannot be fitted.")
    X, names, cov_of, level_of, refs = design_matrix(sub, covariates, dict(ref_levels or {}))
    check_collinear(X, names)
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
    vcov = check_finite(beta, info, score, names)
    robust_vcov = None
    if robust or cluster_col:
        dfbeta = (_counting_score_residuals(R, Xc, pieces) @ vcov) * w[:, None]
        if cluster_col:
            dfbeta = pd.DataFrame(dfbeta).groupby(sub[cluster_col].to_numpy()).sum().to_numpy()
        robust_vcov = dfbeta.T @ dfbeta
    terms = terms_table(names, cov_of, level_of, beta, vcov, robust_vcov, conf_level)
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
