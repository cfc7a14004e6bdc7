"""Table 1: baseline characteristics by group, with tests and standardized differences.

Categorical variables: n (%) per level, the percentage of the group's non-missing values, and the
number missing. Continuous variables: median [IQR] (quantile type 7, R's default) and mean (SD).

Tests (R's defaults, as ``tableone`` uses them): categorical — Pearson's chi-square
(``chisq.test``, with Yates' continuity correction for 2 x 2 tables), or Fisher's exact test
(``fisher.test``) for a 2 x 2 table with an expected count below 5; a larger table with small expected
counts keeps the chi-square test and says so in ``note``. Continuous — Wilcoxon rank-sum for two groups
(``wilcox.test``: exact when both groups are under 50 and there are no ties, otherwise the normal
approximation with continuity and tie corrections), Kruskal–Wallis for more (``kruskal.test``).

Standardized mean differences: continuous ``(m_b - m_a) / sqrt((s_a^2 + s_b^2) / 2)``; categorical the
multi-level SMD of Yang & Dalton (2012) (``tableone``'s), which for two levels is
``|p_b - p_a| / sqrt((p_a(1 - p_a) + p_b(1 - p_b)) / 2)``. With more than two groups the largest
pairwise SMD is reported (``tableone`` reports the mean; we prefer the worst pair).

Small-cell suppression of the result is ``disclosure.table1``'s.

References
----------
Yang D, Dalton JE (2012). A unified approach to measuring the effect size between two groups using SAS.
SAS Global Forum, paper 335-2012.
Hundepool A, et al. (2012). Statistical Disclosure Control. Wiley, ch. 4 (secondary suppression).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from analyses.results import AnalysisError

__all__ = ["MISSING", "OVERALL", "TableOneResult", "table_one"]

MISSING = "(missing)"
OVERALL = "Overall"


@dataclass(frozen=True)
class TableOneResult:
    """Table 1 as tidy frames.

    Attributes
    ----------
    groups : DataFrame
        group, n (the last row is ``"Overall"``).
    categorical : DataFrame
        variable, level, group, n, percent (of non-missing), with a ``level == "(missing)"`` row per
        variable and group (percent NaN).
    continuous : DataFrame
        variable, group, n (non-missing), missing, median, q1, q3, mean, sd.
    tests : DataFrame
        variable, kind, test, statistic, df, p, smd, note.
    group_col : str
    """

    groups: pd.DataFrame
    categorical: pd.DataFrame
    continuous: pd.DataFrame
    tests: pd.DataFrame
    group_col: str


def _is_continuous(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def table_one(df: pd.DataFrame, group_col: str, variables: Sequence[str]) -> TableOneResult:
    """Baseline characteristics of ``variables`` by ``group_col`` (plus an Overall column).

    Raises
    ------
    AnalysisError
        Empty data, unknown columns, or the group column among the variables.

    References
    ----------
    Yang & Dalton (2012); see the module docstring for the tests.
    """
    missing = [c for c in [group_col, *variables] if c not in df.columns]
    if missing:
        raise AnalysisError(f"The data has no column named {missing[0]!r}.")
    if len(df) == 0:
        raise AnalysisError("The analysis has no rows to work with (the cohort is empty).")
    if group_col in variables:
        raise AnalysisError(f"{group_col!r} is the grouping column; it cannot also be a row of the table.")
    labels = df[group_col].astype(object).where(df[group_col].notna(), MISSING).astype(str).to_numpy()
    group_codes, uniques = pd.factorize(labels, sort=True)
    groups = [str(g) for g in uniques]
    columns = [*groups, OVERALL]
    masks = {g: labels == g for g in groups} | {OVERALL: np.ones(len(df), dtype=bool)}
    cat_rows, cont_rows, tests = [], [], []
    for var in variables:
        values = df[var]
        if _is_continuous(values):
            x = values.to_numpy(dtype=float)
            for g in columns:
                v = x[masks[g] & ~np.isnan(x)]
                q1, med, q3 = np.quantile(v, [0.25, 0.5, 0.75]) if len(v) else (np.nan,) * 3
                cont_rows.append(
                    {
                        "variable": var,
                        "group": g,
                        "n": len(v),
                        "missing": int((masks[g] & np.isnan(x)).sum()),
                        "median": med,
                        "q1": q1,
                        "q3": q3,
                        "mean": v.mean() if len(v) else np.nan,
                        "sd": v.std(ddof=1) if len(v) > 1 else np.nan,
                    }
                )
            tests.append({"variable": var, "kind": "continuous", **_continuous_test(x, labels, groups)})
        else:
            table, absent_counts = _level_counts(values, group_codes, len(groups))  # levels x groups, as text
            for g, counts, absent in zip(
                columns, [*table.T.to_numpy(), table.sum(axis=1).to_numpy()], absent_counts, strict=True
            ):
                present = int(counts.sum())
                for lv, k in zip(table.index, counts.tolist(), strict=True):
                    cat_rows.append(
                        {
                            "variable": var,
                            "level": lv,
                            "group": g,
                            "n": k,
                            "percent": 100 * k / present if present else np.nan,
                        }
                    )
                cat_rows.append({"variable": var, "level": MISSING, "group": g, "n": absent, "percent": np.nan})
            tests.append({"variable": var, "kind": "categorical", **_categorical_test(table)})
    group_n = pd.DataFrame({"group": columns, "n": [int(masks[g].sum()) for g in columns]})
    return TableOneResult(
        group_n,
        pd.DataFrame(cat_rows, columns=["variable", "level", "group", "n", "percent"]),
        pd.DataFrame(cont_rows, columns=["variable", "group", "n", "missing", "median", "q1", "q3", "mean", "sd"]),
        pd.DataFrame(tests),
        group_col,
    )


def _no_test(note: str, smd: float = np.nan) -> dict:
    return {"test": None, "statistic": np.nan, "df": np.nan, "p": np.nan, "smd": smd, "note": note}


def _continuous_test(x: np.ndarray, labels: np.ndarray, groups: list[str]) -> dict:
    samples = {g: x[(labels == g) & ~np.isnan(x)] for g in groups}
    usable = [g for g in groups if len(samples[g])]
    sd = {g: samples[g].std(ddof=1) if len(samples[g]) > 1 else np.nan for g in usable}
    smds = [
        abs(samples[b].mean() - samples[a].mean()) / np.sqrt((sd[a] ** 2 + sd[b] ** 2) / 2)
        for a, b in combinations(usable, 2)
        if (sd[a] ** 2 + sd[b] ** 2) > 0
    ]
    smd = float(max(smds)) if smds else np.nan
    if len(usable) < 2:
        return _no_test("Fewer than two groups have values, so there is nothing to compare.")
    if len(np.unique(np.concatenate([samples[g] for g in usable]))) < 2:
        return _no_test("All values are equal, so there is nothing to test.", smd)
    if len(usable) == 2:
        a, b = samples[usable[0]], samples[usable[1]]
        pooled = np.concatenate([a, b])
        exact = len(a) < 50 and len(b) < 50 and len(np.unique(pooled)) == len(pooled)
        res = stats.mannwhitneyu(
            a, b, alternative="two-sided", use_continuity=True, method="exact" if exact else "asymptotic"
        )
        return {
            "test": "Wilcoxon rank-sum" + (" (exact)" if exact else ""),
            "statistic": float(res.statistic),
            "df": np.nan,
            "p": float(res.pvalue),
            "smd": smd,
            "note": "",
        }
    res = stats.kruskal(*[samples[g] for g in usable])
    return {
        "test": "Kruskal-Wallis",
        "statistic": float(res.statistic),
        "df": len(usable) - 1,
        "p": float(res.pvalue),
        "smd": smd,
        "note": "",
    }


def _level_counts(values: pd.Series, group_codes: np.ndarray, n_groups: int) -> tuple[pd.DataFrame, list[int]]:
    """Counts of each level (as text, sorted) per group, and the missing count per group and overall.

    Values are factorized once (missing -> -1) and the distinct values turned into text, so two values
    with the same text (1 and "1") are one level, as when every value is compared as text.
    """
    codes, uniques = pd.factorize(values)
    text = [str(u) for u in uniques]
    levels = sorted(set(text))
    level_of = np.array([levels.index(t) for t in text], dtype=np.int64)
    present = codes >= 0
    cells = group_codes[present] * len(levels) + level_of[codes[present]]
    counts = np.bincount(cells, minlength=n_groups * len(levels)).reshape(n_groups, len(levels))
    missing = np.bincount(group_codes[~present], minlength=n_groups).tolist()
    return pd.DataFrame(counts.T, index=levels), [*missing, int(sum(missing))]


def _categorical_test(table: pd.DataFrame) -> dict:
    """Tests and SMD on a level x group count table (non-missing values)."""
    table = table.loc[table.sum(axis=1) > 0, table.sum(axis=0) > 0]
    smd = _max_categorical_smd(table)
    if table.shape[0] < 2 or table.shape[1] < 2:
        return _no_test("Only one level or one group has values, so there is nothing to test.", smd)
    observed = table.to_numpy()
    expected = stats.contingency.expected_freq(observed)
    if observed.shape == (2, 2) and expected.min() < 5:
        res = stats.fisher_exact(observed)
        return {
            "test": "Fisher's exact",
            "statistic": float(res.statistic),
            "df": np.nan,
            "p": float(res.pvalue),
            "smd": smd,
            "note": "",
        }
    chi2, p, dof, _ = stats.chi2_contingency(observed, correction=True)
    note = "Some expected counts are below 5; the chi-square p-value is approximate." if expected.min() < 5 else ""
    return {
        "test": "Chi-square" + (" (Yates)" if observed.shape == (2, 2) else ""),
        "statistic": float(chi2),
        "df": int(dof),
        "p": float(p),
        "smd": smd,
        "note": note,
    }


def _max_categorical_smd(table: pd.DataFrame) -> float:
    """Largest pairwise Yang–Dalton SMD between the columns (groups) of a level x group count table."""
    if table.shape[0] < 2 or table.shape[1] < 2:
        return np.nan
    props = (table / table.sum(axis=0)).to_numpy()[1:]  # drop the first level (proportions sum to 1)
    best = 0.0
    for a, b in combinations(range(props.shape[1]), 2):
        pa, pb = props[:, a], props[:, b]
        cov = (np.diag(pa) - np.outer(pa, pa) + np.diag(pb) - np.outer(pb, pb)) / 2
        diff = pb - pa
        value = float(np.sqrt(max(diff @ np.linalg.pinv(cov) @ diff, 0.0)))
        best = max(best, value)
    return best
