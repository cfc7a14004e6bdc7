"""Survival page: Kaplan–Meier by group for any endpoint/time zero, KMunicate figure, medians, milestones,
log-rank and pairwise tests."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from ayaall.filters import BY_COLUMNS
from dashboard import ids
from dashboard.components import data_table, endpoint_options, message, option_dropdown, option_radio
from dashboard.context import PageContext
from dashboard.downloads import download_controls, register_downloads
from dashboard.exposures import exposure_warning
from dashboard.page_cache import cached_page
from dashboard.pages.options import read_option
from figures.views import survival_figure
from reports.formatting import format_p
from reports.survival import parse_endpoint, survival_view

__all__ = ["OPTIONS", "PATH", "TITLE", "layout", "register"]

PATH = "/survival"
TITLE = "Survival"
UNITS = (("days", "days"), ("months", "months"), ("years", "years"))
_BY = [{"label": "(all patients)", "value": "none"}] + [{"label": lab, "value": c} for c, lab in BY_COLUMNS]
OPTIONS = {"endpoint": "OS/DX", "by": "frontline_regimen", "unit": "months"}


def layout(query: dict[str, list[str]], page_ctx: PageContext) -> html.Div:
    endpoint = read_option(query, "endpoint", OPTIONS["endpoint"], {o["value"] for o in endpoint_options()})
    by = read_option(query, "by", OPTIONS["by"], {o["value"] for o in _BY})
    unit = read_option(query, "unit", OPTIONS["unit"], {u for u, _ in UNITS})
    return html.Div(
        [
            html.H2("Survival"),
            dbc.Row(
                [
                    dbc.Col(option_dropdown("endpoint", "Endpoint and time zero", endpoint_options(), endpoint), md=6),
                    dbc.Col(option_dropdown("by", "Group by", _BY, by), md=3),
                    dbc.Col(option_radio("unit", "Time in", UNITS, unit), md=3),
                ],
                className="options-row",
            ),
            html.Div(id=ids.SURV_EXPOSURE_WARNING),
            dcc.Loading(
                [
                    html.Div(id=ids.SURV_MESSAGE),
                    dcc.Graph(id=ids.SURV_FIGURE, config={"displaylogo": False}, style={"display": "none"}),
                    download_controls("survival"),
                    html.Div(id=ids.SURV_SUMMARY),
                    html.Div(id=ids.SURV_TESTS),
                ],
                type="default",
                delay_show=150,
            ),
        ]
    )


def register(app: Any, page_ctx: PageContext) -> None:
    @app.callback(
        Output(ids.SURV_MESSAGE, "children"),
        Output(ids.SURV_FIGURE, "figure"),
        Output(ids.SURV_FIGURE, "style"),
        Output(ids.SURV_SUMMARY, "children"),
        Output(ids.SURV_TESTS, "children"),
        Output(ids.SURV_EXPOSURE_WARNING, "children"),
        Input(ids.FILTER_ALL, "value"),
        Input(ids.option_id("endpoint"), "value"),
        Input(ids.option_id("by"), "value"),
        Input(ids.option_id("unit"), "value"),
        State(ids.FILTER_ALL, "id"),
    )
    def update(
        values: list[Any], endpoint_value: str, by_value: str, unit: str, control_ids: list[dict[str, str]]
    ) -> Any:
        return survival_outputs(page_ctx, values, control_ids, endpoint_value, by_value, unit)

    register_downloads(app, page_ctx, "survival")


@cached_page("survival")
def survival_outputs(
    page_ctx: PageContext,
    values: list[Any],
    control_ids: list[dict[str, str]],
    endpoint_value: str,
    by_value: str | None,
    unit: str,
) -> tuple[Any, ...]:
    """Everything the survival page shows, as callback outputs (a message in place of the figure on error)."""
    from ayaall.errors import UserError

    hidden = {"display": "none"}
    by = None if by_value in (None, "none") else by_value
    warning = None
    try:
        endpoint, origin = parse_endpoint(endpoint_value)
        warning = exposure_warning(by, origin)
        cohort = page_ctx.cohort(values, control_ids)
        view = survival_view(page_ctx.service, cohort, endpoint, origin, by, unit or "months", page_ctx.min_cell)
    except UserError as exc:
        return message(str(exc)), {}, hidden, None, None, warning
    figure = survival_figure(view, endpoint, origin, unit)
    summary = html.Div(
        [
            html.H3("Median and milestone survival"),
            data_table(view.summary, count_columns=["Patients", "Events"]),
            data_table(
                view.milestones,
                caption="Kaplan–Meier estimate (95% CI, log-log) at each milestone; — where the curve has stopped.",
            ),
        ]
    )
    tests = _tests_block(view)
    notes = html.Ul([html.Li(n) for n in view.notes], className="notes") if view.notes else None
    return (notes, figure, {"display": "block"}, summary, tests, warning)


def _tests_block(view: Any) -> Any:
    if view.logrank is None:
        return None
    lr = view.logrank
    children: list[Any] = [
        html.H3("Tests"),
        html.P(
            f"{lr['method'].capitalize()} test: χ² = {lr['statistic']:.2f} on {lr['df']} df, "
            f"p {format_p(lr['p']) if format_p(lr['p']).startswith('<') else '= ' + format_p(lr['p'])}."
        ),
    ]
    if view.pairwise is not None and len(view.pairwise):
        table = view.pairwise.assign(
            statistic=view.pairwise["statistic"].map(lambda v: f"{v:.2f}"),
            p=view.pairwise["p"].map(format_p),
            p_adjusted=view.pairwise["p_adjusted"].map(format_p),
        ).rename(
            columns={"group1": "Group 1", "group2": "Group 2", "statistic": "χ²", "p": "p", "p_adjusted": "p (Holm)"}
        )
        children.append(html.Details([html.Summary("Pairwise log-rank tests (Holm-adjusted)"), data_table(table)]))
    return html.Div(children)
