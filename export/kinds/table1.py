"""``--figure table1``: baseline characteristics by group (tables only): the Cohort page's Table 1
(``reports.table1``), as ``ayaall analyze table1`` prints it."""

from __future__ import annotations

import dataclasses

import pandas as pd

from analyses.baseline import OVERALL, TableOneResult
from ayaall.cohort import CohortSpec
from ayaall.filters import column_label
from export.kinds.base import FigureKind, TableSpec, check_options
from export.requests import ExportRequest
from export.rounding import round_columns, round_p
from reports.service import RegistryService
from reports.table1 import format_table_one, table_one_result

__all__ = ["KIND"]

_OPTIONS = frozenset({"by", "variables"})


def _check(request: ExportRequest) -> None:
    check_options("table1", request, _OPTIONS)


def _compute(service: RegistryService, request: ExportRequest) -> TableOneResult:
    cohort = CohortSpec.from_dict(request.cohort)
    return table_one_result(service, cohort, request.by, request.min_cell, request.variables)


def _round(result: TableOneResult, decimals: int) -> TableOneResult:
    return dataclasses.replace(
        result,
        categorical=round_columns(result.categorical, ["percent"], decimals),
        continuous=round_columns(result.continuous, ["median", "q1", "q3", "mean", "sd"], decimals),
        tests=round_p(round_columns(result.tests, ["statistic", "smd"], decimals)),
    )


def _frames(result: TableOneResult, request: ExportRequest) -> dict[str, pd.DataFrame]:
    return {
        "table1": format_table_one(result, compare=request.by is not None),
        "groups": result.groups,
        "categorical": result.categorical,
        "continuous": result.continuous,
        "tests": result.tests,
    }


def _methods(result: TableOneResult, request: ExportRequest) -> list[str]:
    subject = f"compared by {column_label(request.by).lower()}" if request.by else "described"
    sentences = [
        f"Baseline characteristics are {subject}: categorical variables as n (%) of the non-missing values, "
        "continuous variables as median (interquartile range; quantile type 7) and mean (SD)."
    ]
    if request.by:
        sentences.append(
            "Groups were compared with Pearson's chi-square test (Yates' correction for 2 × 2 tables, Fisher's "
            "exact test for a 2 × 2 table with an expected count below 5) and with the Wilcoxon rank-sum or "
            "Kruskal–Wallis test; standardised mean differences are the largest pairwise difference (Yang and "
            "Dalton's multi-level SMD for categorical variables)."
        )
    return sentences


def _analysed(result: TableOneResult) -> int | None:
    overall = result.groups.loc[result.groups["group"] == OVERALL, "n"]
    value = overall.iloc[0] if len(overall) else None
    return None if value is None or pd.isna(value) else int(value)


KIND = FigureKind(
    name="table1",
    label="Table 1 (baseline characteristics)",
    options=_OPTIONS,
    tables=(
        TableSpec("table1", "the publication table: n (%) or median (IQR) and mean (SD) per group, p, SMD"),
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
        "continuous": "median (IQR, type 7), mean (SD); Wilcoxon or Kruskal-Wallis",
        "smd": "largest pairwise (Yang & Dalton for categorical)",
    },
)
