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

import numpy as np
import pandas as pd

from analyses.baseline import MISSING, TableOneResult
from disclosure.policy import ReleasePolicy

__all__ = ["OTHER_CATEGORIES", "combine_categories", "release_table_one"]

#: the name of the combined small categories of a Table 1 variable
OTHER_CATEGORIES = "Other or unknown"


def combine_categories(values: pd.Series, policy: ReleasePolicy) -> tuple[pd.Series, list[str]]:
    """A categorical variable's values with its small levels combined as ``OTHER_CATEGORIES``; and the
    levels combined (sorted). A level is small when its released count is masked; the smallest others join
    while the variable has more than ``policy.max_parts`` parts (missing values are a part). A single small
    level is kept as it is (masked where shown): combining needs two. Missing values stay missing; a
    numeric variable (continuous) is left alone."""
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if not policy.active or numeric:
        return values, []
    present = values.dropna()
    text = values.astype(object).where(values.isna(), values.astype(str))
    sizes = present.astype(str).value_counts()
    small = {name for name, size in sizes.items() if policy.count(size) is None}
    has_missing = bool(values.isna().any())

    def parts() -> int:
        return len(sizes) - len(small) + (1 if small else 0) + (1 if has_missing else 0)

    order = sorted((n for n in sizes.index if n not in small), key=lambda n: (policy.rounded(sizes[n]), n))
    while parts() > (policy.max_parts or parts()) and order:
        small.add(order.pop(0))
    if len(small) < 2:
        return values, []
    combined = text.where(text.isna() | ~text.isin(small), OTHER_CATEGORIES)
    return combined, sorted(small)


def release_table_one(result: TableOneResult, policy: ReleasePolicy) -> TableOneResult:
    """``result`` released (module docstring); with the policy off, as it is."""
    if not policy.active:
        return result
    groups = result.groups.copy()
    groups["n"] = policy.count_column(result.groups["n"], groups.index)
    cat = result.categorical.copy()
    cat["n"] = policy.count_column(result.categorical["n"], cat.index)
    nonmissing = (
        result.categorical[result.categorical["level"] != MISSING].groupby(["variable", "group"], sort=False)["n"].sum()
    )
    released_total = {key: policy.count(value) for key, value in nonmissing.items()}
    percent = []
    for var, level, group, n in zip(cat["variable"], cat["level"], cat["group"], cat["n"], strict=True):
        total = released_total.get((var, group))
        ok = level != MISSING and n is not None and total
        percent.append(100.0 * n / total if ok else np.nan)
    cat["percent"] = percent
    cont = result.continuous.copy()
    cont["n"] = policy.count_column(result.continuous["n"], cont.index)
    cont["missing"] = policy.count_column(result.continuous["missing"], cont.index)
    cont.loc[cont["n"].isna(), ["median", "q1", "q3", "mean", "sd"]] = np.nan
    return dataclasses.replace(result, groups=groups, categorical=cat, continuous=cont)
