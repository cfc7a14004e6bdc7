"""Response rates: complete remission (CR/CRi/CRh) and MRD negativity by group, with Wilson intervals.

A patient who started the line of therapy counts in the denominator (intention to treat): a patient
with no observed assessment of the line is a non-responder, and is counted in ``not_assessed`` so the
reader can see how many. A responder has at least one observed assessment of the line with response CR,
CRI or CRH; MRD-negative means at least one such remission assessment with MRD ``NEG``. Line 1 is
frontline therapy (every included patient), line 2 salvage therapy (patients with a line-2 start).

The interval is Wilson's score interval without continuity correction, R's
``prop.test(x, n, correct = FALSE)$conf.int``.

References
----------
Wilson EB (1927). Probable inference, the law of succession, and statistical inference. JASA
22:209–212.
Newcombe RG (1998). Two-sided confidence intervals for the single proportion: comparison of seven
methods. Stat Med 17:857–872.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analyses.results import AnalysisError

__all__ = ["OUTCOMES", "response_rates", "wilson_ci"]

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
    return float(max(0.0, (centre - half) / denom)), float(min(1.0, (centre + half) / denom))


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
