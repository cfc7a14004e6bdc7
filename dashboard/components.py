"""Small layout helpers shared by the pages: tables of suppressed results, messages, option controls."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from analyses.results import AnalysisWarning
from ayaall.endpoints import ENDPOINTS
from ayaall.errors import UserError
from dashboard import ids
from reports.formatting import MASKED

__all__ = [
    "data_table",
    "endpoint_options",
    "message",
    "option_dropdown",
    "option_radio",
    "run_safely",
]


def endpoint_options(competing_only: bool = False) -> list[dict[str, str]]:
    """One option per (endpoint, origin) pair of endpoints.md, labelled in words."""
    return [
        {"label": f"{s.label} ({s.endpoint}/{s.origin})", "value": f"{s.endpoint}/{s.origin}"}
        for s in ENDPOINTS
        if s.competing_risks or not competing_only
    ]


def format_cell(value: Any, column: str = "") -> str:
    """A table cell as text: masked counts as ``—``, whole numbers with thousands separators."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MASKED
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) >= 1):
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def data_table(
    frame: pd.DataFrame, *, count_columns: Iterable[str] = (), caption: str | None = None, table_id: str | None = None
) -> html.Div:
    """A compact, accessible HTML table; count cells carry the class ``count`` (tests inspect them)."""
    counts = set(count_columns)
    header = html.Thead(html.Tr([html.Th(str(c), scope="col") for c in frame.columns]))
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(format_cell(v, str(c)), className="count" if c in counts else None)
                    for c, v in zip(frame.columns, row, strict=True)
                ]
            )
            for row in frame.itertuples(index=False)
        ]
    )
    children: list[Any] = [header, body]
    if caption:
        children.insert(0, html.Caption(caption))
    kwargs = {"id": table_id} if table_id else {}
    return html.Div(
        dbc.Table(children, bordered=False, hover=True, size="sm", striped=True, className="result-table", **kwargs),
        className="table-responsive",
    )


def message(text: str, kind: str = "warning") -> html.Div:
    """A message shown in place of a figure (``role="alert"`` for screen readers)."""
    return html.Div(dbc.Alert(text, color=kind, className="analysis-message"), role="alert")


def run_safely(compute: Callable[[], Any], n_outputs: int) -> tuple[Any, ...] | list[Any]:
    """Run a page's work; a ``UserError`` (cohort too small, degenerate data) becomes its sentence."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AnalysisWarning)
            return compute()
    except UserError as exc:
        return [message(str(exc))] + [None] * (n_outputs - 1)


def option_dropdown(
    name: str, label: str, options: Sequence[Any], value: Any, *, multi: bool = False, clearable: bool = False
) -> html.Div:
    opts = [o if isinstance(o, dict) else {"label": str(o), "value": o} for o in options]
    control_id = ids.option_id(name)
    return html.Div(
        [
            dbc.Label(label, html_for=f"opt-{name}"),
            dcc.Dropdown(id=control_id, options=opts, value=value, multi=multi, clearable=clearable),
        ],
        className="option",
    )


def option_radio(name: str, label: str, options: Sequence[tuple[str, str]], value: str) -> html.Div:
    return html.Div(
        [
            dbc.Label(label),
            dbc.RadioItems(
                id=ids.option_id(name),
                options=[{"label": lab, "value": v} for v, lab in options],
                value=value,
                inline=True,
            ),
        ],
        className="option",
    )
