"""``--figure cif``: cumulative incidence with a competing event, from the Competing risks page's view."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from ayaall.cohort import CohortSpec
from ayaall.endpoints import endpoint_spec
from ayaall.units import to_unit
from export.kinds.base import FigureKind, TableSpec, check_options, require_endpoint
from export.requests import ExportRequest
from export.rounding import round_columns, round_p
from figures.common import FigureStyle
from figures.views import competing_figure
from reports.competing import CompetingView, competing_view
from reports.service import RegistryService

__all__ = ["KIND"]

_CURVE_ESTIMATES = (
    "cif_event",
    "ci_lower_event",
    "ci_upper_event",
    "cif_competing",
    "ci_lower_competing",
    "ci_upper_competing",
)
_HR = ("hr", "hr_ci_lower", "hr_ci_upper")
_OPTIONS = frozenset({"endpoint", "origin", "by"})


def _check(request: ExportRequest) -> None:
    check_options("cif", request, _OPTIONS)
    require_endpoint("cif", request)


def _compute(service: RegistryService, request: ExportRequest) -> CompetingView:
    cohort = CohortSpec.from_dict(request.cohort)
    return competing_view(service, cohort, str(request.endpoint), str(request.origin), request.by, request.min_cell)


def _round(view: CompetingView, decimals: int) -> CompetingView:
    gray = None if view.gray is None else round_p(round_columns(view.gray, ["statistic"], decimals))
    hrs = None if view.hazard_ratios is None else round_p(round_columns(view.hazard_ratios, _HR, decimals))
    return dataclasses.replace(
        view, curve=round_columns(view.curve, _CURVE_ESTIMATES, decimals), gray=gray, hazard_ratios=hrs
    )


def _figure(view: CompetingView, request: ExportRequest, style: FigureStyle) -> Any:
    return competing_figure(view, str(request.endpoint), str(request.origin), request.by, request.unit, style)


def _frames(view: CompetingView, request: ExportRequest) -> dict[str, pd.DataFrame]:
    curve = view.curve.copy()
    curve.insert(
        2, f"time_{request.unit}", to_unit(curve["time_days"].astype(float), request.unit).round(request.decimals)
    )
    empty_gray = pd.DataFrame(columns=["cause", "statistic", "df", "p"])
    empty_hr = pd.DataFrame(columns=["term", "model", *_HR, "p"])
    return {
        "curve": curve,
        "summary": view.summary[["group", "n", "events", "competing_events"]],
        "gray_test": view.gray if view.gray is not None else empty_gray,
        "hazard_ratios": view.hazard_ratios if view.hazard_ratios is not None else empty_hr,
    }


def _methods(view: CompetingView, request: ExportRequest) -> list[str]:
    spec = endpoint_spec(str(request.endpoint), str(request.origin))
    sentences = [
        f"The cumulative incidence of {spec.event}, and of {spec.competing} as the competing event, was estimated "
        "with the Aalen–Johansen estimator, with pointwise 95% confidence intervals on the log(−log) scale from "
        "the variance of R cmprsk's cuminc."
    ]
    if view.gray is not None:
        sentences.append("Groups were compared with Gray's test for each cause.")
    if view.hazard_ratios is not None:
        ref = f" (reference level: {request.by} = {view.reference_level})" if view.reference_level else ""
        sentences.append(
            f"Hazard ratios for {spec.event} by {request.by}{ref} were estimated with a cause-specific Cox model "
            "(Efron ties; the competing event censors) and with the Fine–Gray subdistribution hazards model."
        )
    return sentences


def _analysed(view: CompetingView) -> int | None:
    return view.n


KIND = FigureKind(
    name="cif",
    label="Cumulative incidence (Aalen–Johansen)",
    options=_OPTIONS,
    tables=(
        TableSpec("curve", "cumulative incidence of the event and of the competing event with 95% CI, per group"),
        TableSpec(
            "summary",
            "patients, events of interest and competing events per group",
            ("n", "events", "competing_events"),
        ),
        TableSpec("gray_test", "Gray's test per cause"),
        TableSpec("hazard_ratios", "cause-specific and Fine–Gray hazard ratios for the event of interest"),
    ),
    compute=_compute,
    round=_round,
    figure=_figure,
    frames=_frames,
    methods=_methods,
    analysed=_analysed,
    check=_check,
    method={
        "estimator": "Aalen–Johansen",
        "conf_level": 0.95,
        "conf_type": "log-log",
        "test": "Gray",
        "hazard_ratios": ["cause-specific Cox (Efron ties)", "Fine–Gray"],
    },
)
