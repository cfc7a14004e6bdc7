"""Response page: complete remission (CR/CRi/CRh) and MRD-negative remission rates of frontline or salvage
therapy by group, with Wilson 95% intervals (intention to treat)."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from ayaall.errors import UserError
from ayaall.filters import BY_COLUMNS
from dashboard import ids
from dashboard.components import data_table, message, option_dropdown, option_radio
from dashboard.context import PageContext
from dashboard.downloads import download_controls, register_downloads
from dashboard.page_cache import cached_page
from dashboard.pages.options import read_option
from figures.views import response_page_figure
from reports.response import LINES, OUTCOMES, response_view

__all__ = ["OPTIONS", "PATH", "TITLE", "layout", "register", "response_outputs"]

PATH = "/response"
TITLE = "Response"
_BY = [{"label": "(all patients)", "value": "none"}] + [{"label": lab, "value": c} for c, lab in BY_COLUMNS]
OPTIONS = {"line": "1", "outcome": "cr", "by": "frontline_regimen"}
_HIDDEN = {"display": "none"}


def layout(query: dict[str, list[str]], page_ctx: PageContext) -> html.Div:
    line = read_option(query, "line", OPTIONS["line"], {str(k) for k in LINES})
    outcome = read_option(query, "outcome", OPTIONS["outcome"], set(OUTCOMES))
    by = read_option(query, "by", OPTIONS["by"], {o["value"] for o in _BY})
    return html.Div(
        [
            html.H2(TITLE),
            html.P(
                "Remission and MRD-negativity rates of a line of therapy among the cohort's patients who started "
                "it. Patients without an assessment of the line count as non-responders (intention to treat).",
                className="lead-text",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        option_radio("line", "Line of therapy", [(str(k), v) for k, v in LINES.items()], line), md=4
                    ),
                    dbc.Col(option_radio("outcome", "Outcome", list(OUTCOMES.items()), outcome), md=5),
                    dbc.Col(option_dropdown("by", "Group by", _BY, by), md=3),
                ],
                className="options-row",
            ),
            dcc.Loading(
                html.Div(
                    [
                        html.Div(id=ids.RESPONSE_MESSAGE),
                        dcc.Graph(id=ids.RESPONSE_FIGURE, config={"displaylogo": False}, style=_HIDDEN),
                        download_controls("response"),
                        html.Div(id=ids.RESPONSE_TABLE),
                    ],
                    id=ids.RESPONSE_CONTENT,
                ),
                delay_show=150,
            ),
        ]
    )


def register(app: Any, page_ctx: PageContext) -> None:
    @app.callback(
        Output(ids.RESPONSE_MESSAGE, "children"),
        Output(ids.RESPONSE_FIGURE, "figure"),
        Output(ids.RESPONSE_FIGURE, "style"),
        Output(ids.RESPONSE_TABLE, "children"),
        Input(ids.FILTER_ALL, "value"),
        Input(ids.option_id("line"), "value"),
        Input(ids.option_id("outcome"), "value"),
        Input(ids.option_id("by"), "value"),
        State(ids.FILTER_ALL, "id"),
    )
    def update(values: list[Any], line: str, outcome: str, by: str, control_ids: list[dict[str, str]]) -> Any:
        return response_outputs(page_ctx, values, control_ids, line, outcome, by)

    register_downloads(app, page_ctx, "response")


@cached_page("response")
def response_outputs(
    page_ctx: PageContext,
    values: list[Any],
    control_ids: list[dict[str, str]],
    line: str,
    outcome: str,
    by_value: str | None,
) -> tuple[Any, ...]:
    """The page's four outputs; a message in place of the figure when there is nothing to report."""
    by = None if by_value in (None, "none") else by_value
    try:
        try:
            line_no = int(line)
        except (TypeError, ValueError) as exc:
            raise UserError("The line must be 1 (frontline) or 2 (salvage).") from exc
        cohort = page_ctx.cohort(values, control_ids)
        view = response_view(page_ctx.service, cohort, line_no, outcome, by, page_ctx.min_cell)
    except UserError as exc:
        return message(str(exc)), {}, _HIDDEN, None
    notes = html.Ul([html.Li(n) for n in view.notes], className="notes")
    totals = html.P(
        f"{LINES[view.line]}: {_count(view.n)} patients started the line; {_count(view.responders)} responded; "
        f"{_count(view.not_assessed)} had no assessment of the line.",
        className="patient-flow",
    )
    table = html.Div([totals, data_table(view.table, count_columns=["Patients", "Responders"])])
    return notes, response_page_figure(view), {"display": "block"}, table


def _count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"
