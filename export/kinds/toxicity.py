"""``--figure toxicity``: the toxicities of a line of therapy, from the Toxicity page's view
(``reports.toxicity.toxicity_view``): every toxicity's proportions, worst grades, time to onset and
cumulative incidence in the tables, and the cumulative incidence of one toxicity (``--event``, default
CRS, at ``--grade`` 1 or 3) in the figure, drawn as the page draws it."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from ayaall.cohort import CohortSpec
from ayaall.errors import UserError
from ayaall.units import to_unit
from export.kinds.base import FigureKind, TableSpec, check_options
from export.requests import ExportRequest
from export.rounding import round_columns, round_p
from figures.common import FigureStyle
from figures.views import toxicity_cif_figure
from reports.service import RegistryService
from reports.toxicity import ASTCT_EVENTS, DEFAULT_BY, EVENTS, GRADES, LINES, ToxicityView, event_label, toxicity_view

__all__ = ["KIND"]

_OPTIONS = frozenset({"line", "by", "event", "grade"})
_DEFAULT_EVENT = "CRS"
_PROPORTIONS = ("proportion", "ci_lower", "ci_upper")
_CIF = ("cif_event", "ci_lower_event", "ci_upper_event", "cif_competing", "ci_lower_competing", "ci_upper_competing")


def _by(request: ExportRequest) -> str | None:
    """The grouping: ``--by`` (``none``: all patients), else the line's regimen."""
    if request.by is None:
        return DEFAULT_BY
    return None if request.by == "none" else request.by


def _check(request: ExportRequest) -> None:
    check_options("toxicity", request, _OPTIONS)
    if request.line not in LINES:
        raise UserError(f"--line must be 1 (frontline) or 2 (first salvage), not {request.line}.")
    if request.event is not None and request.event not in EVENTS:
        raise UserError(f"--event {request.event!r} is not a toxicity; choose one of {', '.join(EVENTS)}.")
    if request.grade not in GRADES:
        raise UserError(f"--grade must be 1 (any grade) or 3 (grade 3 or worse), not {request.grade}.")


def _compute(service: RegistryService, request: ExportRequest) -> ToxicityView:
    cohort = CohortSpec.from_dict(request.cohort)
    return toxicity_view(service, cohort, request.line, _by(request), request.min_cell, unit=request.unit)


def _round(view: ToxicityView, decimals: int) -> ToxicityView:
    r = view.released
    released = dataclasses.replace(
        r,
        proportions=round_columns(r.proportions, _PROPORTIONS, decimals),
        worst_grade=round_columns(r.worst_grade, ["percent"], decimals),
        cif=round_columns(r.cif, _CIF, decimals),
        cif_milestones=round_columns(r.cif_milestones, _CIF, decimals),
        tests=round_p(r.tests),
        gray=round_p(r.gray),
    )
    return dataclasses.replace(view, released=released)


def _figure(view: ToxicityView, request: ExportRequest, style: FigureStyle) -> Any:
    return toxicity_cif_figure(view, request.event or _DEFAULT_EVENT, request.grade, request.unit, style)


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the toxicity's label after its code."""
    out = frame.copy()
    out.insert(int(list(out.columns).index("event")) + 1, "event_label", [event_label(e) for e in out["event"]])
    return out


def _frames(view: ToxicityView, request: ExportRequest) -> dict[str, pd.DataFrame]:
    r = view.released
    cif = r.cif.drop(columns=[c for c in r.cif.columns if c.startswith("var_")])
    cif.insert(4, f"time_{request.unit}", to_unit(cif["time_days"].astype(float), request.unit).round(request.decimals))
    totals = pd.DataFrame({"line": [view.line], "started_line": pd.Series([view.n], dtype=object)})
    return {
        "proportions": _labelled(r.proportions),
        "tests": _labelled(r.tests),
        "worst_grade": _labelled(r.worst_grade),
        "onset": _labelled(r.onset),
        "cumulative_incidence": _labelled(cif),
        "risk_table": _labelled(view.risk_table),
        "gray_test": _labelled(r.gray),
        "totals": totals,
    }


def _methods(view: ToxicityView, request: ExportRequest) -> list[str]:
    line = LINES[view.line].lower()
    by = f" by {view.by}" if view.by else ""
    return [
        f"Toxicities were analysed{by} among the patients who started {line}, each attributed to the line from "
        "its start to the start of the next line or the end of follow-up, whichever came first; death before the "
        f"toxicity was a competing event. {' and '.join(ASTCT_EVENTS)} were graded by the ASTCT 2019 consensus "
        "(Lee et al., Biol Blood Marrow Transplant 2019), the other toxicities by CTCAE v5.0; any grade includes "
        "an unknown grade.",
        "Proportions with the toxicity (any grade; grade 3 or worse) are given with 95% Wilson score intervals "
        "and compared between groups with Fisher's exact test (an expected count below 5) or Pearson's "
        "chi-square test; the worst grade of each patient is tabulated, and time to onset summarized by its "
        "median and interquartile range among the patients with the toxicity.",
        "The cumulative incidence of each toxicity was estimated with the Aalen–Johansen estimator with death "
        "as the competing event (95% intervals on the log(−log) scale from the variance of R cmprsk's cuminc) "
        "and compared with Gray's test; the project's own estimators, validated against R (prop.test, "
        "fisher.test, chisq.test and cmprsk).",
    ]


def _analysed(view: ToxicityView) -> int | None:
    return view.n


KIND = FigureKind(
    name="toxicity",
    label="Toxicity: proportions, worst grades and cumulative incidence",
    options=_OPTIONS,
    tables=(
        TableSpec(
            "proportions",
            "per toxicity, grade threshold and group: patients who started the line, patients with the "
            "toxicity, proportion with 95% Wilson CI",
            ("n", "events"),
        ),
        TableSpec("tests", "per toxicity and threshold: the test between groups and its p-value"),
        TableSpec("worst_grade", "per toxicity and group: patients by worst grade", ("n", "total")),
        TableSpec("onset", "per toxicity, threshold and group: days from the line's start to onset", ("events",)),
        TableSpec("cumulative_incidence", "cumulative incidence of each toxicity and of death (competing) with 95% CI"),
        TableSpec(
            "risk_table",
            "at the figure's ticks: at risk, cumulative toxicities, deaths and censorings",
            ("at_risk", "events", "competing_events", "censored"),
        ),
        TableSpec("gray_test", "per toxicity and threshold: Gray's test"),
        TableSpec("totals", "patients who started the line", ("started_line",)),
    ),
    compute=_compute,
    round=_round,
    figure=_figure,
    frames=_frames,
    methods=_methods,
    analysed=_analysed,
    check=_check,
    method={
        "estimate": "proportion; Aalen–Johansen cumulative incidence with death competing",
        "interval": "Wilson score (prop.test, correct = FALSE); log-log (cmprsk variance)",
        "tests": ["Fisher's exact or Pearson's chi-square", "Gray"],
        "grading": {"ASTCT 2019 consensus": list(ASTCT_EVENTS), "CTCAE v5.0": "the other toxicities"},
        "conf_level": 0.95,
    },
)
