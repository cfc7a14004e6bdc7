"""Competing risks page: cumulative incidence of relapse and of non-relapse mortality, Gray's test, and
cause-specific and Fine–Gray hazard ratios for the grouping variable."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, dcc, html

from ayaall.endpoints import endpoint_spec
from ayaall.errors import UserError
from ayaall.filters import BY_COLUMNS
from ayaall.units import to_unit
from dashboard import ids
from dashboard.components import data_table, endpoint_options, message, option_dropdown, option_radio
from dashboard.context import PageContext
from dashboard.downloads import download_controls, register_downloads
from dashboard.page_cache import cached_page
from dashboard.pages.options import read_option
from figures.views import competing_figure
from reports.competing import CompetingView, competing_view
from reports.formatting import format_p, milestone_columns
from reports.survival import parse_endpoint

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
                    download_controls("competing"),
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

    register_downloads(app, page_ctx, "competing")


@cached_page("competing")
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
        cohort = page_ctx.cohort(values, control_ids)
        view = competing_view(page_ctx.service, cohort, endpoint, origin, by, page_ctx.min_cell)
    except UserError as exc:
        return message(str(exc)), {}, hidden, None, None, None
    summary, notes = view.summary, view.notes
    tests, models = _gray_block(view), _models_block(view, by)
    figure = competing_figure(view, endpoint, origin, by, unit)
    spec = endpoint_spec(endpoint, origin)
    competing_name = f"Competing events ({spec.competing})" if spec.competing else "Competing events"
    table = html.Div(
        [
            html.H3("Patients and events"),
            data_table(
                summary.rename(
                    columns={
                        "group": "Group",
                        "n": "Patients",
                        "events": f"{endpoint} events",
                        "competing_events": competing_name,
                    }
                ),
                count_columns=["Patients", f"{endpoint} events", competing_name],
            ),
            *_milestone_block(view, endpoint, spec.competing or "competing event"),
            *_risk_block(view, unit or "months", endpoint, competing_name),
        ]
    )
    note_list = html.Ul([html.Li(n) for n in notes], className="notes") if notes else None
    return note_list, figure, {"display": "block"}, table, tests, models


def _milestone_block(view: CompetingView, endpoint: str, competing: str) -> list[Any]:
    """Both causes' cumulative incidence (95% CI) per group at 1, 2, 3 and 5 years."""
    if not len(view.milestones):
        return []
    rows = []
    for group, g in view.milestones.groupby("group", sort=False):
        for cause, label in (("event", endpoint), ("competing", competing)):
            estimates = (f"cif_{cause}", f"ci_lower_{cause}", f"ci_upper_{cause}")
            rows.append({"Group": group, "Cause": label, **milestone_columns(g, columns=estimates)})
    caption = (
        "Aalen–Johansen cumulative incidence (95% CI); — where the group's curve has stopped (too few at risk, "
        "or the cause's last events, fewer than a block, which are not placed in time)."
    )
    return [html.H3("Cumulative incidence at 1, 2, 3 and 5 years"), data_table(pd.DataFrame(rows), caption=caption)]


def _risk_block(view: CompetingView, unit: str, endpoint: str, competing_name: str) -> list[Any]:
    """Numbers at risk and cumulative events of both causes at the figure's ticks (released counts)."""
    risk = view.risk_table
    if not len(risk):
        return []
    time_col = f"Time ({unit})"
    shown = risk.assign(**{time_col: [f"{v:g}" for v in to_unit(risk["time_days"].astype(float), unit).round(1)]})
    shown = shown.drop(columns=["time_days"]).rename(
        columns={
            "group": "Group",
            "at_risk": "At risk",
            "events": f"{endpoint} events",
            "competing_events": competing_name,
            "censored": "Censored",
        }
    )
    shown = shown[["Group", time_col, *[c for c in shown.columns if c not in ("Group", time_col)]]]
    counts = ["At risk", f"{endpoint} events", competing_name, "Censored"]
    return [
        html.H3("Numbers at risk and cumulative events"),
        data_table(shown, count_columns=[c for c in counts if c in shown.columns]),
    ]


def _gray_block(view: CompetingView) -> Any:
    if view.gray is None:
        return None
    rows = [
        {"Cause": r["cause"], "χ²": f"{r['statistic']:.2f}", "df": r["df"], "p": format_p(r["p"])}
        for _, r in view.gray.iterrows()
    ]
    return html.Div([html.H3("Gray's test"), data_table(pd.DataFrame(rows))])


def _models_block(view: CompetingView, by: str | None) -> Any:
    if view.hazard_ratios is None:
        return None
    rows = [
        {
            "Term": r["term"],
            "Model": r["model"],
            "HR (95% CI)": f"{r['hr']:.2f} ({r['hr_ci_lower']:.2f}–{r['hr_ci_upper']:.2f})",
            "p": format_p(r["p"]),
        }
        for _, r in view.hazard_ratios.iterrows()
    ]
    ref = view.reference_level
    return html.Div(
        [
            html.H3("Hazard ratios for the event of interest"),
            html.P(f"Reference level: {by} = {ref}." if ref else ""),
            data_table(pd.DataFrame(rows)),
        ]
    )
