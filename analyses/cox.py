"""Cox proportional hazards regression matching R's ``coxph`` (survival 3.5), in vectorized numpy.

The partial likelihood is maximised by Newton–Raphson from beta = 0 with step halving, as ``coxph``
does, on data sorted by stratum and descending time so that every risk-set sum is a cumulative sum;
tied events are grouped with ``np.add.reduceat``. Efron's approximation (default) and Breslow's are
available. Case weights follow R's weighted Efron (each tied event counts with the mean weight of the
tied set). The information matrix is assembled without any per-time p x p arrays, so one iteration costs
O(n p^2): a million rows with seven covariates fit in about a second.

Robust ("sandwich") standard errors are R's: dfbeta residuals (score residuals times the inverse
information, times the case weight), summed within ``cluster_col`` when given, and ``D'D``.

Concordance is R's ``fit$concordance`` (Harrell's C on the linear predictor, within strata, ties in the
predictor counted one half, pairs tied in event time not comparable, a censoring at an event time
counted as longer, pairs weighted by the product of case weights).

The proportional-hazards test reproduces survival 3.x ``cox.zph(fit, transform = "km", terms = FALSE)``:
the score test, at the fitted beta, for adding ``x * g(t)`` where ``g(t) = 1 - S(t-)`` of the pooled,
unweighted Kaplan–Meier, centred at its mean over events; per coefficient (that block plus the full
beta block of the information) and globally. (The 2.x algorithm, scaled Schoenfeld residuals regressed
on g(t), gives slightly different numbers; we match 3.x.)

Text covariates are dummy-coded against a reference level (given, else the first in sorted order,
R's default); terms are named ``"col=LEVEL"``. Rows with a missing covariate are dropped, as R does,
and counted in ``CoxResult.n_dropped``.

References
----------
Cox DR (1972). Regression models and life-tables. JRSS B 34:187–220.
Efron B (1977). The efficiency of Cox's likelihood function for censored data. JASA 72:557–565.
Lin DY, Wei LJ (1989). The robust inference for the Cox proportional hazards model. JASA 84:1074–1078.
Grambsch PM, Therneau TM (1994). Proportional hazards tests and diagnostics based on weighted
residuals. Biometrika 81:515–526.
Harrell FE, Califf RM, Pryor DB, Lee KL, Rosati RA (1982). Evaluating the yield of medical tests.
JAMA 247:2543–2546.
Therneau TM, Grambsch PM (2000). Modeling Survival Data: Extending the Cox Model. Springer.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analyses.results import AnalysisError, AnalysisWarning, survival_arrays
from analyses.times import timefix

__all__ = ["CoxResult", "fit_cox"]

_EPS = 1e-9  # coxph's default relative log-likelihood tolerance
_MAX_ITER = 30


@dataclass(frozen=True)
class CoxResult:
    """A fitted Cox model as tidy tables.

    Attributes
    ----------
    terms : DataFrame
        term, covariate, level (None for numeric), coef, se, robust_se (NaN unless robust), hr,
        hr_ci_lower, hr_ci_upper, z, p. With robust errors z, p and the CI use ``robust_se`` (as R).
    ph_test : DataFrame
        term, statistic, df, p; one row per term then ``GLOBAL`` (cox.zph, km transform, 3.x). No rows
        when the fit skipped it (``fit_cox(with_ph_test=False)``).
    reference_levels : dict
        Reference level of each text covariate.
    n, events, n_dropped : int
        Rows used, events among them, rows dropped for a missing covariate.
    loglik, loglik_null : float
        Partial log-likelihood at the estimate and at beta = 0.
    concordance : float
        Harrell's C (NaN when the fit skipped it: ``fit_cox(with_concordance=False)``).
    vcov : DataFrame
        Model-based covariance of the coefficients (indexed by term).
    robust_vcov : DataFrame or None
    ties : str
    strata : tuple of str
    cluster_col : str or None
    iterations : int
    """

    terms: pd.DataFrame
    ph_test: pd.DataFrame
    reference_levels: dict[str, str]
    n: int
    events: int
    n_dropped: int
    loglik: float
    loglik_null: float
    concordance: float
    vcov: pd.DataFrame
    robust_vcov: pd.DataFrame | None
    ties: str
    strata: tuple[str, ...] = field(default_factory=tuple)
    cluster_col: str | None = None
    iterations: int = 0


# ---------------------------------------------------------------------------------------- design
def _design(df, covariates, ref_levels):
    """Dummy-code text covariates; return X, term names, covariate/level of each term, references."""
    blocks: list[np.ndarray] = []
    names: list[str] = []
    cov_of: list[str] = []
    level_of: list[str | None] = []
    refs: dict[str, str] = {}
    unknown = sorted(set(ref_levels) - set(covariates))
    if unknown:
        raise AnalysisError(f"A reference level is given for {unknown[0]!r}, which is not a covariate.")
    for col in covariates:
        values = df[col]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            if col in ref_levels:
                raise AnalysisError(f"Covariate {col!r} is numeric, so it has no reference level to set.")
            blocks.append(values.to_numpy(dtype=float)[:, None])
            names.append(col)
            cov_of.append(col)
            level_of.append(None)
            continue
        # levels as text; rows coded once (factorize) rather than compared as strings per level
        codes, uniques = pd.factorize(values)
        unique_text = [str(u) for u in uniques]
        levels = sorted(set(unique_text))
        if len(levels) < 2:
            raise AnalysisError(
                f"Covariate {col!r} has a single level ({levels[0] if levels else 'none'}) in this cohort, "
                "so its effect cannot be estimated."
            )
        ref = str(ref_levels.get(col, levels[0]))
        if ref not in levels:
            raise AnalysisError(f"Reference level {ref!r} of {col!r} is not among its levels {levels}.")
        refs[col] = ref
        others = [lv for lv in levels if lv != ref]
        row_level = np.array([levels.index(u) for u in unique_text], dtype=np.int64)[codes]
        other_levels = np.array([levels.index(lv) for lv in others], dtype=np.int64)
        blocks.append((row_level[:, None] == other_levels[None, :]).astype(float))
        names += [f"{col}={lv}" for lv in others]
        cov_of += [col] * len(others)
        level_of += others
    return np.hstack(blocks), names, cov_of, level_of, refs


def _check_collinear(X: np.ndarray, names: list[str]) -> None:
    """Name the first covariate column that is a linear combination of earlier ones (or constant).

    Works on the correlation matrix of the columns: a column whose share of variance left unexplained
    by the earlier (kept) columns is below 1e-10 is collinear with them.
    """
    Xc = X - X.mean(0)
    gram = Xc.T @ Xc
    scale = np.sqrt(np.diag(gram))
    kept: list[int] = []
    for j in range(X.shape[1]):
        if scale[j] <= 1e-10 * max(1.0, np.abs(X[:, j]).max()) * np.sqrt(len(X)):
            raise AnalysisError(
                f"Covariate term {names[j]!r} is constant in this cohort (collinear with the baseline hazard)."
            )
        corr = gram / np.outer(scale, scale)
        if kept:
            ck = corr[np.ix_(kept, kept)]
            cj = corr[kept, j]
            coef = np.linalg.lstsq(ck, cj, rcond=None)[0]
            if 1.0 - cj @ coef < 1e-10:
                others = ", ".join(repr(names[k]) for k, c in zip(kept, coef, strict=True) if abs(c) > 1e-6)
                raise AnalysisError(f"Covariates are collinear: {names[j]!r} is a linear combination of {others}.")
        kept.append(j)


# ---------------------------------------------------------------------------------------- engine
class _Sorted:
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


def _efron_pieces(S: _Sorted, beta):
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


def _information(S: _Sorted, p, mult=None):
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


def _newton(S: _Sorted):
    beta = np.zeros(S.X.shape[1])
    loglik, score, pieces = _efron_pieces(S, beta)
    loglik0 = loglik
    info = _information(S, pieces)
    for iteration in range(1, _MAX_ITER + 1):
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError as exc:
            raise AnalysisError(
                "The Cox model's information matrix is singular; check for collinear "
                "covariates or a covariate level with no events."
            ) from exc
        new_beta = beta + step
        new_loglik, new_score, new_pieces = _efron_pieces(S, new_beta)
        halvings = 0
        while not np.isfinite(new_loglik) or new_loglik < loglik - 1e-12 * abs(loglik):
            halvings += 1
            if halvings > 30:
                raise AnalysisError("The Cox model did not converge (step halving failed).")
            new_beta = (new_beta + beta) / 2
            new_loglik, new_score, new_pieces = _efron_pieces(S, new_beta)
        done = abs(1 - loglik / new_loglik) <= _EPS * 1e-3 or np.abs(new_beta - beta).max() < 1e-12
        beta, loglik, score, pieces = new_beta, new_loglik, new_score, new_pieces
        info = _information(S, pieces)
        if done:
            return beta, loglik, loglik0, score, info, pieces, iteration
    raise AnalysisError(
        f"The Cox model did not converge in {_MAX_ITER} iterations; a coefficient may be infinite "
        "(a covariate level with no events, or perfect separation)."
    )


def _check_finite(beta, info, score, names) -> np.ndarray:
    """The inverse information, after R's test for a coefficient drifting to infinity."""
    try:
        vcov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        vcov = np.full_like(info, np.nan)
    bad = ~np.isfinite(beta) | ~np.isfinite(np.diag(vcov)) | (np.diag(vcov) <= 0)
    if not bad.any():  # R's coxph.fit test: the Newton step still left is large against the coefficient
        infs = np.abs(score @ vcov)
        bad = (infs > _EPS) & (infs > np.sqrt(_EPS) * np.abs(beta))
    if bad.any():
        raise AnalysisError(
            f"The Cox model did not converge: the coefficient of {names[int(np.argmax(bad))]!r} is heading "
            "to infinity (a level with no events or perfect separation)."
        )
    return vcov


