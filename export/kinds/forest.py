"""``--figure forest``: unadjusted and adjusted Cox hazard ratios, from the Cox page's view."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from ayaall.cohort import CohortSpec
from ayaall.errors import UserError
from export.kinds.base import FigureKind, TableSpec, check_options, require_endpoint
from export.requests import ExportRequest
from export.rounding import round_columns, round_p
from figures.common import FigureStyle
from figures.views import cox_figure
from reports.cox import CoxView, cox_view
from reports.service import RegistryService

__all__ = ["KIND"]

_HR = ("hr", "hr_ci_lower", "hr_ci_upper")
_OPTIONS = frozenset({"endpoint", "origin", "covariates", "refs"})


def _check(request: ExportRequest) -> None:
    check_options("forest", request, _OPTIONS)
    require_endpoint("forest", request)
    if not request.covariates:
        raise UserError("--figure forest needs --covariates.")
    extra = sorted({c for c, _ in request.refs} - set(request.covariates))
    if extra:
        raise UserError(f"--ref names {extra[0]!r}, which is not among --covariates.")


def _compute(service: RegistryService, request: ExportRequest) -> CoxView:
    cohort = CohortSpec.from_dict(request.cohort)
    return cox_view(
        service,
        cohort,
        str(request.endpoint),
        str(request.origin),
        list(request.covariates),
        dict(request.refs),
        request.min_cell,
    )


def _round(view: CoxView, decimals: int) -> CoxView:
    return dataclasses.replace(
        view,
        terms=round_p(round_columns(view.terms, _HR, decimals)),
        ph=round_p(round_columns(view.ph, ["statistic"], decimals)),
    )


def _figure(view: CoxView, request: ExportRequest, style: FigureStyle) -> Any:
    return cox_figure(view, str(request.endpoint), str(request.origin), style)


def _frames(view: CoxView, request: ExportRequest) -> dict[str, pd.DataFrame]:
    model = pd.DataFrame(
        {
            "model": ["Adjusted"],
            "n": pd.Series([view.n], dtype=object),
            "events": pd.Series([view.events], dtype=object),
            "ties": ["efron"],
            "covariates": [", ".join(request.covariates)],
            "reference_levels": [", ".join(f"{k} = {v}" for k, v in view.reference_levels.items())],
        }
    )
    return {
        "hazard_ratios": view.terms[["term", "model", *_HR, "p"]],
        "ph_test": view.ph,
        "model": model,
    }


def _methods(view: CoxView, request: ExportRequest) -> list[str]:
    refs = ", ".join(f"{k} = {v}" for k, v in view.reference_levels.items())
    adjusted = ", ".join(request.covariates)
    sentences = [
        "Hazard ratios with 95% confidence intervals were estimated with Cox proportional hazards models "
        f"(Efron's method for ties), unadjusted (one covariate at a time) and adjusted for {adjusted}"
        + (f"; text covariates were coded against reference levels {refs}" if refs else "")
        + ".",
        "Proportional hazards were assessed with the scaled Schoenfeld residual test (R survival's cox.zph, "
        "Kaplan–Meier time transform).",
    ]
    return sentences


def _analysed(view: CoxView) -> int | None:
    return view.n


KIND = FigureKind(
    name="forest",
    label="Forest plot of Cox hazard ratios",
    options=_OPTIONS,
    tables=(
        TableSpec("hazard_ratios", "unadjusted and adjusted hazard ratios with 95% CI and p per term"),
        TableSpec("ph_test", "proportional-hazards test of the adjusted model (cox.zph)"),
        TableSpec("model", "the adjusted model's patients, events, ties and reference levels", ("n", "events")),
    ),
    compute=_compute,
    round=_round,
    figure=_figure,
    frames=_frames,
    methods=_methods,
    analysed=_analysed,
    check=_check,
    method={"model": "Cox proportional hazards", "ties": "efron", "conf_level": 0.95, "ph_test": "cox.zph (km)"},
)
