"""Cox page: covariates and reference levels, unadjusted and adjusted hazard ratios side by side, a forest
plot and the proportional-hazards test."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from ayaall.errors import UserError
from ayaall.filters import BY_COLUMNS
from ayaall.filters import COVARIATES as ALL_COVARIATES
from dashboard import ids
from dashboard.components import data_table, endpoint_options, message, option_dropdown
from dashboard.context import PageContext
from dashboard.downloads import download_controls, register_downloads
from dashboard.page_cache import cached_page
from dashboard.pages.options import read_option
from figures.views import cox_figure
from reports.cox import cox_view
from reports.formatting import format_p
from reports.survival import parse_endpoint

__all__ = ["OPTIONS", "PATH", "TITLE", "cox_outputs", "layout", "register"]

PATH = "/cox"
TITLE = "Cox"
COVARIATES = list(ALL_COVARIATES)
OPTIONS = {"endpoint": "OS/DX", "cov": ["frontline_regimen", "age_group"], "ref": []}


def _ref_options(page_ctx: PageContext) -> list[dict[str, str]]:
    choices = page_ctx.service.filter_choices()
    out = []
    for column, label in BY_COLUMNS:
        for level in choices.get(
            column, ["True", "False"] if column in {"cr1", "relapsed", "hct", "car_t", "induction_failure"} else []
        ):
            out.append({"label": f"{label}: {level}", "value": f"{column}={level}"})
    return out


def layout(query: dict[str, list[str]], page_ctx: PageContext) -> html.Div:
    endpoint = read_option(query, "endpoint", OPTIONS["endpoint"], {o["value"] for o in endpoint_options()})
    cov = read_option(query, "cov", OPTIONS["cov"], {c for c, _ in COVARIATES}, multi=True)
    refs = _ref_options(page_ctx)
    ref = read_option(query, "ref", [], {o["value"] for o in refs}, multi=True)
    return html.Div(
        [
            html.H2("Cox proportional hazards"),
            dbc.Row(
                [
                    dbc.Col(option_dropdown("endpoint", "Endpoint and time zero", endpoint_options(), endpoint), md=4),
                    dbc.Col(
                        option_dropdown(
                            "cov", "Covariates", [{"label": lab, "value": c} for c, lab in COVARIATES], cov, multi=True
                        ),
                        md=4,
                    ),
                    dbc.Col(
                        option_dropdown(
                            "ref",
                            "Reference levels (default: first in sorted order)",
                            refs,
                            ref,
                            multi=True,
                            clearable=True,
                        ),
                        md=4,
                    ),
                ]
            ),
            dcc.Loading(
                [
                    html.Div(id=ids.COX_MESSAGE),
                    dcc.Graph(id=ids.COX_FOREST, config={"displaylogo": False}, style={"display": "none"}),
                    download_controls("cox"),
                    html.Div(id=ids.COX_TABLE),
                    html.Div(id=ids.COX_PH),
                ],
                delay_show=150,
            ),
        ]
    )


def register(app: Any, page_ctx: PageContext) -> None:
    @app.callback(
        Output(ids.COX_MESSAGE, "children"),
        Output(ids.COX_FOREST, "figure"),
        Output(ids.COX_FOREST, "style"),
        Output(ids.COX_TABLE, "children"),
        Output(ids.COX_PH, "children"),
        Input(ids.FILTER_ALL, "value"),
        Input(ids.option_id("endpoint"), "value"),
        Input(ids.option_id("cov"), "value"),
        Input(ids.option_id("ref"), "value"),
        State(ids.FILTER_ALL, "id"),
    )
    def update(
        values: list[Any],
        endpoint_value: str,
        cov: list[str] | None,
        ref: list[str] | None,
        control_ids: list[dict[str, str]],
    ) -> Any:
        return cox_outputs(page_ctx, values, control_ids, endpoint_value, cov or [], ref or [])

    register_downloads(app, page_ctx, "cox")


@cached_page("cox")
def cox_outputs(
    page_ctx: PageContext,
    values: list[Any],
    control_ids: list[dict[str, str]],
    endpoint_value: str,
    cov: list[str],
    ref: list[str],
) -> tuple[Any, ...]:
    hidden = {"display": "none"}
    try:
        endpoint, origin = parse_endpoint(endpoint_value)
        if not cov:
            raise UserError("Choose at least one covariate.")
        cohort = page_ctx.cohort(values, control_ids)
        refs = dict(r.split("=", 1) for r in ref if r.split("=", 1)[0] in cov)
        view = cox_view(page_ctx.service, cohort, endpoint, origin, cov, refs, page_ctx.min_cell)
    except UserError as exc:
        return message(str(exc)), {}, hidden, None, None
    terms, ph, counts, notes = view.terms, view.ph, (view.n, view.events), view.notes
    figure = cox_figure(view, endpoint, origin)
    side = terms.pivot_table(index="term", columns="model", values="label", aggfunc="first", sort=False)
    side = side.reindex(columns=[c for c in ("Unadjusted", "Adjusted") if c in side.columns]).reset_index()
    side = side.rename(
        columns={"term": "Term", "Unadjusted": "Unadjusted HR (95% CI), p", "Adjusted": "Adjusted HR (95% CI), p"}
    )
    n, events = counts
    header = html.P(
        f"Adjusted model: {'—' if n is None else f'{n:,}'} patients, "
        f"{'—' if events is None else f'{events:,}'} events (Efron ties)."
    )
    table = html.Div(
        [
            html.H3("Hazard ratios"),
            header,
            data_table(side),
            html.Ul([html.Li(x) for x in notes], className="notes") if notes else None,
        ]
    )
    ph_table = ph.assign(statistic=ph["statistic"].map(lambda v: f"{v:.2f}"), p=ph["p"].map(format_p))
    ph_block = html.Div(
        [
            html.H3("Proportional-hazards test (cox.zph, KM transform)"),
            data_table(ph_table.rename(columns={"term": "Term", "statistic": "χ²", "df": "df"})),
        ]
    )
    return None, figure, {"display": "block"}, table, ph_block
