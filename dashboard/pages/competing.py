"""Competing risks page: cumulative incidence of relapse and of non-relapse mortality, Gray's test, and
cause-specific and Fine–Gray hazard ratios for the grouping variable."""

from __future__ import annotations

import warnings
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, dcc, html

from analyses.competing import cumulative_incidence, fit_cause_specific_cox, fit_fine_gray, gray_test
from analyses.results import AnalysisWarning
from ayaall.endpoints import endpoint_spec
from ayaall.errors import UserError
from dashboard import ids
from dashboard.components import data_table, endpoint_options, format_p, message, option_dropdown, option_radio
from dashboard.context import PageContext
from dashboard.data import cohort_key
from dashboard.figures.cif import cif_figure
from dashboard.filters import BY_COLUMNS
from dashboard.pages.options import read_option
from dashboard.suppress import suppress_cif
from dashboard.views import parse_endpoint

__all__ = ["OPTIONS", "PATH", "TITLE", "competing_outputs", "layout", "register"]

PATH = "/competing"
TITLE = "Competing risks"
UNITS = (("days", "days"), ("months", "months"), ("years", "years"))
_BY = [{"label": "(all patients)", "value": "none"}] + [{"label": lab, "value": c} for c, lab in BY_COLUMNS]
OPTIONS = {"crendpoint": "CIR/CR1", "by": "frontline_regimen", "unit": "months"}


def layout(query: dict[str, list[str]], page_ctx: PageContext) -> html.Div:
    choices = endpoint_options(competing_only=True)
    endpoint = read_option(query, "crendpoint", OPTIONS["crendpoint"], {o["value"] for o in choices})
    by = read_option(query, "by", OPTIONS["by"], {o["value"] for o in _BY})
    unit = read_option(query, "unit", OPTIONS["unit"], {u for u, _ in UNITS})
    return html.Div(
        [
            html.H2("Competing risks"),
            dbc.Row(
                [
                    dbc.Col(option_dropdown("crendpoint", "Endpoint and time zero", choices, endpoint), md=6),
                    dbc.Col(option_dropdown("by", "Group by", _BY, by), md=3),
                    dbc.Col(option_radio("unit", "Time in", UNITS, unit), md=3),
                ]
            ),
            dcc.Loading(
                [
                    html.Div(id=ids.CR_MESSAGE),
                    dcc.Graph(id=ids.CR_FIGURE, config={"displaylogo": False}, style={"display": "none"}),
                    html.Div(id=ids.CR_TABLE),
                    html.Div(id=ids.CR_TESTS),
                    html.Div(id=ids.CR_MODELS),
                ],
                delay_show=150,
            ),
        ]
    )


def register(app: Any, page_ctx: PageContext) -> None:
    @app.callback(
        Output(ids.CR_MESSAGE, "children"),
        Output(ids.CR_FIGURE, "figure"),
        Output(ids.CR_FIGURE, "style"),
        Output(ids.CR_TABLE, "children"),
        Output(ids.CR_TESTS, "children"),
        Output(ids.CR_MODELS, "children"),
        Input(ids.FILTER_ALL, "value"),
        Input(ids.option_id("crendpoint"), "value"),
        Input(ids.option_id("by"), "value"),
        Input(ids.option_id("unit"), "value"),
        State(ids.FILTER_ALL, "id"),
    )
    def update(
        values: list[Any], endpoint_value: str, by_value: str, unit: str, control_ids: list[dict[str, str]]
    ) -> Any:
        return competing_outputs(page_ctx, values, control_ids, endpoint_value, by_value, unit)


def competing_outputs(
    page_ctx: PageContext,
    values: list[Any],
    control_ids: list[dict[str, str]],
    endpoint_value: str,
    by_value: str | None,
    unit: str,
) -> tuple[Any, ...]:
    hidden = {"display": "none"}
    by = None if by_value in (None, "none") else by_value
    try:
        endpoint, origin = parse_endpoint(endpoint_value)
        spec = endpoint_spec(endpoint, origin)
        if not spec.competing_risks:
            raise UserError(f"{spec.label} has no competing event; use the Survival page.")
        cohort = page_ctx.cohort(values, control_ids)
        key = ("competing", cohort_key(cohort), endpoint, origin, by, page_ctx.min_cell)
        curve, summary, tests, models, notes = page_ctx.service.cached(
            key, lambda: _compute(page_ctx, cohort, endpoint, origin, by)
        )
    except UserError as exc:
        return message(str(exc)), {}, hidden, None, None, None
    figure = cif_figure(
        curve,
        group_col=by,
        event_label=f"{spec.event} ({endpoint})",
        competing_label=f"{spec.competing} (competing)",
        unit=unit or "months",
        title=f"{spec.label}: cumulative incidence",
    )
    table = html.Div(
        [
            html.H3("Patients and events"),
            data_table(
                summary.rename(columns={"group": "Group", "n": "Patients", "events": f"{endpoint} events"}),
                count_columns=["Patients", f"{endpoint} events"],
            ),
        ]
    )
    note_list = html.Ul([html.Li(n) for n in notes], className="notes") if notes else None
    return note_list, figure, {"display": "block"}, table, tests, models


def _compute(page_ctx: PageContext, cohort: Any, endpoint: str, origin: str, by: str | None):
    frame = page_ctx.service.frame(cohort, endpoint, origin, [by] if by else [])
    if frame.empty:
        raise UserError(f"No patient of this cohort has a {endpoint} row from {origin}.")
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AnalysisWarning)
        cif = cumulative_incidence(frame, "time_days", "event_code", by)
        tests = _gray(frame, by, notes)
        models = _models(frame, by, notes)
    notes += list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, AnalysisWarning)))
    curve, summary = suppress_cif(cif.curve, cif.summary, page_ctx.min_cell)
    return curve, summary, tests, models, notes


def _gray(frame: pd.DataFrame, by: str | None, notes: list[str]) -> Any:
    if by is None or frame[by].nunique() < 2:
        return None
    rows = []
    for code, label in ((1, "event of interest"), (2, "competing event")):
        try:
            t = gray_test(frame, "time_days", "event_code", by, event=code, competing=3 - code)
            rows.append({"Cause": label, "χ²": f"{t.statistic:.2f}", "df": t.df, "p": format_p(t.p)})
        except UserError as exc:
            notes.append(f"Gray's test ({label}) not reported: {exc}")
    return html.Div([html.H3("Gray's test"), data_table(pd.DataFrame(rows))]) if rows else None


def _models(frame: pd.DataFrame, by: str | None, notes: list[str]) -> Any:
    if by is None or frame[by].nunique() < 2:
        return None
    rows = []
    try:
        cs = fit_cause_specific_cox(frame, "time_days", "event_code", [by])
        fg = fit_fine_gray(frame, "time_days", "event_code", [by])
    except UserError as exc:
        notes.append(f"Hazard ratios not reported: {exc}")
        return None
    for name, t in (("Cause-specific HR", cs.terms), ("Fine–Gray subdistribution HR", fg.terms)):
        for _, r in t.iterrows():
            rows.append(
                {
                    "Term": r["term"],
                    "Model": name,
                    "HR (95% CI)": f"{r['hr']:.2f} ({r['hr_ci_lower']:.2f}–{r['hr_ci_upper']:.2f})",
                    "p": format_p(r["p"]),
                }
            )
    ref = cs.reference_levels.get(by)
    return html.Div(
        [
            html.H3("Hazard ratios for the event of interest"),
            html.P(f"Reference level: {by} = {ref}." if ref else ""),
            data_table(pd.DataFrame(rows)),
        ]
    )
