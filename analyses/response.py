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

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analyses.results import AnalysisError
from analyses.suppression import is_small, suppress_totals

__all__ = ["OUTCOMES", "response_frame", "response_rates", "suppress_response_rates", "wilson_ci"]

#: outcome name -> column of :func:`response_frame`
OUTCOMES = {"cr": "cr", "mrd_negative": "mrd_negative"}
REMISSION = ("CR", "CRI", "CRH")


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
        first whether a missing assessment is a non-response (the ITT rule of :func:`response_frame`).
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


def suppress_response_rates(table: pd.DataFrame, min_cell: int) -> tuple[pd.DataFrame, dict[str, bool]]:
    """Small-cell suppression of a :func:`response_rates` table (rules of :mod:`analyses.suppression`).

    ``n`` and ``responders`` follow rules 1–3 (the non-responders ``n - responders`` are a count too);
    a masked ``responders`` masks ``rate`` and its interval (they would reveal it given ``n``). Returns
    the copy and ``{"n": hide_total, "responders": hide_total}``.
    """
    out = table.copy().astype({"n": object, "responders": object})
    if min_cell <= 0:
        return out, {"n": False, "responders": False}
    n_masked, hide_n = suppress_totals(table["n"], min_cell)
    complement = [is_small(n - x, min_cell) for n, x in zip(table["n"], table["responders"], strict=True)]
    x_masked, hide_x = suppress_totals(table["responders"], min_cell, also_mask=complement)
    out["n"] = pd.Series(n_masked, dtype=object, index=out.index)
    out["responders"] = pd.Series(x_masked, dtype=object, index=out.index)
    hidden = out["responders"].isna() | out["n"].isna()
    out.loc[hidden, ["rate", "ci_lower", "ci_upper"]] = np.nan
    return out, {"n": hide_n, "responders": hide_x}


def response_frame(con_or_db: Any, cohort: Any, line: int, columns: Sequence[str] = ()) -> pd.DataFrame:
    """One row per cohort patient who started ``line`` (1 frontline, 2 salvage), with the outcomes.

    Returns
    -------
    DataFrame
        patient_id, the ``columns``, assessments (observed assessments of the line, on or before the
        data cut-off), cr (any CR/CRi/CRh), mrd_negative (any remission with MRD NEG), not_assessed.
    """
    import duckdb

    from analyses.cohort import analysis_columns, cohort_patients_sql, connect_readonly, read_frame
    from ayaall.errors import UserError

    if line not in (1, 2):
        raise UserError(f"--line must be 1 (frontline) or 2 (salvage), not {line}.")
    own = not isinstance(con_or_db, duckdb.DuckDBPyConnection)
    con = connect_readonly(con_or_db) if own else con_or_db
    try:
        known = analysis_columns(con)
        unknown = [c for c in columns if c not in known]
        if unknown:
            raise UserError(
                f"{', '.join(map(repr, unknown))} not a column of analysis_patients (columns: {', '.join(known)})."
            )
        where, params = cohort_patients_sql(con, cohort)
        extra = "".join(f', ap."{c}"' for c in dict.fromkeys(columns) if c != "patient_id")
        started = "TRUE" if line == 1 else "ap.line2_date IS NOT NULL"
        sql = f"""
            WITH a AS (
                SELECT r.patient_id, r.response IN {REMISSION} AS remission, coalesce(r.mrd, 'UNK') AS mrd
                FROM stg_responses r, load_parameters p
                WHERE r.line_no = ? AND r.assessment_date <= p.data_cutoff
            )
            SELECT ap.patient_id{extra},
                   count(a.patient_id) AS assessments,
                   coalesce(bool_or(a.remission), FALSE) AS cr,
                   coalesce(bool_or(a.remission AND a.mrd = 'NEG'), FALSE) AS mrd_negative,
                   count(a.patient_id) = 0 AS not_assessed
            FROM analysis_patients ap LEFT JOIN a USING (patient_id)
            WHERE {where} AND {started}
            GROUP BY ALL ORDER BY ap.patient_id
        """
        return read_frame(con, sql, [line, *params])
    finally:
        if own:
            con.close()
