"""Table 1 on the Cohort page: ``analyses.baseline.table_one`` + ``suppress_table_one``, formatted for display.

The numbers (counts, percentages of non-missing values, median [IQR], mean (SD), tests and standardized
differences) and their suppression are those of ``analyses.baseline``, as ``ayaall analyze table1``
reports them; this module only lays them out: one row per level (and a missing row when a variable has
missing values), one column per group, then Overall, p and SMD. A masked count is ``—``.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from analyses.baseline import MISSING, OVERALL, TableOneResult, table_one
from ayaall.cohort import CohortSpec
from disclosure.table1 import suppress_table_one
from reports.formatting import MASKED, format_p
from reports.service import RegistryService, cohort_key

__all__ = ["TABLE1_ROWS", "format_table_one", "table1"]

TABLE1_ROWS: tuple[tuple[str, str], ...] = (
    ("age_at_dx", "Age at diagnosis (years)"),
    ("age_group", "Age group"),
    ("sex", "Sex"),
    ("race", "Race"),
    ("ethnicity", "Ethnicity"),
    ("lineage", "Lineage"),
    ("subtype", "Subtype"),
    ("cns_status", "CNS status"),
    ("frontline_regimen", "Frontline regimen"),
    ("mrd_eoi", "End-of-induction MRD"),
    ("cr1", "Reached CR1"),
    ("relapsed", "Relapsed"),
    ("hct", "Transplanted"),
)
_ALL = "All patients"


def table1(service: RegistryService, cohort: CohortSpec, by: str | None, min_cell: int) -> pd.DataFrame:
    """Table 1 of the cohort by ``by`` (None: one column), suppressed and formatted; cached."""
    key = ("table1", cohort_key(cohort), by, min_cell)
    return service.cached(key, lambda: _table1(service, cohort, by, min_cell))


def _table1(service: RegistryService, cohort: CohortSpec, by: str | None, min_cell: int) -> pd.DataFrame:
    variables = [c for c, _ in TABLE1_ROWS if c != by]
    frame = service.patients(cohort, [*variables, *([by] if by else [])], identifiers=False)
    group_col = by or "_group"
    if by is None:
        frame = frame.assign(_group=_ALL)
    result = suppress_table_one(table_one(frame, group_col, variables), min_cell)
    return format_table_one(result, dict(TABLE1_ROWS), compare=by is not None)


def format_table_one(result: TableOneResult, labels: dict[str, str], *, compare: bool = True) -> pd.DataFrame:
    """A suppressed ``TableOneResult`` as display rows (strings; ``—`` for a masked count).

    ``compare`` False shows only the Overall column (one group: no tests).
    """
    groups = result.groups.set_index("group")["n"]
    shown = [g for g in groups.index if g != OVERALL] if compare else []
    columns = {g: f"{g} (n={_count(groups[g])})" for g in [*shown, OVERALL]}
    tests = result.tests.set_index("variable")
    rows: list[dict[str, str]] = []
    for var in tests.index:
        label = labels.get(var, var)
        if tests.loc[var, "kind"] == "continuous":
            block = _continuous_rows(result.continuous[result.continuous["variable"] == var], columns)
        else:
            block = _categorical_rows(result.categorical[result.categorical["variable"] == var], columns)
        for i, row in enumerate(block):
            first = i == 0
            row = {"Characteristic": label if first else "", **row}
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
