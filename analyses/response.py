"""Response rates: complete remission (CR/CRi/CRh) and MRD negativity by group, with Wilson intervals.

A patient who started the line of therapy counts in the denominator (intention to treat): a patient
with no observed assessment of the line is a non-responder, and is counted in ``not_assessed`` so the
reader can see how many. A responder has at least one observed assessment of the line with response CR,
CRI or CRH; MRD-negative means at least one such remission assessment with MRD ``NEG``. Line 1 is
frontline therapy (every included patient), line 2 salvage therapy (patients with a line-2 start).

The interval is Wilson's score interval without continuity correction, R's
``prop.test(x, n, correct = FALSE)$conf.int``.

Rates are compared between groups (:func:`compare_response_rates`) on the groups x (responder,
non-responder) table by Pearson's chi-square test without continuity correction, R's
``chisq.test(table, correct = FALSE)``, unless an expected count is below 5 (when ``chisq.test`` warns
"Chi-squared approximation may be incorrect"); then by Fisher's exact test, R's ``fisher.test(table)``
(:func:`analyses.exact.fisher_exact_rx2`). A table too large to enumerate exactly (R's FEXACT stops on
it too) gets Fisher's test with a Monte Carlo p-value from 100,000 tables drawn with the observed
margins (R's ``simulate.p.value = TRUE``), with a seed that is an argument.

References
----------
Wilson EB (1927). Probable inference, the law of succession, and statistical inference. JASA
22:209–212.
Newcombe RG (1998). Two-sided confidence intervals for the single proportion: comparison of seven
methods. Stat Med 17:857–872.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from analyses.exact import fisher_exact_rx2, fisher_monte_carlo_rx2
from analyses.results import AnalysisError

__all__ = ["OUTCOMES", "RateComparison", "compare_rates", "compare_response_rates", "response_rates", "wilson_ci"]

#: outcome name -> column of ``etl.read.response_frame``
OUTCOMES = {"cr": "cr", "mrd_negative": "mrd_negative"}


def wilson_ci(x: float, n: float, conf_level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``x`` successes in ``n`` trials (``prop.test(..., correct = FALSE)``).

    Raises
    ------
    AnalysisError
        ``n`` is 0, or ``x`` outside 0..n.

    References
    ----------
    Wilson (1927).
    """
    if n <= 0:
        raise AnalysisError("A rate needs at least one patient in its denominator (n = 0).")
    if not 0 <= x <= n:
        raise AnalysisError(f"The number of responders ({x}) must be between 0 and n ({n}).")
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    p = x / n
    centre = p + z**2 / (2 * n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    denom = 1 + z**2 / n
    # At x = 0 (x = n) the limit is exactly 0 (1), as prop.test gives it; the formula leaves rounding.
    lower = 0.0 if x == 0 else max(0.0, (centre - half) / denom)
    upper = 1.0 if x == n else min(1.0, (centre + half) / denom)
    return float(lower), float(upper)


def response_rates(
    df: pd.DataFrame,
    outcome_col: str,
    group_col: str | None = None,
    *,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Proportion of patients with ``outcome_col`` true, overall or by group, with Wilson intervals.

    Parameters
    ----------
    df : DataFrame
        One row per patient; ``outcome_col`` boolean (or 0/1). Missing outcomes are an error: decide
        first whether a missing assessment is a non-response (the ITT rule of ``etl.read.response_frame``).
    outcome_col : str
    group_col : str, optional
        Missing group values form the group ``"(missing)"``.
    conf_level : float

    Returns
    -------
    DataFrame
        group, n, responders, rate, ci_lower, ci_upper (groups sorted; ``"all"`` without a group).

    Raises
    ------
    AnalysisError
        Empty data, a missing column or missing outcome values.

    References
    ----------
    Wilson (1927).
    """
    for col in (outcome_col, group_col):
        if col is not None and col not in df.columns:
            raise AnalysisError(f"The data has no column named {col!r}.")
    if len(df) == 0:
        raise AnalysisError("The analysis has no rows to work with (the cohort is empty).")
    if df[outcome_col].isna().any():
        raise AnalysisError(f"Column {outcome_col!r} has {int(df[outcome_col].isna().sum())} missing outcomes.")
    outcome = df[outcome_col].astype(bool).to_numpy()
    labels = (
        np.full(len(df), "all", dtype=object)
        if group_col is None
        else df[group_col].astype(object).where(df[group_col].notna(), "(missing)").astype(str).to_numpy()
    )
    rows = []
    for g in sorted(set(labels)):
        m = labels == g
        n, x = int(m.sum()), int(outcome[m].sum())
        lo, hi = wilson_ci(x, n, conf_level)
        rows.append({"group": g, "n": n, "responders": x, "rate": x / n, "ci_lower": lo, "ci_upper": hi})
    return pd.DataFrame(rows, columns=["group", "n", "responders", "rate", "ci_lower", "ci_upper"])


@dataclass(frozen=True)
class RateComparison:
    """A test that the response rate is the same in every group.

    Attributes
    ----------
    test : str
        ``"Pearson chi-square"``, ``"Fisher's exact"`` or ``"Fisher's exact (Monte Carlo)"``.
    statistic : float
        The chi-square statistic (NaN for Fisher's test).
    df : int
        Groups - 1.
    p : float
    min_expected : float
        The smallest expected count of the table (the rule's input).
    groups : tuple of str
    note : str
        Why Fisher's test was used, or why there is nothing to test; empty otherwise.
    """

    test: str
    statistic: float
    df: int
    p: float
    min_expected: float
    groups: tuple[str, ...]
    note: str = ""


def compare_rates(
    responders: ArrayLike,
    n: ArrayLike,
    groups: Sequence[str] | None = None,
    *,
    monte_carlo_samples: int = 100_000,
    seed: int = 20240613,
) -> RateComparison:
    """Compare response rates between groups: chi-square, or Fisher's exact test with an expected count < 5.

    Parameters
    ----------
    responders, n : sequence of int
        Per group, responders and patients.
    groups : sequence of str, optional
        Group names (default "1", "2", ...).
    monte_carlo_samples, seed : int
        Fisher's test on a table too large to enumerate: tables drawn, and the seed of the draws.

    Returns
    -------
    RateComparison

    Raises
    ------
    AnalysisError
        Fewer than two groups, an empty group, or counts that are not 0 <= responders <= n.

    References
    ----------
    Pearson K (1900). Phil Mag 50:157–175. Fisher RA (1935). JRSS 98:39–82. Cochran WG (1954). Some
    methods for strengthening the common chi-square tests. Biometrics 10:417–451 (the expected-count
    rule). Agresti A (2013). Categorical Data Analysis, 3rd ed., sections 3.2 and 3.5.
    """
    x = np.asarray(responders, dtype=np.int64)
    size = np.asarray(n, dtype=np.int64)
    names = tuple(str(g) for g in (groups if groups is not None else range(1, len(x) + 1)))
    if len(x) < 2:
        raise AnalysisError("Comparing response rates needs at least two groups.")
    if len(size) != len(x) or len(names) != len(x) or (size <= 0).any() or (x < 0).any() or (x > size).any():
        raise AnalysisError("Each group needs at least one patient and between 0 and n responders.")
    table = np.column_stack([x, size - x]).astype(float)
    expected = np.outer(size, table.sum(axis=0)) / size.sum()
    min_expected = float(expected.min())
    df_ = len(x) - 1
    if min_expected >= 5:
        statistic = float(((table - expected) ** 2 / expected).sum())
        p_chi2 = float(stats.chi2.sf(statistic, df_))
        return RateComparison("Pearson chi-square", statistic, df_, p_chi2, min_expected, names)
    if x.sum() in (0, size.sum()):
        who = "Every patient" if x.sum() else "No patient"
        note = f"{who} responded, so there is no difference to test."
        return RateComparison("Fisher's exact", np.nan, df_, 1.0, min_expected, names, note)
    note = "An expected count is below 5, so Fisher's exact test is used instead of the chi-square test."
    p = fisher_exact_rx2(x, size)
    if p is not None:
        return RateComparison("Fisher's exact", np.nan, df_, p, min_expected, names, note)
    p = fisher_monte_carlo_rx2(x, size, samples=monte_carlo_samples, seed=seed)
    note += f" The table is too large to enumerate, so its p-value is from {monte_carlo_samples:,} simulated tables."
    return RateComparison("Fisher's exact (Monte Carlo)", np.nan, df_, p, min_expected, names, note)


def compare_response_rates(
    df: pd.DataFrame,
    outcome_col: str,
    group_col: str,
    *,
    monte_carlo_samples: int = 100_000,
    seed: int = 20240613,
) -> RateComparison:
    """Test that the proportion with ``outcome_col`` true is the same across the groups of ``group_col``.

    Patients with a missing group value are left out of the test (R's ``table`` drops NA); the rule is
    :func:`compare_rates`'s.

    Raises
    ------
    AnalysisError
        As :func:`response_rates`, or fewer than two groups.

    References
    ----------
    See :func:`compare_rates`.
    """
    if group_col not in df.columns:
        raise AnalysisError(f"The data has no column named {group_col!r}.")
    rates = response_rates(df.loc[df[group_col].notna()], outcome_col, group_col)
    return compare_rates(
        rates["responders"], rates["n"], rates["group"], monte_carlo_samples=monte_carlo_samples, seed=seed
    )
