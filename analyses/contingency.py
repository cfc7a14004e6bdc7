"""Tests of equal proportions across groups: Pearson's chi-square or Fisher's exact test, as R gives them.

``proportion_test`` compares the share with an event across ``k >= 2`` groups (a k x 2 table) by
the rule most R users follow (the default of ``gtsummary::add_p`` for categorical data): Fisher's
exact test (``fisher.test``) when any expected count is below 5, else Pearson's chi-square test
(``chisq.test``), with Yates' continuity correction for a 2 x 2 table (R's default,
``correct = TRUE``, which R applies to 2 x 2 tables only).

``fisher_exact_kx2`` is the exact test of a k x 2 table (Freeman–Halton; for 2 x 2 the two-sided
Fisher test): the p-value is the probability, with the margins fixed, of every table no more
probable than the one observed, within R's relative tolerance of 1e-7 (``fisher.test``'s
``relErr``). It enumerates the tables group by group, as the network algorithm of Mehta & Patel
does: a partial table whose every completion is at least as extreme adds the completions' whole
probability at once (Vandermonde's identity gives it), one whose every completion is less extreme
is dropped, and partial tables reaching the same remaining count with the same probability are
merged. Groups are taken smallest first.

References
----------
.. [1] Freeman GH, Halton JH (1951). Note on an exact treatment of contingency, goodness of fit and
   other problems of significance. Biometrika 38:141–149.
.. [2] Mehta CR, Patel NR (1983). A network algorithm for performing Fisher's exact test in r x c
   contingency tables. JASA 78:427–434.
.. [3] Agresti A (2013). Categorical Data Analysis, 3rd ed. Wiley, sections 3.5 and 16.1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from analyses.results import AnalysisError

__all__ = ["MAX_EXACT_PATHS", "ProportionTest", "fisher_exact_kx2", "proportion_test"]

#: Partial tables kept at once before the exact test gives up (the chi-square test is then shown).
MAX_EXACT_PATHS = 2_000_000
_REL_ERR = 1.0 + 1e-7  # fisher.test: tables with probability <= observed * (1 + 1e-7) count


@dataclass(frozen=True)
class ProportionTest:
    """A test of equal proportions: ``test`` names it; ``df`` is NaN for the exact test."""

    test: str
    statistic: float
    df: float
    p: float
    min_expected: float
    note: str = ""


def _log_choose(n: np.ndarray | int, x: np.ndarray | int) -> np.ndarray:
    n, x = np.asarray(n, dtype=float), np.asarray(x, dtype=float)
    return special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1)


def _bounds(sizes: np.ndarray, m: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Max and min over completions of sum(log C(n_i, x_i)), groups j.., for each remaining count r."""
    k = sizes.size
    tail = np.concatenate([np.cumsum(sizes[::-1])[::-1], [0]])  # patients in groups j..
    hi = [np.full(m + 1, -np.inf) for _ in range(k + 1)]
    lo = [np.full(m + 1, np.inf) for _ in range(k + 1)]
    hi[k][0] = lo[k][0] = 0.0
    for j in range(k - 1, -1, -1):
        n_j = int(sizes[j])
        r = np.arange(m + 1)
        for x in range(min(n_j, m) + 1):
            rest = r - x
            ok = (rest >= 0) & (rest <= tail[j + 1])
            value = float(_log_choose(n_j, x))
            idx = rest[ok]
            hi[j][ok] = np.maximum(hi[j][ok], value + hi[j + 1][idx])
            lo[j][ok] = np.minimum(lo[j][ok], value + lo[j + 1][idx])
    return hi, lo


