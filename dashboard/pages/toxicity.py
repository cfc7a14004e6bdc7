"""Toxicity page: one toxicity of frontline or first-salvage therapy by group: the proportion with it
(Wilson 95% intervals) and a test between groups, time to onset, the worst-grade distribution, and its
cumulative incidence with death competing (Gray's test). Every number is ``reports.toxicity``'s,
released by ``disclosure.toxicity``; ``ayaall analyze toxicity`` and ``--figure toxicity`` show the same."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, dcc, html

from ayaall.errors import UserError
from ayaall.filters import BY_COLUMNS
from dashboard import ids
from dashboard.components import data_table, message, option_dropdown, option_radio
from dashboard.context import PageContext
from dashboard.downloads import download_controls, register_downloads
from dashboard.page_cache import cached_page
from dashboard.pages.options import read_option
from figures.views import toxicity_cif_figure, toxicity_grade_figure
from reports.formatting import format_p, percent_with_ci
from reports.toxicity import (
    DEFAULT_BY,
    EVENTS,
    GRADES,
    LINES,
    ToxicityView,
    event_label,
    milestone_label,
    toxicity_view,
)

__all__ = ["OPTIONS", "PATH", "TITLE", "layout", "register", "toxicity_outputs"]

PATH = "/toxicity"
TITLE = "Toxicity"
# The grouping has its own URL key: the line's regimen (this page's default) means nothing on the others.
_BY = [
    {"label": "Regimen of the line", "value": DEFAULT_BY},
    {"label": "(all patients)", "value": "none"},
] + [{"label": lab, "value": c} for c, lab in BY_COLUMNS]
OPTIONS = {"line": "1", "txevent": "CRS", "txgrade": "1", "txby": DEFAULT_BY}
_EVENTS = [{"label": event_label(e), "value": e} for e in EVENTS]
_GRADES = [("1", "Any grade"), ("3", "Grade ≥ 3")]
_HIDDEN = {"display": "none"}
_SHOWN = {"display": "block"}


def layout(query: dict[str, list[str]], page_ctx: PageContext) -> html.Div:
    line = read_option(query, "line", OPTIONS["line"], {str(k) for k in LINES})
    event = read_option(query, "txevent", OPTIONS["txevent"], set(EVENTS))
    grade = read_option(query, "txgrade", OPTIONS["txgrade"], {g for g, _ in _GRADES})
    by = read_option(query, "txby", OPTIONS["txby"], {o["value"] for o in _BY})
    return html.Div(
        [
            html.H2(TITLE),
            html.P(
                "Toxicities of a line of therapy among the cohort's patients who started it, attributed to the line "
                "from its start to the next line's start or the end of follow-up; death before the toxicity "
                "competes. CRS and ICANS are graded by the ASTCT 2019 consensus, the others by CTCAE v5.0.",
                className="lead-text",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        option_radio("line", "Line of therapy", [(str(k), v) for k, v in LINES.items()], line), md=3
                    ),
                    dbc.Col(option_dropdown("txevent", "Toxicity", _EVENTS, event), md=3),
                    dbc.Col(option_radio("txgrade", "Grade", _GRADES, grade), md=3),
                    dbc.Col(option_dropdown("txby", "Group by", _BY, by), md=3),
                ],
                className="options-row",
            ),
            dcc.Loading(
                html.Div(
                    [
                        html.Div(id=ids.TOXICITY_MESSAGE),
                        html.Div(id=ids.TOXICITY_TABLE),
                        dcc.Graph(id=ids.TOXICITY_GRADE_FIGURE, config={"displaylogo": False}, style=_HIDDEN),
                        dcc.Graph(id=ids.TOXICITY_CIF_FIGURE, config={"displaylogo": False}, style=_HIDDEN),
                        download_controls("toxicity"),
                        html.Div(id=ids.TOXICITY_CIF_TABLE),
                    ],
                    id=ids.TOXICITY_CONTENT,
                ),
                delay_show=150,
            ),
        ]
    )


def register(app: Any, page_ctx: PageContext) -> None:
    @app.callback(
        Output(ids.TOXICITY_MESSAGE, "children"),
        Output(ids.TOXICITY_TABLE, "children"),
        Output(ids.TOXICITY_GRADE_FIGURE, "figure"),
        Output(ids.TOXICITY_GRADE_FIGURE, "style"),
        Output(ids.TOXICITY_CIF_FIGURE, "figure"),
        Output(ids.TOXICITY_CIF_FIGURE, "style"),
        Output(ids.TOXICITY_CIF_TABLE, "children"),
        Input(ids.FILTER_ALL, "value"),
        Input(ids.option_id("line"), "value"),
        Input(ids.option_id("txevent"), "value"),
        Input(ids.option_id("txgrade"), "value"),
        Input(ids.option_id("txby"), "value"),
        State(ids.FILTER_ALL, "id"),
    )
    def update(values: list[Any], line: str, event: str, grade: str, by: str, control_ids: list[dict[str, str]]) -> Any:
        return toxicity_outputs(page_ctx, values, control_ids, line, event, grade, by)

    register_downloads(app, page_ctx, "toxicity")


def _whole(value: Any, what: str, choices: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if number not in choices:
        raise UserError(f"The {what} must be one of {', '.join(map(str, choices))}, not {value!r}.")
    return number


@cached_page("toxicity")
def toxicity_outputs(
    page_ctx: PageContext,
    values: list[Any],
    control_ids: list[dict[str, str]],
    line: str,
    event: str,
    grade: str,
    by_value: str | None,
) -> tuple[Any, ...]:
    """The page's seven outputs; a message in place of the rest when there is nothing to report."""
    by = None if by_value in (None, "none") else by_value
    try:
        line_no = _whole(line, "line", LINES)
        threshold = _whole(grade, "grade threshold", GRADES)
        cohort = page_ctx.cohort(values, control_ids)
        view = toxicity_view(page_ctx.service, cohort, line_no, by, page_ctx.min_cell, [event])
    except UserError as exc:
        return message(str(exc)), None, {}, _HIDDEN, {}, _HIDDEN, None
    notes = html.Ul([html.Li(n) for n in view.notes], className="notes")
    return (
        notes,
        _rates_block(view, event, threshold),
        toxicity_grade_figure(view, event),
        _SHOWN,
        toxicity_cif_figure(view, event, threshold),
        _SHOWN,
        _incidence_block(view, event, threshold),
    )