def _terms_table(names, cov_of, level_of, beta, vcov, robust_vcov, conf_level) -> pd.DataFrame:
    """One row per coefficient: coef, se, robust_se, hr with its interval, Wald z and p (the interval,
    z and p on the robust SE when there is one), as R's ``summary(coxph)`` reports them."""
    se = np.sqrt(np.diag(vcov))
    used_se = np.sqrt(np.diag(robust_vcov)) if robust_vcov is not None else se
    z = beta / used_se
    zq = stats.norm.ppf(1 - (1 - conf_level) / 2)
    return pd.DataFrame(
        {
            "term": names,
            "covariate": cov_of,
            "level": level_of,
            "coef": beta,
            "se": se,
            "robust_se": used_se if robust_vcov is not None else np.nan,
            "hr": np.exp(beta),
            "hr_ci_lower": np.exp(beta - zq * used_se),
            "hr_ci_upper": np.exp(beta + zq * used_se),
            "z": z,
            "p": 2 * stats.norm.sf(np.abs(z)),
        }
    )


def _score_residuals(S: _Sorted, p) -> np.ndarray:
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


def _concordance(time, event, lp, weights, strata) -> float:
    """R's coxph concordance: weighted (concordant + tied_lp / 2) / comparable pairs, within strata."""
    totals = np.zeros(3)
    for s in np.unique(strata):
        m = strata == s
        totals += _concordance_counts(time[m], event[m], lp[m], weights[m])
    conc, disc, tied = totals
    comparable = conc + disc + tied
    return float((conc + tied / 2) / comparable) if comparable > 0 else np.nan


