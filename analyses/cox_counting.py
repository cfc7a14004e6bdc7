"""The Cox model with time-varying covariates on counting-process (start, stop] rows.

R's ``coxph(Surv(start, stop, event) ~ ... + strata(...))``: Efron or Breslow ties, strata (a baseline
hazard of their own, risk sets within the stratum), case weights, robust (sandwich) standard errors
clustered on patient. The design (dummy coding, reference levels), the collinearity and finiteness
checks and the terms table are those of :mod:`analyses.cox`, shared with ``fit_cox``; so are the choice
of variance (robust with a cluster or non-integer weights, as ``coxph``) and the global tests of
``summary(coxph)`` (likelihood ratio, Wald, score and robust score). Start and stop times equal within
rounding are merged (:func:`analyses.counting.counting_arrays`).

References
----------
Therneau TM, Grambsch PM (2000). Modeling Survival Data: Extending the Cox Model. Springer, ch. 3.
Efron B (1977). The efficiency of Cox's likelihood function for censored data. JASA 72:557–565.
Lin DY, Wei LJ (1989). The robust inference for the Cox proportional hazards model. JASA 84:1074–1078.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analyses.counting import counting_arrays
from analyses.cox import check_collinear, check_finite, design_matrix, terms_table
from analyses.cox_engine import NewtonStart, global_tests
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
    strata : tuple of str
        The stratification columns (empty without strata).
    variance : str
        ``"robust"`` or ``"model-based"``, as :class:`analyses.cox.CoxResult`.
    tests : DataFrame
        test, statistic, df, p: likelihood ratio, Wald, score (``score_test``), and robust score with a
        robust variance (R ``summary(coxph)``).
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
    strata: tuple[str, ...] = ()
    variance: str = "model-based"
    tests: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["test", "statistic", "df", "p"]))


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


class _Strata:
    """One :class:`_Risk` per stratum, with the rows of each (risk sets never cross strata)."""

    def __init__(self, entry, stop, event, w, efron, codes):
        self.rows = [np.flatnonzero(codes == c) for c in np.unique(codes)]
        self.risks = [_Risk(entry[r], stop[r], event[r], w[r], efron) for r in self.rows]
        self.n = len(stop)


def _stratum_pieces(R: _Risk, X, beta):
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


def _cox_pieces(S: _Strata, X, beta):
    """Log partial likelihood, score and information summed over strata; the pieces of each stratum."""
    loglik, score, info, pieces = 0.0, np.zeros(X.shape[1]), np.zeros((X.shape[1], X.shape[1])), []
    for rows, R in zip(S.rows, S.risks, strict=True):
        ll, sc, inf, p = _stratum_pieces(R, X[rows], beta)
        loglik, score, info = loglik + ll, score + sc, info + inf
        pieces.append(p)
    return loglik, score, info, pieces


def _counting_newton(R: _Strata, X):
    beta = np.zeros(X.shape[1])
    loglik, score, info, pieces = _cox_pieces(R, X, beta)
    loglik0 = loglik
    start = NewtonStart(score, info, {"strata": pieces})
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
            return beta, loglik, loglik0, score, info, pieces, score_stat, iteration, start
    raise AnalysisError(
        "The time-varying Cox model did not converge in 30 iterations; a coefficient may be "
        "infinite (a level with no events, or perfect separation)."
    )


def _counting_score_residuals(S: _Strata, X, pieces) -> np.ndarray:
    """Per-interval score residuals (R ``residuals(fit, "score")``), unweighted, stratum by stratum."""
    resid = np.zeros((S.n, X.shape[1]))
    for rows, R, p in zip(S.rows, S.risks, pieces, strict=True):
        resid[rows] = _stratum_score_residuals(R, X[rows], p)
    return resid


def _stratum_score_residuals(R: _Risk, X, p) -> np.ndarray:
    """Per-interval score residuals of one stratum, unweighted, Efron or Breslow."""
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
    robust: bool | None = None,
    cluster_col: str | None = None,
    weights_col: str | None = None,
    ties: str = "efron",
    conf_level: float = 0.95,
    strata: str | Sequence[str] | None = None,
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
    robust : bool, optional
        Sandwich standard errors; summed within ``cluster_col`` (use ``row_id`` from
        :func:`analyses.counting.start_stop_frame` so a patient's intervals form one cluster, R ``cluster = row_id``).
        Default (None) as ``coxph``: robust with a ``cluster_col`` or with non-integer weights.
    cluster_col : str, optional
    strata : str or sequence of str, optional
        Stratify the baseline hazard (R ``+ strata(...)``); rows with a missing stratum are dropped.

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
    strata_cols = [strata] if isinstance(strata, str) else list(strata or [])
    needed = covariates + strata_cols + [c for c in (cluster_col, weights_col) if c]
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
    if strata_cols:
        codes = sub[strata_cols].astype(str).agg("\x1f".join, axis=1).factorize(sort=True)[0]
    else:
        codes = np.zeros(len(stop), dtype=np.int64)
    if robust is None:  # coxph: robust with a cluster or with weights that are not frequencies
        robust = bool(weights_col) and not np.array_equal(w, np.floor(w))
    robust = robust or cluster_col is not None
    Xc = X - X.mean(0)
    R = _Strata(entry, stop, event, w, ties == "efron", codes)
    beta, loglik, loglik0, score, info, pieces, score_stat, iterations, start = _counting_newton(R, Xc)
    vcov = check_finite(beta, info, score, names)
    robust_vcov = robust_score = None
    if robust:
        clusters = None if cluster_col is None else sub[cluster_col].to_numpy()
        dfbeta = _per_cluster(_counting_score_residuals(R, Xc, pieces) @ vcov, w, clusters)
        robust_vcov = dfbeta.T @ dfbeta
        robust_score = _per_cluster(_counting_score_residuals(R, Xc, start.pieces["strata"]), w, clusters)
    terms = terms_table(names, cov_of, level_of, beta, vcov, robust_vcov, conf_level)
    tests = global_tests(beta, loglik, loglik0, start, vcov if robust_vcov is None else robust_vcov, robust_score)
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
        strata=tuple(strata_cols),
        variance="robust" if robust else "model-based",
        tests=tests,
    )


def _per_cluster(resid: np.ndarray, w: np.ndarray, clusters: np.ndarray | None) -> np.ndarray:
    """Rows' residuals times their case weight, summed within clusters (each row its own without)."""
    out = resid * w[:, None]
    return out if clusters is None else pd.DataFrame(out).groupby(clusters).sum().to_numpy()