def _cell(frame: pd.DataFrame, event: str, grade: int) -> pd.DataFrame:
    return frame[(frame["event"] == event) & (frame["min_grade"] == grade)]


def _days(value: Any) -> str:
    return "—" if value is None or pd.isna(value) else f"{float(value):,.0f}"


def _onset(onset: pd.DataFrame, group: str) -> str:
    """A group's median time to onset and its quartiles (released: None where too few had the toxicity)."""
    if group not in onset.index or onset.loc[group, "median_days"] is None:
        return "—"
    row = onset.loc[group]
    return f"{_days(row['median_days'])} ({_days(row['q1_days'])}–{_days(row['q3_days'])})"


def _rates_block(view: ToxicityView, event: str, grade: int) -> html.Div:
    r = view.released
    props = _cell(r.proportions, event, grade).reset_index(drop=True)
    onset = _cell(r.onset, event, grade).set_index("group")
    table = pd.DataFrame(
        {
            "Group": props["group"],
            "Patients": props["n"],
            "With event": props["events"],
            "Proportion (95% CI)": [
                percent_with_ci(p, lo, hi)
                for p, lo, hi in zip(props["proportion"], props["ci_lower"], props["ci_upper"], strict=True)
            ],
            "Onset, median (IQR) days": [_onset(onset, g) for g in props["group"]],
        }
    )
    tests = _cell(r.tests, event, grade)
    test_line = None
    if len(tests):
        t = tests.iloc[0]
        shown = format_p(t["p"])
        test_line = html.P(
            f"{t['test']} between groups: p = {shown}" + (f" ({t['note']})" if t["note"] else ""),
            className="test-result",
        )
    totals = html.P(
        f"{LINES[view.line]}: {_count(view.n)} patients started the line.",
        className="patient-flow",
    )
    title = f"{event_label(event)}, {GRADES[grade].lower()}"
    return html.Div([totals, html.H3(title), data_table(table, count_columns=["Patients", "With event"]), test_line])


def _incidence_block(view: ToxicityView, event: str, grade: int) -> html.Div:
    r = view.released
    points = _cell(r.cif_milestones, event, grade)
    rows = []
    for group, g in points.groupby("group", sort=False):
        row: dict[str, Any] = {"Group": group}
        for m in g.to_dict("records"):
            label = milestone_label(float(m["time_days"]))
            row[label] = percent_with_ci(m["cif_event"], m["ci_lower_event"], m["ci_upper_event"])
        rows.append(row)
    risk = _cell(view.risk_table, event, grade).drop(columns=["event", "min_grade"])
    risk = risk.assign(time_days=risk["time_days"].astype(float).round(0)).rename(
        columns={
            "group": "Group",
            "time_days": "Day",
            "at_risk": "At risk",
            "events": "Toxicities",
            "competing_events": "Deaths",
            "censored": "Censored",
        }
    )
    gray = _cell(r.gray, event, grade)
    gray_line = None
    if len(gray):
        g = gray.iloc[0]
        gray_line = html.P(
            f"Gray's test: p = {format_p(g['p'])}" + (f" ({g['note']})" if g["note"] else ""), className="test-result"
        )
    return html.Div(
        [
            html.H3("Cumulative incidence (death competing)"),
            data_table(
                pd.DataFrame(rows),
                caption=f"Aalen–Johansen estimate (95% CI) of {event_label(event).lower()}; — where its curve has "
                "stopped: the last events of a cause, fewer than a block, are not placed in time (disclosure "
                "control), so a toxicity that comes early has no later milestone; its crude proportion is above.",
            )
            if rows
            else None,
            gray_line,
            html.H3("Numbers at risk and cumulative events"),
            data_table(risk, count_columns=["At risk", "Toxicities", "Deaths", "Censored"]),
        ]
    )


def _count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"
