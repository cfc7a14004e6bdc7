"""Small-cell suppression of Table 1 (``analyses.baseline.table_one``): the one function the Cohort page,
its download, ``ayaall export --figure table1`` and ``ayaall analyze table1`` show Table 1 through.

A count of 1 to ``min_cell - 1`` is masked with its
percentage; then, within each variable, further cells are masked (smallest first) until no masked cell
can be recovered from a group's total (its column, which includes the missing count) or from the overall
column (its row), using :func:`disclosure.suppression.suppress_totals` in both directions until stable.
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
Hundepool A, et al. (2012). Statistical Disclosure Control. Wiley, ch. 4 (secondary suppression).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from analyses.baseline import MISSING, OVERALL, TableOneResult
from disclosure.suppression import is_small, suppress_totals

__all__ = ["suppress_table_one"]


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
