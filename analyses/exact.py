"""Fisher's exact test for an r x 2 table (groups by responder / non-responder), as R's ``fisher.test``.

Given the margins (group sizes ``n_j`` and the total number of responders ``X``), a table ``x`` has
probability ``P(x) = prod_j C(n_j, x_j) / C(N, X)``; the two-sided p-value is the total probability of
the tables no more probable than the observed one, ``P(x) <= P(obs) (1 + 1e-7)`` (R's relative
tolerance, ``relErr``). For 2 x 2 tables that is exactly ``fisher.test``'s p-value; for larger ones R
uses the network algorithm of Mehta & Patel (FEXACT), which this reproduces in its simplest form:

* the groups are taken one at a time, smallest first; a partial table whose most probable completion
  is already no more probable than the observed table contributes all its completions at once (their
  total is ``C(M, X_rem)`` by Vandermonde's identity, M the patients left), and one whose least
  probable completion is more probable contributes nothing. The most probable completion is exact:
  ``log C(n, x)`` is concave in x, so the best allocation of the remaining responders takes the largest
  of all the remaining groups' increments ``log((n - x) / (x + 1))`` (merged and sorted once per
  stage); the least probable is bounded below group by group;
* partial tables with the same remaining count and probability (equal group sizes) are merged;
* the last two groups are finished in closed form: their split of the remaining responders is one
  number, and every split is evaluated at once.

R's FEXACT stops with "LDKEY is too small" on large tables (thousands of patients); here the work is
bounded by ``max_tables`` partial tables, beyond which :func:`fisher_exact_rx2` returns None and the
caller can fall back to :func:`fisher_monte_carlo_rx2`, R's ``simulate.p.value = TRUE``.

References
----------
Fisher RA (1935). The logic of inductive inference. JRSS 98:39–82.
Mehta CR, Patel NR (1983). A network algorithm for performing Fisher's exact test in r x c contingency
tables. JASA 78:427–434.
Agresti A (2013). Categorical Data Analysis, 3rd ed. Wiley, section 3.5.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import gammaln

__all__ = ["RELATIVE_TOLERANCE", "fisher_exact_rx2", "fisher_monte_carlo_rx2"]

#: R's ``relErr - 1``: tables this close to the observed probability count as equally probable.
RELATIVE_TOLERANCE = 1e-7


def _log_choose(n: np.ndarray | float, k: np.ndarray | float) -> np.ndarray:
    return np.asarray(gammaln(np.add(n, 1)) - gammaln(np.add(k, 1)) - gammaln(np.subtract(n, k) + 1))


def _margins(responders: ArrayLike, sizes: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(responders, dtype=np.int64)
    n = np.asarray(sizes, dtype=np.int64)
    if x.shape != n.shape or x.ndim != 1 or (x < 0).any() or (x > n).any():
        raise ValueError("responders and sizes must be equal-length counts with 0 <= responders <= sizes")
    if 2 * x.sum() > n.sum():  # the smaller column: fewer tables, same p-value
        x = n - x
    return x, n


def _best_completion(sizes: np.ndarray, total: int) -> np.ndarray:
    """``max sum_j log C(n_j, x_j)`` over ``sum_j x_j = s``, for every s in 0..total (concave greedy)."""
    steps = [np.log((n - np.arange(n)) / (np.arange(n) + 1.0)) for n in sizes]
    merged = np.sort(np.concatenate(steps))[::-1][:total] if steps else np.zeros(0)
    return np.r_[0.0, np.cumsum(merged)][: total + 1]


def _worst_completion_bound(sizes: np.ndarray, total: int) -> np.ndarray:
    """A lower bound of ``min sum_j log C(n_j, x_j)`` over ``sum_j x_j = s`` (each group at its worse
    feasible end), for every s in 0..total."""
    s = np.arange(total + 1)
    rest = sizes.sum()
    bound = np.zeros(total + 1)
    for n in sizes:
        lo = np.maximum(0, s - (rest - n))
        hi = np.minimum(n, s)
        bound += np.minimum(_log_choose(n, lo), _log_choose(n, np.maximum(hi, lo)))
    return bound


def fisher_exact_rx2(responders: ArrayLike, sizes: ArrayLike, *, max_tables: int = 5_000_000) -> float | None:
    """Two-sided Fisher exact p-value of an r x 2 table, or None when it needs more than ``max_tables``.

    Parameters
    ----------
    responders, sizes : sequence of int
        Per group, the responders and the patients (r >= 2 groups).
    max_tables : int
        Work bound: the number of partial tables evaluated at any stage.

    Returns
    -------
    float or None
        R's ``fisher.test(cbind(responders, sizes - responders))$p.value``.

    References
    ----------
    Mehta & Patel (1983); see the module docstring.
    """
    x, n = _margins(responders, sizes)
    order = np.argsort(n, kind="stable")
    x, n = x[order], n[order]
    total, everyone = int(x.sum()), int(n.sum())
    if total == 0 or len(n) < 2:
        return 1.0
    log_all = float(_log_choose(everyone, total))
    threshold = float(_log_choose(n, x).sum()) + np.log1p(RELATIVE_TOLERANCE)
    rem = np.array([total])
    past = np.array([0.0])
    count = np.array([1.0])
    p_value = 0.0
    for i in range(len(n) - 2):
        after = n[i + 1 :]
        best = _best_completion(after, total)
        worst = _worst_completion_bound(after, total)
        left = int(after.sum())
        lo = np.maximum(0, rem - left)
        hi = np.minimum(n[i], rem)
        width = hi - lo + 1
        if width.sum() > max_tables:
            return None
        parent = np.repeat(np.arange(len(rem)), width)
        xi = lo[parent] + (np.arange(width.sum()) - np.repeat(np.cumsum(width) - width, width))
        rem, count = rem[parent] - xi, count[parent]
        past = past[parent] + _log_choose(n[i], xi)
        settled = past + best[rem] <= threshold  # every completion is at most as probable: take them all
        p_value += float(np.sum(count[settled] * np.exp(past[settled] + _log_choose(left, rem[settled]) - log_all)))
        keep = ~settled & (past + worst[rem] <= threshold)  # else no completion is: drop
        rem, past, count = _merge(rem[keep], past[keep], count[keep])
    a, b = n[-2], n[-1]
    lo, hi = np.maximum(0, rem - b), np.minimum(a, rem)
    width = hi - lo + 1
    if width.sum() > max_tables:
        return None
    parent = np.repeat(np.arange(len(rem)), width)
    xa = lo[parent] + (np.arange(width.sum()) - np.repeat(np.cumsum(width) - width, width))
    logp = past[parent] + _log_choose(a, xa) + _log_choose(b, rem[parent] - xa)
    hit = logp <= threshold
    p_value += float(np.sum(count[parent][hit] * np.exp(logp[hit] - log_all)))
    return min(p_value, 1.0)


def _merge(rem: np.ndarray, past: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Partial tables with the same remaining responders and (to 1e-9) the same log-probability, once."""
    if len(rem) < 2:
        return rem, past, count
    key = np.round(past, 9)
    _, first, inverse = np.unique(np.stack([rem.astype(float), key]), axis=1, return_index=True, return_inverse=True)
    merged = np.bincount(inverse.ravel(), weights=count)
    return rem[first], past[first], merged


def fisher_monte_carlo_rx2(
    responders: ArrayLike, sizes: ArrayLike, *, samples: int = 100_000, seed: int = 20240613
) -> float:
    """Fisher's test with a Monte Carlo p-value, R's ``fisher.test(..., simulate.p.value = TRUE, B)``.

    Tables are drawn with the observed margins (multivariate hypergeometric); the p-value is
    ``(1 + #{P(table) <= P(obs) (1 + 1e-7)}) / (samples + 1)``, as R computes it. Deterministic for a
    given ``seed``.

    References
    ----------
    Agresti (2013), section 3.5.
    """
    x, n = _margins(responders, sizes)
    rng = np.random.default_rng(seed)
    tables = rng.multivariate_hypergeometric(n, int(x.sum()), size=samples)
    logp = _log_choose(n[None, :], tables).sum(axis=1)
    observed = float(_log_choose(n, x).sum())
    hits = int(np.sum(logp <= observed + np.log1p(RELATIVE_TOLERANCE)))
    return (1 + hits) / (samples + 1)
