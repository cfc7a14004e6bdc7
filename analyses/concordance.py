"""Harrell's concordance of a Cox model's linear predictor, as R's ``coxph`` reports it (``fit$concordance``).

Pairs are compared within strata: a pair is comparable when the shorter time is an event (pairs tied in
event time are not comparable; a censoring at an event time counts as longer); it is concordant when
the patient with the event has the larger linear predictor, and a tie in the predictor counts one half.
Pairs are weighted by the product of the case weights. The statistic is
``(concordant + tied / 2) / (concordant + discordant + tied)``.

Linear predictors equal within rounding are tied. ``X @ beta`` can give two patients with the same
covariates predictors that differ in the last bit (a BLAS kernel rounds rows in blocks differently from
the remainder), which R's exact comparison would then count as concordant or discordant instead of tied.
Predictors closer than ``LP_TOLERANCE`` (absolute, or relative to their mean absolute value, the rule of
:func:`analyses.times.rounding_runs`, which :func:`analyses.times.timefix` uses) are therefore ranked
as one first. The rounding error of a p-term inner product
is of order ``p * 1e-16`` times its terms, far below the tolerance, and two patients whose predictors
genuinely differ by less than 1e-10 have hazard ratios equal to ten significant digits.

References
----------
Harrell FE, Califf RM, Pryor DB, Lee KL, Rosati RA (1982). Evaluating the yield of medical tests.
JAMA 247:2543–2546.
Therneau TM, Atkinson E (2023). Concordance. Vignette of the R package survival 3.5.
"""

from __future__ import annotations

import itertools

import numpy as np

from analyses.times import rounding_runs

__all__ = ["LP_TOLERANCE", "concordance"]

#: Linear predictors closer than this are tied.
LP_TOLERANCE = 1e-10


def concordance(
    time: np.ndarray,
    event: np.ndarray,
    lp: np.ndarray,
    weights: np.ndarray | None = None,
    strata: np.ndarray | None = None,
) -> float:
    """R's coxph concordance: weighted (concordant + tied / 2) / comparable pairs, within strata.

    Parameters
    ----------
    time : ndarray of float
        Follow-up times (merged within rounding by the caller, as ``coxph`` does before it).
    event : ndarray of bool
    lp : ndarray of float
        Linear predictor (a larger value predicts a shorter time).
    weights : ndarray of float, optional
        Case weights (default 1).
    strata : ndarray, optional
        Stratum of each row; pairs are only formed within a stratum.

    Returns
    -------
    float
        NaN when no pair is comparable.

    References
    ----------
    Harrell et al. (1982); Therneau & Atkinson (2023).
    """
    time, event = np.asarray(time, dtype=float), np.asarray(event, dtype=bool)
    distinct, index = np.unique(np.asarray(lp, dtype=float), return_inverse=True)
    rank = rounding_runs(distinct, tolerance=LP_TOLERANCE)[index.reshape(-1)]  # ties within rounding share one
    weights = np.ones(len(time)) if weights is None else np.asarray(weights, dtype=float)
    strata = np.zeros(len(time), dtype=np.int64) if strata is None else np.asarray(strata)
    totals = np.zeros(3)
    for s in np.unique(strata):
        m = strata == s
        totals += _concordance_counts(time[m], event[m], rank[m], weights[m], ranked=True)
    conc, disc, tied = totals
    comparable = conc + disc + tied
    return float((conc + tied / 2) / comparable) if comparable > 0 else np.nan


def _concordance_counts(t, e, lp, w, block: int = 128, *, ranked: bool = False) -> np.ndarray:
    """Weighted concordant, discordant and lp-tied pairs of one stratum.

    Rows are ordered from the latest time down, censorings before events at the same time; a row is
    comparable with an event when it comes earlier in that order and is not an event at the same time.
    The rows are cut into blocks of about ``block`` rows at time boundaries; pairs across blocks are
    counted with a Fenwick tree over the ranks of the linear predictor (each row's tree path
    precomputed, so a block costs a handful of numpy calls), pairs within a block by direct comparison.
    O(n log n + n * block) work and O(n / block) numpy calls, whatever the number of distinct times.
    ``lp`` may be given as ranks already (``ranked``: integers from 0, ties sharing one), as
    :func:`concordance` does.
    """
    rank = (lp.astype(np.int64) if ranked else np.unique(lp, return_inverse=True)[1].astype(np.int64)) + 1
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