def _concordance_counts(t, e, lp, w, block: int = 128) -> np.ndarray:
    """Weighted concordant, discordant and lp-tied pairs of one stratum.

    Rows are ordered from the latest time down, censorings before events at the same time; a row is
    comparable with an event when it comes earlier in that order and is not an event at the same time.
    The rows are cut into blocks of about ``block`` rows at time boundaries; pairs across blocks are
    counted with a Fenwick tree over the ranks of the linear predictor (each row's tree path
    precomputed, so a block costs a handful of numpy calls), pairs within a block by direct comparison.
    O(n log n + n * block) work and O(n / block) numpy calls, whatever the number of distinct times.
    """
    rank = np.unique(lp, return_inverse=True)[1].astype(np.int64) + 1
    size = int(rank.max()) + 1  # tree slots 1..size-1; slot 0 reads as 0; slot size absorbs padding
    depth = max(1, (size - 1).bit_length())
    order = np.lexsort((e, -t))
    t, e, w, rank = t[order], e[order], w[order], rank[order]
    new_group = np.r_[True, (t[1:] != t[:-1]) | (e[1:] != e[:-1])]
    g = np.cumsum(new_group)  # equal only for rows tied in time and in status
    starts = np.flatnonzero(new_group)
    sizes = np.diff(np.r_[starts, len(t)])
    big = sizes >= block  # a large tied set is a block of its own (no pairs within it count)
    bounds = np.r_[starts, len(t)]
    cuts = np.unique(
        np.r_[bounds[np.searchsorted(bounds, np.arange(0, len(t), block))], starts[big], (starts + sizes)[big], len(t)]
    ).astype(np.int64)
    tree = np.zeros(size + 1)
    at_rank = np.zeros(size + 1)
    seen = conc = disc = tied = 0.0
    super_cuts = cuts[np.r_[0, np.flatnonzero(np.diff(cuts // 65536)) + 1]]
    for s0, s1 in zip(super_cuts, np.r_[super_cuts[1:], len(t)], strict=True):
        up = _update_paths(rank[s0:s1], size, depth)
        query = _query_paths(rank[s0:s1] - 1, depth)
        inner = cuts[(cuts >= s0) & (cuts <= s1)]
        for a, z in itertools.pairwise(inner):
            dead = a + np.flatnonzero(e[a:z])
            if dead.size:
                wd, rd = w[dead], rank[dead]
                less = tree[query[dead - s0]].sum(1)
                same = at_rank[rd]
                earlier = (g[a:z][None, :] < g[dead][:, None]) if z - a < 4 * block else None
                if earlier is not None:  # pairs inside the block
                    ra, wa = rank[a:z][None, :], w[a:z]
                    less = less + ((ra < rd[:, None]) & earlier) @ wa
                    same = same + ((ra == rd[:, None]) & earlier) @ wa
                    before = seen + earlier @ wa
                else:  # one tied set of events: none comparable with another
                    before = np.full(len(dead), seen)
                conc += wd @ less
                tied += wd @ same
                disc += wd @ (before - less - same)
            np.add.at(tree, up[a - s0 : z - s0].ravel(), np.repeat(w[a:z], depth))
            np.add.at(at_rank, rank[a:z], w[a:z])
            seen += w[a:z].sum()
    return np.array([conc, disc, tied])


def _update_paths(idx, size, depth):
    """Fenwick nodes to add to for each index (padded with the spare slot ``size``)."""
    paths = np.full((len(idx), depth), size, dtype=np.int64)
    cur = idx.copy()
    for k in range(depth):
        ok = cur < size
        paths[ok, k] = cur[ok]
        cur = cur + (cur & -cur)
    return paths


def _query_paths(idx, depth):
    """Fenwick nodes summing to the prefix up to each index (padded with slot 0, which stays 0)."""
    paths = np.zeros((len(idx), depth), dtype=np.int64)
    cur = idx.copy()
    for k in range(depth):
        paths[:, k] = cur
        cur = cur - (cur & -cur)
    return paths


def _zph(S: _Sorted, p, time, event):
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
    i11 = _information(S, p)
    i12 = _information(S, p, g_block)
    i22 = _information(S, p, g_block**2)
    imat = np.block([[i11, i12], [i12.T, i22]])
    rows = []
    for j in range(nvar):
        kk = np.r_[np.arange(nvar), nvar + j]
        uu = u[kk]
        rows.append(float(uu @ np.linalg.solve(imat[np.ix_(kk, kk)], uu)))
    rows.append(float(u @ np.linalg.solve(imat, u)))
    return rows


def fit_cox(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    covariates: Sequence[str],
    *,
    ref_levels: Mapping[str, str] | None = None,
    strata: str | Sequence[str] | None = None,
    robust: bool = False,
    cluster_col: str | None = None,
    weights_col: str | None = None,
    ties: str = "efron",
    conf_level: float = 0.95,
    with_concordance: bool = True,
    with_ph_test: bool = True,
) -> CoxResult:
    """Fit a Cox proportional hazards model (R ``coxph``).

    Parameters
    ----------
    df : DataFrame
    duration_col, event_col : str
        Time and event (1 = event, any other code censored).
    covariates : sequence of str
        Numeric columns enter as they are; text (or boolean/categorical) columns are dummy-coded.
    ref_levels : mapping, optional
        Reference level per text covariate (default: first in sorted order).
    strata : str or sequence of str, optional
        Stratify the baseline hazard (``strata(...)``).
    robust : bool
        Add sandwich standard errors (``robust = TRUE``); implied by ``cluster_col``.
    cluster_col : str, optional
        Cluster identifier for the robust variance (``cluster = ...``).
    weights_col : str, optional
        Positive case weights (``weights = ...``), e.g. inverse-probability weights.
    ties : {"efron", "breslow"}
    conf_level : float
        Confidence level of the hazard-ratio intervals.
    with_concordance, with_ph_test : bool
        Compute Harrell's concordance and the proportional-hazards test (default). A caller that shows
        neither can skip them (about a quarter of a large fit's time): the result then has
        ``concordance`` NaN and an empty ``ph_test`` (same columns); everything else is unchanged.

    Returns
    -------
    CoxResult

    Raises
    ------
    AnalysisError
        Empty data, no events, a text covariate with a single level, collinear covariates (named),
        non-convergence, bad weights.

    Warns
    -----
    AnalysisWarning
        Fewer than 10 events per estimated coefficient.

    References
    ----------
    Cox (1972); Efron (1977); Lin & Wei (1989); Grambsch & Therneau (1994); Harrell et al. (1982).
    """
    if ties not in ("efron", "breslow"):
        raise AnalysisError(f"Ties method must be 'efron' or 'breslow', not {ties!r}.")
    covariates = list(covariates)
    if not covariates:
        raise AnalysisError("A Cox model needs at least one covariate.")
    strata_cols = [strata] if isinstance(strata, str) else list(strata or [])
    needed = covariates + strata_cols + [c for c in (cluster_col, weights_col) if c]
    missing_cols = [c for c in needed if c not in df.columns]
    if missing_cols:
        raise AnalysisError(f"The data has no column named {missing_cols[0]!r}.")
    complete = df[needed].notna().all(axis=1) if needed else pd.Series(True, index=df.index)
    data = df.loc[complete]
    time, event = survival_arrays(data, duration_col, event_col)
    time = timefix(time)  # times equal within rounding are one time (coxph's timefix)
    if not event.any():
        raise AnalysisError("There are no events in this cohort, so a Cox model cannot be fitted.")
    X, names, cov_of, level_of, refs = _design(data, covariates, dict(ref_levels or {}))
    _check_collinear(X, names)
    if weights_col:
        weights = pd.to_numeric(data[weights_col], errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(weights).all() or (weights <= 0).any():
            raise AnalysisError(f"Weights in {weights_col!r} must be finite and positive (as coxph requires).")
    else:
        weights = np.ones(len(time))
    if strata_cols:
        strata_codes = data[strata_cols].astype(str).agg("\x1f".join, axis=1).factorize(sort=True)[0]
    else:
        strata_codes = np.zeros(len(time), dtype=np.int64)
    if event.sum() / len(names) < 10:
        warnings.warn(
            # no counts in the text (nor their ratio): it reaches notes that small-cell suppression guards
            f"Fewer than 10 events per coefficient ({len(names)} coefficients); estimates may be unstable.",
            AnalysisWarning,
            stacklevel=2,
        )
    center = X.mean(0)
    S = _Sorted(time, event.astype(np.int8), X - center, weights, strata_codes, ties == "efron")
    beta, loglik, loglik0, score, info, pieces, iterations = _newton(S)
    vcov = _check_finite(beta, info, score, names)
    robust_vcov = None
    if robust or cluster_col:
        dfbeta = np.empty_like(S.X)
        dfbeta[S.order] = (_score_residuals(S, pieces) @ vcov) * S.w[:, None]
        if cluster_col:
            dfbeta = pd.DataFrame(dfbeta).groupby(data[cluster_col].to_numpy()).sum().to_numpy()
        robust_vcov = dfbeta.T @ dfbeta
    terms = _terms_table(names, cov_of, level_of, beta, vcov, robust_vcov, conf_level)
    if with_ph_test:
        zph = _zph(S, pieces, time, event)
        dfs = [1] * len(names) + [len(names)]
        ph_test = pd.DataFrame({"term": [*names, "GLOBAL"], "statistic": zph, "df": dfs, "p": stats.chi2.sf(zph, dfs)})
    else:
        ph_test = pd.DataFrame(
            {"term": pd.Series([], dtype=object), "statistic": [], "df": np.array([], dtype=int), "p": []}
        )
    concordance = np.nan
    if with_concordance:
        lp = np.empty(len(time))
        lp[S.order] = S.X @ beta
        concordance = _concordance(time, event, lp, weights, strata_codes)
    return CoxResult(
        terms=terms,
        ph_test=ph_test,
        reference_levels=refs,
        n=len(time),
        events=int(event.sum()),
        n_dropped=int(len(df) - len(data)),
        loglik=loglik,
        loglik_null=loglik0,
        concordance=concordance,
        vcov=pd.DataFrame(vcov, index=names, columns=names),
        robust_vcov=None if robust_vcov is None else pd.DataFrame(robust_vcov, index=names, columns=names),
        ties=ties,
        strata=tuple(strata_cols),
        cluster_col=cluster_col,
        iterations=iterations,
    )
