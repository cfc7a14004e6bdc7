"""Treatment timing page: transplant or CAR-T, which start after time zero, analysed without immortal-time
bias: landmark curves and log-rank tests, Simon–Makuch curves with the Mantel–Byar test, and time-varying
Cox hazard ratios beside the biased time-fixed one."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from ayaall.errors import UserError
from ayaall.exposures import EXPOSURE_LABELS
from ayaall.filters import COVARIATES
from dashboard import ids
from dashboard.components import data_table, endpoint_options, message, option_dropdown, option_radio
from dashboard.context import PageContext
from dashboard.downloads import download_controls, register_downloads
from dashboard.page_cache import cached_page
from dashboard.pages.options import read_option
from figures.views import timing_figures
from reports.formatting import format_p
from reports.survival import parse_endpoint
from reports.timing import (
    DEFAULT_LANDMARKS,
    LANDMARK_CHOICES,
    PRIOR_EXPOSURE,
    PRIOR_EXPOSURE_LABEL,
    TimingView,
    landmark_groups_in,
    simon_makuch_display,
    timing_view,
)

__all__ = ["OPTIONS", "PATH", "TITLE", "layout", "register", "timing_outputs"]

PATH = "/timing"
TITLE = "Treatment timing"
UNITS = (("days", "days"), ("months", "months"), ("years", "years"))
EXPOSURE_CHOICES = tuple(EXPOSURE_LABELS.items())
ADJUST = [(c, lab) for c, lab in COVARIATES if c not in EXPOSURE_LABELS] + [(PRIOR_EXPOSURE, PRIOR_EXPOSURE_LABEL)]
OPTIONS = {
    "exposure": "hct",
    "endpoint": "OS/DX",
    "landmark": [str(d) for d in DEFAULT_LANDMARKS],
    "adjust": [],
    "unit": "months",
}
_HIDDEN = {"display": "none"}
_SHOWN = {"display": "block"}


def layout(query: dict[str, list[str]], page_ctx: PageContext) -> html.Div:
    exposure = read_option(query, "exposure", OPTIONS["exposure"], set(EXPOSURE_LABELS))
    endpoint = read_option(query, "endpoint", OPTIONS["endpoint"], {o["value"] for o in endpoint_options()})
    marks = read_option(query, "landmark", OPTIONS["landmark"], {str(d) for d in LANDMARK_CHOICES}, multi=True)
    adjust = read_option(query, "adjust", OPTIONS["adjust"], {c for c, _ in ADJUST}, multi=True)
    unit = read_option(query, "unit", OPTIONS["unit"], {u for u, _ in UNITS})
    landmark_choices = [{"label": f"day {d}", "value": str(d)} for d in LANDMARK_CHOICES]
    return html.Div(
        [
            html.H2(TITLE),
            html.P(
                "Transplant, CAR-T and toxicities such as VOD/SOS happen after time zero: comparing patients who "
                "ever had them with those who never did credits them with the time they had to survive for it "
                "(immortal-time bias). These analyses avoid it: landmark curves compare patients by exposure "
                "status on a landmark day, Simon–Makuch curves and the Mantel–Byar test let patients move from "
                "unexposed to exposed when treated, and the time-varying Cox model does the same for the hazard.",
                className="lead-text",
            ),
            dbc.Row(
                [
                    dbc.Col(option_radio("exposure", "Exposure", EXPOSURE_CHOICES, exposure), md=3),
                    dbc.Col(option_dropdown("endpoint", "Endpoint and time zero", endpoint_options(), endpoint), md=5),
                    dbc.Col(option_radio("unit", "Time in", UNITS, unit), md=4),
                ],
                className="options-row",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        option_dropdown(
                            "landmark", "Landmarks (days from time zero)", landmark_choices, marks, multi=True
                        ),
                        md=6,
                    ),
                    dbc.Col(
                        option_dropdown(
                            "adjust",
                            "Adjust the time-varying Cox model for",
                            [{"label": lab, "value": c} for c, lab in ADJUST],
                            adjust,
                            multi=True,
                            clearable=True,
                        ),
                        md=6,
                    ),
                ],
                className="options-row",
            ),
            dcc.Loading(
                html.Div(
                    [
                        html.Div(id=ids.TIMING_MESSAGE),
                        html.H3("Landmark analysis"),
                        dcc.Graph(id=ids.TIMING_FIGURE, config={"displaylogo": False}, style=_HIDDEN),
                        download_controls("timing-landmark"),
                        html.Div(id=ids.TIMING_LANDMARKS),
                        html.H3("Simon–Makuch curves"),
                        dcc.Graph(id=ids.TIMING_SM_FIGURE, config={"displaylogo": False}, style=_HIDDEN),
                        download_controls("timing-sm"),
                        html.Div(id=ids.TIMING_SM_TABLE),
                        html.H3("Hazard ratios"),
                        dcc.Graph(id=ids.TIMING_COX_FIGURE, config={"displaylogo": False}, style=_HIDDEN),
                        download_controls("timing-cox"),
                        html.Div(id=ids.TIMING_COX_TABLE),
                    ],
                    id=ids.TIMING_CONTENT,
                ),
                delay_show=150,
            ),
        ]
    )


def register(app: Any, page_ctx: PageContext) -> None:
    @app.callback(
        Output(ids.TIMING_MESSAGE, "children"),
        Output(ids.TIMING_FIGURE, "figure"),
        Output(ids.TIMING_FIGURE, "style"),
        Output(ids.TIMING_LANDMARKS, "children"),
        Output(ids.TIMING_SM_FIGURE, "figure"),
        Output(ids.TIMING_SM_FIGURE, "style"),
        Output(ids.TIMING_SM_TABLE, "children"),
        Output(ids.TIMING_COX_FIGURE, "figure"),
        Output(ids.TIMING_COX_FIGURE, "style"),
        Output(ids.TIMING_COX_TABLE, "children"),
        Input(ids.FILTER_ALL, "value"),
        Input(ids.option_id("exposure"), "value"),
        Input(ids.option_id("endpoint"), "value"),
        Input(ids.option_id("landmark"), "value"),
        Input(ids.option_id("adjust"), "value"),
        Input(ids.option_id("unit"), "value"),
        State(ids.FILTER_ALL, "id"),
    )
    def update(
        values: list[Any],
        exposure: str,
        endpoint_value: str,
        landmarks: list[str] | None,
        adjust: list[str] | None,
        unit: str,
        control_ids: list[dict[str, str]],
    ) -> Any:
        return timing_outputs(
            page_ctx, values, control_ids, exposure, endpoint_value, landmarks or [], adjust or [], unit
        )

    for key in ("timing-landmark", "timing-sm", "timing-cox"):
        register_downloads(app, page_ctx, key)


@cached_page("timing")
def timing_outputs(
    page_ctx: PageContext,
    values: list[Any],
    control_ids: list[dict[str, str]],
    exposure: str,
    endpoint_value: str,
    landmarks: list[str],
    adjust: list[str],
    unit: str,
) -> tuple[Any, ...]:
    """The page's ten outputs; a message in place of the figures when the analysis cannot run."""
    try:
        endpoint, origin = parse_endpoint(endpoint_value)
        try:
            marks = [float(v) for v in landmarks]
        except ValueError as exc:
            raise UserError("Landmarks must be numbers of days.") from exc
        cohort = page_ctx.cohort(values, control_ids)
        view = timing_view(page_ctx.service, cohort, exposure, endpoint, origin, marks, adjust, page_ctx.min_cell)
    except UserError as exc:
        return (message(str(exc)), {}, _HIDDEN, None, {}, _HIDDEN, None, {}, _HIDDEN, None)
    unit = unit or "months"
    landmark_fig, sm_fig, cox_fig = timing_figures(view, unit)
    notes = html.Ul([html.Li(n) for n in view.notes], className="notes") if view.notes else None
    landmarks_block = html.Div(
        [
            data_table(view.landmark_table, count_columns=["At risk", "Exposed by then", "Not exposed"]),
            data_table(
                landmark_groups_in(view, unit),
                count_columns=["Patients", "Events"],
                caption="After each landmark: Kaplan–Meier median and survival (95% CI, log-log) by exposure "
                "status on the landmark day; later exposures count as not exposed.",
            )
            if len(view.landmark_groups)
            else None,
        ]
    )
    sm_block = html.Div(
        [
            data_table(
                simon_makuch_display(view.simon_makuch_groups, unit),
                count_columns=["Patients (contributing time)", "Events"],
            ),
            html.P(_mantel_byar_text(view), className="test-result"),
        ]
    )
    cox_block = data_table(view.cox_table, count_columns=["Patients", "Events"]) if len(view.cox_table) else None
    return (
        notes,
        landmark_fig if landmark_fig is not None else {},
        _SHOWN if landmark_fig is not None else _HIDDEN,
        landmarks_block,
        sm_fig if sm_fig is not None else {},
        _SHOWN if sm_fig is not None else _HIDDEN,
        sm_block,
        cox_fig if cox_fig is not None else {},
        _SHOWN if cox_fig is not None else _HIDDEN,
        cox_block,
    )


def _mantel_byar_text(view: TimingView) -> str:
    mb = view.mantel_byar
    if mb is None:
        return "Mantel–Byar test: not reported (see the notes)."
    p = format_p(mb["p"])
    return (
        f"Mantel–Byar test (exposure as time-dependent, {mb['method'].split('(')[-1].rstrip(')')}): "
        f"χ² = {mb['statistic']:.2f} on {mb['df']} df, p {p if p.startswith('<') else '= ' + p}."
    )
