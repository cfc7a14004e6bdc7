"""Cohort page: the attrition flow (registry -> exclusions -> each filter) and Table 1 by a chosen variable."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, dcc, html

from ayaall.filters import BY_COLUMNS
from dashboard import ids
from dashboard.components import data_table, option_dropdown, run_safely
from dashboard.context import PageContext
from dashboard.downloads import download_controls, register_downloads
from dashboard.pages.options import read_option
from reports.attrition import attrition_view
from reports.table1 import table1

__all__ = ["OPTIONS", "PATH", "TITLE", "layout", "register"]

PATH = "/"
TITLE = "Cohort"
_BY_CHOICES = [{"label": "(no comparison)", "value": "none"}] + [{"label": lab, "value": c} for c, lab in BY_COLUMNS]
OPTIONS = {"t1by": "none"}
TABLE1_CAPTION = (
    "n (% of patients with a value); age: median (IQR) and mean (SD). p: chi-square (Fisher's exact for a "
    "sparse 2 x 2 table) or Kruskal–Wallis (Wilcoxon for two groups); SMD: the largest standardized "
    "difference between two groups. — marks a count hidden by disclosure control."
)


def layout(query: dict[str, list[str]], page_ctx: PageContext) -> html.Div:
    t1by = read_option(query, "t1by", "none", {o["value"] for o in _BY_CHOICES})
    return html.Div(
        [
            html.H2("Cohort"),
            html.P(
                "Who is in the cohort and why others are not: the registry, the exclusions of endpoints.md, "
                "then each filter of the cohort builder in order.",
                className="lead-text",
            ),
            html.H3("Attrition"),
            dcc.Loading(html.Div(id=ids.ATTRITION)),
            html.H3("Table 1"),
            option_dropdown("t1by", "Compare by", _BY_CHOICES, t1by),
            dcc.Loading(html.Div(id=ids.TABLE1)),
            download_controls("cohort"),
        ]
    )


def register(app: Any, page_ctx: PageContext) -> None:
    @app.callback(Output(ids.ATTRITION, "children"), Input(ids.FILTER_ALL, "value"), State(ids.FILTER_ALL, "id"))
    def update_attrition(values: list[Any], control_ids: list[dict[str, str]]) -> Any:
        def compute() -> Any:
            return attrition_table(page_ctx, page_ctx.cohort(values, control_ids))

        return run_safely(compute, 1)

    @app.callback(
        Output(ids.TABLE1, "children"),
        Input(ids.FILTER_ALL, "value"),
        Input(ids.option_id("t1by"), "value"),
        State(ids.FILTER_ALL, "id"),
    )
    def update_table1(values: list[Any], by: str | None, control_ids: list[dict[str, str]]) -> Any:
        def compute() -> Any:
            cohort = page_ctx.cohort(values, control_ids)
            table = table1(page_ctx.service, cohort, None if by in (None, "none") else by, page_ctx.min_cell)
            return data_table(table, caption=TABLE1_CAPTION)

        return run_safely(compute, 1)

    register_downloads(app, page_ctx, "cohort")


def attrition_table(page_ctx: PageContext, cohort: Any) -> Any:
    """The attrition flow as a table: every count released (``ReleasePolicy.count``)."""
    shown = attrition_view(page_ctx.service, cohort, page_ctx.min_cell)
    shown = shown.rename(
        columns={"step": "Step", "label": "Description", "removed": "Removed", "remaining": "Remaining"}
    )
    return data_table(
        shown,
        count_columns=["Removed", "Remaining"],
        caption=f"— marks a count of very few patients (at most {page_ctx.min_cell} after its perturbation)."
        if page_ctx.min_cell
        else None,
    )
