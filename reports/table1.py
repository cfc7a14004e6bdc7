"""Table 1: the one suppressed result and the one publication layout, for every place that shows it.

``table_one_result`` runs ``analyses.baseline.table_one`` on the cohort's patients, its small categories and
groups combined first (``disclosure.table1.combine_categories``, ``disclosure.groups.combine_groups``), and
releases it through ``disclosure.table1.release_table_one``; ``format_table_one`` lays it out for a reader:
one row per level
(and a missing row only when a variable has missing values), one column per group, then Overall, p and
SMD; a masked count is ``reports.formatting.MASKED``. The Cohort page, its download, ``ayaall export
--figure table1`` and ``ayaall analyze table1`` all call these two, on the variables of
``ayaall.filters.TABLE_ONE`` unless told otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from analyses.baseline import MISSING, OVERALL, TableOneResult, table_one
from ayaall.cohort import CohortSpec
from ayaall.errors import UserError
from ayaall.filters import TABLE_ONE, column_label
from ayaall.records import RECORD_KEY
from disclosure.groups import combine_groups
from disclosure.policy import policy_for
from disclosure.table1 import combine_categories, release_table_one, table_one_keys
from reports.formatting import MASKED, format_p
from reports.service import RegistryService, cohort_key

__all__ = ["ALL_PATIENTS", "format_table_one", "table1", "table_one_result", "table_one_variables"]

#: the single column's name when Table 1 is not grouped
ALL_PATIENTS = "All patients"


def table_one_variables(by: str | None, variables: Sequence[str] = ()) -> list[str]:
    """The rows of a Table 1 grouped by ``by``: ``variables`` or ``ayaall.filters.TABLE_ONE``, without ``by``."""
    chosen = list(variables) or [c for c, _ in TABLE_ONE]
    return [v for v in dict.fromkeys(chosen) if v != by]


def table_one_result(
    service: RegistryService,
    cohort: CohortSpec,
    by: str | None,
    min_cell: int,
    variables: Sequence[str] = (),
) -> TableOneResult:
    """The cohort's Table 1 by ``by`` (None: one column of all patients), suppressed at ``min_cell``; cached.

    Raises ``UserError`` naming a column that is not one of ``analysis_patients``.
    """
    rows = table_one_variables(by, variables)
    key = ("table1", cohort_key(cohort), by, tuple(rows), min_cell)
    return service.cached(key, lambda: _result(service, cohort, by, rows, min_cell))


def _result(
    service: RegistryService, cohort: CohortSpec, by: str | None, rows: list[str], min_cell: int
) -> TableOneResult:
    known = service.columns()
    unknown = [c for c in [*([by] if by else []), *rows] if c not in known]
    if unknown:
        raise UserError(f"{unknown[0]!r} is not a column of analysis_patients (columns: {', '.join(known)}).")
    policy = policy_for(min_cell)
    frame = service.patients(cohort, [*rows, *([by] if by else [])], identifiers=False, keys=True)
    keys = frame.get(RECORD_KEY)
    group_col = by or "_group"
    if by is None:
        frame = frame.assign(_group=ALL_PATIENTS)
    else:
        frame = frame[frame[by].notna()]
        keys = frame.get(RECORD_KEY)
        frame = frame.assign(**{by: combine_groups(frame[by].astype(str), policy, keys=keys)[0]})
    frame = frame.assign(**{var: combine_categories(frame[var], policy, keys)[0] for var in rows})
    result = table_one(frame, group_col, rows)
    return release_table_one(result, policy, table_one_keys(frame, group_col, result))


def table1(service: RegistryService, cohort: CohortSpec, by: str | None, min_cell: int) -> pd.DataFrame:
    """The Cohort page's Table 1: :func:`table_one_result` laid out by :func:`format_table_one`."""
    return format_table_one(table_one_result(service, cohort, by, min_cell), compare=by is not None)


def format_table_one(result: TableOneResult, *, compare: bool = True) -> pd.DataFrame:
    """A suppressed ``TableOneResult`` as the publication table (strings; ``MASKED`` for a masked count).

    ``compare`` False shows only the Overall column (one group: no tests).
    """
    groups = result.groups.set_index("group")["n"]
    shown = [g for g in groups.index if g != OVERALL] if compare else []
    columns = {g: f"{g} (n={_count(groups[g])})" for g in [*shown, OVERALL]}
    tests = result.tests.set_index("variable")
    rows: list[dict[str, str]] = []
    for var in tests.index:
        if tests.loc[var, "kind"] == "continuous":
            block = _continuous_rows(result.continuous[result.continuous["variable"] == var], columns)
        else:
            block = _categorical_rows(result.categorical[result.categorical["variable"] == var], columns)
        for i, row in enumerate(block):
            first = i == 0
            row = {"Characteristic": column_label(var) if first else "", **row}
            if compare:
                row["p"] = format_p(tests.loc[var, "p"]) if first else ""
                smd = tests.loc[var, "smd"]
                row["SMD"] = (MASKED if pd.isna(smd) else f"{smd:.2f}") if first else ""
            rows.append(row)
    return pd.DataFrame(
        rows, columns=["Characteristic", "Level", *columns.values(), *(["p", "SMD"] if compare else [])]
    )


def _count(value: Any) -> str:
    return MASKED if value is None or (isinstance(value, float) and math.isnan(value)) else f"{int(value):,}"


def _categorical_rows(cat: pd.DataFrame, columns: dict[str, str]) -> list[dict[str, str]]:
    cells = {
        (lv, g): (n, pct) for lv, g, n, pct in zip(cat["level"], cat["group"], cat["n"], cat["percent"], strict=True)
    }
    levels = list(dict.fromkeys(cat["level"]))
    if all(cells[(MISSING, g)][0] == 0 for g in columns):  # no missing value: no missing row
        levels.remove(MISSING)
    rows = []
    for level in levels:
        row = {"Level": "missing" if level == MISSING else str(level)}
        for group, title in columns.items():
            n, pct = cells[(level, group)]
            row[title] = _count(n) if n is None or pd.isna(pct) else f"{int(n):,} ({pct:.0f}%)"
        rows.append(row)
    return rows


def _continuous_rows(cont: pd.DataFrame, columns: dict[str, str]) -> list[dict[str, str]]:
    summaries = {g: s for g, s in zip(cont["group"], cont.to_dict("records"), strict=True)}

    def fmt(group: str, pattern: str, *fields: str) -> str:
        values = [summaries[group][f] for f in fields]
        return MASKED if any(pd.isna(v) for v in values) else pattern.format(*values)

    rows = [
        {
            "Level": "median (IQR)",
            **{t: fmt(g, "{:.1f} ({:.1f}–{:.1f})", "median", "q1", "q3") for g, t in columns.items()},
        },
        {"Level": "mean (SD)", **{t: fmt(g, "{:.1f} ({:.1f})", "mean", "sd") for g, t in columns.items()}},
    ]
    if any(summaries[g]["missing"] != 0 for g in columns):  # masked (None) or some missing
        rows.append({"Level": "missing", **{t: _count(summaries[g]["missing"]) for g, t in columns.items()}})
    return rows