def fisher_exact_kx2(events: np.ndarray, sizes: np.ndarray) -> tuple[float, float]:
    """Exact test of equal proportions in a k x 2 table: (probability of the observed table, p-value).

    Parameters
    ----------
    events, sizes : array of int
        Patients with the event and patients per group (``events <= sizes``).

    Returns
    -------
    (float, float)
        The observed table's probability given the margins, and the two-sided p-value
        (``fisher.test(cbind(events, sizes - events))$p.value``).

    Raises
    ------
    AnalysisError
        When the table is too large to enumerate (more than ``MAX_EXACT_PATHS`` partial tables).

    References
    ----------
    Freeman & Halton (1951); Mehta & Patel (1983).
    """
    order = np.argsort(np.asarray(sizes), kind="stable")
    x, n = np.asarray(events, dtype=np.int64)[order], np.asarray(sizes, dtype=np.int64)[order]
    m, total, k = int(x.sum()), int(n.sum()), n.size
    log_total = float(_log_choose(total, m))
    observed = float(np.sum(_log_choose(n, x)))
    threshold = observed + np.log(_REL_ERR)
    hi, lo = _bounds(n, m)
    tail = np.concatenate([np.cumsum(n[::-1])[::-1], [0]])
    remaining, value, count = np.array([m]), np.array([0.0]), np.array([1.0])
    p = 0.0
    for j in range(k):
        # every path: each feasible count of group j
        first = np.maximum(0, remaining - tail[j + 1])
        last = np.minimum(n[j], remaining)
        width = last - first + 1
        if width.sum() > MAX_EXACT_PATHS:
            raise AnalysisError("The exact test is too large to enumerate for this table.")
        path = np.repeat(np.arange(remaining.size), width)
        step = np.arange(width.sum()) - np.repeat(np.cumsum(width) - width, width)
        xj = first[path] + step
        r2 = remaining[path] - xj
        v2 = value[path] + _log_choose(n[j], xj)
        c2 = count[path]
        extreme = v2 + hi[j + 1][r2] <= threshold
        p += float(np.sum(c2[extreme] * np.exp(v2[extreme] + _log_choose(tail[j + 1], r2[extreme]) - log_total)))
        open_ = ~extreme & (v2 + lo[j + 1][r2] <= threshold)
        r2, v2, c2 = r2[open_], v2[open_], c2[open_]
        if r2.size == 0:
            break
        # merge partial tables with the same remaining count and the same probability
        key = np.stack([r2.astype(float), np.round(v2, 9)], axis=1)
        _, index, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
        remaining, value = r2[index], v2[index]
        count = np.bincount(inverse.ravel(), weights=c2)
    return float(np.exp(observed - log_total)), min(1.0, p)


def proportion_test(events: np.ndarray, sizes: np.ndarray) -> ProportionTest:
    """Compare the share with an event across groups (k x 2), choosing the test as described above.

    Parameters
    ----------
    events, sizes : array of int
        Patients with the event and patients per group, one entry per group (at least two).

    Returns
    -------
    ProportionTest

    Raises
    ------
    AnalysisError
        Fewer than two groups, an empty group, or more events than patients in a group.

    References
    ----------
    Agresti (2013), sections 3.5 (Fisher) and 3.2 (Pearson); Yates F (1934). J R Stat Soc Suppl 1:217–235.
    """
    x, n = np.asarray(events, dtype=np.int64), np.asarray(sizes, dtype=np.int64)
    if x.size < 2:
        raise AnalysisError("A test between groups needs at least two groups.")
    if (n <= 0).any() or (x < 0).any() or (x > n).any():
        raise AnalysisError("Each group needs patients, and no more patients with the event than in the group.")
    table = np.column_stack([x, n - x])
    expected = np.outer(n, table.sum(axis=0)) / n.sum()
    min_expected = float(expected.min())
    if min_expected < 5:
        try:
            prob, p = fisher_exact_kx2(x, n)
            return ProportionTest("Fisher's exact", prob, np.nan, p, min_expected)
        except AnalysisError:
            note = "An expected count is below 5 but the exact test is too large; the chi-square p is approximate."
    else:
        note = ""
    chi2, p, dof, _ = stats.chi2_contingency(table, correction=True)
    name = "Chi-square (Yates)" if table.shape == (2, 2) else "Chi-square"
    return ProportionTest(name, float(chi2), float(dof), float(p), min_expected, note)
