"""Adjusted comparison page: treatments compared by inverse probability of treatment weighting, e.g.
blinatumomab vs inotuzumab vs salvage chemotherapy from the start of salvage (LINE2): covariate balance
(love plot), adjusted Kaplan–Meier curves and weighted hazard ratios beside the unweighted ones."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update

from ayaall.errors import UserError
from ayaall.filters import COVARIATES as ALL_COVARIATES
from dashboard import ids
from dashboard.components import data_table, endpoint_options, message, option_dropdown, option_radio
from dashboard.context import PageContext
from dashboard.downloads import download_controls, register_downloads
from dashboard.page_cache import cached_page
from dashboard.pages.options import read_option
from figures.views import weighting_figures
from reports.survival import parse_endpoint
from reports.weighting import DEFAULT_LEVELS, ESTIMANDS, TREATMENTS, weighting_view

__all__ = [
    "OPTIONS",
    "PATH",
    "TITLE",
    "layout",
    "register",
    "target_choices",
    "treatment_defaults",
    "weighting_outputs",
]

PATH = "/weighting"
TITLE = "Adjusted comparison"
UNITS = (("days", "days"), ("months", "months"), ("years", "years"))
COVARIATES = list(ALL_COVARIATES)
TRIM = (("none", "none"), ("0.01", "0.01"), ("0.02", "0.02"), ("0.05", "0.05"), ("0.1", "0.1"))
TRUNCATE = (("none", "none"), ("0.01", "1st/99th"), ("0.025", "2.5th/97.5th"), ("0.05", "5th/95th"))
TRIM_OPTIONS = [{"label": lab, "value": v} for v, lab in TRIM]
TRUNCATE_OPTIONS = [{"label": lab, "value": v} for v, lab in TRUNCATE]
DEFAULT_ENDPOINT = {"salvage_regimen": "OS/LINE2", "frontline_regimen": "OS/DX"}
OPTIONS = {
    "treat": "salvage_regimen",
    "levels": list(DEFAULT_LEVELS["salvage_regimen"]),
    "wcov": ["age_at_dx", "cns_status", "mrd_eoi"],
    "estimand": "ATE",
    "target": None,
    "trim": "none",
    "truncate": "none",
    "wendpoint": DEFAULT_ENDPOINT["salvage_regimen"],
    "unit": "months",
}
_HIDDEN = {"display": "none"}
_SHOWN = {"display": "block"}


def _level_options(page_ctx: PageContext, treatment: str) -> list[str]:
    return [str(v) for v in page_ctx.service.filter_choices().get(treatment, [])]


def layout(query: dict[str, list[str]], page_ctx: PageContext) -> html.Div:
    treat = read_option(query, "treat", OPTIONS["treat"], set(TREATMENTS))
    level_choices = _level_options(page_ctx, treat)
    default_levels = list(DEFAULT_LEVELS[treat])
    levels = read_option(query, "levels", default_levels, set(level_choices), multi=True)
    cov = read_option(query, "wcov", OPTIONS["wcov"], {c for c, _ in COVARIATES if c != treat}, multi=True)
    estimand = read_option(query, "estimand", OPTIONS["estimand"], set(ESTIMANDS))
    target = read_option(query, "target", None, set(levels))
    trim = read_option(query, "trim", OPTIONS["trim"], {v for v, _ in TRIM})
    truncate = read_option(query, "truncate", OPTIONS["truncate"], {v for v, _ in TRUNCATE})
    endpoint = read_option(query, "wendpoint", DEFAULT_ENDPOINT[treat], {o["value"] for o in endpoint_options()})
    unit = read_option(query, "unit", OPTIONS["unit"], {u for u, _ in UNITS})
    return html.Div(
        [
            html.H2(TITLE),
            html.P(
                "Treatments are chosen by indication, so crude survival by treatment mixes treatment effect and "
                "case mix. Here a propensity model of treatment on the chosen covariates gives each patient an "
                "inverse probability of treatment weight; the love plot shows whether weighting balanced the "
                "covariates (|SMD| < 0.1), and the adjusted curves and hazard ratios compare the treatments in "
                "the weighted population. Only measured confounders are adjusted for.",
                className="lead-text",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        option_dropdown(
                            "treat", "Treatment", [{"label": v, "value": k} for k, v in TREATMENTS.items()], treat
                        ),
                        md=3,
                    ),
                    dbc.Col(
                        option_dropdown(
                            "levels", "Treatments compared (first = reference)", level_choices, levels, multi=True
                        ),
                        md=5,
                    ),
                    dbc.Col(option_dropdown("wendpoint", "Endpoint and time zero", endpoint_options(), endpoint), md=4),
                ],
                className="options-row",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        option_dropdown(
                            "wcov",
                            "Propensity model covariates",
                            [{"label": lab, "value": c} for c, lab in COVARIATES],
                            cov,
                            multi=True,
                        ),
                        md=6,
                    ),
                    dbc.Col(option_radio("estimand", "Estimand", [(e, e) for e in ESTIMANDS], estimand), md=2),
                    dbc.Col(
                        option_dropdown("target", "ATT target", levels, target or (levels[-1] if levels else None)),
                        md=4,
                    ),
                ],
                className="options-row",
            ),
            dbc.Row(
                [
                    dbc.Col(option_dropdown("trim", "Trim: propensity below", TRIM_OPTIONS, trim), md=3),
                    dbc.Col(option_dropdown("truncate", "Truncate weights at", TRUNCATE_OPTIONS, truncate), md=3),
                    dbc.Col(option_radio("unit", "Time in", UNITS, unit), md=4),
                ],
                className="options-row",
            ),
            dcc.Loading(
                html.Div(
                    [
                        html.Div(id=ids.WEIGHTING_MESSAGE),
                        html.H3("Covariate balance"),
                        dcc.Graph(id=ids.WEIGHTING_BALANCE, config={"displaylogo": False}, style=_HIDDEN),
                        download_controls("weighting-balance"),
                        html.Div(id=ids.WEIGHTING_BALANCE_TABLE),
                        html.H3("Adjusted survival"),
                        dcc.Graph(id=ids.WEIGHTING_FIGURE, config={"displaylogo": False}, style=_HIDDEN),
                        download_controls("weighting-km"),
                        html.Div(id=ids.WEIGHTING_SUMMARY),
                        html.H3("Hazard ratios"),
                        dcc.Graph(id=ids.WEIGHTING_COX_FIGURE, config={"displaylogo": False}, style=_HIDDEN),
                        download_controls("weighting-cox"),
                        html.Div(id=ids.WEIGHTING_COX_TABLE),
                    ],
                    id=ids.WEIGHTING_CONTENT,
                ),
                delay_show=150,
            ),
        ]
    )


def register(app: Any, page_ctx: PageContext) -> None:
    @app.callback(
        Output(ids.option_id("levels"), "options"),
        Output(ids.option_id("levels"), "value"),
        Output(ids.option_id("wendpoint"), "value"),
        Input(ids.option_id("treat"), "value"),
        prevent_initial_call=True,
    )
    def treatment_changed(treat: str) -> Any:
        return treatment_defaults(page_ctx, treat)

    @app.callback(
        Output(ids.option_id("target"), "options"),
        Output(ids.option_id("target"), "value"),
        Input(ids.option_id("levels"), "value"),
        State(ids.option_id("target"), "options"),
        State(ids.option_id("target"), "value"),
    )
    def levels_changed(levels: list[str] | None, options: list[Any] | None, target: str | None) -> Any:
        return target_choices(levels or [], options or [], target)

    @app.callback(
        Output(ids.WEIGHTING_MESSAGE, "children"),
        Output(ids.WEIGHTING_BALANCE, "figure"),
        Output(ids.WEIGHTING_BALANCE, "style"),
        Output(ids.WEIGHTING_BALANCE_TABLE, "children"),
        Output(ids.WEIGHTING_FIGURE, "figure"),
        Output(ids.WEIGHTING_FIGURE, "style"),
        Output(ids.WEIGHTING_SUMMARY, "children"),
        Output(ids.WEIGHTING_COX_FIGURE, "figure"),
        Output(ids.WEIGHTING_COX_FIGURE, "style"),
        Output(ids.WEIGHTING_COX_TABLE, "children"),
        Input(ids.FILTER_ALL, "value"),
        Input(ids.option_id("treat"), "value"),
        Input(ids.option_id("levels"), "value"),
        Input(ids.option_id("wcov"), "value"),
        Input(ids.option_id("estimand"), "value"),
        Input(ids.option_id("target"), "value"),
        Input(ids.option_id("trim"), "value"),
        Input(ids.option_id("truncate"), "value"),
        Input(ids.option_id("wendpoint"), "value"),
        Input(ids.option_id("unit"), "value"),
        State(ids.FILTER_ALL, "id"),
    )
    def update(
        values: list[Any],
        treat: str,
        levels: list[str] | None,
        cov: list[str] | None,
        estimand: str,
        target: str | None,
        trim: str | None,
        truncate: str | None,
        endpoint_value: str,
        unit: str,
        control_ids: list[dict[str, str]],
    ) -> Any:
        return weighting_outputs(
            page_ctx,
            values,
            control_ids,
            treat,
            levels or [],
            cov or [],
            estimand,
            target,
            trim,
            truncate,
            endpoint_value,
            unit,
        )

    for key in ("weighting-balance", "weighting-km", "weighting-cox"):
        register_downloads(app, page_ctx, key)


def treatment_defaults(page_ctx: PageContext, treat: str) -> tuple[Any, Any, Any]:
    """A new treatment column: its codes, its usual comparison and the time zero at which it is chosen
    (the levels dropdown's options and value, the endpoint's value)."""
    if treat not in TREATMENTS:
        return no_update, no_update, no_update
    return _level_options(page_ctx, treat), list(DEFAULT_LEVELS[treat]), DEFAULT_ENDPOINT[treat]


def target_choices(levels: list[str], options: list[Any], target: str | None) -> tuple[Any, Any]:
    """The ATT target's options and value: one of the treatments compared, the last unless chosen
    (``no_update`` where nothing changes, so that the page does not recompute)."""
    current = [o["value"] if isinstance(o, dict) else o for o in options]
    value = target if target in levels else (levels[-1] if levels else None)
    return (no_update if current == levels else list(levels)), (no_update if value == target else value)


def _fraction(value: str | None) -> float | None:
    if value in (None, "", "none"):
        return None
    try:
        return float(value)
    except ValueError as exc:
        raise UserError(f"{value!r} is not a fraction.") from exc


@cached_page("weighting")
def weighting_outputs(
    page_ctx: PageContext,
    values: list[Any],
    control_ids: list[dict[str, str]],
    treat: str,
    levels: list[str],
    cov: list[str],
    estimand: str,
    target: str | None,
    trim: str | None,
    truncate: str | None,
    endpoint_value: str,
    unit: str,
) -> tuple[Any, ...]:
    """The page's ten outputs; a message in place of the figures when the analysis cannot run."""
    try:
        endpoint, origin = parse_endpoint(endpoint_value)
        cohort = page_ctx.cohort(values, control_ids)
        view = weighting_view(
            page_ctx.service,
            cohort,
            treat,
            levels,
            cov,
            estimand or "ATE",
            target,
            _fraction(trim),
            _fraction(truncate),
            endpoint,
            origin,
            page_ctx.min_cell,
        )
    except UserError as exc:
        return (message(str(exc)), {}, _HIDDEN, None, {}, _HIDDEN, None, {}, _HIDDEN, None)
    balance_fig, km_fig, cox_fig = weighting_figures(view, unit or "months")
    notes = html.Ul([html.Li(n) for n in view.notes], className="notes") if view.notes else None
    flow = html.P(
        f"Patients analysed: {_count(view.n)}; left out for a missing covariate: {_count(view.n_missing)}; "
        f"trimmed: {_count(view.n_trimmed)}.",
        className="patient-flow",
    )
    balance_block = html.Div(
        [
            html.Details(
                [html.Summary("Standardized mean differences"), data_table(view.balance_table)],
            ),
            html.Details([html.Summary("Propensity model"), data_table(view.propensity)]),
        ]
    )
    summary = html.Div(
        [flow, data_table(view.summary, count_columns=["Patients", "Events"])],
    )
    cox_table = data_table(view.cox_table, count_columns=["Patients", "Events"])
    return (notes, balance_fig, _SHOWN, balance_block, km_fig, _SHOWN, summary, cox_fig, _SHOWN, cox_table)


def _count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"
