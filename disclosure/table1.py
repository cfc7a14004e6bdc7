"""Table 1 released: categories combined before the table is built, every count released, percentages of
released counts.

``combine_categories`` comes first, on the patients' values (before ``analyses.baseline.table_one``, so the
tests compare what is shown): a level whose released count over the cohort is masked (at most k
patients) joins ``OTHER_CATEGORIES``, and so do the smallest levels while a variable has more than
``max_parts`` parts (the missing values count as a part). ``release_table_one`` then releases the result:
every cell, group size and missing count through ``ReleasePolicy.count``; each percentage is a released
cell over its group's released number of non-missing values; a continuous summary is shown for a group of
at least k patients with a value (its median and quartiles are order statistics of the patients). The
Cohort page, its download, ``ayaall export --figure table1`` and ``ayaall analyze table1`` all show Table 1
through these two.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analyses.baseline import MISSING, OVERALL, TableOneResult
from ayaall.records import RECORD_KEY
from disclosure.cellkey import key_sums, text_codes
from disclosure.policy import ReleasePolicy

__all__ = ["OTHER_CATEGORIES", "TableOneKeys", "combine_categories", "release_table_one", "table_one_keys"]

#: the name of the combined small categories of a Table 1 variable
OTHER_CATEGORIES = "Other or unknown"


def combine_categories(
    values: pd.Series, policy: ReleasePolicy, keys: pd.Series | None = None
) -> tuple[pd.Series, list[str]]:
    """A categorical variable's values with its small levels combined as ``OTHER_CATEGORIES``; and the
    levels combined (sorted). A level is small when its released count is masked; the smallest others join
    while the variable has more than ``policy.max_parts`` parts (missing values are a part). A single small
    level is kept as it is (masked where shown): combining needs two. Missing values stay missing; a
    numeric variable (continuous) is left alone."""
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if not policy.active or numeric:
        return values, []
    codes, names = text_codes(values)
    counts = np.bincount(codes[codes >= 0], minlength=len(names))
    sizes = dict(zip(names, counts.tolist(), strict=True))
    level_keys: dict[str, int] = {}
    if keys is not None:
        row_keys = keys if keys.index.equals(values.index) else keys.reindex(values.index)
        if not row_keys.isna().any():
            level_keys = dict(zip(names, key_sums(codes, len(names), row_keys).tolist(), strict=True))
    small = {name for name, size in sizes.items() if policy.count(size, level_keys.get(name)) is None}
    has_missing = bool((codes < 0).any())

    def parts() -> int:
        return len(sizes) - len(small) + (1 if small else 0) + (1 if has_missing else 0)

    order = sorted((n for n in sizes if n not in small), key=lambda n: (policy.rounded(sizes[n], level_keys.get(n)), n))
    while parts() > (policy.max_parts or parts()) and order:
        small.add(order.pop(0))
    if len(small) < 2:
        return values, []
    shown = np.asarray([OTHER_CATEGORIES if name in small else name for name in names] + [None], dtype=object)
    return pd.Series(shown[codes], index=values.index, name=values.name), sorted(small)


@dataclass(frozen=True)
class TableOneKeys:
    """The cell keys of a Table 1 (``disclosure.cellkey``): each group's (``groups``), each cell's by
    (variable, level, group) with the missing values as level ``MISSING`` (``cells``), and each variable's
    non-missing values by (variable, group) (``present``). The Overall column is every patient."""

    groups: dict[str, int | None]
    cells: dict[tuple[str, str, str], int | None]
    present: dict[tuple[str, str], int | None]


def table_one_keys(df: pd.DataFrame, group_col: str, result: TableOneResult) -> TableOneKeys | None:
    """:class:`TableOneKeys` of the patients ``result`` (``analyses.baseline.table_one`` of ``df`` by
    ``group_col``) counts, labelled as it labels them (groups and levels as text, missing as
    ``MISSING``); None without record keys."""
    if RECORD_KEY not in df.columns or df[RECORD_KEY].isna().any():
        return None
    keys = df[RECORD_KEY].to_numpy(dtype=np.uint64)
    gcodes, gnames = text_codes(df[group_col].astype(object).where(df[group_col].notna(), MISSING))
    width = len(gnames)
    whole = int(key_sums(np.zeros(len(df), dtype=np.intp), 1, keys)[0])
    groups: dict[str, int | None] = {g: int(k) for g, k in zip(gnames, key_sums(gcodes, width, keys), strict=True)}
    groups[OVERALL] = whole
    cells: dict[tuple[str, str, str], int | None] = {}
    present: dict[tuple[str, str], int | None] = {}

    def by_group(codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
        """Counts and key sums of ``codes`` within each group (row-major: group x size), and over all."""
        kept = codes >= 0
        combined = np.where(kept, gcodes * size + codes, -1)
        n = np.bincount(combined[kept], minlength=width * size).reshape(width, size)
        k = key_sums(combined, width * size, keys).reshape(width, size)
        overall_n = np.bincount(codes[kept], minlength=size)[None, :]
        return np.vstack([n, overall_n]), np.vstack([k, key_sums(codes, size, keys)[None, :]])

    columns = [*gnames, OVERALL]
    categorical = set(result.categorical["variable"])
    for var in dict.fromkeys([*result.categorical["variable"], *result.continuous["variable"]]):
        values = df[var]
        there = values.notna().to_numpy()
        n, k = by_group(there.astype(np.intp), 2)  # 0 missing, 1 present
        for i, g in enumerate(columns):
            if n[i, 1]:
                present[(var, g)] = int(k[i, 1])
            if n[i, 0]:
                cells[(var, MISSING, g)] = int(k[i, 0])
        if var in categorical:
            codes, levels = text_codes(values)
            n, k = by_group(codes, len(levels))
            for i, g in enumerate(columns):
                for j, level in enumerate(levels):
                    if n[i, j]:
                        cells[(var, level, g)] = int(k[i, j])
    return TableOneKeys(groups=groups, cells=cells, present=present)


def release_table_one(
    result: TableOneResult, policy: ReleasePolicy, keys: TableOneKeys | None = None
) -> TableOneResult:
    """``result`` released (module docstring); with the policy off, as it is. ``keys``
    (:func:`table_one_keys`) perturb every count by its cell's key; a cell with no patients has none."""
    if not policy.active:
        return result
    groups = result.groups.copy()
    cell = keys.cells.get if keys else (lambda _k: None)
    present_key = keys.present.get if keys else (lambda _k: None)
    size = keys.groups.get if keys else (lambda _k: None)
    groups["n"] = policy.count_column(result.groups["n"], groups.index, [size(g) for g in result.groups["group"]])
    cat = result.categorical.copy()
    cat["n"] = policy.count_column(
        result.categorical["n"],
        cat.index,
        [cell((v, lv, g)) for v, lv, g in zip(cat["variable"], cat["level"], cat["group"], strict=True)],
    )
    nonmissing = (
        result.categorical[result.categorical["level"] != MISSING].groupby(["variable", "group"], sort=False)["n"].sum()
    )
    released_total = {key: policy.count(value, present_key(key)) for key, value in nonmissing.items()}
    percent = []
    for var, level, group, n in zip(cat["variable"], cat["level"], cat["group"], cat["n"], strict=True):
        total = released_total.get((var, group))
        ok = level != MISSING and n is not None and total
        percent.append(100.0 * n / total if ok else np.nan)
    cat["percent"] = percent
    cont = result.continuous.copy()
    pairs = list(zip(cont["variable"], cont["group"], strict=True))
    cont["n"] = policy.count_column(result.continuous["n"], cont.index, [present_key(p) for p in pairs])
    cont["missing"] = policy.count_column(
        result.continuous["missing"], cont.index, [cell((v, MISSING, g)) for v, g in pairs]
    )
    cont.loc[cont["n"].isna(), ["median", "q1", "q3", "mean", "sd"]] = np.nan
    return dataclasses.replace(result, groups=groups, categorical=cat, continuous=cont)
