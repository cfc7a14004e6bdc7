"""``--figure response``: remission or MRD-negative remission rates with Wilson intervals, from the
Response page's view (``reports.response.response_view``) and figure function."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from ayaall.cohort import CohortSpec
from ayaall.errors import UserError
from export.kinds.base import FigureKind, TableSpec, check_options
from export.requests import ExportRequest
from export.rounding import round_columns
from figures.common import FigureStyle
from figures.views import response_page_figure
from reports.response import LINES, OUTCOMES, ResponseView, response_view
from reports.service import RegistryService

__all__ = ["KIND"]

_OPTIONS = frozenset({"line", "outcome", "by"})
_RATES = ("rate", "ci_lower", "ci_upper")
_DEFINITIONS = {
    "cr": "complete remission (CR, CRi or CRh at any assessment of the line)",
    "mrd_negative": "MRD-negative remission (a CR, CRi or CRh assessment of the line with MRD negative)",
}


def _check(request: ExportRequest) -> None:
    check_options("response", request, _OPTIONS)
    if request.line not in LINES:
        raise UserError(f"--line must be 1 (frontline) or 2 (salvage), not {request.line}.")
    if request.outcome not in OUTCOMES:
        raise UserError(f"--outcome {request.outcome!r} is not an outcome; choose {' or '.join(OUTCOMES)}.")


def _compute(service: RegistryService, request: ExportRequest) -> ResponseView:
    cohort = CohortSpec.from_dict(request.cohort)
    return response_view(service, cohort, request.line, request.outcome, request.by, request.min_cell)


def _round(view: ResponseView, decimals: int) -> ResponseView:
    return dataclasses.replace(view, rates=round_columns(view.rates, _RATES, decimals))


def _figure(view: ResponseView, request: ExportRequest, style: FigureStyle) -> Any:
    return response_page_figure(view, style)


def _frames(view: ResponseView, request: ExportRequest) -> dict[str, pd.DataFrame]:
    rates = view.rates[["group", "n", "responders", *_RATES]]
    totals = pd.DataFrame(
        {
            "line": [view.line],
            "outcome": [view.outcome],
            "started_line": pd.Series([view.n], dtype=object),
            "responders": pd.Series([view.responders], dtype=object),
            "not_assessed": pd.Series([view.not_assessed], dtype=object),
        }
    )
    return {"rates": rates, "totals": totals}


def _methods(view: ResponseView, request: ExportRequest) -> list[str]:
    line = LINES[view.line].lower()
    by = f" by {view.by}" if view.by else ""
    return [
        f"The rate of {_DEFINITIONS[view.outcome]} was estimated{by} among the patients who started {line}; a "
        "patient without an assessment of the line counted as a non-responder (intention to treat).",
        "Rates are given with 95% Wilson score intervals (R's prop.test without continuity correction).",
    ]


def _analysed(view: ResponseView) -> int | None:
    return view.n


KIND = FigureKind(
    name="response",
    label="Response rates with Wilson intervals",
    options=_OPTIONS,
    tables=(
        TableSpec(
            "rates",
            "per group: patients who started the line, responders, rate with 95% Wilson CI",
            ("n", "responders"),
        ),
        TableSpec(
            "totals",
            "patients who started the line, responders, patients without an assessment",
            ("started_line", "responders", "not_assessed"),
        ),
    ),
    compute=_compute,
    round=_round,
    figure=_figure,
    frames=_frames,
    methods=_methods,
    analysed=_analysed,
    check=_check,
    method={
        "estimate": "proportion (intention to treat)",
        "interval": "Wilson score (prop.test, correct = FALSE)",
        "conf_level": 0.95,
    },
)
