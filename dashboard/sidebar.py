"""The cohort builder, always visible: filters, live patient count, save and load a cohort file."""

from __future__ import annotations

import base64
import json
from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from ayaall.cohort import CohortSpec
from ayaall.errors import UserError
from ayaall.filters import FILTERS
from dashboard import ids
from dashboard.context import PageContext
from dashboard.state import values_from_cohort

__all__ = ["load_line", "register", "sidebar"]

_BOOL_OPTIONS = [{"label": "any", "value": "any"}, {"label": "yes", "value": "yes"}, {"label": "no", "value": "no"}]


def sidebar(values: dict[str, Any], page_ctx: PageContext) -> html.Div:
    """The filter controls, set to ``values`` (from the URL)."""
    choices = page_ctx.service.filter_choices()
    controls = []
    for spec in FILTERS:
        value = values.get(spec.column)
        label_id = f"label-{spec.column}"
        if spec.kind == "multi":
            control: Any = dcc.Dropdown(
                id=ids.filter_id(spec.column), options=choices[spec.column], value=value, multi=True, placeholder="all"
            )
        elif spec.kind == "bool":
            control = dbc.RadioItems(
                id=ids.filter_id(spec.column), options=_BOOL_OPTIONS, value=value or "any", inline=True
            )
        else:
            lo, hi = choices[spec.column]
            control = dcc.RangeSlider(
                id=ids.filter_id(spec.column),
                min=lo,
                max=hi,
                step=1,
                value=value or [lo, hi],
                marks={lo: str(lo), hi: str(hi)},
                tooltip={"placement": "bottom", "always_visible": False},
                allowCross=False,
                updatemode="mouseup",
            )
        controls.append(
            html.Div([html.Label(spec.label, id=label_id, className="filter-label"), control], className="filter")
        )
    return html.Div(
        [
            html.H2("Cohort", className="sidebar-title"),
            html.Div(id=ids.COHORT_COUNT, className="cohort-count", **{"aria-live": "polite"}),  # type: ignore[arg-type]
            html.Div(id=ids.LOAD_INFO, className="load-info small text-muted"),
            *controls,
            html.Div(
                [
                    dbc.Button("Save cohort", id=ids.COHORT_SAVE, size="sm", color="secondary", className="me-1"),
                    dbc.Button("Reset", id=ids.COHORT_RESET, size="sm", color="light", className="me-1"),
                    dcc.Upload(
                        dbc.Button("Load cohort…", size="sm", color="secondary"),
                        id=ids.COHORT_UPLOAD,
                        accept=".json,application/json",
                        className="upload",
                    ),
                    dcc.Download(id=ids.COHORT_DOWNLOAD),
                    html.Div(id=ids.COHORT_UPLOAD_MESSAGE, role="status"),
                ],
                className="cohort-actions",
            ),
        ]
    )


def load_line(info: dict[str, str | None]) -> str:
    """Which load every number reflects (a new load is picked up without a restart: reports.service)."""
    if not info.get("load_id"):
        return ""
    return f"Load {info['load_id']}, data cut-off {info['data_cutoff']}"


def register(app: Any, page_ctx: PageContext) -> None:
    @app.callback(Output(ids.COHORT_COUNT, "children"), Input(ids.FILTER_ALL, "value"), State(ids.FILTER_ALL, "id"))
    def update_count(values: list[Any], control_ids: list[dict[str, str]]) -> Any:
        try:
            cohort = page_ctx.cohort(values, control_ids)
            n, key = page_ctx.service.cohort_cell(cohort)
        except UserError as exc:
            return html.Span(str(exc), className="text-danger")
        shown = page_ctx.release(n, key)
        policy = page_ctx.policy
        text = f"{shown:,}" if shown is not None else f"at most {policy.min_cell + policy.noise}"
        return [html.Span(text, className="count-number"), html.Span(" patients in the cohort")]

    @app.callback(Output(ids.LOAD_INFO, "children"), Input(ids.FILTER_ALL, "value"))
    def update_load_info(_values: list[Any]) -> Any:
        return load_line(page_ctx.service.load_info())

    @app.callback(
        Output(ids.COHORT_DOWNLOAD, "data"),
        Input(ids.COHORT_SAVE, "n_clicks"),
        State(ids.FILTER_ALL, "value"),
        State(ids.FILTER_ALL, "id"),
        prevent_initial_call=True,
    )
    def save_cohort(_clicks: int, values: list[Any], control_ids: list[dict[str, str]]) -> Any:
        cohort = page_ctx.cohort(values, control_ids)
        return {
            "content": json.dumps(cohort.to_dict(), indent=2) + "\n",
            "filename": "cohort.json",
            "type": "application/json",
        }

    @app.callback(
        Output({"type": "cohort-filter", "column": ALL}, "value"),
        Output(ids.COHORT_UPLOAD_MESSAGE, "children"),
        Input(ids.COHORT_UPLOAD, "contents"),
        Input(ids.COHORT_RESET, "n_clicks"),
        State(ids.COHORT_UPLOAD, "filename"),
        State(ids.FILTER_ALL, "id"),
        prevent_initial_call=True,
    )
    def load_cohort(
        contents: str | None, _reset: int | None, filename: str | None, control_ids: list[dict[str, str]]
    ) -> Any:
        if ctx.triggered_id == ids.COHORT_RESET:
            cohort = CohortSpec()
            note: Any = ""
        else:
            if not contents:
                return [no_update] * len(control_ids), no_update
            try:
                cohort = parse_cohort_upload(contents, filename or "cohort file")
            except UserError as exc:
                return [no_update] * len(control_ids), html.Span(str(exc), className="text-danger")
            note = f"Loaded {filename}."
        values = values_from_cohort(cohort)
        choices = page_ctx.service.full_ranges()
        out = []
        for cid in control_ids:
            value = values.get(cid["column"])
            if cid["column"] in choices:
                lo, hi = choices[cid["column"]]
                value = [max(lo, value[0]), min(hi, value[1])] if value else [lo, hi]
            elif value is None and cid["column"] in {"cr1", "relapsed", "hct"}:
                value = "any"
            out.append(value)
        return out, note


def parse_cohort_upload(contents: str, filename: str) -> CohortSpec:
    """A cohort file (cli.md) from a ``dcc.Upload`` data URL; only filters the builder offers are allowed."""
    try:
        _, data = contents.split(",", 1)
        document = json.loads(base64.b64decode(data).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise UserError(f"{filename} is not a JSON cohort file ({exc}).") from exc
    cohort = CohortSpec.from_dict(document, source=filename)
    known = {spec.column for spec in FILTERS}
    unknown = [c for c, _ in cohort.filters if c not in known]
    if unknown:
        raise UserError(
            f"{filename} filters on {', '.join(unknown)}, which the cohort builder does not offer "
            f"(it offers {', '.join(sorted(known))})."
        )
    return cohort
