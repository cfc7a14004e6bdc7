"""``--figure km``: Kaplan–Meier curves in the KMunicate layout, from the Survival page's view."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from ayaall.cohort import CohortSpec
from ayaall.units import to_unit
from export.kinds.base import FigureKind, TableSpec, check_options, require_endpoint
from export.requests import ExportRequest
from export.rounding import round_columns, round_p
from figures.common import FigureStyle
from figures.views import survival_figure
from reports.service import RegistryService
from reports.survival import MILESTONE_YEARS, SurvivalView, survival_view

__all__ = ["KIND"]

_ESTIMATES = ("survival", "std_err", "ci_lower", "ci_upper")
_OPTIONS = frozenset({"endpoint", "origin", "by"})


def _check(request: ExportRequest) -> None:
    check_options("km", request, _OPTIONS)
    require_endpoint("km", request)


def _compute(service: RegistryService, request: ExportRequest) -> SurvivalView:
    cohort = CohortSpec.from_dict(request.cohort)
    return survival_view(
        service, cohort, str(request.endpoint), str(request.origin), request.by, request.unit, request.min_cell
    )


def _round(view: SurvivalView, decimals: int) -> SurvivalView:
    km = dataclasses.replace(view.km, curve=round_columns(view.km.curve, _ESTIMATES, decimals))
    return dataclasses.replace(view, km=km)


def _figure(view: SurvivalView, request: ExportRequest, style: FigureStyle) -> Any:
    return survival_figure(view, str(request.endpoint), str(request.origin), request.unit, style)


def _frames(view: SurvivalView, request: ExportRequest) -> dict[str, pd.DataFrame]:
    unit, decimals = request.unit, request.decimals
    curve = view.km.curve
    curve_table = pd.DataFrame(
        {
            "group": curve["group"],
            "time_days": curve["time_days"],
            f"time_{unit}": to_unit(curve["time_days"].astype(float), unit).round(decimals),
            "survival": curve["survival"],
            "ci_lower": curve["ci_lower"],
            "ci_upper": curve["ci_upper"],
            "has_censoring": curve["censored"].astype(bool),
        }
    )
    risk = view.risk_table
    risk_table = pd.DataFrame(
        {
            "group": risk["group"],
            "time_days": risk["time_days"],
            f"time_{unit}": to_unit(risk["time_days"].astype(float), unit).round(decimals),
            "at_risk": risk["at_risk"],
            "censored": risk["censored"],
            "events": risk["events"],
        }
    )
    s = view.km.summary
    medians = pd.DataFrame({"group": s["group"], "n": s["n"], "events": s["events"]})
    for col, name in (
        ("median_days", "median"),
        ("median_ci_lower", "median_ci_lower"),
        ("median_ci_upper", "median_ci_upper"),
    ):
        days = pd.to_numeric(s[col], errors="coerce").astype(float)
        medians[f"{name}_days"] = days
        medians[f"{name}_{unit}"] = to_unit(days, unit).round(decimals)
    return {
        "curve": curve_table,
        "risk_table": risk_table,
        "medians": medians,
        "milestones": view.milestones,
        "tests": _tests(view, decimals),
    }


def _tests(view: SurvivalView, decimals: int) -> pd.DataFrame:
    columns = ["test", "group1", "group2", "statistic", "df", "p", "p_adjusted"]
    rows: list[dict[str, Any]] = []
    if view.logrank is not None:
        lr = view.logrank
        rows.append(
            {"test": lr["method"], "group1": "all groups", "statistic": lr["statistic"], "df": lr["df"], "p": lr["p"]}
        )
    if view.pairwise is not None:
        for _, r in view.pairwise.iterrows():
            rows.append(
                {
                    "test": "pairwise log-rank (Holm)",
                    "group1": r["group1"],
                    "group2": r["group2"],
                    "statistic": r["statistic"],
                    "df": r.get("df", 1),
                    "p": r["p"],
                    "p_adjusted": r["p_adjusted"],
                }
            )
    table = pd.DataFrame(rows, columns=columns)
    return round_p(round_columns(table, ["statistic"], decimals))


def _methods(view: SurvivalView, request: ExportRequest) -> list[str]:
    sentences = [
        "Survival was estimated with the Kaplan–Meier method, with pointwise 95% confidence intervals on the "
        'log(−log) scale (R survival\'s conf.type = "log-log"); medians with their 95% confidence intervals '
        f"and survival at {', '.join(f'{y:g}' for y in MILESTONE_YEARS)} years are reported."
    ]
    if view.logrank is not None:
        test = "Groups were compared with the log-rank test"
        if view.pairwise is not None:
            test += ", and pairwise with log-rank tests adjusted for multiple comparisons by Holm's method"
        sentences.append(test + ".")
    if request.by:
        sentences.append(f"Curves are shown by {request.by}.")
    sentences.append(
        "The figure follows the KMunicate layout (Morris et al., BMJ Open 2019): curves with confidence bands and "
        "censoring marks, and under the time axis the number at risk at each time and the numbers censored and "
        "with an event in the interval before it."
    )
    return sentences


def _analysed(view: SurvivalView) -> int | None:
    return view.n


KIND = FigureKind(
    name="km",
    label="Kaplan–Meier curves (KMunicate)",
    options=_OPTIONS,
    tables=(
        TableSpec("curve", "the curves: time, survival, 95% CI, whether anyone was censored at that time"),
        TableSpec(
            "risk_table",
            "at risk at each time under the axis; censored and events since the previous",
            ("at_risk", "censored", "events"),
        ),
        TableSpec("medians", "patients, events and median survival with 95% CI per group", ("n", "events")),
        TableSpec("milestones", "survival (95% CI) at 1, 2, 3 and 5 years, as the Survival page shows it"),
        TableSpec("tests", "log-rank test, and pairwise Holm-adjusted tests with more than two groups"),
    ),
    compute=_compute,
    round=_round,
    figure=_figure,
    frames=_frames,
    methods=_methods,
    analysed=_analysed,
    check=_check,
    method={
        "estimator": "Kaplan–Meier",
        "conf_level": 0.95,
        "conf_type": "log-log",
        "test": "log-rank (pairwise: Holm-adjusted)",
        "milestone_years": list(MILESTONE_YEARS),
    },
)
