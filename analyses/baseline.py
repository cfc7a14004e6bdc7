"""Table 1: baseline characteristics by group, with tests, standardized differences and suppression.

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

Suppression (:func:`suppress_table_one`): a count of 1 to ``min_cell - 1`` is masked with its
percentage; then, within each variable, further cells are masked (smallest first) until no masked cell
can be recovered from a group's total (its column, which includes the missing count) or from the overall
column (its row), using :func:`analyses.suppression.suppress_totals` in both directions until stable.
Continuous summaries of a group with fewer than ``min_cell`` non-missing values are masked; a continuous
variable's non-missing and missing counts are suppressed as a two-level table (they add up to the
group's size, and across groups to the Overall counts). The Overall n is masked when it is small or when
it would reveal a masked group size. Last, what would still give a masked count back is masked: every
count of a group whose size is masked, an Overall cell whose row's masked cells add up to a small
count, a group's percentages where its missing count is masked (they are of the non-missing values),
and a continuous variable's non-missing count where its missing count is masked, and the reverse. The
dashboard, the export and ``ayaall analyze table1`` all show Table 1 through this one function.

References
----------
Yang D, Dalton JE (2012). A unified approach to measuring the effect size between two groups using SAS.
SAS Global Forum, paper 335-2012.
Hundepool A, et al. (2012). Statistical Disclosure Control. Wiley, ch. 4 (secondary suppression).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from analyses.results import AnalysisError
from analyses.suppression import is_small, suppress_totals

__all__ = ["TableOneResult", "suppress_table_one", "table_one"]

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


# ------------------------------------------------------------------------------ suppression
def suppress_table_one(result: TableOneResult, min_cell: int) -> TableOneResult:
    """A copy of ``result`` with small counts masked (None), secondary suppression, and every count or
    percentage masked that would give a masked count back (module docstring)."""
    if min_cell <= 0:
        return result
    return _close_back_calculations(result, _mask_cells(result, min_cell), min_cell)


def _mask_cells(result: TableOneResult, min_cell: int) -> TableOneResult:
    """Small counts and secondary suppression, cell by cell (module docstring)."""
    cat = result.categorical.copy().astype({"n": object})
    hide = np.zeros(len(cat), dtype=bool)
    variables = cat["variable"].to_numpy()
    for var in pd.unique(variables):
        rows = np.flatnonzero(variables == var)
        level_codes, levels = pd.factorize(cat["level"].to_numpy()[rows], sort=True)
        group_codes, groups = pd.factorize(cat["group"].to_numpy()[rows], sort=True)
        grid = np.full((len(levels), len(groups)), np.nan)
        grid[level_codes, group_codes] = cat["n"].to_numpy(dtype=float)[rows]
        hide[rows] = _hidden_cells(grid, list(groups).index(OVERALL), min_cell)[level_codes, group_codes]
    cat.loc[hide, "n"] = None
    cat.loc[hide, "percent"] = np.nan
    cont = result.continuous.copy().astype({"n": object, "missing": object})
    cont.loc[cont["n"].astype(float) < min_cell, ["median", "q1", "q3", "mean", "sd"]] = np.nan
    variables = cont["variable"].to_numpy()
    for var in pd.unique(variables):  # n and missing: a two-level table (columns add up to group sizes)
        rows = np.flatnonzero(variables == var)
        grid = cont[["n", "missing"]].to_numpy(dtype=float)[rows].T
        hidden = _hidden_cells(grid, list(cont["group"].to_numpy()[rows]).index(OVERALL), min_cell)
        cont.loc[cont.index[rows[hidden[0]]], "n"] = None
        cont.loc[cont.index[rows[hidden[1]]], "missing"] = None
    groups = result.groups.copy().astype({"n": object})
    masked_n, hide_total = suppress_totals(groups["n"].iloc[:-1], min_cell)
    groups.loc[groups.index[:-1], "n"] = masked_n
    if hide_total or is_small(groups["n"].iloc[-1], min_cell):  # the Overall n would reveal a masked group
        groups.loc[groups.index[-1], "n"] = None
    return TableOneResult(groups, cat, cont, result.tests, result.group_col)


def _close_back_calculations(raw: TableOneResult, shown: TableOneResult, min_cell: int) -> TableOneResult:
    """``shown`` (``_mask_cells(raw)``) with the counts masked that would reveal a masked one.

    ``raw`` holds the true counts. On top of the cell suppression:

    1. A group whose n is masked has every count of its column masked: the column adds up to its n.
    2. An Overall cell is masked when the masked cells of its row add up to a small count (it is
       their sum plus the shown ones); within a variable the Overall cells add up to the Overall n,
       so ``suppress_totals`` masks more of them.
    3. A percentage is of the non-missing values: where a group's missing count is masked (and not
       zero), the group's percentages for that variable are masked (cell / percent is the non-missing
       count, the group's n minus it the missing count).
    4. Continuous rows: non-missing plus missing is the group's n, so when one is masked (and not zero)
       so is the other. The Overall ones add up the groups'; given the groups' n they reveal the
       missing values of the groups whose counts are masked, all together: masked when that is small.
    """
    groups = shown.groups
    hidden_groups = set(groups.loc[groups["n"].isna(), "group"])
    overall = raw.groups["group"].iloc[-1]
    cat = shown.categorical.copy()
    cat.loc[cat["group"].isin(hidden_groups), ["n", "percent"]] = None
    true_n = raw.categorical["n"]
    for _, block in cat.groupby("variable", sort=False):
        in_groups = block[block["group"] != overall]
        for level, row in in_groups.groupby("level", sort=False):
            hidden_sum = true_n[row.index[row["n"].isna()]].sum()
            if is_small(hidden_sum, min_cell):
                cat.loc[block.index[(block["level"] == level) & (block["group"] == overall)], ["n", "percent"]] = None
        col = cat.loc[block.index[block["group"] == overall]]
        masked, exposed = suppress_totals(true_n[col.index], min_cell, also_mask=col["n"].isna())
        cat.loc[[i for i, m in zip(col.index, masked, strict=True) if m is None or exposed], ["n", "percent"]] = None
        for _, column in cat.loc[block.index].groupby("group", sort=False):
            missing = column.index[column["level"] == MISSING]
            if cat.loc[missing, "n"].isna().all() and true_n[missing].sum() > 0:
                cat.loc[column.index, "percent"] = None
    cont = shown.continuous.copy()
    true_cont = raw.continuous
    cont.loc[cont["group"].isin(hidden_groups), ["n", "missing"]] = None
    for col, other in (("n", "missing"), ("missing", "n")):
        reveal = cont[col].isna() & (true_cont[col] > 0)
        cont.loc[reveal, other] = None
    for _, block in cont.groupby("variable", sort=False):
        hidden = block.index[(block["group"] != overall) & block[["n", "missing"]].isna().any(axis=1)]
        if is_small(true_cont.loc[hidden, "missing"].sum(), min_cell):
            cont.loc[block.index[block["group"] == overall], ["n", "missing"]] = None
    return dataclasses.replace(shown, categorical=cat, continuous=cont)


def _hidden_cells(grid: np.ndarray, overall: int, min_cell: int) -> np.ndarray:
    """Primary and secondary suppression of one variable's level x group grid (columns in sorted order,
    ``overall`` the Overall column): rule 3 down each column and across each row's groups, until stable."""
    hidden = (grid > 0) & (grid < min_cell)
    groups = [j for j in range(grid.shape[1]) if j != overall]
    for _ in range(50):  # each pass only adds masks, so this ends
        before = hidden.sum()
        for j in range(grid.shape[1]):  # a group's column adds up to its n
            masked, _ = suppress_totals(grid[:, j], min_cell, also_mask=hidden[:, j])
            hidden[:, j] = [m is None for m in masked]
        for i in range(grid.shape[0]):  # the groups of a row add up to its Overall cell
            masked, _ = suppress_totals(grid[i, groups], min_cell, also_mask=hidden[i, groups])
            hidden[i, groups] = [m is None for m in masked]
            if 0 < hidden[i, groups].sum() < 2:
                hidden[i, overall] = True
        if hidden.sum() == before:
            break
    return hidden
