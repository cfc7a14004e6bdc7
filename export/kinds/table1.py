"""``--figure table1``: baseline characteristics by group (tables only), as ``ayaall analyze table1``
computes them (``analyses.baseline.table_one`` + ``suppress_table_one``)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from analyses.baseline import OVERALL, TableOneResult, table_one
from ayaall.cohort import CohortSpec
from ayaall.errors import UserError
from ayaall.filters import BY_COLUMNS, FILTERS
from disclosure.table1 import suppress_table_one
from etl.read import analysis_columns
from export.kinds.base import FigureKind, TableSpec, check_options
from export.requests import ExportRequest
from export.rounding import round_columns, round_p
from reports.analyze.table1 import DEFAULT_VARIABLES
from reports.formatting import MASKED, format_p
from reports.service import RegistryService, cohort_key

__all__ = ["KIND", "table1_result"]

_OPTIONS = frozenset({"by", "variables"})
_LABELS = (
    {c: lab for c, lab in BY_COLUMNS}
    | {f.column: f.label for f in FILTERS}
    | {
        "age_at_dx": "Age at diagnosis (years)",
        "wbc_at_dx": "WBC at diagnosis",
    }
)


def table1_result(
    service: RegistryService, cohort: CohortSpec, by: str, variables: list[str], min_cell: int
) -> TableOneResult:
    """Table 1 of ``cohort`` by ``by``, suppressed at ``min_cell`` (cached in the service)."""
    key = ("table1-baseline", cohort_key(cohort), by, tuple(variables), min_cell)
    return service.cached(key, lambda: _table1_result(service, cohort, by, variables, min_cell))


def _table1_result(
    service: RegistryService, cohort: CohortSpec, by: str, variables: list[str], min_cell: int
) -> TableOneResult:
    cur = service.cursor()
    try:
        known = analysis_columns(cur)
    finally:
        cur.close()
    unknown = [c for c in [by, *variables] if c not in known]
    if unknown:
        raise UserError(f"{unknown[0]!r} is not a column of analysis_patients (columns: {', '.join(known)}).")
    frame = service.patients(cohort, [by, *variables]).drop(columns="patient_id", errors="ignore")
    return suppress_table_one(table_one(frame, by, variables), min_cell)


def _variables(request: ExportRequest) -> list[str]:
    chosen = list(request.variables) or list(DEFAULT_VARIABLES)
    return [v for v in chosen if v != request.by]


def _check(request: ExportRequest) -> None:
    check_options("table1", request, _OPTIONS)
    if not request.by:
        raise UserError("--figure table1 needs --by (the column whose groups are compared).")


def _compute(service: RegistryService, request: ExportRequest) -> TableOneResult:
    cohort = CohortSpec.from_dict(request.cohort)
    return table1_result(service, cohort, str(request.by), _variables(request), request.min_cell)


def _round(result: TableOneResult, decimals: int) -> TableOneResult:
    return dataclasses.replace(
        result,
        categorical=round_columns(result.categorical, ["percent"], decimals),
        continuous=round_columns(result.continuous, ["median", "q1", "q3", "mean", "sd"], decimals),
        tests=round_p(round_columns(result.tests, ["statistic", "smd"], decimals)),
    )


def _count(value: Any) -> str:
    return MASKED if value is None or (isinstance(value, float) and np.isnan(value)) else f"{int(value):,}"


def _num(value: Any, digits: int = 1) -> str:
    return MASKED if value is None or pd.isna(value) else f"{float(value):.{digits}f}"


def _formatted(result: TableOneResult) -> pd.DataFrame:
    """The publication table: n (%) and median [IQR] / mean (SD) per group, p and SMD per variable."""
    groups = list(result.groups["group"])
    heads = {g: f"{g} (n={_count(n)})" for g, n in zip(groups, result.groups["n"], strict=True)}
    tests = result.tests.set_index("variable")
    rows: list[dict[str, str]] = []
    for var in tests.index:
        label = _LABELS.get(var, var)
        test = tests.loc[var]
        stats = {"p": format_p(test["p"]), "SMD": _num(test["smd"], 2)}
        if test["kind"] == "continuous":
            cont = result.continuous[result.continuous["variable"] == var].set_index("group")
            median = {
                heads[g]: f"{_num(cont.loc[g, 'median'])} [{_num(cont.loc[g, 'q1'])}–{_num(cont.loc[g, 'q3'])}]"
                for g in groups
            }
            mean = {heads[g]: f"{_num(cont.loc[g, 'mean'])} ({_num(cont.loc[g, 'sd'])})" for g in groups}
            rows.append({"Characteristic": label, "Level": "median [IQR]", **median, **stats})
            rows.append({"Characteristic": "", "Level": "mean (SD)", **mean, "p": "", "SMD": ""})
            continue
        cat = result.categorical[result.categorical["variable"] == var]
        for i, level in enumerate(dict.fromkeys(cat["level"])):
            cells = cat[cat["level"] == level].set_index("group")
            row = {"Characteristic": label if i == 0 else "", "Level": level}
            for g in groups:
                n, pct = cells.loc[g, "n"], cells.loc[g, "percent"]
                row[heads[g]] = _count(n) if n is None or pd.isna(pct) else f"{_count(n)} ({float(pct):.1f}%)"
            rows.append(row | (stats if i == 0 else {"p": "", "SMD": ""}))
    return pd.DataFrame(rows, columns=["Characteristic", "Level", *heads.values(), "p", "SMD"])


def _frames(result: TableOneResult, request: ExportRequest) -> dict[str, pd.DataFrame]:
    return {
        "table1": _formatted(result),
        "groups": result.groups,
        "categorical": result.categorical,
        "continuous": result.continuous,
        "tests": result.tests,
    }


def _methods(result: TableOneResult, request: ExportRequest) -> list[str]:
    return [
        f"Baseline characteristics are compared by {request.by}: categorical variables as n (%) of the "
        "non-missing values, continuous variables as median [interquartile range] (quantile type 7) and "
        "mean (SD).",
        "Groups were compared with Pearson's chi-square test (Yates' correction for 2 × 2 tables, Fisher's exact "
        "test for a 2 × 2 table with an expected count below 5) and with the Wilcoxon rank-sum or Kruskal–Wallis "
        "test; standardised mean differences are the largest pairwise difference (Yang and Dalton's multi-level "
        "SMD for categorical variables).",
    ]


def _analysed(result: TableOneResult) -> int | None:
    overall = result.groups.loc[result.groups["group"] == OVERALL, "n"]
    value = overall.iloc[0] if len(overall) else None
    return None if value is None or pd.isna(value) else int(value)


KIND = FigureKind(
    name="table1",
    label="Table 1 (baseline characteristics)",
    options=_OPTIONS,
    tables=(
        TableSpec("table1", "the publication table: n (%) or median [IQR] and mean (SD) per group, p, SMD"),
        TableSpec("groups", "patients per group and overall", ("n",)),
        TableSpec("categorical", "n and % per variable, level and group", ("n",)),
        TableSpec("continuous", "n, missing, median, quartiles, mean, SD per variable and group", ("n", "missing")),
        TableSpec("tests", "test, statistic, df, p and SMD per variable"),
    ),
    compute=_compute,
    round=_round,
    figure=None,
    frames=_frames,
    methods=_methods,
    analysed=_analysed,
    check=_check,
    method={
        "categorical": "n (%), chi-square (Yates 2x2) or Fisher's exact",
        "continuous": "median [IQR] (type 7), mean (SD); Wilcoxon or Kruskal-Wallis",
        "smd": "largest pairwise (Yang & Dalton for categorical)",
    },
    curves=False,
)
